"""The optimisation loop: it lowers the loss, touches only the image, computes targets once,
counts steps exactly, and stops safely (callback, Ctrl-C, NaN) with a usable image."""

import math

import pytest
import torch
from PIL import Image

import d2lstyle
from d2lstyle import devices, runlog, transfer
from d2lstyle.errors import ImageError, MemoryEstimateError, RecipeError


@pytest.fixture(scope="module")
def content():
    return d2lstyle.load_image(d2lstyle.bundled_image("chelsea"))


@pytest.fixture(scope="module")
def style():
    return d2lstyle.load_image(d2lstyle.bundled_image("starry_night"))


def small(name="d2l", **changes):
    settings = {"image_size": (32, 48), "steps": 6}
    settings.update(changes)
    return d2lstyle.get_recipe(name).replace(**settings)


def run(content, style, recipe, vgg, **options):
    return d2lstyle.stylise(content, style, recipe, vgg, progress=False, **options)


def test_adam_lowers_the_loss_and_leaves_the_weights_alone(content, style, random_vgg):
    before = [p.clone() for p in random_vgg.parameters()]
    result = run(content, style, small(steps=15), random_vgg)
    assert result.status == "finished" and result.message == ""
    assert len(result.history["total"]) == 15 and result.history["step"] == list(range(1, 16))
    assert result.history["total"][-1] < 0.8 * result.history["total"][0]
    assert all(torch.equal(a, b) for a, b in zip(before, random_vgg.parameters()))
    assert result.image.shape == (1, 3, 32, 48) and result.pil().size == (48, 32)
    history = result.history
    for i in range(15):
        assert history["total"][i] == pytest.approx(history["content"][i] + history["style"][i] + history["tv"][i],
                                                    rel=1e-5)


def test_targets_are_computed_once(content, style, random_vgg):
    calls = []
    hook = random_vgg[0].register_forward_hook(lambda *args: calls.append(1))
    try:
        run(content, style, small(steps=5), random_vgg)
    finally:
        hook.remove()
    assert len(calls) == 5 + 2  # one forward pass per step, plus the content and the style targets


def test_d2l_learning_rate_schedule(content, style, random_vgg):
    result = run(content, style, small(steps=6, lr_decay_every=2), random_vgg)
    assert result.history["lr"] == pytest.approx([0.3, 0.3, 0.24, 0.24, 0.192, 0.192])


@pytest.mark.parametrize("line_search", [None, "strong_wolfe"])
@pytest.mark.slow
def test_lbfgs_uses_exactly_its_budget_and_lowers_the_loss(content, style, random_vgg, line_search):
    recipe = small(optimizer="lbfgs", lr=1.0, steps=12, line_search=line_search)
    result = run(content, style, recipe, random_vgg)
    assert result.status == "finished" and len(result.history["total"]) == 12
    assert min(result.history["total"]) < 0.8 * result.history["total"][0]
    assert torch.isfinite(result.image).all()


@pytest.mark.slow
def test_the_same_seed_gives_the_same_image(content, style, random_vgg):
    recipe = small(init="noise", steps=3)
    first, again = run(content, style, recipe, random_vgg, seed=5), run(content, style, recipe, random_vgg, seed=5)
    other = run(content, style, recipe, random_vgg, seed=6)
    assert torch.equal(first.image, again.image)
    assert not torch.equal(first.image, other.image)


def test_paths_of_image_files_work_like_the_images(content, style, random_vgg):
    recipe = small(steps=3)
    from_images = run(content, style, recipe, random_vgg)
    from_paths = run(d2lstyle.bundled_image("chelsea"), str(d2lstyle.bundled_image("starry_night")), recipe,
                     random_vgg)
    assert torch.equal(from_images.image, from_paths.image)
    with pytest.raises(ImageError, match="no such file"):
        run("no-such-photo.jpg", style, recipe, random_vgg)


def test_pixel_space_with_clamping_stays_in_range(content, style, random_vgg):
    result = run(content, style, small("pytorch-tutorial", steps=8, lr=1.0), random_vgg)
    pixels = d2lstyle.denormalize(result.image)
    assert pixels.min() >= -1e-5 and pixels.max() <= 1 + 1e-5


@pytest.mark.slow
def test_every_preset_runs(content, style, random_vgg):
    for name in d2lstyle.PRESETS:
        result = run(content, style, small(name, steps=3), random_vgg)
        assert result.status == "finished" and all(math.isfinite(v) for v in result.history["total"]), name


def test_coarse_to_fine_ends_at_full_size(content, style, random_vgg):
    result = run(content, style, small(scales=(0.5, 1.0), steps=6), random_vgg)
    assert result.history["scale"] == [0.5] * 3 + [1.0] * 3
    assert result.image.shape == (1, 3, 32, 48)


