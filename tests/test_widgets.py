"""The explorer's kernel-side logic: settings, run, stop, save, uploads, errors.

The widgets are pressed from Python (``button.click()``, ``slider.value = ...``)
without a browser; tests/test_explorer_browser.py does the same in Chromium.
Runs use 32-pixel images and shallow layers, so each takes well under a second.
"""

import datetime
import io
import threading

import pytest
import torch
from PIL import Image

import d2lstyle
from d2lstyle.errors import D2lStyleError, ImageError, LayerError, RecipeError
from d2lstyle.settings import Settings
from d2lstyle.widgets import Explorer, ExplorerUI, loss_plot_png, png_bytes


@pytest.fixture(scope="module")
def explorer_vgg():
    return d2lstyle.load_vgg19("random", seed=0)


def small_explorer(vgg, tmp_path, quick=False, **options):
    """An explorer whose runs are tiny: 32 px, layers no deeper than relu2_2, 3 steps."""
    explorer = Explorer(Settings(network="random", quick=quick), vgg, output_dir=tmp_path / "outputs", **options)
    explorer.size, explorer.steps = 32, 3
    explorer.content_layer = "relu2_2"
    explorer.style_layers = {"relu2_1": 1.0, "relu1_1": 0.5}
    return explorer


def upload_of(name, data):
    """What a FileUpload's value holds after a person picked one file."""
    return ({"name": name, "type": "image/png", "size": len(data), "content": memoryview(data),
             "last_modified": datetime.datetime.now(datetime.timezone.utc)},)


def png_of(color, size=(20, 16)):
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, format="PNG")
    return buffer.getvalue()


def test_a_preset_sets_every_control(explorer_vgg, tmp_path):
    ui = ExplorerUI(small_explorer(explorer_vgg, tmp_path))
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


def test_the_controls_change_the_recipe(explorer_vgg, tmp_path):
    ui = ExplorerUI(small_explorer(explorer_vgg, tmp_path))
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
    assert ui.explorer.tv_weight == ui.tv_weight_slider.value == 10


def test_values_set_from_code_show_in_the_widgets_and_stay(explorer_vgg, tmp_path):
    ui = ExplorerUI(small_explorer(explorer_vgg, tmp_path))
    ui.explorer.style_weight = 1e12  # beyond the slider's range
    assert ui.explorer.style_weight == 1e12 and ui.style_weight_slider.value == 1e9
    assert "β = 1e+12" in ui.formula.value
    ui.explorer.set_style_layer("relu1_1", on=False)
    assert not ui.style_checkboxes["relu1_1"].value
    ui.explorer.style_layers = {"relu2_1": 0.0, "relu3_1": 2.5}
    ui.style_checkboxes["conv1_1"].value = True  # ticking a box keeps the other layers' weights
    assert ui.explorer.style_layers == {"conv1_1": 1.0, "relu2_1": 0.0, "relu3_1": 2.5}
    with pytest.raises(LayerError, match="conv4_2"):
        ui.explorer.content_layer = "conv4_9"


def test_quick_mode_caps_the_run_and_the_ui_says_so(explorer_vgg, tmp_path):
    ui = ExplorerUI(Explorer(Settings(network="random", quick=True), explorer_vgg, preset="d2l"))
    recipe, notes = ui.explorer.prepared_recipe()
    assert (recipe.steps, recipe.image_size) == (20, 64)
    assert notes == ["Quick mode: 500 steps -> 20.", "Quick mode: image size 450 -> 64."]
    assert "NOT trained" in ui.network_label.value and "quick mode:</b> ON" in ui.network_label.value
    assert "20 steps, long side 64 px (capped by quick mode)" in ui.formula.value


def test_run_updates_the_preview_and_the_loss_plot(explorer_vgg, tmp_path):
    explorer = small_explorer(explorer_vgg, tmp_path, preview_interval=0)
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


def test_the_preview_is_throttled(explorer_vgg, tmp_path):
    explorer = small_explorer(explorer_vgg, tmp_path, preview_interval=3600)
    explorer.steps = 4
    seen = []
    explorer.step_hooks.append(lambda info: seen.append(info.step))
    explorer.run(wait=True)
    assert seen == [1, 4]  # only the first and the last step


def test_stop_ends_the_run_and_keeps_the_image(explorer_vgg, tmp_path):
    explorer = small_explorer(explorer_vgg, tmp_path, preview_interval=0)
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


def test_an_error_in_the_worker_thread_is_shown_not_lost(explorer_vgg, tmp_path):
    explorer = small_explorer(explorer_vgg, tmp_path)
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


def test_a_user_error_in_the_run_is_a_clear_message(explorer_vgg, tmp_path):
    explorer = small_explorer(explorer_vgg, tmp_path)
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


def test_save_writes_the_image_and_never_over_an_input(explorer_vgg, tmp_path):
    explorer = small_explorer(explorer_vgg, tmp_path)
    ui = ExplorerUI(explorer)
    with pytest.raises(D2lStyleError, match="press Run first"):
        explorer.save()
    explorer.run(wait=True)
    first = ui.save()
    assert first == (tmp_path / "outputs" / "tubingen-starry_night-001.png").resolve()
    assert str(first) in ui.saved_label.value
    assert explorer.save().name == "tubingen-starry_night-002.png"
    saved = d2lstyle.load_image(first)
    assert saved.size == explorer.result.pil().size and png_bytes(saved) == png_bytes(explorer.result.pil())
    ui.save_path.value = str(tmp_path / "mine.png")
    assert ui.save() == (tmp_path / "mine.png").resolve()
    with pytest.raises(ImageError, match="refusing to overwrite an input"):
        explorer.save(explorer.content)
    ui.save_path.value = explorer.style
    ui.save_button.click()  # the button reports the refusal instead of raising
    assert "refusing to overwrite" in ui.status_label.value


def test_an_upload_becomes_the_content_image(explorer_vgg, tmp_path):
    explorer = small_explorer(explorer_vgg, tmp_path)
    ui = ExplorerUI(explorer)
    ui.content_upload.value = upload_of("../my cat.png", png_of((200, 10, 10)))
    assert explorer.content.endswith("my_cat.png") and explorer.content_image.size == (20, 16)
    assert ui.content_dropdown.value == explorer.content
    assert ("upload: my_cat.png", explorer.content) in ui.content_dropdown.options
    assert ui.content_upload.value == ()  # read and cleared, so the same file can be picked again
    second = explorer.add_upload("content", "my cat.png", png_of((0, 0, 255)))
    assert second.name == "my_cat-2.png"  # a second upload with the same name keeps the first
    with pytest.raises(ImageError, match="not an image file"):
        explorer.add_upload("style", "notes.png", b"not a picture")
    assert explorer.style == str(d2lstyle.bundled_image("starry_night"))
    ui.style_upload.value = upload_of("bad.png", b"junk")
    assert "not an image file" in ui.status_label.value


def test_the_loss_plot_draws_before_and_during_a_run():
    empty = loss_plot_png(None)
    history = {"step": [1, 2], "content": [1.0, 0.5], "style": [2.0, 1.0], "tv": [0.0, 0.0], "total": [3.0, 1.5]}
    assert empty[:4] == b"\x89PNG" and loss_plot_png(history) != empty
