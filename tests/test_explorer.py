"""The explorer's model (d2lstyle.explorer) used from code: settings, recipe, network, run, save, uploads.

No widget is made here; tests/test_widgets.py presses the buttons of the view. Runs use 32-pixel images and
shallow layers (the ``small_explorer`` fixture in conftest.py), so each takes about a second.
"""

import io
import os
import subprocess
import sys
import urllib.error
from pathlib import Path

import numpy as np
import pytest
import torch
import traitlets
from PIL import Image

import d2lstyle
import d2lstyle.explorer
from d2lstyle.errors import D2lStyleError, ImageError, LayerError, NetworkError, RecipeError
from d2lstyle.explorer import LAYER_CHOICES, Explorer
from d2lstyle.recipes import INITS
from d2lstyle.settings import Settings

REPO = Path(__file__).resolve().parent.parent


def png_of(color, size=(20, 16)):
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, format="PNG")
    return buffer.getvalue()


def test_the_choices_come_from_the_package():
    # VGG-19 has 16 convolutions: each is offered before its ReLU (conv) and after it (relu), pooling never.
    assert len(LAYER_CHOICES) == 32 and LAYER_CHOICES[:3] == ("conv1_1", "relu1_1", "conv1_2")
    assert LAYER_CHOICES[-1] == "relu5_4" and not any(name.startswith("pool") for name in LAYER_CHOICES)
    assert Explorer.class_traits()["init"].values == INITS


def test_a_preset_sets_every_setting(small_explorer):
    explorer = small_explorer()
    explorer.preset = "keras"
    assert (explorer.content_weight, explorer.style_weight, explorer.tv_weight) == (1e4, 1e-2, 30.0)
    assert (explorer.content_layer, explorer.steps, explorer.size) == ("relu5_2", 1000, 512)
    assert list(explorer.style_layers) == ["relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1"]
    explorer.steps = 7
    explorer.load_preset("keras")  # the same preset again: its values come back
    assert explorer.steps == 1000
    with pytest.raises(RecipeError):
        explorer.preset = "no-such-preset"
    assert explorer.preset == "keras"


def test_the_settings_make_the_recipe(small_explorer):
    explorer = small_explorer()
    explorer.style_weight, explorer.tv_weight = 1e6, 0.0
    explorer.set_style_layer("relu1_1", on=False)
    explorer.set_style_layer("conv3_1")  # not in the d2l preset: the mean of its weights, (1+1+1+1+1)/5 = 1
    explorer.content_layer, explorer.init = "conv2_1", "noise"
    recipe = explorer.recipe()
    assert recipe.style_weight == 1e6 and recipe.tv_weight == 0 and recipe.init == "noise"
    assert recipe.style_layers == {"relu2_1": 1.0, "conv3_1": 1.0}  # in network order
    assert recipe.content_layers == {"conv2_1": 1.0} and (recipe.steps, recipe.image_size) == (3, 32)
    with pytest.raises(LayerError, match="conv4_2"):
        explorer.content_layer = "conv4_9"
    with pytest.raises(traitlets.TraitError):
        explorer.init = "white"
    with pytest.raises(traitlets.TraitError):
        explorer.style_weight = -1.0


def test_quick_mode_caps_the_run_and_says_so_without_printing(random_vgg, capsys):
    explorer = Explorer(Settings(network="random", quick=True), random_vgg, preset="d2l")
    recipe, notes = explorer.prepared_recipe()
    assert (recipe.steps, recipe.image_size) == (20, 64)
    assert notes == ["Quick mode: 500 steps -> 20.", "Quick mode: image size 450 -> 64."]
    assert explorer.recipe().steps == 500  # the settings themselves keep the full-quality numbers
    assert capsys.readouterr().out == ""


def test_the_preview_is_throttled(small_explorer):
    explorer = small_explorer(preview_interval=3600)
    explorer.steps = 4
    seen, finished = [], []
    explorer.step_hooks.append(lambda info: seen.append(info.step))
    explorer.finish_hooks.append(lambda explorer: finished.append(explorer.status))
    result = explorer.run(wait=True)
    assert seen == [1, 4]  # only the first and the last step
    assert finished == ["finished"] and result.status == "finished" and "4 steps" in explorer.message
    assert torch.equal(explorer.latest, result.image)


def test_the_network_is_loaded_once_and_the_recipe_chooses_the_pooling(random_vgg, tmp_path):
    explorer = Explorer(Settings(network="random"), output_dir=tmp_path)  # no network given: loaded at Run
    assert not explorer.network_loaded and "NOT trained" in explorer.network_description
    explorer.preset = "gatys"  # average pooling
    explorer.size, explorer.steps, explorer.content_layer = 32, 2, "relu2_2"
    explorer.style_layers = {"relu1_1": 1.0, "relu2_1": 1.0}
    first = explorer.run(wait=True)
    vgg = explorer.vgg
    assert explorer.network_loaded and vgg.pooling == "max"  # loaded as trained ...
    assert first.recipe.pooling == "avg" and first.status == "finished"  # ... and switched by stylise for the run
    explorer.run(wait=True)
    assert explorer.vgg is vgg  # not loaded again