def test_texture_synthesis_and_content_reconstruction(content, style, random_vgg):
    texture = small(content_layers={}, init="noise", image_size=32, steps=4)
    result = run(None, style, texture, random_vgg)
    assert result.status == "finished" and result.history["content"] == [0.0] * 4
    assert max(result.image.shape[-2:]) == 32

    reconstruction = small(style_layers={}, init="noise", steps=4)
    result = run(content, None, reconstruction, random_vgg)
    assert result.history["style"] == [0.0] * 4 and result.history["total"][-1] < result.history["total"][0]


def test_missing_images_for_the_recipe(content, style, random_vgg):
    with pytest.raises(RecipeError, match="content layers but no content image"):
        run(None, style, small(), random_vgg)
    with pytest.raises(RecipeError, match="style layers but no style image"):
        run(content, None, small(), random_vgg)
    with pytest.raises(RecipeError, match="init='content' needs a content image"):
        run(None, style, small(content_layers={}), random_vgg)
    with pytest.raises(ValueError, match="needs vgg"):
        d2lstyle.stylise(content, style, small(), None)


def test_a_style_image_of_another_shape_is_fine(content, random_vgg):
    tall_style = Image.new("RGB", (30, 200), (200, 40, 90))
    result = run(content, tall_style, small(steps=2), random_vgg)
    assert result.status == "finished"


def test_an_image_size_too_small_for_the_network(content, style, random_vgg):
    with pytest.raises(ImageError, match="too small for layer conv5_1"):
        run(content, style, small(image_size=(8, 8)), random_vgg)


# --- safe stops ----------------------------------------------------------------------------


def test_a_callback_sees_every_step_and_can_stop_the_run(content, style, random_vgg):
    seen = []

    def stop_at_four(info):
        seen.append((info.step, info.steps, sorted(info.losses), info.image.shape, len(info.history["step"])))
        return info.step == 4

    result = run(content, style, small(steps=10), random_vgg, callbacks=[stop_at_four])
    assert result.status == "stopped" and "after 4 of 10 steps" in result.message
    assert [s[0] for s in seen] == [1, 2, 3, 4] and all(s[1] == 10 for s in seen)
    assert seen[0][2] == ["content", "style", "total", "tv"] and seen[0][3] == (1, 3, 32, 48)
    assert [s[4] for s in seen] == [1, 2, 3, 4]
    assert len(result.history["total"]) == 4 and torch.isfinite(result.image).all()


def test_ctrl_c_keeps_the_best_image(content, style, random_vgg):
    best = {}

    def press_ctrl_c(info):
        if info.step == 1 or info.losses["total"] < best["loss"]:
            best.update(loss=info.losses["total"], image=info.image.clone())
        if info.step == 5:
            raise KeyboardInterrupt

    result = run(content, style, small(steps=10), random_vgg, callbacks=[press_ctrl_c])
    assert result.status == "interrupted" and "Ctrl-C" in result.message
    assert torch.equal(result.image, best["image"])


def test_a_nan_loss_rolls_back_and_says_what_to_change(content, style, random_vgg):
    result = run(content, style, small(steps=10, lr=1e30), random_vgg)
    assert result.status == "diverged"
    assert "NaN or infinite" in result.message and "learning rate" in result.message and "try 1e+29" in result.message
    assert torch.isfinite(result.image).all()
    assert len(result.history["total"]) < 10 and all(math.isfinite(v) for v in result.history["total"])


def test_a_size_that_cannot_fit_is_refused_before_the_run(content, style, random_vgg, monkeypatch):
    monkeypatch.setattr(devices, "available_memory_bytes", lambda device: 2**30)  # 1 GiB free
    with pytest.raises(MemoryEstimateError, match=r"needs about .* GiB, but only 1\.0 GiB.*--size \d+"):
        run(content, style, small(image_size=4000), random_vgg)


