"""The controls of Gatys et al. 2017 keep the properties they promise: luminance-only transfer leaves the
photo's chrominance as it was, histogram matching gives the painting the photo's colour statistics, a style
of weight 0 and the outside of a mask get no gradient, each scale starts from the previous result upsampled,
and the memory check is made for the largest scale. Random network and tiny images: the pictures do not
matter here, the properties do."""

import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image

import d2lstyle
from d2lstyle import colour, devices, images, losses, masks, objective, transfer
from d2lstyle.controls import Controls
from d2lstyle.errors import ImageError, RecipeError

ROOT = Path(__file__).resolve().parent.parent


def bundled(name):
    """A bundled picture, shrunk to 128 px: large enough for every run here, quick to resize."""
    return images.resize(d2lstyle.load_image(d2lstyle.bundled_image(name)), 128)


@pytest.fixture(scope="module")
def photo():
    return bundled("tubingen")


@pytest.fixture(scope="module")
def painting():
    return bundled("starry_night")


@pytest.fixture(scope="module")
def other_painting():
    return bundled("the_scream")


def tiny(steps=3, **changes):
    """The d2l recipe on 32x48 images with shallow layers: fast, and enough to show every property."""
    settings = {"image_size": (32, 48), "steps": steps, "content_layers": {"relu2_2": 1.0},
                "style_layers": {"relu1_1": 1.0, "relu2_1": 1.0}}
    settings.update(changes)
    return d2lstyle.get_recipe("d2l").replace(**settings)


def run(content, style, recipe, vgg, **options):
    return d2lstyle.stylise(content, style, recipe, vgg, progress=False, **options)


def random_pixels(*shape, seed=0, dtype=torch.float64):
    return torch.rand(shape, generator=torch.Generator().manual_seed(seed), dtype=dtype)


# --- colour: luminance only ---------------------------------------------------------------------------


def test_yiq_has_the_ntsc_luminance_and_grey_has_no_chrominance():
    pixels = random_pixels(1, 3, 5, 7)
    yiq = colour.rgb_to_yiq(pixels)
    r, g, b = pixels[0]
    assert torch.allclose(yiq[0, 0], 0.299 * r + 0.587 * g + 0.114 * b)
    assert torch.allclose(colour.yiq_to_rgb(yiq), pixels)
    grey = colour.grey(yiq[:, :1])
    assert torch.allclose(colour.rgb_to_yiq(grey)[:, 1:], torch.zeros(1, 2, 5, 7, dtype=torch.float64), atol=1e-12)


def test_luminance_only_transfer_keeps_the_photos_chrominance(photo, painting, random_vgg):
    result = run(photo, painting, tiny(), random_vgg, controls=Controls(preserve_colors="luminance"))
    assert result.status == "finished"
    yiq_x = colour.rgb_to_yiq(images.denormalize(result.image.double()))
    yiq_p = colour.rgb_to_yiq(images.denormalize(images.preprocess(photo, (32, 48)).double()))
    assert (yiq_x[:, 1:] - yiq_p[:, 1:]).abs().max() < 1e-5  # unchanged, up to float rounding
    assert (yiq_x[:, :1] - yiq_p[:, :1]).abs().max() > 1e-3  # while the luminance was painted


def test_the_luminance_only_network_sees_luminance_alone(random_vgg):
    vgg = colour.luminance_only(random_vgg)
    x = torch.randn(1, 3, 32, 32, generator=torch.Generator().manual_seed(1)).requires_grad_(True)
    features = vgg(x)
    features.square().sum().backward()
    # d/dx_c f(Y) = f'(Y) * c_c * std_c: the same picture in each channel, scaled by its luminance
    # coefficient times its standard deviation (x is standardised).
    scaled = x.grad[0] / (torch.tensor([0.299, 0.587, 0.114]) * torch.tensor(images.IMAGENET_STD)).view(3, 1, 1)
    assert torch.allclose(scaled[0], scaled[1], rtol=1e-3, atol=1e-6)
    assert torch.allclose(scaled[0], scaled[2], rtol=1e-3, atol=1e-6)
    # Another chrominance with the same luminance gives the same features.
    pixels = images.denormalize(x.detach()).double()
    yiq = colour.rgb_to_yiq(pixels)
    yiq[:, 1:] = yiq[:, 1:] * -0.5 + 0.05
    recoloured = images.normalize(colour.yiq_to_rgb(yiq)).float()
    assert torch.allclose(vgg(recoloured), features.detach(), rtol=1e-3, atol=1e-4)
    assert random_vgg[0] is vgg[0]  # the layers are shared, not copied