def test_a_new_network_loads_at_the_next_run(small_explorer, empty_torch_cache, monkeypatch):
    explorer = small_explorer()
    explorer.network = "original"
    assert explorer.settings.network == "original" and not explorer.network_loaded
    assert explorer.network_description.startswith("original VGG-19")
    assert explorer.run(wait=True).status == "finished"
    assert explorer.network_loaded and explorer.vgg.description.startswith("original VGG-19")
    original = explorer.vgg

    def offline(request, *args, **kwargs):
        raise urllib.error.URLError("[Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr(torch.hub, "urlopen", offline)
    explorer.network = "torchvision"
    with pytest.raises(NetworkError, match="could not download"):
        explorer.run(wait=True)
    assert explorer.status == "error" and explorer.message.startswith("the network did not load (choose another): NetworkUnavailableError")
    assert "D2LSTYLE_NETWORK=original" in explorer.message and not explorer.running
    explorer.network = "original"  # still loaded: no second load
    assert explorer.network_loaded and explorer.vgg is original
    with pytest.raises(NetworkError, match="now called 'torchvision'"):
        explorer.network = "imagenet"
    assert explorer.network == "original"


def test_save_numbers_the_files_and_never_writes_over_an_input(small_explorer, tmp_path):
    explorer = small_explorer()
    with pytest.raises(D2lStyleError, match="press Run first"):
        explorer.save()
    result = explorer.run(wait=True)
    first = explorer.save()
    assert first == (tmp_path / "outputs" / "tubingen-starry_night-001.png").resolve() == explorer.saved
    assert explorer.save().name == "tubingen-starry_night-002.png"
    saved = d2lstyle.load_image(first)
    assert saved.size == result.pil().size and np.array_equal(np.asarray(saved), np.asarray(result.pil()))
    for input_path in (explorer.content, explorer.style):
        before = Path(input_path).read_bytes()
        with pytest.raises(ImageError, match="refusing to overwrite an input"):
            explorer.save(input_path)
        assert Path(input_path).read_bytes() == before


def test_an_upload_is_stored_under_a_safe_name(small_explorer):
    explorer = small_explorer()
    first = explorer.add_upload("content", "../my cat.png", png_of((200, 10, 10)))
    assert first.name == "my_cat.png" and explorer.content == str(first)
    assert explorer.content_image.size == (20, 16) and explorer.content_image.getpixel((0, 0)) == (200, 10, 10)
    second = explorer.add_upload("content", "my cat.png", png_of((0, 0, 255)))
    assert second.name == "my_cat-2.png" and first.is_file()  # a second upload with the same name keeps the first
    style_before = explorer.style
    with pytest.raises(ImageError, match="not an image file"):
        explorer.add_upload("style", "notes.png", b"not a picture")
    assert explorer.style == style_before and not (first.parent / "notes.png").exists()
    with pytest.raises(ValueError, match="'content' or 'style'"):
        explorer.add_upload("artwork", "a.png", png_of((0, 0, 0)))


@pytest.mark.slow
def test_the_model_imports_neither_ipywidgets_nor_matplotlib():
    code = ("import sys, d2lstyle.explorer; "
            "print(sorted(m for m in ('ipywidgets', 'matplotlib', 'd2lstyle.widgets') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO,
                         env=dict(os.environ, PYTHONPATH=str(REPO))).stdout
    assert out.strip() == "[]"


def test_the_controls_go_into_the_run(small_explorer, monkeypatch):
    explorer = small_explorer()
    explorer.preserve_colors, explorer.style_scale, explorer.pooling = "luminance", 2.0, "avg"
    assert explorer.recipe().pooling == "avg"
    assert explorer.controls() == d2lstyle.Controls(preserve_colors="luminance", style_scale=2.0)
    seen = {}
    original = d2lstyle.explorer.stylise

    def recording(*args, **kwargs):
        seen.update(kwargs)
        return original(*args, **kwargs)

    monkeypatch.setattr(d2lstyle.explorer, "stylise", recording)
    result = explorer.run(wait=True)
    assert result.status == "finished" and result.recipe.pooling == "avg"
    assert seen["controls"].preserve_colors == "luminance" and seen["controls"].style_scale == 2.0
    explorer.preset = "gatys"  # a preset brings its own pooling; the colour and scale choices stay
    assert explorer.pooling == "avg" and explorer.preserve_colors == "luminance"
    explorer.preset = "d2l"
    assert explorer.pooling == "max"
    explorer.preserve_colors = "none"
    assert explorer.controls().preserve_colors is None
    with pytest.raises(RecipeError, match="style scale must be a finite number > 0"):
        explorer.style_scale = 0.0
    with pytest.raises(traitlets.TraitError):
        explorer.preserve_colors = "sepia"
    assert explorer.style_scale == 2.0