@pytest.mark.parametrize("changes, style_scale, message", [
    ({}, 1e6, r"style scale 1e\+06 would make the style image as large as \d+x\d+ pixels, over the limit of "
              r"40,000,000 pixels; "
              r"use a style scale of [\d.]+ or less \(--style-scale\)"),
    ({}, 1e-6, r"style scale 1e-06 would shrink the style image to less than one pixel; use a style scale of "
               r"[\d.]+ or more \(the network needs 16 pixels"),
    ({"image_size": 100_000}, 1, r"the image would be 66519x100000 pixels at size 100000, over the limit of "
                                 r"40,000,000 pixels; use a smaller size \(--size 7754 or less\)"),
    ({"image_size": 8}, 1, r"the image would be 5x8 pixels at size 8, too small for layer conv5_1: it needs at least "
                           r"16 pixels on each side; use a larger size \(--size 25 or more\)"),
    ({"scales": (1e-9, 1.0)}, 1, r"scale 1e-09 would shrink the 32x48 image to less than one pixel; use scales of "
                                 r"0.5 or more"),
])
def test_every_image_the_run_makes_is_checked_before_any_is_made(content, style, random_vgg, monkeypatch, changes,
                                                                 style_scale, message):
    """A painting of 100 GB (--style-scale 1e6) or of no pixels, a photo of 6.7 gigapixels: refused before
    a single image is resized."""
    monkeypatch.setattr(transfer.images, "preprocess", lambda *args: pytest.fail("an image was made"))
    with pytest.raises(ImageError, match=message):
        run(content, style, small(**changes), random_vgg, controls=d2lstyle.Controls(style_scale=style_scale))


def test_a_painting_that_cannot_fit_is_refused_with_a_style_scale_that_fits(content, style, random_vgg,
                                                                           monkeypatch):
    monkeypatch.setattr(devices, "available_memory_bytes", lambda device: 2**30)  # 1 GiB free
    monkeypatch.setattr(transfer.images, "preprocess", lambda *args: pytest.fail("an image was made"))
    recipe = small(image_size=64)
    with pytest.raises(MemoryEstimateError, match=r"the style image, \d+x\d+ pixels at style scale 30, needs about "
                                                  r"[\d.]+ GiB, but only 1\.0 GiB is free on cpu") as refused:
        run(content, style, recipe, random_vgg, controls=d2lstyle.Controls(style_scale=30))
    advised = float(str(refused.value).split("--style-scale ")[1].split()[0])
    assert 1 < advised < 30
    content_shape, _ = transfer.checked_shapes(recipe, content, [style], 16, advised, "cpu")  # it fits
    assert content_shape == (43, 64)


def test_the_sizes_advised_are_the_limits(content):
    """The sizes the messages above advise are the largest (and smallest) that pass."""
    assert transfer.checked_shapes(small(image_size=7754), content, [content], 16)[0] == (5158, 7754)
    with pytest.raises(ImageError, match="over the limit"):
        transfer.checked_shapes(small(image_size=7755), content, [content], 16)
    assert transfer.checked_shapes(small(image_size=25), content, [content], 16)[0] == (17, 25)
    with pytest.raises(ImageError, match="over the limit") as refused:
        transfer.checked_shapes(small(image_size=512), content, [content], 16, style_scale=1e6)
    advised = float(str(refused.value).split("use a style scale of ")[1].split()[0])
    _, [painting] = transfer.checked_shapes(small(image_size=512), content, [content], 16, style_scale=advised)
    assert 0.9 * 40_000_000 < painting[0] * painting[1] <= 40_000_000


@pytest.mark.parametrize("shares", [(), (300, 100, 1), (1, 1, 5), (5, 1, 1)])
def test_every_scale_gets_a_step_and_the_given_counts_are_kept(shares):
    for steps in range(3, 40):
        recipe = small(scales=(0.25, 0.5, 1.0), scale_steps=shares, steps=steps)
        ends = [last for _, last in transfer.scale_schedule(recipe)]
        counts = [last - first for last, first in zip(ends, [0] + ends)]
        assert min(counts) >= 1 and sum(counts) == steps, (steps, counts)
        if shares and sum(shares) == steps:
            assert tuple(counts) == shares


def test_a_tiny_input_image_is_refused_clearly(style, random_vgg):
    tiny = Image.new("RGB", (12, 40), (10, 20, 30))
    with pytest.raises(ImageError, match="content image is only 12x40 pixels; layer conv5_1 needs at least 16"):
        run(tiny, style, small(), random_vgg)


@pytest.mark.slow
def test_precision_auto_runs_the_network_in_bfloat16_then_float32(content, style, random_vgg, monkeypatch):
    monkeypatch.setattr(transfer, "fast_dtype", lambda device: torch.bfloat16)  # as on a CPU with AVX512-BF16
    dtypes = []
    real = transfer.network_features

    def recording(extractor, x, dtype=None):
        dtypes.append(dtype)
        features = real(extractor, x, dtype)
        assert all(value.dtype == torch.float32 for value in features.values())
        return features

    monkeypatch.setattr(transfer, "network_features", recording)
    # Layers of block 1 only: emulated bfloat16 is slow on CPUs without it, and the network stops at the
    # deepest layer a recipe asks for.
    recipe = small(steps=10, precision="auto", content_layers={"relu1_2": 1.0}, style_layers={"relu1_1": 1.0})
    result = run(content, style, recipe, random_vgg)
    assert dtypes == [torch.bfloat16] * 9 + [None]  # the last tenth in float32
    full = run(content, style, recipe.replace(precision="float32"), random_vgg)
    assert result.history["total"][0] == pytest.approx(full.history["total"][0], rel=0.02)


