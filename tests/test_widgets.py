"""The explorer's view (d2lstyle.widgets): the controls follow the model both ways, the buttons work, and
what happens is shown (preview, loss plot, status line, log).

The widgets are pressed from Python (``button.click()``, ``slider.value = ...``)
without a browser; tests/test_explorer_browser.py does the same in Chromium.
Runs use 32-pixel images and shallow layers (the ``small_explorer`` fixture in
conftest.py), so each takes about a second. The model alone: tests/test_explorer.py.
"""

import datetime
import re
import threading
import urllib.error
from pathlib import Path

import pytest
import torch
from PIL import Image

import d2lstyle
import d2lstyle.explorer
from d2lstyle.errors import D2lStyleError, ImageError, LayerError, RecipeError
from d2lstyle.networks import NETWORKS
from d2lstyle.recipes import INITS
from d2lstyle.settings import Settings
from d2lstyle.widgets import Explorer, ExplorerUI, loss_plot_png, png_bytes

BROWSER_TEST = Path(__file__).with_name("test_explorer_browser.py")


def upload_of(name, data):
    """What a FileUpload's value holds after a person picked one file."""
    return ({"name": name, "type": "image/png", "size": len(data), "content": memoryview(data),
             "last_modified": datetime.datetime.now(datetime.timezone.utc)},)


def css_classes(widget):
    """The CSS classes of ``widget`` and of every widget inside it."""
    classes = set(widget._dom_classes)
    for child in getattr(widget, "children", ()):
        classes |= css_classes(child)
    return classes


def test_the_panel_has_every_class_the_browser_test_looks_for(small_explorer):
    ui = ExplorerUI(small_explorer())
    assert Explorer is d2lstyle.explorer.Explorer  # notebook 08's `from d2lstyle.widgets import Explorer` works
    wanted = set(re.findall(r"\.(d2lstyle-[a-z-]+)", BROWSER_TEST.read_text()))
    assert {"d2lstyle-explorer", "d2lstyle-network", "d2lstyle-run", "d2lstyle-stop"} <= wanted
    assert wanted <= css_classes(ui.widget), f"missing: {wanted - css_classes(ui.widget)}"


def test_the_menus_offer_the_packages_choices(small_explorer):
    ui = ExplorerUI(small_explorer())
    assert [value for _, value in ui.init_dropdown.options] == list(INITS)
    assert [value for _, value in ui.network_dropdown.options] == list(NETWORKS)
    assert list(ui.content_layer_dropdown.options) == list(ui.style_checkboxes) == list(d2lstyle.explorer.LAYER_CHOICES)
    rows = ui.style_layers_box.children  # a row per block of VGG-19: its label, then its layers
    assert [row.children[0].value for row in rows] == [f"block {block}" for block in range(1, 6)]
    assert [box.description for box in rows[0].children[1:]] == ["conv1_1", "relu1_1", "conv1_2", "relu1_2"]
    assert [len(row.children) - 1 for row in rows] == [4, 4, 8, 8, 8]  # 2, 2, 4, 4, 4 convolutions


def test_a_preset_sets_every_control(small_explorer):
    ui = ExplorerUI(small_explorer())
    ui.preset_dropdown.value = "keras"
    explorer = ui.explorer
    assert (explorer.content_weight, explorer.style_weight, explorer.tv_weight) == (1e4, 1e-2, 30.0)
    assert (ui.content_weight_slider.value, ui.style_weight_slider.value, ui.tv_weight_slider.value) == (1e4, 1e-2, 30)
    assert ui.content_layer_dropdown.value == "relu5_2" and ui.steps_slider.value == 1000
    assert [name for name, box in ui.style_checkboxes.items() if box.value] == [
        "relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1"]
    ui.preset_dropdown.value = "udacity"  # TV weight 0: its term is switched off
    assert explorer.tv_weight == 0 and not ui.weight_checkboxes["tv"].value and ui.tv_weight_slider.disabled
    assert explorer.style_layers["relu5_1"] == 0.1


def test_the_controls_change_the_recipe(small_explorer):
    ui = ExplorerUI(small_explorer())
    ui.style_weight_slider.value = 1e6
    ui.style_checkboxes["relu1_1"].value = False
    ui.style_checkboxes["conv3_1"].value = True  # not in the d2l preset: gets its mean weight, 1
    ui.weight_checkboxes["tv"].value = False
    ui.content_layer_dropdown.value = "conv2_1"
    ui.init_dropdown.value = "noise"
    recipe = ui.explorer.recipe()
    assert recipe.style_weight == 1e6 and recipe.tv_weight == 0
    assert recipe.style_layers == {"relu2_1": 1.0, "conv3_1": 1.0}  # in network order
    assert recipe.content_layers == {"conv2_1": 1.0} and recipe.init == "noise"
    assert "β = 1e+06" in ui.formula.value and "γ = 0" in ui.formula.value
    ui.weight_checkboxes["tv"].value = True  # back on, at the slider's value
    assert ui.explorer.tv_weight == ui.tv_weight_slider.value == d2lstyle.get_recipe("d2l").tv_weight