def test_matched_luminance_has_the_photos_mean_and_spread():
    photo, painting = random_pixels(1, 3, 8, 9, seed=1), random_pixels(1, 3, 6, 5, seed=2) * 0.3 + 0.6
    matched = colour.match_luminance(painting, photo)
    Y_m, Y_p = colour.luminance(matched), colour.luminance(photo)
    assert torch.isclose(Y_m.mean(), Y_p.mean()) and torch.isclose(Y_m.std(), Y_p.std())
    assert torch.allclose(colour.rgb_to_yiq(matched)[:, 1:], torch.zeros(1, 2, 6, 5, dtype=torch.float64), atol=1e-12)  # grey


# --- colour: histogram matching -------------------------------------------------------------------------


def test_histogram_matching_gives_the_photos_channel_means_and_covariance():
    photo = random_pixels(1, 3, 9, 11, seed=3) ** 2  # a skewed, correlated-free photo
    mixing = torch.tensor([[1.0, 0.2, 0.0], [0.5, 0.5, 0.0], [0.1, 0.3, 0.6]], dtype=torch.float64)
    painting = torch.einsum("ck,nkhw->nchw", mixing, random_pixels(1, 3, 7, 6, seed=4))  # correlated channels
    matched = colour.match_histogram(painting, photo)
    got = matched[0].reshape(3, -1).numpy()
    want = photo[0].reshape(3, -1).numpy()
    np.testing.assert_allclose(got.mean(axis=1), want.mean(axis=1), atol=1e-10)
    np.testing.assert_allclose(np.cov(got, bias=True), np.cov(want, bias=True), atol=1e-10)  # numpy's own cov


def test_matrix_square_roots():
    A = random_pixels(3, 3, seed=5)
    S = A @ A.T + 0.1 * torch.eye(3, dtype=torch.float64)
    root, inverse_root = colour.matrix_power_symmetric(S, 0.5), colour.matrix_power_symmetric(S, -0.5)
    assert torch.allclose(root @ root, S) and torch.allclose(root, root.T)
    assert torch.allclose(inverse_root @ S @ inverse_root, torch.eye(3, dtype=torch.float64))


def test_a_histogram_matched_painting_as_an_image(photo, painting):
    matched = colour.recoloured_painting(painting, photo, "histogram")
    assert matched.size == painting.size
    mean_m, cov_m = colour.colour_statistics(colour._pixels(matched))
    mean_p, cov_p = colour.colour_statistics(colour._pixels(photo))
    # 8-bit rounding and the few values clipped to [0, 1] move the statistics only a little.
    assert (mean_m - mean_p).abs().max() < 0.01
    assert (cov_m - cov_p).abs().max() < 0.1 * cov_p.abs().max()


def test_histogram_matching_in_a_run(photo, painting, random_vgg, monkeypatch):
    seen = []
    original = colour.recoloured_painting
    monkeypatch.setattr(colour, "recoloured_painting", lambda *args: seen.append(args[2]) or original(*args))
    result = run(photo, painting, tiny(), random_vgg, controls=Controls(preserve_colors="histogram"))
    assert result.status == "finished" and seen == ["histogram"]


# --- where each style goes: masks and guided Gram matrices ------------------------------------------------


def test_masks_at_each_layer_have_the_feature_maps_shape(random_vgg):
    layers = ["relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1", "conv4_2"]
    features = d2lstyle.FeatureExtractor(random_vgg, layers)(torch.randn(1, 3, 37, 53))
    mask = torch.ones(1, 1, 37, 53)
    for name in layers:
        assert masks.mask_at_layer(mask, name).shape[-2:] == features[name].shape[-2:], name