def test_precision_auto_keeps_lbfgs_in_float32(content, style, random_vgg, monkeypatch):
    """L-BFGS's curvature pairs and line search need float32: 'auto' runs it without autocast even where
    bfloat16 is native (in bfloat16 the default recipe's first overshooting step never recovered)."""
    monkeypatch.setattr(transfer, "fast_dtype", lambda device: torch.bfloat16)
    dtypes = []
    real = transfer.network_features
    monkeypatch.setattr(transfer, "network_features", lambda e, x, dtype=None: dtypes.append(dtype) or real(e, x, dtype))
    run(content, style, small("default", steps=4, precision="auto"), random_vgg)
    assert d2lstyle.get_recipe("default").optimizer == "lbfgs" and dtypes == [None] * 4


def test_precision_float32_never_autocasts(content, style, random_vgg, monkeypatch):
    monkeypatch.setattr(transfer, "fast_dtype", lambda device: torch.bfloat16)
    dtypes = []
    real = transfer.network_features
    monkeypatch.setattr(transfer, "network_features", lambda e, x, dtype=None: dtypes.append(dtype) or real(e, x, dtype))
    run(content, style, small(steps=3), random_vgg)
    assert dtypes == [None] * 3


# --- the run log, shared with the painter's training ---------------------------------------------


def test_stylise_keeps_its_books_in_the_shared_run_log(content, style, random_vgg, capsys):
    result = d2lstyle.stylise(content, style, small(steps=3), random_vgg, progress=True)
    columns = ["step", "seconds", "scale", "lr", "content", "style", "tv", "total"]
    assert list(result.history) == columns and list(transfer.new_history()) == columns
    assert result.history["step"] == [1, 2, 3] and result.history["scale"] == [1.0] * 3
    assert "style transfer: 100%" in capsys.readouterr().err  # the progress bar, under its title


def test_a_resumed_run_log_goes_on_from_its_history():
    history = runlog.new_history(("lr",))
    for step, seconds in ((1, 4.0), (2, 9.0)):
        for key, value in (("step", step), ("seconds", seconds), ("lr", 0.1), ("content", 1.0), ("style", 1.0),
                           ("tv", 0.0), ("total", 2.0)):
            history[key].append(value)
    log = runlog.RunLog(5, history, callbacks=[lambda info: info == "third"], progress=False)
    seconds = log.record_step({"content": 0.5, "style": 0.5, "tv": 0.0, "total": 1.0}, lr=0.05)
    assert log.done == 3 and history["step"] == [1, 2, 3] and history["lr"][-1] == 0.05
    assert 9.0 <= seconds == history["seconds"][-1]  # the clock goes on from the 9 s already spent
    log.ask_callbacks("second")  # a callback that returns False lets the run go on
    with pytest.raises(runlog.StopRun) as stop:
        log.ask_callbacks("third")
    assert (stop.value.status, stop.value.message) == ("stopped", "stopped after 3 of 5 steps")


@pytest.mark.parametrize("preset", ["d2l", "pytorch-tutorial"])  # Adam in standardised space; L-BFGS on pixels
def test_a_given_start_is_where_the_first_evaluation_is(random_vgg, preset):
    from d2lstyle import images

    photo, painting = Image.new("RGB", (48, 32), (30, 90, 160)), Image.new("RGB", (32, 32), (220, 180, 40))
    start = images.normalize(torch.rand(1, 3, 16, 24, generator=torch.Generator().manual_seed(3)))
    seen = []
    recipe = d2lstyle.get_recipe(preset).replace(image_size=48, steps=1)
    d2lstyle.stylise(photo, painting, recipe, random_vgg, progress=False, start=start,
                     callbacks=[lambda info: seen.append(info.image.clone())])
    expected = torch.nn.functional.interpolate(start, size=(32, 48), mode="bilinear", align_corners=False)
    assert torch.allclose(seen[0], expected, atol=1e-5)  # resized to the run's size, in either space


@pytest.mark.parametrize("start, words", [
    (torch.rand(3, 8, 8), "start must be a standardised image tensor"),
    (torch.full((1, 3, 8, 8), float("nan")), "of finite values"),
    ("a picture.png", "got str"),
])
def test_a_start_that_cannot_be_used_is_refused(random_vgg, start, words):
    photo = Image.new("RGB", (32, 32))
    with pytest.raises(d2lstyle.InputError, match=words):
        d2lstyle.stylise(photo, photo, d2lstyle.get_recipe("d2l").replace(image_size=32, steps=1), random_vgg,
                         progress=False, start=start)