def test_values_set_from_code_show_in_the_widgets_and_stay(small_explorer):
    ui = ExplorerUI(small_explorer())
    ui.explorer.style_weight = 1e16  # beyond the slider's range, 1e14: the slider stops at its end, the value stays
    assert ui.explorer.style_weight == 1e16 and ui.style_weight_slider.value == 1e14
    assert "β = 1e+16" in ui.formula.value
    ui.explorer.set_style_layer("relu1_1", on=False)
    assert not ui.style_checkboxes["relu1_1"].value
    ui.explorer.style_layers = {"relu2_1": 0.0, "relu3_1": 2.5}
    ui.style_checkboxes["conv1_1"].value = True  # ticking a box keeps the other layers' weights
    assert ui.explorer.style_layers == {"conv1_1": 1.0, "relu2_1": 0.0, "relu3_1": 2.5}
    with pytest.raises(LayerError, match="conv4_2"):
        ui.explorer.content_layer = "conv4_9"


def test_quick_mode_caps_the_run_and_the_ui_says_so(random_vgg):
    ui = ExplorerUI(Explorer(Settings(network="random", quick=True), random_vgg, preset="d2l"))
    assert "NOT trained" in ui.network_label.value and "quick mode:</b> ON" in ui.network_label.value
    assert "loaded at the next Run" not in ui.network_label.value  # the network was given: it is loaded
    assert "20 steps, long side 64 px (capped by quick mode)" in ui.formula.value