def test_a_guided_gram_matrix_is_the_gram_matrix_of_its_region():
    X = torch.randn(1, 4, 6, 8, generator=torch.Generator().manual_seed(6))
    left = torch.zeros(1, 1, 6, 8)
    left[..., :3] = 1.0
    for normalization in ("chw", "hw", "none"):
        assert torch.allclose(losses.guided_gram_matrix(X, torch.ones(1, 1, 6, 8), normalization),
                              d2lstyle.gram_matrix(X, normalization))
    # The left three columns, compared as if they filled the image.
    assert torch.allclose(losses.guided_gram_matrix(X, left), d2lstyle.gram_matrix(X[..., :3]))
    assert torch.allclose(losses.guided_gram_matrix(X, left, "none"), d2lstyle.gram_matrix(X[..., :3], "none") * 8 / 3)
    with pytest.raises(ValueError, match="empty"):
        losses.guided_gram_matrix(X, torch.zeros(1, 1, 6, 8))


def style_gradient(random_vgg, style_x, blend, masks, recipe, x):
    """d(style term)/dx for paintings ``style_x`` with ``blend`` and ``masks`` (tensors or None)."""
    extractor = d2lstyle.FeatureExtractor(random_vgg, recipe.layers())
    targets = objective.compute_targets(extractor, None, style_x, recipe.replace(content_layers={}), blend, masks)
    x = x.clone().requires_grad_(True)
    terms = objective.loss_terms(x, extractor(x), targets, recipe.replace(content_weight=0, tv_weight=0))
    terms["style"].backward()
    return x.grad, terms["style"].detach()


def test_outside_a_mask_a_style_gives_no_gradient(random_vgg):
    recipe = tiny()  # style layers relu1_1 and relu2_1: a feature of relu2_1 sees 10 x 10 pixels
    x = torch.randn(1, 3, 32, 48, generator=torch.Generator().manual_seed(7))
    painting_x = torch.randn(1, 3, 32, 32, generator=torch.Generator().manual_seed(8))
    mask = torch.zeros(1, 1, 32, 48)
    mask[..., :16] = 1.0  # the left third
    grad, _ = style_gradient(random_vgg, [painting_x], (1.0,), [mask], recipe, x)
    # The mask is 0 at relu2_1 from column 8 on (pixels 16 and up); its features there see pixels up to
    # column 2 * 7 + 5 = 19. From column 20 on, not one pixel gets any gradient from this style.
    assert torch.count_nonzero(grad[..., 20:]) == 0
    assert torch.count_nonzero(grad[..., :16]) == grad[..., :16].numel()


def test_at_each_layer_the_gradient_stops_at_the_masks_edge():
    Y = torch.randn(1, 8, 6, 10, generator=torch.Generator().manual_seed(9), requires_grad=True)
    guide = torch.zeros(1, 1, 6, 10)
    guide[..., 2:5, 3:7] = 1.0
    target = objective.StyleTarget(1.0, {"relu2_1": d2lstyle.gram_matrix(torch.randn(1, 8, 5, 5))},
                                   {"relu2_1": guide})
    losses.styles_loss(Y, "relu2_1", [target]).backward()
    assert torch.count_nonzero(Y.grad * (1 - guide)) == 0 and torch.count_nonzero(Y.grad * guide) > 0


def test_a_region_pulls_each_pixel_as_hard_as_a_whole_image():
    # For a region whose guided Gram matrix equals the plain one's, the gradient per pixel inside it is
    # the same as with one painting everywhere: the area factor undoes the region's smaller size.
    Y = torch.randn(1, 4, 4, 6, generator=torch.Generator().manual_seed(10))
    tiled = Y.repeat(1, 1, 1, 2).requires_grad_(True)  # the left and the right half are the same picture
    half = torch.zeros(1, 1, 4, 12)
    half[..., :6] = 1.0
    target_gram = d2lstyle.gram_matrix(torch.randn(1, 4, 5, 5, generator=torch.Generator().manual_seed(11)))
    whole = Y.clone().requires_grad_(True)
    losses.styles_loss(whole, "relu1_1", [objective.StyleTarget(1.0, {"relu1_1": target_gram}, {})]).backward()
    losses.styles_loss(tiled, "relu1_1", [objective.StyleTarget(1.0, {"relu1_1": target_gram},
                                                                 {"relu1_1": half})]).backward()
    assert torch.allclose(tiled.grad[..., :6], whole.grad * 6 / 12)  # the mean over twice the positions


