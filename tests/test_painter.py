"""The painter network, its training loop and its model files.

Each piece is checked against a hand computation where one exists (instance
normalisation, the residual block, the cosine schedule, the normalised loss),
gradients are checked numerically, and every bad model file ends in a
PainterError that says what is wrong. The training tests use random VGG-19
weights, tiny networks and 32 px crops: they test the loop, not the pictures
(benchmarks/painter_bench.py and notebook 10 measure those).
"""

import math
import os
import pickle
import signal

import numpy as np
import pytest
import torch
from PIL import Image
from torch import nn

from d2lstyle import images, losses, painter, quality
from d2lstyle.errors import ImageError, PainterError
from d2lstyle.painter import PainterSettings
from d2lstyle.vgg import VGG19, VGG19_LAYOUT, FeatureExtractor, make_vgg19_features

TINY = PainterSettings(channels=(4, 8, 8), residual_blocks=1, crop=32, batch_size=2, steps=6, style_size=32)


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """Tiny tensors: extra threads only add overhead on a busy machine."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def vgg():
    """VGG-19's 37 layers with a sixteenth of its channels and seeded random weights: the training tests test
    the loop, not the pictures, and run many times faster than with the whole network. Converted once to the
    layout train_painter uses (else each run would convert a copy)."""
    layout = tuple(item if item == "M" else item // 16 for item in VGG19_LAYOUT)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        features = make_vgg19_features(layout=layout)
    net = VGG19(features, description="a small random VGG-19 for tests").requires_grad_(False).eval()
    return painter.channels_last_network(net, "cpu")


@pytest.fixture(scope="module")
def photos():
    """Three small photos with different colours and structure."""
    rng = np.random.default_rng(0)
    pictures = []
    for width, height in ((60, 40), (48, 48), (40, 70)):
        x = np.linspace(0, 1, width)[None, :, None]
        y = np.linspace(0, 1, height)[:, None, None]
        pixels = np.concatenate([x * np.ones((height, 1, 1)), y * np.ones((1, width, 1)),
                                 rng.random((height, width, 1))], axis=2)
        pictures.append(Image.fromarray(np.round(255 * pixels).astype(np.uint8)))
    return pictures


@pytest.fixture(scope="module")
def style_picture():
    """A striped 'painting'."""
    stripes = (np.indices((48, 48)).sum(axis=0) // 4 % 2).astype(np.uint8)
    pixels = np.stack([200 * stripes + 30, 60 + 100 * (1 - stripes), 40 * np.ones_like(stripes)], axis=2)
    return Image.fromarray(pixels.astype(np.uint8))


# --- the network -------------------------------------------------------------------------


def test_instance_norm_matches_a_hand_computation():
    X = torch.tensor([[[[1.0, 2.0], [3.0, 6.0]], [[0.0, 0.0], [0.0, 4.0]]]])  # N=1, C=2, 2x2
    # channel 0: mean 3, variance (4 + 1 + 0 + 9) / 4 = 3.5; channel 1: mean 1, variance (1 + 1 + 1 + 9) / 4 = 3
    want = torch.stack([(X[0, 0] - 3) / math.sqrt(3.5 + 1e-5), (X[0, 1] - 1) / math.sqrt(3 + 1e-5)])[None]
    assert torch.allclose(painter.instance_norm(X), want, atol=1e-6)
    assert torch.allclose(nn.InstanceNorm2d(2)(X), want, atol=1e-6)


def test_instance_norm_treats_each_image_and_channel_on_its_own():
    X = torch.randn(2, 3, 5, 4)
    Y = painter.instance_norm(X)
    assert torch.allclose(Y.mean(dim=(2, 3)), torch.zeros(2, 3), atol=1e-5)
    assert torch.allclose(Y.var(dim=(2, 3), unbiased=False), torch.ones(2, 3), atol=1e-3)
    other = X.clone()
    other[1] = other[1] * 10 + 3  # another second image changes nothing in the first
    assert torch.equal(painter.instance_norm(other)[0], Y[0])
    # contrast and brightness of an image are normalised away
    assert torch.allclose(painter.instance_norm(4 * X + 7), Y, atol=1e-4)


def test_the_painters_instance_norm_module_is_instance_norm_with_a_scale_and_shift():
    norm = painter.InstanceNorm(3)
    reference = nn.InstanceNorm2d(3, affine=True)
    with torch.no_grad():
        for module in (norm, reference):
            module.weight.copy_(torch.tensor([0.5, 2.0, -1.0]))
            module.bias.copy_(torch.tensor([0.1, 0.0, 3.0]))
    X = torch.randn(2, 3, 6, 5)
    expected = painter.instance_norm(X) * norm.weight.view(1, 3, 1, 1) + norm.bias.view(1, 3, 1, 1)
    assert torch.allclose(norm(X), expected, atol=1e-5)
    assert torch.allclose(reference(X), expected, atol=1e-5)
    assert torch.allclose(norm(X.contiguous(memory_format=torch.channels_last)), expected, atol=1e-5)


def identity_conv(conv):
    """Make a 3x3 convolution with as many outputs as inputs the identity."""
    with torch.no_grad():
        conv.weight.zero_()
        for channel in range(conv.weight.shape[0]):
            conv.weight[channel, channel, 1, 1] = 1.0
        conv.bias.zero_()


def test_residual_block_matches_a_hand_computation():
    block = painter.ResidualBlock(3)
    identity_conv(block.conv1)
    identity_conv(block.conv2)
    with torch.no_grad():
        block.norm1.weight.fill_(2.0)
        block.norm1.bias.fill_(-0.5)
    x = torch.randn(1, 3, 5, 6)
    # x + IN(relu(2 IN(x) - 0.5)), with the identity convolutions and norm2's weight 1, bias 0
    hand = x + painter.instance_norm(torch.relu(2 * painter.instance_norm(x) - 0.5))
    assert torch.allclose(block(x), hand, atol=1e-5)


def test_residual_block_is_the_identity_when_its_correction_is_zero():
    block = painter.ResidualBlock(4)
    with torch.no_grad():
        block.norm2.weight.zero_()
        block.norm2.bias.zero_()
    x = torch.randn(2, 4, 6, 6)
    assert torch.equal(block(x), x)
    x.requires_grad_(True)
    block(x).sum().backward()
    assert torch.equal(x.grad, torch.ones_like(x))  # the skip carries the gradient through unchanged


def test_upsample_then_convolve_has_no_checkerboard_and_a_transposed_convolution_has():
    constant = torch.ones(1, 1, 6, 6)
    upsample = painter.UpsampleConv(1, 1)
    with torch.no_grad():
        upsample[1].weight.fill_(1.0)
        upsample[1].bias.zero_()
    convolved = upsample[1](upsample[0](constant))  # before the norm, which would hide it
    assert convolved.shape[-2:] == (12, 12)
    assert torch.allclose(convolved, torch.full_like(convolved, 9.0))  # every output pixel treated alike
    transposed = nn.ConvTranspose2d(1, 1, 3, stride=2, padding=1, output_padding=1, bias=False)
    with torch.no_grad():
        transposed.weight.fill_(1.0)
    out = transposed(constant)[0, 0, 1:-1, 1:-1]  # away from the border
    # pixels on even rows and columns are covered by one kernel tap, the others by two or four
    assert set(out.unique().tolist()) == {1.0, 2.0, 4.0}


@pytest.mark.parametrize("height, width", [(8, 8), (30, 41), (17, 64), (33, 9)])
def test_painter_keeps_the_size_of_any_image(height, width):
    net = painter.Painter(channels=(4, 8, 8), residual_blocks=1)
    assert net(torch.randn(2, 3, height, width)).shape == (2, 3, height, width)


def test_painter_refuses_an_image_too_small():
    with pytest.raises(ImageError, match="at least 8"):
        painter.Painter(channels=(4, 8, 8), residual_blocks=1)(torch.zeros(1, 3, 7, 20))


def test_painter_layout_and_parameter_count():
    net = painter.Painter()
    c1, c2, c3 = 16, 32, 64
    convs = (3 * c1 * 81 + c1) + (c1 * c2 * 9 + c2) + (c2 * c3 * 9 + c3) + 5 * 2 * (c3 * c3 * 9 + c3) \
        + (c3 * c2 * 9 + c2) + (c2 * c1 * 9 + c1) + (c1 * 3 * 9 + 3)
    norms = 2 * (c1 + c2 + c3) + 5 * 2 * 2 * c3 + 2 * (c2 + c1)
    assert sum(p.numel() for p in net.parameters()) == convs + norms
    assert len(net.residuals) == 5 and not any(isinstance(m, nn.ConvTranspose2d) for m in net.modules())


def test_painter_gradients_match_finite_differences():
    torch.manual_seed(0)
    net = painter.Painter(channels=(2, 2, 2), residual_blocks=1).double()
    x = torch.randn(1, 3, 8, 8, dtype=torch.double, requires_grad=True)
    assert torch.autograd.gradcheck(lambda image: net(image).square().mean(), (x,), eps=1e-6, atol=1e-5,
                                    fast_mode=True)


def test_every_parameter_gets_a_gradient():
    net = painter.Painter(channels=(4, 8, 8), residual_blocks=2)
    net(torch.randn(2, 3, 16, 16)).square().mean().backward()
    missing = [name for name, p in net.named_parameters() if p.grad is None or not p.grad.abs().sum() > 0]
    assert not missing


# --- settings, schedule, photos, loss -------------------------------------------------------------


def test_cosine_learning_rate_by_hand():
    lr, steps = 1e-3, 200
    assert painter.cosine_learning_rate(0, steps, lr) == lr
    assert painter.cosine_learning_rate(50, steps, lr) == pytest.approx(lr * (1 + math.sqrt(0.5)) / 2)
    assert painter.cosine_learning_rate(100, steps, lr) == pytest.approx(lr / 2)
    rates = [painter.cosine_learning_rate(step, steps, lr) for step in range(steps)]
    assert all(a > b for a, b in zip(rates, rates[1:])) and rates[-1] > 0


@pytest.mark.parametrize("change, message", [
    ({"channels": (16, 32)}, "channels must be three"), ({"steps": 0}, "steps must be a whole number >= 1"),
    ({"lr": float("nan")}, "lr must be a finite number > 0"), ({"style_layers": ("relu9_1",)}, "relu9_1"),
    ({"crop": 8}, "crop must be a whole number >= 16"), ({"style_weight": -1.0}, "style_weight"),
    ({"max_crop_scale": 0.5}, "max_crop_scale must be a finite number >= 1"),
    ({"upsample": "bicubic"}, "upsample must be one of nearest, bilinear, not 'bicubic'"),
    ({"padding": "circular"}, "padding must be one of reflect, zeros, not 'circular'"),
])
def test_bad_settings_are_refused(change, message):
    with pytest.raises(Exception, match=message):
        PainterSettings(**change)


def test_settings_round_trip_through_a_dict():
    settings = TINY.replace(style_weight=3.0)
    assert PainterSettings.from_dict(settings.as_dict()) == settings
    with pytest.raises(PainterError, match="unknown painter settings: colour"):
        PainterSettings.from_dict({**settings.as_dict(), "colour": 1})


def test_training_photos_are_offline_and_hold_out_one():
    photos = painter.training_photos()
    assert len(photos) >= 5 and all(path.is_file() for path in photos)
    assert painter.HELD_OUT_PHOTO not in [path.stem for path in photos]
    assert painter.HELD_OUT_PHOTO in [path.stem for path in images.bundled_images("content")]
    assert "grace_hopper" in [path.stem for path in photos]


def test_photos_in_folder(tmp_path):
    with pytest.raises(ImageError, match="no such folder"):
        painter.photos_in_folder(tmp_path / "missing")
    (tmp_path / "notes.txt").write_text("not a photo")
    with pytest.raises(ImageError, match="holds no image files"):
        painter.photos_in_folder(tmp_path)
    Image.new("RGB", (20, 20)).save(tmp_path / "b.png")
    Image.new("RGB", (20, 20)).save(tmp_path / "a.jpg")
    assert [path.name for path in painter.photos_in_folder(tmp_path)] == ["a.jpg", "b.png"]


def test_photo_batch_is_random_but_repeatable(photos):
    batch = painter.photo_batch(photos, crop=24, batch_size=4, seed=1, step=5)
    assert batch.shape == (4, 3, 24, 24) and batch.dtype == torch.float32
    assert torch.equal(batch, painter.photo_batch(photos, crop=24, batch_size=4, seed=1, step=5))
    assert not torch.equal(batch, painter.photo_batch(photos, crop=24, batch_size=4, seed=1, step=6))
    assert not torch.equal(batch, painter.photo_batch(photos, crop=24, batch_size=4, seed=2, step=5))
    pixels = images.denormalize(batch)
    assert pixels.min() >= -1e-5 and pixels.max() <= 1 + 1e-5


def test_photo_batch_flips_scales_and_enlarges():
    gradient = Image.fromarray(np.tile(np.arange(0, 250, 5, dtype=np.uint8)[None, :, None], (30, 1, 3)))  # 50x30
    means = []
    for step in range(40):
        crop = images.denormalize(painter.photo_batch([gradient], crop=40, batch_size=1, step=step))[0, 0]
        left_to_right = float(crop[:, -1].mean() - crop[:, 0].mean())
        means.append(left_to_right)
    assert any(m > 0.1 for m in means) and any(m < -0.1 for m in means)  # flipped about half of the time
    # the photo's shorter side (30) is under the crop (40): it is enlarged, never padded
    assert all(abs(m) > 0.1 for m in means)


@pytest.mark.parametrize("max_scale", [2.0, 4.0])
def test_a_crop_shows_between_1_and_max_scale_crop_sizes_of_the_photos_shorter_side(max_scale):
    # a 400 x 400 photo whose grey level is its x coordinate: a crop's span of grey levels says how wide a
    # piece of the photo it shows
    ramp = Image.fromarray(np.tile(np.linspace(0, 255, 400).round().astype(np.uint8)[None, :, None], (400, 1, 3)))
    widths = []
    for step in range(150):
        crop = images.denormalize(painter.photo_batch([ramp], crop=40, batch_size=1, step=step, max_scale=max_scale))
        row = crop[0, 0, 20] * 255
        widths.append(abs(float(row[-1] - row[0])) * 400 / 255 * 40 / 39)  # photo pixels across the crop
    # the photo's shorter side (400) scaled to between 40 and max_scale * 40 pixels: a crop shows 400 / max_scale
    # to 400 of the photo's pixels, and both ends of that range are reached
    assert min(widths) > 400 / max_scale - 12 and max(widths) < 400 + 12
    assert min(widths) < 400 / max_scale + 40 and max(widths) > 330


def test_normalised_loss_weights_make_relative_distances(vgg, photos, style_picture):
    extractor = FeatureExtractor(vgg, list(TINY.content_layers) + list(TINY.style_layers))
    style_features = extractor(images.preprocess(style_picture))
    grams = {name: losses.gram_matrix(style_features[name]) for name in TINY.style_layers}
    sample = painter.photo_batch(photos, 32, 3)
    sample_features = extractor(sample)
    recipe = painter.loss_recipe(TINY.replace(content_weight=2.0, style_weight=3.0, tv_weight=0.0), grams,
                                 sample_features)
    zeros = {name: torch.zeros_like(value) for name, value in sample_features.items()}
    terms = painter.batch_loss_terms(torch.zeros_like(sample), zeros,
                                     {name: sample_features[name] for name in TINY.content_layers}, grams, recipe)
    # all-zero features are at relative distance exactly 1 from every target, at every layer
    assert float(terms["style"]) == pytest.approx(3.0 * len(TINY.style_layers), rel=1e-4)
    assert float(terms["content"]) == pytest.approx(2.0, rel=1e-4)
    # the painting's own features are at distance 0 from its Gram matrices
    own = painter.batch_loss_terms(images.preprocess(style_picture), style_features,
                                   {name: style_features[name] for name in TINY.content_layers}, grams, recipe)
    assert float(own["style"]) == pytest.approx(0.0, abs=1e-5) and float(own["content"]) == 0.0


def test_batch_loss_is_the_mean_of_each_images_loss(vgg, photos, style_picture):
    extractor = FeatureExtractor(vgg, list(TINY.content_layers) + list(TINY.style_layers))
    grams = {name: losses.gram_matrix(value) for name, value in extractor(images.preprocess(style_picture)).items()
             if name in TINY.style_layers}
    photos_x = painter.photo_batch(photos, 32, 2, step=1)
    outputs = painter.photo_batch(photos, 32, 2, step=2)
    content = {name: value for name, value in extractor(photos_x).items() if name in TINY.content_layers}
    recipe = painter.loss_recipe(TINY, grams, content)
    both = painter.batch_loss_terms(outputs, extractor(outputs), content, grams, recipe)
    each = [painter.batch_loss_terms(outputs[n:n + 1], extractor(outputs[n:n + 1]),
                                     {name: value[n:n + 1] for name, value in content.items()}, grams, recipe)
            for n in range(2)]
    for term in ("content", "style", "tv", "total"):
        assert float(both[term]) == pytest.approx((float(each[0][term]) + float(each[1][term])) / 2, rel=1e-5)


# --- training ------------------------------------------------------------------------------


def train(settings, vgg, photos, style, **options):
    return painter.train_painter(style, photos, settings, vgg, progress=False, **options)


def test_quick_training_lowers_the_loss(vgg, photos, style_picture):
    settings = TINY.replace(steps=20, lr=3e-3)
    result = train(settings, vgg, photos, style_picture)
    assert result.status == "finished" and result.history["step"] == list(range(1, 21))
    losses_ = result.history["total"]
    assert np.mean(losses_[-5:]) < 0.8 * np.mean(losses_[:5])
    assert result.history["lr"][0] == settings.lr and result.history["lr"][-1] < 0.01 * settings.lr
    assert not result.painter.training


def test_training_leaves_the_global_random_state_alone(vgg, photos, style_picture):
    state = torch.get_rng_state()
    train(TINY.replace(steps=1), vgg, photos, style_picture)
    assert torch.equal(state, torch.get_rng_state())


def test_a_callback_can_stop_training(vgg, photos, style_picture):
    seen = []
    result = train(TINY, vgg, photos, style_picture,
                   callbacks=[lambda info: seen.append(info.step) or info.step >= 2])
    assert result.status == "stopped" and seen == [1, 2] and len(result.history["step"]) == 2


def test_interrupted_then_resumed_ends_as_an_uninterrupted_run(vgg, photos, style_picture, tmp_path):
    straight = train(TINY, vgg, photos, style_picture)

    def ctrl_c_at_step_3(info):
        if info.step == 3:
            raise KeyboardInterrupt
        return False

    interrupted = train(TINY, vgg, photos, style_picture, callbacks=[ctrl_c_at_step_3])
    assert interrupted.status == "interrupted" and "after 3 of 6 steps" in interrupted.message
    path = painter.save_training_checkpoint(tmp_path / "run.ckpt", interrupted)
    checkpoint = painter.load_training_checkpoint(path)
    resumed = train(TINY, vgg, photos, style_picture, resume=checkpoint)
    assert resumed.status == "finished" and resumed.history["step"] == [1, 2, 3, 4, 5, 6]
    assert resumed.history["total"][:3] == interrupted.history["total"]
    assert np.allclose(resumed.history["total"], straight.history["total"], rtol=1e-5)
    for name, value in straight.painter.state_dict().items():
        assert torch.allclose(resumed.painter.state_dict()[name], value, atol=1e-6), name


def test_a_callback_checkpoint_resumes_too(vgg, photos, style_picture, tmp_path):
    path = tmp_path / "every.ckpt"

    def save_at_2(info):
        if info.step == 2:
            painter.save_training_checkpoint(path, info.checkpoint())
        return info.step == 4  # then the process "dies" after step 4; steps 3 and 4 are lost

    train(TINY, vgg, photos, style_picture, callbacks=[save_at_2])
    resumed = train(TINY, vgg, photos, style_picture, resume=painter.load_training_checkpoint(path))
    straight = train(TINY, vgg, photos, style_picture)
    assert np.allclose(resumed.history["total"], straight.history["total"], rtol=1e-5)


def test_resume_refuses_another_run(vgg, photos, style_picture, tmp_path):
    stopped = train(TINY, vgg, photos, style_picture, callbacks=[lambda info: info.step >= 2])
    checkpoint = painter.load_training_checkpoint(painter.save_training_checkpoint(tmp_path / "r.ckpt", stopped))
    with pytest.raises(PainterError, match="other settings .style_weight differ"):
        train(TINY.replace(style_weight=1.0), vgg, photos, style_picture, resume=checkpoint)
    with pytest.raises(PainterError, match="other paintings"):
        train(TINY, vgg, photos, style_picture.transpose(Image.Transpose.ROTATE_90), resume=checkpoint)
    finished = train(TINY, vgg, photos, style_picture, resume=checkpoint)
    done = painter.load_training_checkpoint(painter.save_training_checkpoint(tmp_path / "f.ckpt", finished))
    with pytest.raises(PainterError, match="already complete"):
        train(TINY, vgg, photos, style_picture, resume=done)


def stripes(width, height):
    """A striped painting of any size."""
    bands = (np.indices((height, width)).sum(axis=0) // 3 % 2 * 200 + 30).astype(np.uint8)
    return Image.fromarray(np.stack([bands, 255 - bands, bands // 2], axis=2))


def test_a_long_thin_painting_is_seen_with_its_shorter_side_large_enough(vgg, photos):
    # at style_size 32 a 600x20 painting would be 32x1, too small for relu5_1 (16 pixels): it is seen at 480x16
    assert painter.painting_long_side((600, 20), TINY) == 480
    assert painter.painting_long_side((20, 600), TINY) == 480 and painter.painting_long_side((48, 48), TINY) == 32
    result = train(TINY.replace(steps=1), vgg, photos, stripes(600, 20))
    assert result.status == "finished" and math.isfinite(result.final_loss)


def test_a_painting_too_small_for_the_style_layers_is_refused_with_its_size(vgg, photos):
    with pytest.raises(ImageError, match=r"^the painting is only 3000x6 pixels; layer relu5_1 needs at least 16 pixels "
                                         r"on each side: use a painting at least 16 pixels on each side$"):
        train(TINY, vgg, photos, stripes(3000, 6))
    # content and style layers after one pooling: 2 pixels are enough
    shallow = TINY.replace(content_layers=("relu2_2",), style_layers=("relu1_1", "relu2_1"))
    assert painter.painting_long_side((3000, 6), shallow) == 1000


def test_a_diverging_run_stops_and_keeps_finite_weights(vgg, photos, style_picture):
    settings = TINY.replace(steps=30, lr=1e6, max_grad_norm=1e30, content_weight=1e30, style_weight=1e30)
    result = train(settings, vgg, photos, style_picture)
    assert result.status == "diverged" and "NaN or infinite" in result.message
    assert all(math.isfinite(value) for value in result.history["total"])
    assert all(torch.isfinite(p).all() for p in result.painter.parameters())
    untrained = painter.new_painter(settings)
    done = len(result.history["step"])
    assert done > 0 or all(torch.equal(a, b) for a, b in zip(result.painter.state_dict().values(),
                                                            untrained.state_dict().values()))


def test_ctrl_c_waits_until_the_update_is_done():
    outer = signal.signal(signal.SIGINT, signal.default_int_handler)  # Python's own, whatever the runner installed
    try:
        finished = []
        with pytest.raises(KeyboardInterrupt):
            with painter.training._ctrl_c_waits():
                os.kill(os.getpid(), signal.SIGINT)
                finished.append(True)  # still runs: the interrupt waits
        assert finished == [True]
        assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    finally:
        signal.signal(signal.SIGINT, outer)


# --- stylising and model files ------------------------------------------------------------------


def test_paint_returns_a_picture_of_the_asked_size():
    net = painter.Painter(channels=(4, 8, 8), residual_blocks=1).eval()
    photo = Image.new("RGB", (90, 60), (10, 200, 30))
    assert painter.paint(net, photo, size=45).size == (45, 30)
    assert painter.paint(net, photo, size=None).size == (90, 60)


def test_paint_refuses_a_photo_too_thin_and_says_which_size_works():
    net = painter.Painter(channels=(4, 8, 8), residual_blocks=1).eval()
    thin = Image.new("RGB", (600, 5), (10, 200, 30))
    with pytest.raises(ImageError, match=r"^the photo is 600x5 pixels, 512x4 at size 512: the painter needs at least 8 "
                                         r"pixels on each side; use a size of at least 960, or a photo less thin$"):
        painter.paint(net, thin, size=512)
    assert painter.paint(net, thin, size=960).size == (960, 8)  # the size it named works
    with pytest.raises(ImageError, match=r"^the photo is 600x5 pixels: the painter needs at least 8"):
        painter.paint(net, thin, size=None)


def test_paint_at_a_work_size_is_the_smaller_painting_resized_with_lanczos():
    torch.manual_seed(0)
    net = painter.Painter(channels=(4, 8, 8), residual_blocks=1).eval()
    photo = Image.fromarray(np.random.default_rng(0).integers(0, 256, (60, 90, 3), dtype=np.uint8))
    small = painter.paint(net, photo, size=40)  # (40, 27)
    picture = painter.paint(net, photo, size=80, work_size=40)
    assert picture.size == (80, 53)
    assert np.array_equal(np.asarray(picture), np.asarray(small.resize((80, 53), Image.Resampling.LANCZOS)))
    assert not np.array_equal(np.asarray(picture), np.asarray(painter.paint(net, photo, size=80)))
    assert painter.paint(net, photo, size=80, work_size=80).size == (80, 53)
    with pytest.raises(ImageError, match=r"^the photo is 90x60 pixels, 9x6 at size 9: the painter needs at least 8 "
                                         r"pixels on each side; use a size of at least 12"):
        painter.paint(net, photo, size=80, work_size=9)


def saved_model(tmp_path, vgg, photos, style_picture):
    result = train(TINY.replace(steps=2), vgg, photos, style_picture)
    return painter.save_painter(tmp_path / "model.pt", result, style="stripes.png"), result


def test_model_file_round_trip(vgg, photos, style_picture, tmp_path, monkeypatch):
    path, result = saved_model(tmp_path, vgg, photos, style_picture)
    calls = []
    real_load = torch.load
    monkeypatch.setattr(torch, "load", lambda *a, **k: calls.append(k.get("weights_only")) or real_load(*a, **k))
    saved = painter.load_painter(path)
    assert calls == [True]
    assert saved.settings == result.settings and saved.style == "stripes.png" and saved.steps_done == 2
    assert saved.network == "a small random VGG-19 for tests"
    assert set(saved.final_losses) == {"content", "style", "tv", "total"}
    x = torch.randn(1, 3, 20, 24)
    with torch.no_grad():
        assert torch.equal(saved.painter(x), result.painter(x))
    assert not saved.painter.training
    assert not any(name.startswith(".") for name in os.listdir(tmp_path))  # no temporary file left


def write_bytes(path, data):
    path.write_bytes(data)
    return path


class Exploit:
    def __reduce__(self):
        return (print, ("this would have run",))


@pytest.mark.parametrize("make, message", [
    (lambda tmp, valid: tmp / "missing.pt", r"no such file \(expected a d2lstyle painter model file\)"),
    (lambda tmp, valid: tmp, "is a folder"),
    (lambda tmp, valid: write_bytes(tmp / "empty.pt", b""), "empty"),
    (lambda tmp, valid: write_bytes(tmp / "half.pt", valid.read_bytes()[: len(valid.read_bytes()) // 2]),
     "damaged, or a file of another kind"),
    (lambda tmp, valid: write_bytes(tmp / "text.pt", b"hello, I am a text file\n" * 10),
     "is a text file, not a d2lstyle painter model file"),
    (lambda tmp, valid: write_bytes(tmp / "code.pt", pickle.dumps(Exploit())), "would run code"),
])
def test_unreadable_model_files_are_refused_clearly(make, message, vgg, photos, style_picture, tmp_path):
    valid, _ = saved_model(tmp_path, vgg, photos, style_picture)
    folder = tmp_path / "cases"
    folder.mkdir()
    with pytest.raises(PainterError, match=message):
        painter.load_painter(make(folder, valid))


def test_a_png_is_not_a_model(tmp_path):
    Image.new("RGB", (8, 8)).save(tmp_path / "picture.png")
    with pytest.raises(PainterError, match=r"picture.png: is a picture \(PNG\), not a d2lstyle painter model file$"):
        painter.load_painter(tmp_path / "picture.png")


def test_foreign_and_damaged_model_files_are_refused_clearly(vgg, photos, style_picture, tmp_path):
    valid, result = saved_model(tmp_path, vgg, photos, style_picture)
    payload = torch.load(valid, weights_only=True)

    def variant(name, **changes):
        path = tmp_path / name
        torch.save({**payload, **changes}, path)
        return path

    torch.save(vgg.features.state_dict(), tmp_path / "vgg.pth")
    with pytest.raises(PainterError, match="no d2lstyle format tag"):
        painter.load_painter(tmp_path / "vgg.pth")
    checkpoint = painter.save_training_checkpoint(tmp_path / "run.ckpt", result)
    with pytest.raises(PainterError, match="is a training checkpoint, not a model file"):
        painter.load_painter(checkpoint)
    with pytest.raises(PainterError, match="format 'd2lstyle-painter-0'"):
        painter.load_painter(variant("old.pt", format="d2lstyle-painter-0"))
    wider = {**payload["settings"], "channels": (8, 8, 8)}
    with pytest.raises(PainterError, match="weights do not fit its settings"):
        painter.load_painter(variant("wrong.pt", settings=wider))
    with pytest.raises(PainterError, match="unknown painter settings"):
        painter.load_painter(variant("unknown.pt", settings={**payload["settings"], "colour": 1}))
    broken = dict(payload["state_dict"])
    broken["encoder.0.0.weight"] = torch.full_like(broken["encoder.0.0.weight"], float("nan"))
    with pytest.raises(PainterError, match="NaN"):
        painter.load_painter(variant("nan.pt", state_dict=broken))
    with pytest.raises(PainterError, match="model.pt: is a d2lstyle painter model file, not a training checkpoint"):
        painter.load_training_checkpoint(valid)


def test_a_model_file_of_the_first_format_still_loads_as_it_was_trained(vgg, photos, style_picture, tmp_path):
    valid, _ = saved_model(tmp_path, vgg, photos, style_picture)
    payload = torch.load(valid, weights_only=True)
    assert payload["format"] == painter.FORMAT == "d2lstyle-painter-3"
    first = {key: value for key, value in payload["settings"].items()
             if key not in ("max_crop_scale", "upsample", "padding")}  # the settings format 1 did not have
    kept = {key: value for key, value in payload.items() if key not in ("styles", "training_seconds")}
    torch.save({**kept, "format": "d2lstyle-painter-1", "settings": first}, tmp_path / "first.pt")
    old, new = painter.load_painter(tmp_path / "first.pt"), painter.load_painter(valid)
    # format 1 trained on crops at 1 to 2 crop sizes, with nearest-neighbour upsampling and reflection padding
    assert (old.settings.max_crop_scale, old.settings.upsample, old.settings.padding) == (2.0, "nearest", "reflect")
    assert old.settings.replace(max_crop_scale=new.settings.max_crop_scale) == new.settings
    photo = Image.new("RGB", (40, 30), (90, 140, 200))
    assert np.array_equal(np.asarray(painter.paint(old.painter, photo, 32)),
                          np.asarray(painter.paint(new.painter, photo, 32)))
    assert painter.describe_painter_file(tmp_path / "first.pt") == "a d2lstyle painter model file"


def test_a_training_checkpoint_of_the_first_format_is_refused_in_one_line(vgg, photos, style_picture, tmp_path):
    _, result = saved_model(tmp_path, vgg, photos, style_picture)
    checkpoint = {**result.checkpoint, "format": "d2lstyle-painter-training-1"}
    torch.save(checkpoint, tmp_path / "old.ckpt")
    with pytest.raises(PainterError) as refused:
        painter.load_training_checkpoint(tmp_path / "old.ckpt")
    message = str(refused.value)
    assert "\n" not in message and "'d2lstyle-painter-training-1'" in message and "start the training again" in message
    assert painter.describe_painter_file(tmp_path / "old.ckpt") == "a d2lstyle painter training checkpoint"


def test_the_painters_own_files_are_named_for_what_they_are(vgg, photos, style_picture, tmp_path):
    valid, result = saved_model(tmp_path, vgg, photos, style_picture)
    checkpoint = painter.save_training_checkpoint(tmp_path / "run.ckpt", result)
    torch.save(vgg.features.state_dict(), tmp_path / "vgg.pth")
    style_picture.save(tmp_path / "painting.png")
    said = {path.name: painter.describe_painter_file(path)
            for path in (valid, checkpoint, tmp_path / "vgg.pth", tmp_path / "painting.png")}
    assert said == {"model.pt": "a d2lstyle painter model file", "run.ckpt": "a d2lstyle painter training checkpoint",
                    "vgg.pth": "a PyTorch file of another kind", "painting.png": "a picture (PNG)"}
    with pytest.raises(ImageError, match="model.pt: is a d2lstyle painter model file, not a picture; pass a photo"):
        painter.load_picture(valid, hint="pass a photo")


def test_instance_normalisation_paints_a_flat_photos_faint_noise_at_full_strength():
    # the first instance normalisation divides by the noise's own spread: faint or strong, the painter sees the
    # same standardised pattern (what notebook 10 says of its flat grey photo)
    net = painter.new_painter(PainterSettings(channels=(4, 8, 8), residual_blocks=1, seed=3)).eval()
    faint, strong = (quality.texture(painter.paint(net, painter.flat_photo(64, noise=noise), 64)) for noise in (2, 16))
    assert faint.contrast > 0.5 and faint.contrast == pytest.approx(strong.contrast, rel=0.15)
    # no noise: nothing to scale up, a flat painting
    assert quality.texture(painter.paint(net, painter.flat_photo(64, noise=0), 64)).contrast < 0.05


def test_a_model_file_rebuilds_the_network_its_settings_name(tmp_path):
    # a bilinear, zero-padded painter saved and loaded paints exactly as before: the file's settings choose the
    # layers, not the defaults (nearest neighbour and reflection would paint something else)
    settings = PainterSettings(channels=(4, 8, 8), residual_blocks=1, upsample="bilinear", padding="zeros", seed=5)
    net = painter.new_painter(settings).eval()
    assert net.decoder[0][0].mode == "bilinear" and net.encoder[0][0].padding_mode == "zeros"
    path = painter.save_painter(tmp_path / "odd.pt", net, settings)
    loaded = painter.load_painter(path).painter
    photo = Image.new("RGB", (40, 30), (90, 140, 200))
    photo.putpixel((20, 15), (255, 0, 0))
    assert np.array_equal(np.asarray(painter.paint(loaded, photo, 40)), np.asarray(painter.paint(net, photo, 40)))
    usual = painter.new_painter(settings.replace(upsample="nearest", padding="reflect")).eval()
    usual.load_state_dict(net.state_dict())  # the same weights in the default layers paint something else
    assert not np.array_equal(np.asarray(painter.paint(usual, photo, 40)), np.asarray(painter.paint(net, photo, 40)))