@pytest.mark.slow
def test_the_network_menu_loads_the_choice_at_the_next_run(small_explorer, empty_torch_cache, monkeypatch):
    ui = ExplorerUI(small_explorer())
    explorer = ui.explorer
    assert ui.network_dropdown.value == "random" and "weights" not in ui.network_label.value
    ui.network_dropdown.value = "original"
    assert explorer.network == explorer.settings.network == "original"
    assert "original VGG-19" in ui.network_label.value and "loaded at the next Run" in ui.network_label.value
    ui.run_button.click()
    assert explorer.wait(timeout=60).status == "finished"
    assert explorer.vgg.description.startswith("original VGG-19")
    assert "loaded at the next Run" not in ui.network_label.value

    def offline(request, *args, **kwargs):
        raise urllib.error.URLError("[Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr(torch.hub, "urlopen", offline)
    ui.network_dropdown.value = "torchvision"
    ui.run_button.click()
    explorer.wait(timeout=60)
    assert explorer.status == "error"
    assert "the network did not load" in ui.status_label.value and "could not download" in ui.status_label.value
    assert ui.log.outputs == () and not ui.run_button.disabled  # a message, not a traceback
    explorer.network = "random"  # from code: the menu follows
    assert ui.network_dropdown.value == "random" and "NOT trained" in ui.network_label.value


@pytest.mark.slow
def test_run_updates_the_preview_and_the_loss_plot(small_explorer):
    explorer = small_explorer(preview_interval=0)
    ui = ExplorerUI(explorer)
    seen = []
    explorer.step_hooks.append(lambda info: seen.append(info.step))
    before = (ui.preview.value, ui.loss_plot.value)
    ui.run_button.click()
    assert explorer.wait(timeout=60).status == "finished"
    assert seen == [1, 2, 3]  # preview_interval=0: every step is shown
    assert ui.preview.value != before[0] and ui.loss_plot.value != before[1]
    assert ui.preview.value == png_bytes(explorer.result.image)
    assert "finished" in ui.status_label.value and "3 steps" in ui.status_label.value
    assert not ui.run_button.disabled and ui.stop_button.disabled


@pytest.mark.slow
def test_stop_ends_the_run_and_keeps_the_image(small_explorer):
    explorer = small_explorer(preview_interval=0)
    explorer.steps = 10_000
    ui = ExplorerUI(explorer)
    started = threading.Event()
    explorer.step_hooks.append(lambda info: started.set())
    ui.run_button.click()
    assert started.wait(timeout=60)
    assert ui.run_button.disabled and not ui.stop_button.disabled
    with pytest.raises(D2lStyleError, match="already in progress"):
        explorer.run()
    ui.stop_button.click()
    result = explorer.wait(timeout=60)
    assert not explorer.running and result.status == "stopped"
    assert 1 <= len(result.history["step"]) < 10_000 and "stopped after" in result.message
    assert torch.isfinite(result.image).all() and ui.preview.value == png_bytes(result.image)
    assert "stopped" in ui.status_label.value and not ui.run_button.disabled and ui.stop_button.disabled


@pytest.mark.slow
def test_an_error_in_the_worker_thread_is_shown_not_lost(small_explorer):
    explorer = small_explorer()
    ui = ExplorerUI(explorer)

    def broken_hook(info):
        raise RuntimeError("the preview hook broke")

    explorer.step_hooks.append(broken_hook)
    ui.run_button.click()
    explorer.wait(timeout=60)
    assert explorer.status == "error" and isinstance(explorer.error, RuntimeError)
    assert "the preview hook broke" in ui.status_label.value
    assert any("Traceback" in out["text"] and "the preview hook broke" in out["text"] for out in ui.log.outputs)
    assert not ui.run_button.disabled
    with pytest.raises(RuntimeError, match="the preview hook broke"):
        explorer.run(wait=True)


def test_a_user_error_in_the_run_is_a_clear_message(small_explorer):
    explorer = small_explorer()
    ui = ExplorerUI(explorer)
    explorer.set_style_layer("conv5_1")
    explorer.size = 8  # too small for conv5_1: fails inside the worker thread
    ui.run_button.click()
    explorer.wait(timeout=60)
    assert explorer.status == "error" and isinstance(explorer.error, ImageError)
    assert "too small for layer conv5_1" in ui.status_label.value
    assert ui.log.outputs == ()  # a user error gets its message, not a traceback
    explorer.size = 0  # invalid before any thread starts: said at once
    assert "cannot run" in ui.formula.value
    ui.run_button.click()
    assert "image_size" in ui.status_label.value and not explorer.running
    with pytest.raises(RecipeError):
        explorer.run()


@pytest.mark.slow
def test_save_writes_the_image_and_says_where(small_explorer, tmp_path):
    explorer = small_explorer()
    ui = ExplorerUI(explorer)
    ui.save_button.click()  # nothing to save yet: said in the status line
    assert "press Run first" in ui.status_label.value
    explorer.run(wait=True)
    first = ui.save()
    assert first == (tmp_path / "outputs" / "tubingen-starry_night-001.png").resolve()
    assert str(first) in ui.saved_label.value
    assert png_bytes(d2lstyle.load_image(first)) == png_bytes(explorer.result.pil())
    ui.save_path.value = str(tmp_path / "mine.png")
    assert ui.save() == (tmp_path / "mine.png").resolve()
    style_bytes = Path(explorer.style).read_bytes()
    ui.save_path.value = explorer.style
    ui.save_button.click()  # the button reports the refusal instead of raising
    assert "refusing to overwrite" in ui.status_label.value and Path(explorer.style).read_bytes() == style_bytes


def test_an_upload_becomes_the_content_image(small_explorer):
    explorer = small_explorer()
    ui = ExplorerUI(explorer)
    ui.content_upload.value = upload_of("../my cat.png", png_bytes(Image.new("RGB", (20, 16), (200, 10, 10))))
    assert explorer.content.endswith("my_cat.png") and explorer.content_image.size == (20, 16)
    assert ui.content_dropdown.value == explorer.content
    assert ("upload: my_cat.png", explorer.content) in ui.content_dropdown.options
    assert ui.content_upload.value == ()  # read and cleared, so the same file can be picked again
    ui.style_upload.value = upload_of("bad.png", b"junk")
    assert "not an image file" in ui.status_label.value
    assert explorer.style == str(d2lstyle.bundled_image("starry_night")) == ui.style_dropdown.value


def test_the_loss_plot_draws_before_and_during_a_run():
    empty = loss_plot_png(None)
    history = {"step": [1, 2], "content": [1.0, 0.5], "style": [2.0, 1.0], "tv": [0.0, 0.0], "total": [3.0, 1.5]}
    assert empty[:4] == b"\x89PNG" and loss_plot_png(history) != empty


def test_the_painting_controls_follow_the_explorer_both_ways(small_explorer):
    ui = ExplorerUI(small_explorer())
    assert [value for _, value in ui.colours_dropdown.options] == ["none", "luminance", "histogram"]
    assert [value for _, value in ui.pooling_dropdown.options] == ["max", "avg"]
    ui.colours_dropdown.value = "histogram"
    ui.style_scale_slider.value = 2.0
    ui.pooling_dropdown.value = "avg"
    explorer = ui.explorer
    assert explorer.controls() == d2lstyle.Controls(preserve_colors="histogram", style_scale=2.0)
    assert explorer.recipe().pooling == "avg" and "avg pooling" in ui.formula.value
    assert "histogram matching" in ui.formula.value and "2 times the photo" in ui.formula.value
    explorer.style_scale, explorer.preserve_colors = 0.5, "luminance"
    assert ui.style_scale_slider.value == 0.5 and ui.colours_dropdown.value == "luminance"
    ui.preset_dropdown.value = "gatys"
    assert ui.pooling_dropdown.value == "avg"


@pytest.mark.parametrize("network", ["original", "torchvision"])
def test_every_presets_loss_weights_fit_on_the_sliders(network):
    """A preset's weight outside its slider's range would be shown at the slider's end, not where it is."""
    import math

    from d2lstyle import widgets

    for name in d2lstyle.PRESETS:
        recipe = d2lstyle.get_recipe(name, network=network)
        for term, weight in [("content", recipe.content_weight), ("style", recipe.style_weight),
                             ("tv", recipe.tv_weight)]:
            low, high = widgets.WEIGHT_RANGES[term]
            assert weight == 0 or low <= math.log10(weight) <= high, (name, network, term, weight)