def test_a_mask_of_another_size_is_resized_and_a_bad_one_is_refused(photo, tmp_path):
    small = Image.new("L", (20, 15), 255)
    assert masks.load_mask(small, photo.size).size == photo.size
    with pytest.raises(ImageError, match="black everywhere"):
        masks.load_mask(Image.new("L", (20, 15), 0), photo.size, 2)
    not_an_image = tmp_path / "mask.png"
    not_an_image.write_text("no picture")
    with pytest.raises(ImageError, match=r"not an image file.*\(the mask of style 1\)"):
        masks.load_mask(not_an_image, photo.size)


def test_a_masked_run_uses_the_mask_at_every_scale(photo, painting, other_painting, random_vgg, monkeypatch):
    sky = Image.new("L", (64, 48), 0)
    sky.paste(255, (0, 0, 64, 20))
    seen = []
    original = objective.style_targets
    monkeypatch.setattr(objective, "style_targets", lambda *args: seen.append(args[3]) or original(*args))
    result = run(photo, [painting, other_painting], tiny(steps=4, scales=(0.5, 1.0)), random_vgg,
                 controls=Controls(masks=(sky, None)))
    assert result.status == "finished" and len(seen) == 2
    for masks, shape in zip(seen, [(16, 24), (32, 48)]):
        assert masks[1] is None and masks[0].shape == (1, 1, *shape)
        assert masks[0][..., 0, :].min() > 0.9 and masks[0][..., -1, :].max() < 0.1  # sky at the top


# --- several styles -------------------------------------------------------------------------------------------


def test_a_style_of_weight_0_contributes_nothing(photo, painting, other_painting, random_vgg):
    alone = run(photo, painting, tiny(), random_vgg)
    with_zero = run(photo, [painting, other_painting], tiny(), random_vgg, controls=Controls(blend=(1.0, 0.0)))
    assert with_zero.history["total"] == alone.history["total"]
    assert torch.equal(with_zero.image, alone.image)


def test_a_style_of_weight_0_gives_no_gradient(random_vgg):
    recipe = tiny()
    x = torch.randn(1, 3, 32, 32, generator=torch.Generator().manual_seed(12))
    first, second = (torch.randn(1, 3, 32, 32, generator=torch.Generator().manual_seed(s)) for s in (13, 14))
    grad_first, _ = style_gradient(random_vgg, [first], (1.0,), [None], recipe, x)
    grad_both, _ = style_gradient(random_vgg, [first, second], (1.0, 0.0), [None, None], recipe, x)
    assert torch.equal(grad_both, grad_first)


def test_blend_weights_weigh_each_paintings_loss(random_vgg):
    recipe = tiny()
    x = torch.randn(1, 3, 32, 32, generator=torch.Generator().manual_seed(15))
    first, second = (torch.randn(1, 3, 32, 32, generator=torch.Generator().manual_seed(s)) for s in (16, 17))
    _, loss_first = style_gradient(random_vgg, [first], (1.0,), [None], recipe, x)
    _, loss_second = style_gradient(random_vgg, [second], (1.0,), [None], recipe, x)
    _, blended = style_gradient(random_vgg, [first, second], (0.7, 0.3), [None, None], recipe, x)
    assert float(blended) == pytest.approx(float(0.7 * loss_first + 0.3 * loss_second), rel=1e-5)
    plain_extractor = d2lstyle.FeatureExtractor(random_vgg, recipe.layers())
    plain = objective.loss_terms(x, plain_extractor(x), objective.compute_targets(
        plain_extractor, None, first, recipe.replace(content_layers={})), recipe.replace(content_weight=0))
    assert float(plain["style"]) == pytest.approx(float(loss_first), rel=1e-6)  # one painting: the plain loss


