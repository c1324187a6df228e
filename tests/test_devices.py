"""Correctness of the performance changes (issue #5); speed is measured by
``make bench``, never asserted here."""

import dataclasses
import os

import pytest
import torch
from PIL import Image

import d2lstyle
from d2lstyle import devices, objective, recipes


@pytest.fixture(scope="module")
def vgg():
    return d2lstyle.load_vgg19("random")


@pytest.fixture(scope="module")
def pair():
    content = Image.radial_gradient("L").convert("RGB").resize((40, 32))
    style = Image.linear_gradient("L").convert("RGB").resize((36, 36))
    return content, style


def test_fast_layout_keeps_values_and_shape():
    x = torch.randn(1, 3, 5, 7)
    y = devices.fast_layout(x)
    assert torch.equal(x, y) and y.shape == x.shape
    assert y.is_contiguous(memory_format=torch.channels_last)
    assert x.is_contiguous()  # the input is not changed


def test_fast_layout_passes_gradients_back():
    x = torch.randn(1, 3, 4, 4, requires_grad=True)
    (devices.fast_layout(x) * torch.arange(48.0).view(1, 3, 4, 4)).sum().backward()
    assert torch.equal(x.grad, torch.arange(48.0).view(1, 3, 4, 4))


def test_fast_layout_leaves_other_devices_alone(monkeypatch):
    monkeypatch.setattr(devices, "CHANNELS_LAST_DEVICES", ())
    x = torch.randn(1, 3, 4, 4)
    assert devices.fast_layout(x) is x


@pytest.mark.parametrize("recipe_name", ["d2l", "default"])
@pytest.mark.slow
def test_channels_last_gives_the_same_run(pair, recipe_name, monkeypatch):
    """The layout changes only the order of memory: Adam and L-BFGS (whose flat
    views of the gradient need the ordinary layout) follow the same path.

    In float32: with the ``auto`` precision a processor with bfloat16 (AVX-512
    BF16) runs VGG-19 in bfloat16, whose 8-bit mantissa makes the two layouts'
    summation orders differ by about 1e-4 already in the first loss. With the
    original VGG-19: on the random network's tiny loss (about 7e-3) the default's
    line search, which interpolates between trial steps, turned the layouts'
    rounding into a 13% difference by the sixth evaluation."""
    vgg = d2lstyle.load_vgg19("original")
    recipe = recipes.get_recipe(recipe_name).replace(image_size=32, steps=6, precision="float32")
    fast = d2lstyle.stylise(*pair, recipe, vgg, progress=False)
    monkeypatch.setattr(devices, "CHANNELS_LAST_DEVICES", ())
    plain = d2lstyle.stylise(*pair, recipe, vgg, progress=False)
    assert fast.status == plain.status == "finished"
    assert len(fast.history["total"]) == 6
    # the same first loss; after that, float rounding (another summation
    # order in the convolutions) may drift a little through the optimiser,
    # L-BFGS (the default recipe) more than Adam: its curvature estimate
    # divides small differences of gradients.
    assert fast.history["total"][0] == pytest.approx(plain.history["total"][0], rel=1e-5)
    drift = 1e-2 if recipe.optimizer == "adam" else 1e-1
    torch.testing.assert_close(torch.tensor(fast.history["total"]), torch.tensor(plain.history["total"]),
                               rtol=drift, atol=0)
    assert fast.image.is_contiguous()


def test_channels_last_gives_the_same_gradient(vgg, pair):
    recipe = recipes.get_recipe("d2l")
    content_x, style_x = (d2lstyle.preprocess(img, (32, 40)) for img in pair)
    extractor = d2lstyle.FeatureExtractor(vgg, recipe.layers())
    targets = objective.compute_targets(extractor, content_x, style_x, recipe)
    gradients = []
    for layout in (devices.fast_layout, lambda x: x):
        x = content_x.clone().requires_grad_(True)
        objective.loss_terms(x, extractor(layout(x)), targets, recipe)["total"].backward()
        gradients.append(x.grad)
    assert gradients[0].is_contiguous()
    torch.testing.assert_close(gradients[0], gradients[1], rtol=1e-4, atol=1e-7)


def test_memory_estimate_grows_with_size_and_history():
    recipe = recipes.get_recipe("default").replace(optimizer="lbfgs", lr=1.0, lbfgs_history=20)
    small = devices.estimate_memory_bytes((256, 256), recipe)
    large = devices.estimate_memory_bytes((512, 512), recipe)
    assert 2 * small < large < 4 * small  # activations grow 4x; the work space does not
    longer = dataclasses.replace(recipe, lbfgs_history=recipe.lbfgs_history + 50)
    image = 3 * 512 * 512 * 4  # bytes
    extra = devices.estimate_memory_bytes((512, 512), longer) - large
    assert extra == pytest.approx(1.25 * 2 * 50 * image, abs=2)  # two vectors per remembered step


