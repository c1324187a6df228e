"""One painter for several paintings: conditional instance normalisation, blends, training several paintings at
once, adding a painting by its normalisation parameters alone, and the model files that hold them.

The layer is checked against PyTorch's own instance normalisation with each painting's scale and shift, a blend
against the blend of the paintings' outputs, gradients numerically; training uses the small random VGG-19 of
test_painter.py and tests the loop (which rows of which parameters change), not the pictures
(benchmarks/multi_painter_bench.py measures those).
"""

import numpy as np
import pytest
import torch
from PIL import Image
from torch import nn

from d2lstyle import painter
from d2lstyle.errors import PainterError
from d2lstyle.painter import PainterSettings

from test_painter import TINY, one_thread, photos, style_picture, vgg  # noqa: F401 (fixtures)


@pytest.fixture(scope="module")
def paintings():
    """Two 'paintings' unlike each other: red and white stripes, blue and black dots."""
    stripes = (np.indices((48, 48)).sum(axis=0) // 4 % 2).astype(np.uint8)
    red = np.stack([200 + 55 * stripes, 255 * stripes, 255 * stripes], axis=2)
    dots = ((np.indices((48, 48)) % 8 < 4).all(axis=0)).astype(np.uint8)
    blue = np.stack([20 * dots, 40 * dots, 120 + 130 * dots], axis=2)
    return [Image.fromarray(red.astype(np.uint8)), Image.fromarray(blue.astype(np.uint8))]


def random_norm(channels, styles, seed=0):
    generator = torch.Generator().manual_seed(seed)
    norm = painter.ConditionalInstanceNorm(channels, styles)
    with torch.no_grad():
        norm.weight.copy_(torch.rand(styles, channels, generator=generator) * 2 + 0.5)
        norm.bias.copy_(torch.randn(styles, channels, generator=generator))
    return norm


# --- the layer -------------------------------------------------------------------------------------


def test_each_painting_is_instance_norm_with_its_own_scale_and_shift():
    norm = random_norm(3, styles=4)
    X = torch.randn(2, 3, 5, 6)
    for style in range(4):
        reference = nn.InstanceNorm2d(3, affine=True)
        with torch.no_grad():
            reference.weight.copy_(norm.weight[style])
            reference.bias.copy_(norm.bias[style])
        norm.mix = torch.eye(4)[style]
        assert torch.allclose(norm(X), reference(X), atol=1e-5)
        assert torch.allclose(norm(X.contiguous(memory_format=torch.channels_last)), reference(X), atol=1e-5)
        assert torch.allclose(painter.conditional_instance_norm(X, norm.weight, norm.bias, norm.mix), reference(X),
                              atol=1e-5)


def test_a_blend_paints_the_blend_of_the_paintings_outputs():
    # the output is linear in the scale and shift, which are linear in the blend weights, which sum to 1
    norm = random_norm(4, styles=3, seed=1)
    X = torch.randn(1, 4, 7, 7)
    outputs = []
    for style in range(3):
        norm.mix = torch.eye(3)[style]
        outputs.append(norm(X))
    mix = torch.tensor([0.2, 0.5, 0.3])
    norm.mix = mix
    assert torch.allclose(norm(X), sum(weight * output for weight, output in zip(mix, outputs)), atol=1e-5)


def test_gradients_reach_only_the_paintings_in_the_blend_and_match_finite_differences():
    norm = random_norm(2, styles=3, seed=2).double()
    norm.mix = torch.tensor([0.7, 0.0, 0.3], dtype=torch.double)
    X = torch.randn(1, 2, 4, 4, dtype=torch.double)
    assert torch.autograd.gradcheck(
        lambda scales, shifts: painter.conditional_instance_norm(X, scales, shifts, norm.mix).square().mean(),
        (norm.weight.detach().clone().requires_grad_(), norm.bias.detach().clone().requires_grad_()), eps=1e-6,
        atol=1e-5)
    norm(X).square().mean().backward()
    for parameter in (norm.weight, norm.bias):
        assert parameter.grad[1].abs().sum() == 0 and parameter.grad[0].abs().sum() > 0
        assert torch.allclose(parameter.grad[2] / 0.3, parameter.grad[0] / 0.7)  # in proportion to the weights


@pytest.mark.parametrize("style, message", [
    (2, "paints 2 paintings, numbered 0 to 1; there is no painting 2"),
    (-1, "there is no painting -1"),
    (True, "choose a painting by its index"),
    ([1.0], "a blend of 2 weights"),
    ("starry", "a blend of 2 weights"),
    ([1.0, -0.5], "non-negative numbers that are not all 0"),
    ([0, 0], "non-negative numbers that are not all 0"),
    ([float("nan"), 1.0], "non-negative numbers"),
])
def test_a_bad_choice_of_painting_is_refused_clearly(style, message):
    net = painter.Painter(channels=(4, 8, 8), residual_blocks=1, styles=2)
    with pytest.raises(PainterError, match=message):
        net.choose_style(style)


def test_a_single_painting_painter_keeps_its_plain_instance_norm():
    # format-2 model files hold (C,) scales and shifts: a painter of one painting must keep that layout
    single = painter.Painter(channels=(4, 8, 8), residual_blocks=1)
    assert not any(isinstance(module, painter.ConditionalInstanceNorm) for module in single.modules())
    assert torch.equal(single.choose_style(0), torch.tensor([1.0]))
    several = painter.Painter(channels=(4, 8, 8), residual_blocks=1, styles=3)
    norms = [module for module in several.modules() if isinstance(module, painter.ConditionalInstanceNorm)]
    assert len(norms) == 3 + 2 + 2 and all(norm.weight.shape[0] == 3 for norm in norms)
    with pytest.raises(ValueError, match="at least 1 painting"):
        painter.Painter(styles=0)


def test_the_choice_changes_the_picture_and_paint_takes_it():
    net = painter.new_painter(TINY, styles=2).eval()
    with torch.no_grad():
        for module in net.modules():
            if isinstance(module, painter.ConditionalInstanceNorm):
                module.bias[1].add_(0.5)
    photo = Image.new("RGB", (40, 30), (90, 140, 200))
    first, second = (np.asarray(painter.paint(net, photo, 32, style=style), dtype=float) for style in (0, 1))
    assert np.abs(first - second).mean() > 1
    assert np.array_equal(np.asarray(painter.paint(net, photo, 32)), second)  # the last choice stays


# --- training ---------------------------------------------------------------------------------------


def norm_rows(net):
    """name -> (S, C) scales or shifts of every conditional normalisation layer."""
    return {name: value.detach().clone() for name, value in net.named_parameters()
            if name.endswith((".weight", ".bias")) and value.dim() == 2}


def test_training_several_paintings_trains_each_ones_own_parameters(vgg, photos, paintings):
    start = norm_rows(painter.new_painter(TINY, styles=2))
    result = painter.train_painter(paintings, photos, TINY.replace(steps=4), vgg, progress=False)
    assert result.status == "finished" and result.painter.styles == 2 and result.history["step"] == [1, 2, 3, 4]
    assert len(result.loss_weights["style"]) == 2 and result.loss_weights["style"][0] != result.loss_weights["style"][1]
    trained = norm_rows(result.painter)
    for name, before in start.items():
        assert not torch.equal(trained[name][0], before[0]) and not torch.equal(trained[name][1], before[1]), name
        assert not torch.equal(trained[name][0], trained[name][1]), name


def test_each_painting_is_learnt_by_its_own_scales_and_shifts(vgg, photos, paintings):
    # red stripes and blue dots: after a short training, with the style weighted strongly so that 60 steps suffice,
    # the painter's choice of painting sets the colour
    settings = TINY.replace(steps=60, lr=1e-2, style_weight=10.0)
    result = painter.train_painter(paintings, photos, settings, vgg, progress=False)
    photo = photos[0]
    red, blue = (np.asarray(painter.paint(result.painter, photo, 40, style=style), dtype=float).mean(axis=(0, 1))
                 for style in (0, 1))
    assert red[0] - red[2] > blue[0] - blue[2] + 30


def test_adding_a_painting_trains_only_its_normalisation_parameters(vgg, photos, paintings, style_picture):
    base = painter.train_painter(paintings, photos, TINY.replace(steps=2), vgg, progress=False).painter
    before = {name: value.detach().clone() for name, value in base.state_dict().items()}
    result = painter.train_painter(style_picture, photos, TINY.replace(steps=3), vgg, progress=False,
                                   start_from=base)
    assert result.status == "finished" and result.painter.styles == 3
    after = result.painter.state_dict()
    for name, value in before.items():
        if value.dim() == 2:  # a normalisation layer's scales or shifts: the old rows stay, the new one learns
            assert torch.equal(after[name][:2], value), name
            assert not torch.allclose(after[name][2], value.mean(dim=0)), name
        else:  # every convolution stays as it was
            assert torch.equal(after[name], value), name
    assert all(torch.equal(base.state_dict()[name], value) for name, value in before.items())  # base untouched
    photo = photos[1]
    for style in (0, 1):  # the old paintings paint as before
        assert np.array_equal(np.asarray(painter.paint(result.painter, photo, 32, style=style)),
                              np.asarray(painter.paint(base, photo, 32, style=style)))


def test_a_painter_of_one_painting_can_be_extended_and_keeps_its_picture(photos):
    net = painter.new_painter(TINY).eval()
    with torch.no_grad():
        net.encoder[0][1].weight.mul_(1.5)
    wider = painter.painter_with_more_paintings(net, TINY, 2).eval()
    assert wider.styles == 3
    assert torch.allclose(wider.encoder[0][1].weight[2], net.encoder[0][1].weight)  # the mean of one is itself
    photo = photos[0]
    assert np.array_equal(np.asarray(painter.paint(wider, photo, 32, style=0)),
                          np.asarray(painter.paint(net, photo, 32)))
    with pytest.raises(PainterError, match="another network"):
        painter.painter_with_more_paintings(net, TINY.replace(channels=(4, 8, 16)), 1)


def test_several_paintings_resume_as_an_uninterrupted_run(vgg, photos, paintings, tmp_path):
    settings = TINY.replace(steps=5)
    straight = painter.train_painter(paintings, photos, settings, vgg, progress=False)
    stopped = painter.train_painter(paintings, photos, settings, vgg, progress=False,
                                    callbacks=[lambda info: info.step >= 3])
    checkpoint = painter.load_training_checkpoint(painter.save_training_checkpoint(tmp_path / "c.ckpt", stopped))
    resumed = painter.train_painter(paintings, photos, settings, vgg, progress=False, resume=checkpoint)
    assert resumed.history["step"] == [1, 2, 3, 4, 5]
    assert np.allclose(resumed.history["total"], straight.history["total"], rtol=1e-5)
    with pytest.raises(PainterError, match="other paintings"):
        painter.train_painter(paintings[::-1], photos, settings, vgg, progress=False, resume=checkpoint)


def test_a_training_checkpoint_of_format_2_still_resumes(vgg, photos, style_picture, tmp_path):
    settings = TINY.replace(steps=4)
    straight = painter.train_painter(style_picture, photos, settings, vgg, progress=False)
    stopped = painter.train_painter(style_picture, photos, settings, vgg, progress=False,
                                    callbacks=[lambda info: info.step >= 2])
    old = dict(stopped.checkpoint, format="d2lstyle-painter-training-2",
               loss_weights={"content": stopped.loss_weights["content"], "style": stopped.loss_weights["style"][0]})
    torch.save(old, tmp_path / "old.ckpt")
    assert painter.describe_painter_file(tmp_path / "old.ckpt") == "a d2lstyle painter training checkpoint"
    resumed = painter.train_painter(style_picture, photos, settings, vgg, progress=False,
                                    resume=painter.load_training_checkpoint(tmp_path / "old.ckpt"))
    assert np.allclose(resumed.history["total"], straight.history["total"], rtol=1e-5)


# --- model files -----------------------------------------------------------------------------------


def test_a_model_file_of_several_paintings_round_trip(vgg, photos, paintings, tmp_path):
    result = painter.train_painter(paintings, photos, TINY.replace(steps=2), vgg, progress=False)
    path = painter.save_painter(tmp_path / "two.pt", result, style=["Red Stripes.png", "blue_dots.jpg"])
    saved = painter.load_painter(path)
    assert saved.styles == ["Red Stripes.png", "blue_dots.jpg"] and saved.painter.styles == 2
    assert saved.style_index("red stripes") == 0 and saved.style_index("BLUE_DOTS.jpg") == 1
    assert saved.training_seconds == result.history["seconds"][-1] > 0
    with pytest.raises(PainterError, match="no painting called 'green'; it paints red stripes, blue_dots"):
        saved.style_index("green")
    photo = photos[2]
    for style in (0, 1):
        assert np.array_equal(np.asarray(painter.paint(saved.painter, photo, 32, style=style)),
                              np.asarray(painter.paint(result.painter, photo, 32, style=style)))
    with pytest.raises(ValueError, match="paints 2 paintings, but 1 names"):
        painter.save_painter(tmp_path / "bad.pt", result, style="red.png")
    with pytest.raises(PainterError, match="the same name"):
        painter.save_painter(tmp_path / "bad.pt", result, style=["a/red.png", "b/red.jpg"])
    assert not (tmp_path / "bad.pt").exists()


def test_a_model_file_of_format_2_still_loads_as_one_painting(vgg, photos, style_picture, tmp_path):
    result = painter.train_painter(style_picture, photos, TINY.replace(steps=2), vgg, progress=False)
    path = painter.save_painter(tmp_path / "new.pt", result, style="stripes.png")
    payload = torch.load(path, weights_only=True)
    assert payload["format"] == painter.FORMAT == "d2lstyle-painter-3"
    old = {key: value for key, value in payload.items() if key not in ("styles", "training_seconds")}
    torch.save({**old, "format": "d2lstyle-painter-2"}, tmp_path / "old.pt")
    saved = painter.load_painter(tmp_path / "old.pt")
    assert saved.styles == ["stripes.png"] and saved.painter.styles == 1 and saved.training_seconds == 0.0
    photo = photos[0]
    assert np.array_equal(np.asarray(painter.paint(saved.painter, photo, 32)),
                          np.asarray(painter.paint(result.painter, photo, 32)))