def test_controls_refuse_what_cannot_work():
    with pytest.raises(RecipeError, match="blend weight 2 must be a finite number >= 0, not -0.5"):
        Controls(blend=(1.0, -0.5))
    with pytest.raises(RecipeError, match="blend weight 1 must be a finite number >= 0, not nan"):
        Controls(blend=(math.nan,))
    with pytest.raises(RecipeError, match="every blend weight is 0"):
        Controls(blend=(0.0, 0.0))
    with pytest.raises(RecipeError, match="preserve_colors must be"):
        Controls(preserve_colors="sepia")
    with pytest.raises(RecipeError, match="style scale must be a finite number > 0"):
        Controls(style_scale=math.inf)
    with pytest.raises(RecipeError, match="3 blend weights for 2 style images"):
        Controls(blend=(1.0, 1.0, 1.0)).validate_count(2)
    with pytest.raises(RecipeError, match="1 style masks for 2 style images"):
        Controls(masks=(None,)).validate_count(2)
    assert Controls().blend_for(4) == (0.25,) * 4
    assert Controls(masks=(Image.new("L", (2, 2), 255), None)).blend_for(2) == (1.0, 1.0)


def test_stylise_refuses_mismatched_counts_before_any_work(photo, painting, random_vgg, monkeypatch):
    monkeypatch.setattr(transfer, "optimise", lambda *args: pytest.fail("the run started"))
    with pytest.raises(RecipeError, match="2 blend weights for 1 style image"):
        run(photo, painting, tiny(), random_vgg, controls=Controls(blend=(0.5, 0.5)))


# --- stroke scale ---------------------------------------------------------------------------------------------


def test_the_style_scale_sets_the_paintings_size(photo, painting, random_vgg):
    sizes = []
    hook = random_vgg[0].register_forward_hook(lambda module, inputs, output: sizes.append(tuple(output.shape[-2:])))
    try:
        run(photo, painting, tiny(steps=1), random_vgg, controls=Controls(style_scale=2.0))
    finally:
        hook.remove()
    content_shape, style_shape = sizes[0], sizes[1]  # the targets first: content, then style
    assert content_shape == (32, 48) and max(style_shape) == 96


# --- coarse to fine ---------------------------------------------------------------------------------------------


def test_each_scale_starts_from_the_previous_result_upsampled(photo, painting, random_vgg, monkeypatch):
    calls = []
    original = transfer.optimise

    def recording(start, *args):
        image = original(start, *args)
        calls.append((start.clone(), image.clone()))
        return image

    monkeypatch.setattr(transfer, "optimise", recording)
    recipe = tiny(steps=9, image_size=(48, 64), scales=(0.25, 0.5, 1.0))
    result = run(photo, painting, recipe, random_vgg)
    assert [tuple(start.shape[-2:]) for start, _ in calls] == [(12, 16), (24, 32), (48, 64)]
    for (_, previous), (start, _) in zip(calls, calls[1:]):
        upsampled = F.interpolate(previous, size=start.shape[-2:], mode="bilinear", align_corners=False)
        assert torch.equal(start, upsampled)
    assert torch.equal(result.image, calls[-1][1])
    assert result.history["scale"] == [0.25] * 3 + [0.5] * 3 + [1.0] * 3


def test_steps_per_scale(photo, painting, random_vgg):
    recipe = tiny(steps=8, scales=(0.5, 1.0), scale_steps=(3, 1))
    assert transfer.scale_schedule(recipe) == [(0.5, 6), (1.0, 8)]
    assert run(photo, painting, recipe, random_vgg).history["scale"] == [0.5] * 6 + [1.0] * 2
    with pytest.raises(RecipeError, match="scale_steps must be empty or one whole number >= 1 per scale"):
        recipe.replace(scale_steps=(3, 1, 1))
    with pytest.raises(RecipeError, match=r"2 scales \(0.5, 1\) need at least 2 steps, one for each, not 1"):
        recipe.replace(steps=1)  # a scale without a step would leave the result at a coarser size
    uneven = tiny(steps=10, scales=(0.25, 0.5, 1.0), scale_steps=(300, 100, 1))
    assert transfer.scale_schedule(uneven) == [(0.25, 7), (0.5, 9), (1.0, 10)]  # the full size gets its step