def test_memory_estimate_counts_what_autograd_keeps():
    """A hand count for one small case: conv1_1 only (64 x 8 x 8 floats) with
    d2l's optimiser (Adam)."""
    recipe = recipes.get_recipe("d2l").replace(content_layers={}, style_layers={"conv1_1": 1.0})
    conv = 64 * 8 * 8
    floats = conv + 2 * conv + 3 * conv + 2 * (3 * 9 + 1) * 64 + 6 * 3 * 8 * 8
    assert devices.estimate_memory_bytes((8, 8), recipe) == int(4 * floats * 1.25) + 256 * 2**20



def test_memory_estimate_without_gradients_counts_one_forward_pass():
    """A painting's features are computed once, without autograd: conv1_1's input and output, the feature
    kept, the weights' two copies and the image three times."""
    recipe = recipes.get_recipe("d2l").replace(content_layers={}, style_layers={"conv1_1": 1.0})
    conv = 64 * 8 * 8
    floats = 2 * conv + conv + 2 * (3 * 9 + 1) * 64 + 3 * 3 * 8 * 8
    assert devices.estimate_memory_bytes((8, 8), recipe, gradients=False) == int(4 * floats * 1.25) + 256 * 2**20
    default = recipes.get_recipe("default")
    assert (devices.estimate_memory_bytes((512, 512), default, gradients=False)
            < devices.estimate_memory_bytes((512, 512), default) / 2)


@pytest.mark.parametrize("style_scale", [None, 4.0])
def test_the_memory_advice_fits(monkeypatch, style_scale):
    """The --size (or --style-scale) a refusal advises is one that passes the same check."""
    monkeypatch.setattr(devices, "available_memory_bytes", lambda device: 2**30)  # 1 GiB free
    recipe = recipes.get_recipe("default")
    with pytest.raises(d2lstyle.MemoryEstimateError, match="but only 1.0 GiB is free on cpu") as refused:
        devices.ensure_memory((3000, 4000), recipe, "cpu", style_scale)
    option = "--size" if style_scale is None else "--style-scale"
    advised = float(str(refused.value).split(f"({option} ")[1].split()[0])
    side = advised if style_scale is None else 4000 * advised / style_scale
    devices.ensure_memory((round(side * 3 / 4), round(side)), recipe, "cpu", style_scale)
    monkeypatch.setattr(devices, "available_memory_bytes", lambda device: 2**28)  # 256 MiB: not even the network
    with pytest.raises(d2lstyle.MemoryEstimateError, match="the network alone needs about"):
        devices.ensure_memory((3000, 4000), recipe, "cpu", style_scale)


def test_memory_estimate_grows_with_the_area():
    recipe = d2lstyle.get_recipe("d2l")
    sizes = {side: devices.estimate_memory_bytes((side, side), recipe) for side in (256, 512, 1024)}
    # Everything but a fixed work space grows with the number of pixels:
    # 1024^2 - 512^2 is four times 512^2 - 256^2.
    assert (sizes[1024] - sizes[512]) / (sizes[512] - sizes[256]) == pytest.approx(4, rel=0.02)
    # Block 1 alone keeps 64 channels at full size: at least 64 * H * W floats.
    assert sizes[256] > 64 * 256 * 256 * 4


def test_device_choice(monkeypatch):
    assert d2lstyle.pick_device("cpu") == torch.device("cpu")
    with pytest.raises(ValueError, match="unknown device"):
        d2lstyle.pick_device("gpu0")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    assert d2lstyle.pick_device(None) == torch.device("cpu")
    with pytest.raises(ValueError, match="no CUDA GPU"):
        d2lstyle.pick_device("cuda")
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: True)
    assert d2lstyle.pick_device(None) == torch.device("mps")  # the fastest available: MPS before the CPU
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert d2lstyle.pick_device("auto") == torch.device("cuda")  # and CUDA before MPS


@pytest.mark.skipif(not hasattr(os, "sysconf") or not os.path.exists("/proc/meminfo"), reason="Linux only")
def test_available_memory_lies_between_free_and_total_memory():
    page = os.sysconf("SC_PAGE_SIZE")
    free, total = os.sysconf("SC_AVPHYS_PAGES") * page, os.sysconf("SC_PHYS_PAGES") * page
    available = devices.available_memory_bytes("cpu")
    # MemAvailable counts the free pages plus what the kernel can reclaim (caches), never more than all of it.
    assert 0.9 * free <= available <= total