def test_the_progress_bar_names_each_scale(photo, painting, random_vgg, capsys):
    d2lstyle.stylise(photo, painting, tiny(steps=4, scales=(0.5, 1.0)), random_vgg, progress=True)
    err = capsys.readouterr().err
    assert "scale 1/2, 24x16 px" in err and "scale 2/2, 48x32 px" in err


def test_the_memory_check_is_made_for_the_largest_scale(photo, painting, random_vgg, monkeypatch):
    checked = []
    monkeypatch.setattr(transfer, "ensure_memory",
                        lambda shape, recipe, device, style_scale=None: checked.append((shape, style_scale)))
    recipe = tiny(steps=3, image_size=(64, 96), scales=(0.25, 0.5, 1.0))
    run(photo, painting, recipe, random_vgg, controls=Controls(style_scale=0.5))
    _, painting_shape = transfer.working_shapes(recipe, photo, painting, 2, style_scale=0.5)
    assert checked == [((64, 96), None), (painting_shape, 0.5)]  # the photo optimised, the painting's features
    assert max(painting_shape) == 48


def test_1024_px_coarse_to_fine_is_refused_before_the_run_when_it_cannot_fit(photo, painting, random_vgg,
                                                                               monkeypatch):
    recipe = d2lstyle.get_recipe("default").replace(image_size=1024, scales=(0.25, 0.5, 1.0))
    needed = devices.estimate_memory_bytes((768, 1024), recipe)
    monkeypatch.setattr(devices, "available_memory_bytes", lambda device: needed)  # 90 % of it is usable
    monkeypatch.setattr(transfer, "optimise", lambda *args: pytest.fail("the run started"))
    with pytest.raises(d2lstyle.MemoryEstimateError, match="768x1024 pixels needs about"):
        run(photo, painting, recipe, random_vgg)


PROBE = """
import json, resource, sys, threading
import torch
import d2lstyle
from d2lstyle import devices, transfer

def rss():
    with open("/proc/self/statm") as file:
        return int(file.read().split()[1]) * resource.getpagesize()

photo = d2lstyle.load_image(d2lstyle.bundled_image("tubingen"))
painting = d2lstyle.load_image(d2lstyle.bundled_image("starry_night"))
recipe = d2lstyle.get_recipe("default").replace(image_size=1024, scales=(0.5, 1.0), steps=2, precision="float32")
vgg = d2lstyle.load_vgg19("random")
shape, _ = transfer.working_shapes(recipe, photo, painting)
before, peak, done = rss(), [0], threading.Event()

def sample():
    while not done.wait(0.002):
        peak[0] = max(peak[0], rss())

sampler = threading.Thread(target=sample, daemon=True)
sampler.start()
result = d2lstyle.stylise(photo, painting, recipe, vgg, progress=False)
done.set()
sampler.join()
print(json.dumps({"increase": max(peak[0], rss()) - before, "estimate": devices.estimate_memory_bytes(shape, recipe),
                  "shape": list(result.image.shape)}))
"""


@pytest.mark.slow
def test_1024_px_runs_within_the_memory_estimate():
    # One step at 512 px and one at 1024 px, in a fresh process: the peak is reached at the first step of
    # the largest scale (the optimiser state is allocated there too), so the rest of a run adds nothing.
    done = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=900,
                          cwd=ROOT)
    assert done.returncode == 0, done.stderr
    measured = __import__("json").loads(done.stdout.strip().splitlines()[-1])
    assert measured["shape"] == [1, 3, 768, 1024]
    assert 0 < measured["increase"] <= measured["estimate"], measured
