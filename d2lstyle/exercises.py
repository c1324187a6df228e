"""Checks for the coding exercises of the notebooks: ``check_<name>(your_function)``.

How to use them
---------------
Each coding exercise asks you to write one function (or class) in a cell marked
``# TODO``. The cell after it calls its checker with your function::

    d2lstyle.exercises.check_gram_matrix(gram_matrix)

The checker calls your function on small inputs and tests one property at a
time: the type and shape of the result, a value worked out by hand, symmetry,
behaviour under resizing, where the gradient flows, and agreement with the
reference implementation in d2lstyle. When all is well it prints one line:

>>> import d2lstyle
>>> d2lstyle.exercises.check_gram_matrix(d2lstyle.gram_matrix)
gram_matrix: all 8 checks passed.

Otherwise it stops at the first failed check and raises an ``AssertionError``
whose message names the likely mistake and what to change, for example::

    AssertionError: gram_matrix: it is 60 times too large, which is C*H*W: the
    Gram matrix was not normalised. Divide F @ F.T by C * H * W

The checks recognise typical wrong answers by their fingerprints: a value too
large by exactly C*H*W, a gradient reaching a tensor that should be a fixed
target, a conv output that came back after its ReLU. Passing is strong
evidence, not a proof: the inputs are few and small. If your function still
raises ``NotImplementedError``, the checker says so; write it, run its cell,
then run the check again. The worked solutions are in the notebooks of
``notebooks/`` (the versions with TODO cells are in ``exercises/``).

You may read this file, but it gives the answers away: every checker computes
the right answer with the reference implementation.
"""

import numpy as np
import torch
from PIL import Image
from torch import nn

from . import colour, images, losses, training, vgg

# --- helpers shared by the checkers ------------------------------------------


class _Checks:
    """Counts the checks of one exercise and raises AssertionError at the first failure."""

    def __init__(self, name):
        self.name = name
        self.count = 0

    def __call__(self, passed, message):
        """One check: fail with ``message`` unless ``passed``."""
        self.count += 1
        if not passed:
            self.fail(message)

    def same(self, got, want, mistakes=(), otherwise="", atol=1e-6):
        """One check that ``got`` equals ``want``; on failure, the message of the
        first known mistake whose value ``got`` equals, else ``otherwise``."""
        self.count += 1
        if _same(got, want, atol):
            return
        for wrong, message in mistakes:
            if _same(got, wrong, atol):
                self.fail(message)
        self.fail(otherwise or f"expected {_show(want)}, got {_show(got)}")

    def fail(self, message):
        raise AssertionError(f"{self.name}: {message}")

    def done(self):
        print(f"{self.name}: all {self.count} checks passed.")


def _same(got, want, atol=1e-6):
    """True when ``got`` equals ``want``: exactly for shapes (tuples) and strings,
    to float precision for numbers, arrays and tensors of the same shape."""
    if isinstance(want, (tuple, str)):
        return isinstance(got, (tuple, list, str)) and tuple(got) == tuple(want)
    try:
        got = np.asarray(_plain(got), dtype=np.float64)
    except (TypeError, ValueError, RuntimeError):
        return False
    want = np.asarray(_plain(want), dtype=np.float64)
    return got.shape == want.shape and bool(np.allclose(got, want, rtol=1e-4, atol=atol))


def _plain(value):
    """A tensor without its autograd history (numbers and arrays as they are)."""
    return value.detach().cpu() if isinstance(value, torch.Tensor) else value


def _show(value):
    """A short text for a value in a message."""
    if isinstance(value, torch.Tensor) and value.numel() == 1:
        return f"{float(value.detach()):.4g}"
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, torch.Tensor) and value.numel() <= 9:
        return str(np.round(value.detach().cpu().double().numpy(), 4).tolist())
    if isinstance(value, torch.Tensor):
        return f"a tensor of shape {tuple(value.shape)}"
    if isinstance(value, Image.Image):
        return f"a {value.width}x{value.height} PIL image"
    if isinstance(value, nn.Module):
        return f"a {type(value).__name__} network"
    text = " ".join(repr(value).split())
    return text if len(text) < 60 else text[:57] + "..."


def _call(check, function, *args, hints=None):
    """Call the learner's function. An exception it raises becomes an
    AssertionError that says which call failed (or what ``hints`` says about an
    error whose text contains one of its keys); a function not written yet
    raises NotImplementedError with a friendly message."""
    try:
        return function(*args)
    except NotImplementedError:
        raise NotImplementedError(
            f"{check.name}: not written yet. Replace `raise NotImplementedError` with your code, "
            "run that cell, then run this check again."
        ) from None
    except AssertionError:
        raise
    except Exception as error:
        for fragment, message in (hints or {}).items():
            if fragment in str(error):
                raise AssertionError(f"{check.name}: {message}") from error
        called = ", ".join(_show(arg) for arg in args)
        raise AssertionError(
            f"{check.name}: called with ({called}) it raised {type(error).__name__}: {error}"
        ) from error


def _randn(*shape, seed=0):
    """Standard normal values from a seeded generator (the global seed is not touched)."""
    return torch.randn(shape, generator=torch.Generator().manual_seed(seed))


def _expect_loss_tensor(check, loss):
    """A loss must be a one-number tensor that autograd can differentiate."""
    check(isinstance(loss, torch.Tensor),
          f"return the loss as a tensor, not a {type(loss).__name__}: .item() and float() cut it off "
          "from autograd, and the optimiser needs loss.backward()")
    check(loss.numel() == 1, f"return one number (a scalar tensor), not shape {tuple(loss.shape)}: reduce with .mean()")


def _expect_gradients(check, loss, into, not_into=()):
    """Back-propagate ``loss``: the gradient must reach each tensor of ``into``
    (name -> tensor) and none of ``not_into`` ((tensor, message) pairs)."""
    check(loss.requires_grad,
          f"no gradient reaches {', '.join(into)}: do not detach it or use torch.no_grad() here")
    loss.backward()
    for name, tensor in into.items():
        check(tensor.grad is not None and bool(tensor.grad.abs().sum() > 0),
              f"no gradient reaches {name}: do not detach it or use torch.no_grad() here")
    for tensor, message in not_into:
        check(tensor.grad is None or not bool(tensor.grad.abs().sum() > 0), message)


def _test_picture(width, height):
    """A smooth RGB picture: red grows to the right, green downwards, blue along a diagonal."""
    x = np.linspace(0, 1, width)[None, :] * np.ones((height, 1))
    y = np.linspace(0, 1, height)[:, None] * np.ones((1, width))
    rgb = np.stack([x, y, (2 * x + y) / 3], axis=-1)
    return Image.fromarray(np.round(20 + 210 * rgb).astype(np.uint8))


def _chw(pixels):
    """(H, W, 3) values -> a (1, 3, H, W) float64 tensor, the layout the network takes."""
    return torch.as_tensor(np.array(pixels, dtype=np.float64)).permute(2, 0, 1).unsqueeze(0)


def _normalised(pixels):
    """(H, W, 3) values in [0, 1] -> the normalised (1, 3, H, W) float32 tensor the network takes."""
    return images.normalize(_chw(pixels).float())


def _to_8bit(pixels):
    """(H, W, 3) values in [0, 1] -> rounded 0..255 floats, as an 8-bit image holds them."""
    return np.round(np.clip(np.asarray(pixels, dtype=np.float64), 0, 1) * 255)


# --- notebook 01: images -------------------------------------------------------


def check_resize_to_long_side(resize_to_long_side):
    """Check ``resize_to_long_side(img, long_side)``: a PIL image whose longer
    side is ``long_side``, with the aspect ratio kept."""
    check = _Checks("resize_to_long_side")
    landscape = _test_picture(400, 200)
    small = _call(check, resize_to_long_side, landscape, 100)
    check(small is not None, "it returned None. Image.thumbnail works in place and returns None; "
                             "return img.resize((width, height)) instead")
    check(isinstance(small, Image.Image), f"return a PIL image, not a {type(small).__name__}")
    check(landscape.size == (400, 200), "it changed the input image in place (Image.thumbnail does): return a new image")
    check.same(small.size, (100, 50), [
        ((50, 100), "width and height are swapped: PIL's size is (width, height), a tensor's shape is (height, width)"),
        ((100, 100), "the picture was squashed into a square: scale both sides by long_side / max(width, height)"),
        ((400, 200), "the picture was not resized"),
        ((200, 100), "the shorter side became long_side: scale so that the LONGER side is long_side"),
    ], f"a 400x200 picture resized to long side 100 should be 100x50, not {small.size[0]}x{small.size[1]}")
    portrait = _call(check, resize_to_long_side, _test_picture(200, 400), 100)
    check.same(portrait.size, (50, 100), [
        ((100, 200), "it works for landscape pictures only: scale by long_side / max(width, height)"),
    ], f"a 200x400 picture resized to long side 100 should be 50x100, not {portrait.size[0]}x{portrait.size[1]}")
    odd = _call(check, resize_to_long_side, _test_picture(300, 200), 100)
    check(odd.size in ((100, 66), (100, 67)),
          f"a 300x200 picture resized to long side 100 should be 100x67 (or 100x66), not {odd.size[0]}x{odd.size[1]}")
    larger = _call(check, resize_to_long_side, _test_picture(30, 20), 60)
    check(larger.size != (30, 20), "a 30x20 picture was not enlarged to long side 60: "
                                   "Image.thumbnail only ever shrinks; use img.resize")
    check.same(larger.size, (60, 40), [],
               f"a 30x20 picture resized to long side 60 should be 60x40, not {larger.size[0]}x{larger.size[1]}")
    expected = np.asarray(landscape.resize(small.size, Image.Resampling.BILINEAR), dtype=np.float64)
    difference = np.abs(np.asarray(small.convert("RGB"), dtype=np.float64) - expected).mean()
    check(difference < 8, "the pixels do not look like a resized copy of the picture: "
                          "resize the whole picture (no cropping, flipping or colour change)")
    check.done()


_MEAN_SHAPE = ("the mean or std has shape (3,), and PyTorch lines up a shape-(3,) tensor with the LAST "
               "dimension (the width), not with the channels: reshape it to (1, 3, 1, 1), "
               "torch.tensor(mean).view(1, 3, 1, 1) (or view(3, 1, 1) for a (3, H, W) tensor)")
_PREPROCESS_HINTS = {  # the test pictures are 20 and 40 pixels wide, so a shape-(3,) mean cannot broadcast
    "must match the size of tensor b (3) at non-singleton dimension": _MEAN_SHAPE,
    "The size of tensor a (3) must match the size of tensor b": _MEAN_SHAPE,
}
_PER_IMAGE_STATISTICS = (
    "it normalises with the picture's own mean and std (x.mean(), x.std()), so every picture gets different "
    "numbers: use the fixed ImageNet statistics the network was trained with, d2lstyle.IMAGENET_MEAN and "
    "d2lstyle.IMAGENET_STD")


def _standardised_by_itself(x):
    """True when ``x`` has mean 0 and std 1 on its own, per channel or as a whole:
    the fingerprint of normalising a picture with its own statistics."""
    try:
        x = _plain(torch.as_tensor(x)).double()
        if x.dim() != 4 or x.shape[1] != 3:
            return False
    except (TypeError, ValueError, RuntimeError):
        return False
    for dims in ((0, 2, 3), (0, 1, 2, 3)):
        mean, std = x.mean(dim=dims), x.std(dim=dims, unbiased=False)
        if bool((mean.abs() < 1e-3).all() and ((std - 1).abs() < 0.01).all()):
            return True
    return False


def check_preprocess(preprocess):
    """Check ``preprocess(img, image_shape)``: a float tensor of shape (1, 3, H, W)
    for image_shape = (H, W), pixels scaled to [0, 1] and normalised with the
    ImageNet mean and std. Any resizing filter is accepted, and so is
    stretching a picture of another aspect ratio."""
    check = _Checks("preprocess")
    height, width = 15, 20
    picture = _test_picture(width, height)  # already at the target size: no filter is involved
    x = _call(check, preprocess, picture, (height, width), hints=_PREPROCESS_HINTS)
    check(isinstance(x, torch.Tensor), f"return a torch tensor, not a {type(x).__name__} "
                                       "(torch.from_numpy or torchvision's ToTensor make one)")
    check(x.dtype == torch.float32, f"the tensor's dtype is {x.dtype}: convert it to float32 with .float(), "
                                    "the network's weights are float32")
    check.same(tuple(x.shape), (1, 3, height, width), [
        ((3, height, width), "the batch dimension is missing: add it with .unsqueeze(0) to get (1, 3, H, W)"),
        ((1, height, width, 3), "the channels are last, (H, W, 3) as in PIL: move them first with .permute(2, 0, 1)"),
        ((height, width, 3), "the channels are last, (H, W, 3) as in PIL: move them first with .permute(2, 0, 1)"),
        ((1, 3, width, height), "height and width are swapped: image_shape is (height, width), "
                                "but PIL's resize takes (width, height)"),
    ], f"for image_shape ({height}, {width}) the shape should be (1, 3, {height}, {width}), not {tuple(x.shape)}")
    pixels = np.asarray(picture, dtype=np.float64) / 255  # (H, W, 3) in [0, 1]
    mean, std = np.array(images.IMAGENET_MEAN), np.array(images.IMAGENET_STD)
    bgr = "the colour channels are in BGR order: keep R, G, B"
    check.same(x, _chw((pixels - mean) / std), [
        (_chw((255 * pixels - mean) / std), "the pixels were not scaled to [0, 1]: divide the 0..255 values "
                                            "by 255 before normalising"),
        (_chw(pixels), "the tensor was not normalised: subtract the ImageNet mean and divide by the std, "
                       "channel by channel"),
        (_chw(pixels * std + mean), "it computes x * std + mean, which undoes normalisation: "
                                    "normalise with (x - mean) / std"),
        (_chw(pixels - mean), "it subtracts the mean but does not divide by the std"),
        (_chw(pixels / std), "it divides by the std but does not subtract the mean"),
        (_chw((pixels - 0.5) / 0.5), "it normalises with mean 0.5 and std 0.5: use the ImageNet statistics, "
                                     "d2lstyle.IMAGENET_MEAN and d2lstyle.IMAGENET_STD"),
        (_chw((pixels[:, :, ::-1] - mean) / std), bgr),
        (_chw((pixels - mean) / std).flip(1), bgr),
        (_chw((pixels - mean[::-1]) / std[::-1]), "the mean and std are applied to the wrong channels: "
                                                  "their order is R, G, B"),
        (images.normalize(torch.as_tensor(pixels).reshape(1, 3, height, width)),
         "the (H, W, 3) pixels were reshaped to (3, H, W) with reshape or view, which scrambles them: "
         "use .permute(2, 0, 1)"),
    ], _PER_IMAGE_STATISTICS if _standardised_by_itself(x) else
       "the values differ from (pixels / 255 - mean) / std with the ImageNet mean and std")
    bigger = _call(check, preprocess, _test_picture(4 * width, 4 * height), (height, width), hints=_PREPROCESS_HINTS)
    check.same(tuple(bigger.shape), (1, 3, height, width), [],
               f"an {4 * width}x{4 * height} picture with image_shape ({height}, {width}) gave shape "
               f"{tuple(bigger.shape)}: resize it to the requested shape")
    error = (bigger - _chw((pixels - mean) / std)).abs().mean()
    check(error < 0.1, f"an {4 * width}x{4 * height} picture resized to ({height}, {width}) does not look like "
                       "the same picture: resize the whole picture, keeping R, G, B")
    square = _call(check, preprocess, _test_picture(40, 40), (height, width), hints=_PREPROCESS_HINTS)
    check.same(tuple(square.shape), (1, 3, height, width), [],
               f"a square picture with image_shape ({height}, {width}) gave shape {tuple(square.shape)}: "
               "resize it to the requested shape")
    check.done()


def check_postprocess(postprocess):
    """Check ``postprocess(X)``: X of shape (1, 3, H, W), normalised, back to an
    8-bit RGB PIL image (normalisation undone, values clamped to [0, 1]). Rounding
    and truncation to 0..255 are both accepted."""
    check = _Checks("postprocess")
    pixels = np.random.default_rng(0).integers(0, 256, size=(4, 6, 3)).astype(np.float64)
    pixels[0, 0], pixels[0, 1] = 0, 255
    X = _normalised(pixels / 255)
    X_before = X.clone()
    picture = _call(check, postprocess, X, hints={
        "Cannot handle this data type": "Image.fromarray needs 8-bit values: multiply by 255 and convert "
                                        "to uint8 (.astype(np.uint8) or .to(torch.uint8))",
    })
    check(isinstance(picture, Image.Image), f"return a PIL image, not a {type(picture).__name__}: "
                                            "Image.fromarray(array) takes a (H, W, 3) uint8 array")
    check.same(picture.size, (6, 4), [
        ((4, 6), "height and width are swapped: move the channels last with .permute(1, 2, 0), not a transpose"),
    ], f"X of shape (1, 3, 4, 6) should give a 6x4 image, not {picture.size[0]}x{picture.size[1]}")
    check(picture.mode == "RGB", f"the image mode is {picture.mode!r}; expected 'RGB' (three 8-bit channels)")
    mean, std = np.array(images.IMAGENET_MEAN), np.array(images.IMAGENET_STD)
    normalised = X[0].permute(1, 2, 0).double().numpy()  # (H, W, 3)
    scrambled = "X was reshaped to (H, W, 3) with reshape or view, which scrambles the pixels: use .permute(1, 2, 0)"
    check.same(np.asarray(picture), pixels, [
        (_to_8bit(normalised), "the normalisation was not undone: multiply by the std and add the mean, "
                               "channel by channel, before clamping"),
        (_to_8bit((normalised - mean) / std), "it normalises a second time: undo the normalisation "
                                              "with x * std + mean"),
        (_to_8bit(np.clip(normalised, 0, 1) * std + mean), "it clamps before undoing the normalisation: "
                                                           "clamp the pixel values, after x * std + mean"),
        (pixels / 255, "the values were not multiplied by 255: an 8-bit image holds 0..255"),
        (pixels[:, :, ::-1], "the colour channels are in BGR order: keep R, G, B"),
        (pixels.transpose(2, 0, 1).reshape(4, 6, 3), scrambled),
        (_to_8bit(X[0].double().numpy().reshape(4, 6, 3) * std + mean), scrambled),
    ], "the pixels differ from the picture X was made from: undo the normalisation (x * std + mean), "
       "clamp to [0, 1], then multiply by 255", atol=1.01)
    check(torch.equal(X, X_before), "it changed X in place (mul_, add_ or clamp_): work on a copy, "
                                    "the image being optimised must not change")
    out_of_range = np.array([[[-0.5, 1.5, 0.2], [1.2, -0.1, 0.9]]])  # (1, 2, 3): some pixels outside [0, 1]
    clamped = _call(check, postprocess, _normalised(out_of_range))
    check.same(np.asarray(clamped), _to_8bit(out_of_range), [],
               "values outside [0, 1] were not clamped, so they wrapped around in 8 bits (a pixel at 1.5 "
               "came back dark): clamp to [0, 1] before converting", atol=1.01)
    trainable = _call(check, postprocess, X.clone().requires_grad_(True), hints={
        "requires grad": "detach the tensor first (X.detach()): the synthesised image requires grad, "
                         "and .numpy() refuses such tensors",
    })
    check(isinstance(trainable, Image.Image), "for a tensor that requires grad it did not return a PIL image")
    check.done()


# --- notebook 02: features -----------------------------------------------------


def check_vgg19_layer_names(vgg19_layer_names):
    """Check ``vgg19_layer_names()``: the 37 names conv1_1, relu1_1, conv1_2,
    relu1_2, pool1, conv2_1, ... pool5, in the order of VGG-19's layers."""
    check = _Checks("vgg19_layer_names")
    names = _call(check, vgg19_layer_names)
    check(isinstance(names, (list, tuple)) and all(isinstance(name, str) for name in names),
          f"return a list of strings such as 'conv1_1', not {_show(names)}")
    names = list(names)
    want = list(vgg.LAYER_NAMES)
    check(bool(names), "it returned no names")
    check(names[0] not in ("conv0_0", "conv0_1", "conv1_0"),
          f"the first name is {names[0]!r}: blocks and convolutions are numbered from 1, "
          "so the first layer is conv1_1")
    check(any(name.startswith("pool") for name in names),
          "there are no pooling layers: each block ends with pool{b} (pool1 ... pool5)")
    check(any(name.startswith("relu") for name in names),
          "there are no ReLU layers: every conv{b}_{i} is followed by relu{b}_{i}")
    convs = [sum(name.startswith(f"conv{block}_") for name in names) for block in range(1, 6)]
    check(convs == [2, 2, 4, 4, 4], f"the blocks have {convs} convolutions; VGG-19's have [2, 2, 4, 4, 4] "
                                    "(VGG-16's have [2, 2, 3, 3, 3])")
    check(len(names) == 37, f"{len(names)} names; VGG-19's features have 37 layers (16 conv, 16 relu, 5 pool)")
    wrong = [index for index, (name, right) in enumerate(zip(names, want)) if name != right]
    check(not wrong, f"name {wrong[0]} is {names[wrong[0]]!r}, but layer {wrong[0]} is {want[wrong[0]]!r}"
          if wrong else "")
    check.done()


def _small_vgg19():
    """A network with VGG-19's 37 layers in torchvision's order (convolutions,
    in-place ReLUs, max poolings) but only a few channels, so checks are fast."""
    small_layout = tuple(item if item == "M" else item // 16 for item in vgg.VGG19_LAYOUT)  # 4 to 32 channels
    with torch.random.fork_rng(devices=[]):  # seeded, without touching the learner's random state
        torch.manual_seed(0)
        net = vgg.make_vgg19_features(layout=small_layout)
    return net.requires_grad_(False).eval()


def _outputs_of_every_layer(net, X, count):
    """The outputs of the first ``count`` layers of ``net``, with the ReLUs run out of place."""
    outputs = []
    with torch.no_grad():
        for layer in net[:count]:
            X = torch.relu(X) if isinstance(layer, nn.ReLU) else layer(X)
            outputs.append(X)
    return outputs


def _wrong_layer_message(name, index, other):
    """What it means that the value for layer ``name`` (at ``index``) is the output of layer ``other``."""
    other_name = vgg.LAYER_NAMES[other]
    if other == index + 1 and name.startswith("conv"):
        return (f"{name} came back after its ReLU: torchvision's ReLUs work in place and overwrite a stored conv "
                "output when the next layer runs. Store a copy (X.clone()) of a conv output, "
                "or apply that ReLU out of place")
    if abs(other - index) == 1:
        return (f"the value for {name} is the output of {other_name}, the layer {'before' if other < index else 'after'} "
                f"it: an off-by-one in the indices. Store X right after running layer {index}")
    return f"the value for {name} is the output of {other_name} (index {other}), not of {name} (index {index})"


def check_extract_features(extract_features):
    """Check ``extract_features(X, net, layers)``: a dict {name: tensor} with
    exactly the requested layers (conv outputs before their ReLU), computed
    without running any layer past the deepest requested, with the gradient
    flowing back to X. ``net`` here is a small network shaped like VGG-19."""
    check = _Checks("extract_features")
    net = _small_vgg19()
    layers = ["conv2_1", "conv3_1", "relu1_1", "pool1"]  # not sorted by depth on purpose
    deepest = max(vgg.LAYER_INDEX[name] for name in layers)
    ran = set()
    for index, layer in enumerate(net):
        layer.register_forward_hook(lambda module, inputs, output, index=index: ran.add(index))
    X = _randn(1, 3, 32, 32, seed=1).requires_grad_(True)
    features = _call(check, extract_features, X, net, layers)
    check(isinstance(features, dict), f"return a dict {{layer name: tensor}}, not a {type(features).__name__}")
    missing = [name for name in layers if name not in features]
    unsorted = "conv3_1" in missing and layers[-1] not in missing
    check(not missing, f"no entry for {', '.join(missing)}: " + (
        "the list of layers is not sorted by depth, so run the network up to the deepest requested layer "
        "(here conv3_1), not the last one in the list" if unsorted else "return one entry per requested layer"))
    extra = sorted(set(features) - set(layers))
    check(not extra, f"it returned layers nobody asked for ({', '.join(map(str, extra))}): return exactly the requested ones")
    check(max(ran, default=-1) <= deepest,
          f"it ran layers past conv3_1 (index {deepest}), the deepest one requested: stop there, "
          "the layers after it only cost time")
    outputs = _outputs_of_every_layer(net, X.detach(), deepest + 2)
    for name in layers:
        index = vgg.LAYER_INDEX[name]
        mistakes = [(output, _wrong_layer_message(name, index, other))
                    for other, output in enumerate(outputs) if other != index]
        check.same(features[name], outputs[index], mistakes,
                   f"the value for {name} is not the output of layer {index} of net for this input")
    total = sum(feature.sum() for feature in features.values())
    _expect_gradients(check, total, into={"X": X})
    check.done()


# --- notebooks 03 to 05: the losses ------------------------------------------


def check_content_loss(content_loss):
    """Check ``content_loss(Y_hat, Y)``: the mean of the squared differences, a
    scalar tensor, with no gradient into the target Y."""
    check = _Checks("content_loss")
    Y_hat = _randn(1, 3, 4, 5, seed=1).requires_grad_(True)
    Y = _randn(1, 3, 4, 5, seed=2).requires_grad_(True)
    loss = _call(check, content_loss, Y_hat, Y)
    _expect_loss_tensor(check, loss)
    difference = (Y_hat - Y).detach()
    want = losses.content_loss(Y_hat, Y).detach()
    check.same(loss, want, [
        (want * 60, "it is 60 times too large, which is C*H*W: it sums the squared differences. "
                    "Take their mean instead (.mean())"),
        (want * 3, "it is 3 times too large, which is C: it divides by H*W only. Divide by C*H*W (.mean())"),
        (want * 20, "it is 20 times too large, which is H*W: it divides by C only. Divide by C*H*W (.mean())"),
        (want / 2, "it is half the right value: drop the 1/2, this series uses the plain mean"),
        (difference.abs().mean(), "it uses absolute differences: square them instead"),
        (want.sqrt(), "it takes the square root of the mean: the loss is the mean squared difference, no root"),
        (difference.mean() ** 2, "it squares the mean difference: average the squared differences instead"),
    ], f"expected {_show(want)}, got {_show(loss)}: compute the mean of (Y_hat - Y) ** 2")
    by_hand = _call(check, content_loss, torch.tensor([[[[1.0, 2.0], [3.0, 4.0]]]]), torch.zeros(1, 1, 2, 2))
    check.same(by_hand, 7.5, [], f"for Y_hat = [[1, 2], [3, 4]] and Y = 0 the loss is (1 + 4 + 9 + 16) / 4 = 7.5, "
                                 f"not {_show(by_hand)}")
    same = _call(check, content_loss, Y.detach(), Y.detach())
    check.same(same, 0.0, [], f"content_loss(Y, Y) should be 0, not {_show(same)}")
    _expect_gradients(check, loss, into={"Y_hat": Y_hat}, not_into=[(
        Y, "gradient flows into the target Y: detach it (Y.detach()); the content features are a fixed target")])
    check.done()


def check_gram_matrix(gram_matrix):
    """Check ``gram_matrix(X)``: for X of shape (1, C, H, W), the (C, C) matrix
    F F^T / (C H W) with F = X reshaped to (C, H*W)."""
    check = _Checks("gram_matrix")
    C, H, W = 3, 4, 5
    X = _randn(1, C, H, W, seed=3).requires_grad_(True)
    G = _call(check, gram_matrix, X)
    check(isinstance(G, torch.Tensor), f"return a tensor, not a {type(G).__name__}")
    check.same(tuple(G.shape), (C, C), [
        ((H * W, H * W), "it has shape (H*W, H*W): that is F.T @ F. The Gram matrix is F @ F.T, "
                         "one row and column per channel"),
        ((1, C, C), "drop the batch dimension: return a (C, C) matrix"),
    ], f"for X of shape (1, {C}, {H}, {W}) the shape should be ({C}, {C}), not {tuple(G.shape)}")
    check(torch.allclose(G, G.T, rtol=1e-4, atol=1e-6), "it is not symmetric (G[k, l] should equal G[l, k]): "
                                                        "compute F @ F.T with F = X.reshape(C, H * W)")
    want = losses.gram_matrix(X.detach())
    scrambled = X.detach().reshape(H * W, C)
    check.same(G, want, [
        (want * C * H * W, f"it is {C * H * W} times too large, which is C*H*W: the Gram matrix was not "
                           "normalised. Divide F @ F.T by C * H * W"),
        (want * C, f"it is {C} times too large, which is C: it divides by H*W only. Divide by C * H * W"),
        (want * H * W, f"it is {H * W} times too large, which is H*W: it divides by C only. Divide by C * H * W"),
        (want / (C * H * W), f"it is {C * H * W} times too small: it divides by C*H*W twice"),
        (want / C, f"it is {C} times too small, which is C: it divides by C^2*H*W (C twice, perhaps "
                   "C * X.numel() or C * C * H * W). Divide by C * H * W, the number of values in X"),
        (scrambled.T @ scrambled / (C * H * W), "X was reshaped to (H*W, C), which mixes values of different "
                                                "channels: reshape it to (C, H*W), one row per channel"),
    ], "the values differ from F @ F.T / (C*H*W) with F = X.reshape(C, H*W)")
    by_hand = _call(check, gram_matrix, torch.tensor([[[[1.0, 2.0]], [[3.0, 4.0]]]]))
    check.same(by_hand, [[1.25, 2.75], [2.75, 6.25]], [],
               "for X = [[[[1, 2]], [[3, 4]]]] (C=2, H=1, W=2) the Gram matrix is "
               f"[[1+4, 3+8], [3+8, 9+16]] / 4 = [[1.25, 2.75], [2.75, 6.25]], not {_show(by_hand)}")
    tiled = _call(check, gram_matrix, X.detach().repeat(1, 1, 2, 2))
    check.same(tiled, want, [], "repeating the feature map 2x2 times changed the Gram matrix: divide by the "
                                "number of positions H*W too, so it does not depend on the image size")
    _expect_gradients(check, G.sum(), into={"X": X})
    check.done()


_GRAM_OF_GRAM = ("it takes the Gram matrix of gram_Y, which already is a Gram matrix (the style image's, "
                 "computed once before training): compare gram_matrix(Y_hat) with gram_Y itself, "
                 "((gram_matrix(Y_hat) - gram_Y) ** 2).mean()")
_STYLE_LOSS_HINTS = {  # gram_Y, a (C, C) matrix, is the only 2-D tensor here: a gram_matrix got it as features
    "expected 4, got 2": _GRAM_OF_GRAM,
    "expected 3, got 2": _GRAM_OF_GRAM,
    "expects features of shape (1, C, H, W), got (": _GRAM_OF_GRAM,
}


def check_style_loss(style_loss):
    """Check ``style_loss(Y_hat, gram_Y)``: the mean of the squared differences
    between gram_matrix(Y_hat) and gram_Y, a scalar tensor, gram_Y detached."""
    check = _Checks("style_loss")
    Y_hat = _randn(1, 3, 4, 5, seed=4).requires_grad_(True)
    gram_Y = losses.gram_matrix(_randn(1, 3, 4, 5, seed=5)).requires_grad_(True)
    loss = _call(check, style_loss, Y_hat, gram_Y, hints=_STYLE_LOSS_HINTS)
    _expect_loss_tensor(check, loss)
    G, target = losses.gram_matrix(Y_hat.detach()), gram_Y.detach()
    want = ((G - target) ** 2).mean()
    gram_of_gram = [(((G - target @ target.T / n) ** 2).mean(), _GRAM_OF_GRAM) for n in (9, 3, 1)]  # C^2, C, 1
    check.same(loss, want, gram_of_gram + [
        (want * 9, "it is 9 times too large, which is C^2: it sums over the C x C entries. Take their mean"),
        (((G * 60 - target) ** 2).mean(), "the Gram matrix of Y_hat is C*H*W times too large: normalise it like "
                                          "gram_Y (check your gram_matrix, or use d2lstyle.gram_matrix)"),
        (((G * 3 - target) ** 2).mean(), "the Gram matrix of Y_hat is divided by H*W only: divide by C*H*W "
                                         "(check your gram_matrix, or use d2lstyle.gram_matrix)"),
        (want / 4, "it is a quarter of the right value: drop the 1/4 (Gatys et al.'s factor), "
                   "this series uses the plain mean"),
        ((G - target).abs().mean(), "it uses absolute differences: square them instead"),
        (want.sqrt(), "it takes the square root of the mean: the loss is the mean squared difference, no root"),
    ], f"expected {_show(want)}, got {_show(loss)}: compute the mean of (gram_matrix(Y_hat) - gram_Y) ** 2")
    by_hand = _call(check, style_loss, torch.ones(1, 2, 1, 2), torch.zeros(2, 2), hints=_STYLE_LOSS_HINTS)
    check.same(by_hand, 0.25, [], "for Y_hat = ones(1, 2, 1, 2) every entry of its Gram matrix is 2 / 4 = 0.5, so "
                                  f"against gram_Y = 0 the loss is 0.5 ** 2 = 0.25, not {_show(by_hand)}")
    same = _call(check, style_loss, Y_hat.detach(), G, hints=_STYLE_LOSS_HINTS)
    check.same(same, 0.0, [], f"style_loss(Y, gram_matrix(Y)) should be 0, not {_show(same)}")
    _expect_gradients(check, loss, into={"Y_hat": Y_hat}, not_into=[(
        gram_Y, "gradient flows into the target gram_Y: detach it (gram_Y.detach()); "
                "the style's Gram matrix is a fixed target")])
    check.done()


def _tv_count_mistakes(sum_h, sum_w, shape):
    """Total variation with the sums of |differences| divided by wrong counts, as
    (value, message) pairs: the number of pixels, a count without the channels,
    or the vertical and horizontal counts swapped (each with and without the 1/2)."""
    _, C, H, W = shape
    right = (f"There are C*(H-1)*W = {C * (H - 1) * W} vertical differences and C*H*(W-1) = {C * H * (W - 1)} "
             "horizontal ones: divide each sum by its own count, or simply take .mean() of each")
    wrong_counts = [
        (C * H * W, C * H * W, "it divides by C*H*W, the number of pixels"),
        (H * W, H * W, "it divides by H*W, the number of pixels of one channel"),
        ((H - 1) * W, H * (W - 1), "its counts of differences, (H-1)*W and H*(W-1), leave out the C channels"),
        (C * H * (W - 1), C * (H - 1) * W, "it divides the vertical differences by the count of the horizontal "
                                           "ones and the other way round"),
    ]
    mistakes = []
    for count_h, count_w, wrong in wrong_counts:
        mistakes.append((0.5 * (sum_h / count_h + sum_w / count_w), f"{wrong}. {right}"))
        mistakes.append((sum_h / count_h + sum_w / count_w, f"{wrong}, and the 1/2 in front is missing. {right}"))
    return mistakes


def check_tv_loss(tv_loss):
    """Check ``tv_loss(Y_hat)``: 0.5 * (mean |vertical differences| + mean
    |horizontal differences|) of an image of shape (N, C, H, W)."""
    check = _Checks("tv_loss")
    X = _randn(1, 3, 4, 6, seed=6).requires_grad_(True)
    loss = _call(check, tv_loss, X)
    _expect_loss_tensor(check, loss)
    Y = X.detach()
    dh, dw = Y[:, :, 1:, :] - Y[:, :, :-1, :], Y[:, :, :, 1:] - Y[:, :, :, :-1]
    dc = Y[:, 1:] - Y[:, :-1]
    want = 0.5 * (dh.abs().mean() + dw.abs().mean())
    squared = "it squares the differences: use absolute ones (.abs()), which let sharp edges survive"
    channels = "it takes differences between colour channels (dim 1): use height (dim 2) and width (dim 3)"
    check.same(loss, want, _tv_count_mistakes(dh.abs().sum(), dw.abs().sum(), Y.shape) + [
        (0.5 * ((dh ** 2).mean() + (dw ** 2).mean()), squared),
        ((dh ** 2).mean() + (dw ** 2).mean(), squared),
        (2 * want, "it is twice the right value: the 1/2 in front is missing"),
        (0.5 * dh.abs().mean(), "it has only vertical differences (along H): add the horizontal ones (along W)"),
        (dh.abs().mean(), "it has only vertical differences (along H): add the horizontal ones (along W)"),
        (0.5 * dw.abs().mean(), "it has only horizontal differences (along W): add the vertical ones (along H)"),
        (dw.abs().mean(), "it has only horizontal differences (along W): add the vertical ones (along H)"),
        (0.5 * (dh.mean() + dw.mean()), "the absolute value is missing, so positive and negative differences "
                                        "cancel: use .abs()"),
        (torch.cat([dh.abs().flatten(), dw.abs().flatten()]).mean(),
         "it averages all differences together: average the vertical and the horizontal ones separately, "
         "then take half their sum"),
        (0.5 * (dh.abs().sum() + dw.abs().sum()), "it sums the differences: take the mean of each direction"),
        (dh.abs().sum() + dw.abs().sum(), "it sums the differences: take the mean of each direction, then half their sum"),
        (0.5 * (dc.abs().mean() + dh.abs().mean()), channels),
        (0.5 * (dc.abs().mean() + dw.abs().mean()), channels),
        (0.5 * ((Y - Y.roll(1, 2)).abs().mean() + (Y - Y.roll(1, 3)).abs().mean()),
         "torch.roll wraps around and adds differences between the first and last rows and columns: "
         "slice instead, X[:, :, 1:, :] - X[:, :, :-1, :]"),
    ], f"expected {_show(want)}, got {_show(loss)}")
    checkerboard = _call(check, tv_loss, torch.tensor([[[[0.0, 1.0], [1.0, 0.0]]]]))
    check.same(checkerboard, 1.0, [], "for the checkerboard [[0, 1], [1, 0]] every neighbour differs by 1, "
                                      f"so the loss is 0.5 * (1 + 1) = 1, not {_show(checkerboard)}")
    flat = _call(check, tv_loss, torch.full((1, 3, 4, 6), 0.7))
    check.same(flat, 0.0, [], f"an image of one colour has no variation: expected 0, not {_show(flat)}")
    _expect_gradients(check, loss, into={"Y_hat": X})
    check.done()


# --- notebook 06: training ----------------------------------------------------


def check_synthesized_image(SynthesizedImage):
    """Check ``class SynthesizedImage(nn.Module)``: ``__init__(initial)`` stores
    a copy of the tensor as the module's only parameter, ``weight``;
    ``forward()`` returns it."""
    check = _Checks("SynthesizedImage")
    initial = _randn(1, 3, 4, 5, seed=7)
    saved = initial.clone()
    image = _call(check, SynthesizedImage, initial, hints={
        "before Module.__init__() call": "call super().__init__() first in __init__, before assigning self.weight",
    })
    check(isinstance(image, nn.Module), "SynthesizedImage must be a subclass of nn.Module: "
                                        "class SynthesizedImage(nn.Module)")
    weight = getattr(image, "weight", None)
    check(isinstance(weight, torch.Tensor), "store the image in self.weight")
    check(isinstance(weight, nn.Parameter), "self.weight is a plain tensor, not an nn.Parameter: wrap it, "
                                            "nn.Parameter(...), so that .parameters() and the optimiser see it")
    count = len(list(image.parameters()))
    check(count == 1, f"it has {count} parameters: the image must be the only one")
    check.same(weight, initial, [], "self.weight should start equal to `initial` (same shape and values)")
    with torch.no_grad():
        weight.add_(1.0)
    check(torch.equal(initial, saved), "self.weight shares its memory with `initial`, so optimising it would "
                                       "overwrite the content image: store a copy, nn.Parameter(initial.clone())")
    output = _call(check, image)
    check(isinstance(output, torch.Tensor) and output.requires_grad,
          "forward() should return self.weight itself, not a copy or a detached tensor")
    output.sum().backward()
    check(weight.grad is not None, "no gradient reaches self.weight through forward(): return self.weight itself")
    check.done()


def check_decayed_learning_rate(decayed_learning_rate):
    """Check ``decayed_learning_rate(step, lr, every, factor)``: the float
    lr * factor ** (step // every), with steps counted from 0."""
    check = _Checks("decayed_learning_rate")
    lr, every, factor = 0.3, 50, 0.8
    steps = (0, 1, 30, 49, 50, 51, 99, 100, 260)  # 30: rounding step / every would already decay here
    rates = [_call(check, decayed_learning_rate, step, lr, every, factor) for step in steps]
    wrong = [rate for rate in rates if isinstance(rate, bool) or not isinstance(rate, (int, float))]
    check(not wrong, f"return a Python float, not a {type(wrong[0]).__name__}" if wrong else "")

    def schedule(exponent):
        return [lr * factor ** exponent(step) for step in steps]

    check.same(rates, schedule(lambda step: step // every), [
        (schedule(lambda step: (step + 1) // every), "it decays one step too early: steps count from 0, "
                                                     "so steps 0 to 49 use lr itself. Use step // every"),
        (schedule(lambda step: (step - 1) // every), "it decays one step too late: steps count from 0. "
                                                     "Use step // every"),
        (schedule(lambda step: step // every + 1), "step 0 should use lr itself: the first decay comes "
                                                   "after `every` steps. Use factor ** (step // every)"),
        (schedule(lambda step: step / every), "it decays smoothly: use integer division, step // every, "
                                              "so that the rate drops in stairs"),
        (schedule(lambda step: round(step / every)), "it rounds step / every to the nearest integer, so the "
                                                     "rate drops halfway through each period (at step 30 of 50): "
                                                     "use floor division, step // every"),
        (schedule(lambda step: -(-step // every)), "it rounds step / every up (math.ceil), so the rate drops "
                                                   "right after step 0: use floor division, step // every"),
        (schedule(lambda step: step), "it decays at every step: raise factor to the number of decays, step // every"),
        (schedule(lambda step: step % every), "it uses step % every (the remainder): use step // every"),
        ([lr * factor * (step // every) for step in steps], "it multiplies by factor * (step // every): raise "
                                                            "factor to that power, factor ** (step // every)"),
    ], f"for lr={lr}, every={every}, factor={factor} the rates at steps {steps} should be "
       f"{[round(rate, 5) for rate in schedule(lambda step: step // every)]}")
    other = _call(check, decayed_learning_rate, 25, 1.0, 10, 0.5)
    check.same(other, 0.25, [], f"decayed_learning_rate(25, 1.0, 10, 0.5) should be 1.0 * 0.5 ** 2 = 0.25, "
                                f"not {_show(other)}")
    check.done()


class _Probe:
    """A tiny optimisation problem that records what a training step does: an
    image (a SynthesizedImage of 12 numbers), the loss sum((x - target)^2),
    and an optimiser whose step() and calls to the loss are counted. It starts
    with a stale gradient left in the image, as after an earlier step."""

    STALE = 5.0

    def __init__(self, name, optimizer_class, run_step=True, **options):
        self.name = name
        self.target = _randn(1, 3, 2, 2, seed=8)
        self.start = _randn(1, 3, 2, 2, seed=9)
        self.synthesized = training.SynthesizedImage(self.start)
        self.synthesized.weight.grad = torch.full_like(self.start, self.STALE)
        self.optimizer = optimizer_class(self.synthesized.parameters(), **options)
        self.losses, self.steps, self.grad_at_step = 0, 0, None
        real_step = self.optimizer.step

        def counted_step(*args, **kwargs):
            self.steps += 1
            grad = self.synthesized.weight.grad
            self.grad_at_step = None if grad is None else grad.clone()
            return real_step(*args, **kwargs) if run_step else None

        self.optimizer.step = counted_step

    def loss_fn(self, image):
        if isinstance(image, nn.Module):
            raise AssertionError(f"{self.name}: pass the image, synthesized(), to loss_fn, not the module itself")
        self.losses += 1
        return ((image - self.target) ** 2).sum()

    def start_loss(self):
        return float(((self.start - self.target) ** 2).sum())

    def fresh_gradient(self):
        return 2 * (self.start - self.target)

    def gradient_mistakes(self, where):
        """The two typical ways a gradient goes wrong, as (value, message) pairs."""
        return [
            (self.fresh_gradient() + self.STALE, f"the gradients accumulate: what was left from the previous step "
                                                 f"was added to the new gradient. Call optimizer.zero_grad() {where}"),
            (torch.zeros_like(self.start), "the gradient was zero: call optimizer.zero_grad() before loss.backward(), "
                                           "not after it"),
        ]


def check_training_step(training_step):
    """Check ``training_step(synthesized, optimizer, loss_fn)``: zero the
    gradients, compute loss_fn(synthesized()), back-propagate, call
    optimizer.step() once, and return the loss as a Python float."""
    check = _Checks("training_step")
    probe = _Probe(check.name, torch.optim.SGD, lr=0.1)
    value = _call(check, training_step, probe.synthesized, probe.optimizer, probe.loss_fn)
    check(probe.losses >= 1, "call loss_fn(synthesized()) to compute the loss")
    check(probe.steps >= 1, "it never calls optimizer.step(), so the image never changes")
    check(probe.steps == 1, f"it calls optimizer.step() {probe.steps} times: once per training step")
    check(probe.grad_at_step is not None, "there was no gradient when optimizer.step() ran: call loss.backward() "
                                          "before optimizer.step(), and zero_grad() before backward(), not after")
    check.same(probe.grad_at_step, probe.fresh_gradient(), probe.gradient_mistakes("before loss.backward()"),
               "the gradient at optimizer.step() is not the gradient of loss_fn(synthesized())")
    check(not isinstance(value, torch.Tensor), "return loss.item(), a Python float, not the tensor: a list of "
                                               "loss tensors keeps every step's graph in memory")
    check(isinstance(value, float), f"return the loss as a Python float (loss.item()), not a {type(value).__name__}")
    check.same(value, probe.start_loss(), [], f"it returned {_show(value)}, but the loss before the step was "
                                              f"{_show(probe.start_loss())}: return the loss you computed")
    again = _call(check, training_step, probe.synthesized, probe.optimizer, probe.loss_fn)
    check(again < value, "a second training step did not lower the loss")
    check.done()


def check_make_closure(make_closure):
    """Check ``make_closure(synthesized, optimizer, loss_fn)``: it returns a
    function (the closure) that zeroes the gradients, computes
    loss_fn(synthesized()), calls backward and returns the loss tensor,
    without calling optimizer.step() (L-BFGS calls the closure from step())."""
    check = _Checks("make_closure")
    probe = _Probe(check.name, torch.optim.LBFGS, run_step=False, lr=1)
    closure = _call(check, make_closure, probe.synthesized, probe.optimizer, probe.loss_fn)
    check(not isinstance(closure, torch.Tensor), "it returned a tensor: return the function itself, "
                                                 "`return closure` without parentheses")
    check(callable(closure), f"return the closure (a function), not a {type(closure).__name__}")
    check(probe.losses == 0 and probe.steps == 0, "make_closure should only define the closure and return it; "
                                                  "the optimiser calls it (it already computed the loss or stepped)")
    loss = _call(check, closure)
    check(probe.steps == 0, "the closure calls optimizer.step(): L-BFGS calls the closure from inside step(), "
                            "so the closure must only compute the loss and its gradient")
    check(probe.losses == 1, f"the closure called loss_fn {probe.losses} times: call loss_fn(synthesized()) once")
    _expect_loss_tensor(check, loss)
    check.same(loss, probe.start_loss(), [], f"the closure returned {_show(loss)}, but the loss is "
                                             f"{_show(probe.start_loss())}: return loss_fn(synthesized())")
    gradient = probe.synthesized.weight.grad
    check(gradient is not None, "there is no gradient after calling the closure: call loss.backward() inside it")
    check.same(gradient, probe.fresh_gradient(), probe.gradient_mistakes("at the start of the closure"),
               "the gradient after the closure is not the gradient of loss_fn(synthesized())")
    run = _Probe(check.name, torch.optim.LBFGS, lr=1, max_iter=10)
    run.optimizer.step(_call(check, make_closure, run.synthesized, run.optimizer, run.loss_fn))
    final = float(run.loss_fn(run.synthesized.weight.detach()))
    check(final < run.start_loss() / 10, "L-BFGS with this closure did not reduce the loss")
    check.done()


# --- notebook 10: the painter (fast style transfer) ---------------------------------------------


def _instance_stats(X, dims, unbiased=False):
    """Mean and variance of X over ``dims`` (kept, for broadcasting)."""
    return X.mean(dim=dims, keepdim=True), X.var(dim=dims, keepdim=True, unbiased=unbiased)


def check_instance_norm(instance_norm):
    """Check ``instance_norm(X, eps)``: each channel of each image of X
    (N, C, H, W) normalised over its own H x W positions,
    (X - mean) / sqrt(var + eps), with the biased variance (divided by H*W)."""
    check = _Checks("instance_norm")
    # two images, three channels, each with its own mean and scale, so that every wrong set of axes shows
    X = (_randn(2, 3, 4, 5, seed=11) * torch.tensor([1.0, 3.0, 0.5]).view(1, 3, 1, 1)
         + torch.tensor([[0.0, 2.0, -1.0], [5.0, 0.0, 1.0]]).view(2, 3, 1, 1))
    eps = 0.5  # large, so that where eps goes shows
    Y = _call(check, instance_norm, X, eps, hints={
        "must match the size": "the mean and variance lost their H and W axes, so they do not line up with X: "
                               "compute them with keepdim=True",
    })
    check(isinstance(Y, torch.Tensor), f"return a tensor, not a {type(Y).__name__}")
    check.same(tuple(Y.shape), tuple(X.shape), [], f"the result should have X's shape {tuple(X.shape)}, "
                                                   f"not {tuple(Y.shape)}")

    def normalised(dims, unbiased=False, where="inside"):
        mean, variance = _instance_stats(X, dims, unbiased)
        if where == "outside":
            return (X - mean) / (variance.sqrt() + eps)
        if where == "none":
            return (X - mean) / variance.sqrt()
        if where == "variance":
            return (X - mean) / (variance + eps)
        if where == "no mean":
            return X / torch.sqrt(variance + eps)
        return (X - mean) / torch.sqrt(variance + eps)

    check.same(Y, normalised((2, 3)), [
        (normalised((2, 3), unbiased=True), "it uses the unbiased variance (divided by H*W - 1), which is what "
                                            "X.var() and X.std() compute by default: pass unbiased=False "
                                            "(or correction=0), the variance divided by H*W"),
        (normalised((0, 2, 3)), "it averages over the batch too (axes 0, 2, 3): that is batch normalisation. "
                                "Instance normalisation averages over H and W only (dim=(2, 3))"),
        (normalised((0, 2, 3), unbiased=True), "it averages over the batch too (axes 0, 2, 3): that is batch "
                                               "normalisation. Average over H and W only (dim=(2, 3))"),
        (normalised((1, 2, 3)), "it averages over the channels too (axes 1, 2, 3): that is layer normalisation. "
                                "Each channel gets its own mean and variance: dim=(2, 3)"),
        (normalised((0, 1, 2, 3)), "it uses one mean and variance for the whole tensor: compute them per image "
                                   "and channel, over dim=(2, 3)"),
        (normalised((2, 3), where="outside"), "eps is added to the standard deviation: add it to the variance, "
                                              "inside the square root, sqrt(var + eps)"),
        (normalised((2, 3), where="none"), "eps is missing: divide by sqrt(var + eps)"),
        (normalised((2, 3), where="variance"), "it divides by the variance: divide by its square root, "
                                               "sqrt(var + eps)"),
        (normalised((2, 3), where="no mean"), "it does not subtract the mean"),
    ], "the values differ from (X - mean) / sqrt(var + eps) with the mean and variance of each image's "
       "channel over H and W")
    constant = torch.full((1, 2, 3, 3), 7.0)
    flat = _call(check, instance_norm, constant, 1e-5)
    check(bool(torch.isfinite(flat).all()) and float(flat.abs().max()) < 1e-3,
          "a constant channel should become 0, not NaN: eps keeps the division finite")
    X_grad = X.clone().requires_grad_(True)
    weights = _randn(2, 3, 4, 5, seed=12)
    (_call(check, instance_norm, X_grad, eps) * weights).sum().backward()
    X_ref = X.clone().requires_grad_(True)
    (_reference_instance_norm(X_ref, eps) * weights).sum().backward()
    check(X_grad.grad is not None, "no gradient reaches X: do not detach it")
    check.same(X_grad.grad, X_ref.grad, [], "the gradient is wrong although the values are right: do not "
                                            "detach the mean or the variance, the gradient flows through them")
    check.done()


def _reference_instance_norm(X, eps):
    mean = X.mean(dim=(2, 3), keepdim=True)
    variance = (X - mean).square().mean(dim=(2, 3), keepdim=True)
    return (X - mean) / torch.sqrt(variance + eps)


def check_residual_block(ResidualBlock):
    """Check ``ResidualBlock(channels)``'s ``forward(x)``: x + norm2(conv2(relu(norm1(conv1(x))))),
    with the layers its ``__init__`` defines, and no ReLU after the sum."""
    from . import painter

    check = _Checks("ResidualBlock")
    channels = 3
    block = _call(check, ResidualBlock, channels)
    check(isinstance(block, nn.Module), "ResidualBlock must be a subclass of nn.Module")
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(13)
        reference = painter.ResidualBlock(channels)
        with torch.no_grad():
            for norm in (reference.norm1, reference.norm2):
                norm.weight.uniform_(0.5, 2.0)
                norm.bias.uniform_(-1.0, 1.0)
    names = ("conv1", "norm1", "conv2", "norm2")
    missing = [name for name in names if not isinstance(getattr(block, name, None), nn.Module)]
    check(not missing, f"it has no layer {', '.join(missing)}: keep the layers __init__ defines "
                       "(conv1, norm1, conv2, norm2) and write forward only")
    try:
        block.load_state_dict(reference.state_dict())
    except RuntimeError as error:
        check.fail(f"its layers do not match the reference's (conv1, norm1, conv2, norm2 for {channels} channels): "
                   f"{str(error).splitlines()[0]}")
    x = _randn(2, channels, 6, 7, seed=14)
    x_before = x.clone()
    y = _call(check, block, x)
    check(isinstance(y, torch.Tensor), f"forward should return a tensor, not a {type(y).__name__}")
    check(torch.equal(x, x_before), "it changed its input x in place (x += ... or a ReLU with inplace=True on x): "
                                    "return x + correction, a new tensor")
    check.same(tuple(y.shape), tuple(x.shape), [], f"the output should have the input's shape {tuple(x.shape)}, "
                                                   f"not {tuple(y.shape)}")
    r = reference
    with torch.no_grad():
        inner = r.norm1(r.conv1(x))
        correction = r.norm2(r.conv2(torch.relu(inner)))
        want = x + correction
        mistakes = [
            (correction, "the skip connection is missing: return x + F(x), not F(x) alone"),
            (torch.relu(want), "a ReLU after the sum: return x + F(x) as it is, so the block can also lower values"),
            (x + torch.relu(correction), "a ReLU at the end of F: F ends with norm2, then x is added"),
            (x + r.norm2(r.conv2(inner)), "the ReLU between the two convolutions is missing: "
                                          "F(x) = norm2(conv2(relu(norm1(conv1(x)))))"),
            (x + r.norm2(r.conv2(r.norm1(torch.relu(r.conv1(x))))), "the ReLU comes before norm1: normalise first, "
                                                                   "then the ReLU"),
            (inner + correction, "it adds norm1(conv1(x)) instead of x itself: the skip carries the block's input"),
            (x + r.conv2(torch.relu(r.norm1(r.conv1(x)))), "norm2 is missing after conv2"),
            (x + r.norm2(r.conv2(torch.relu(r.conv1(x)))), "norm1 is missing after conv1"),
            (2 * x + correction, "x is added twice"),
        ]
    check.same(y, want, mistakes, "the output differs from x + norm2(conv2(relu(norm1(conv1(x))))) with the "
                                  "block's own layers")
    block.zero_grad()
    _call(check, block, x).square().sum().backward()
    grads = [name for name in names if getattr(block, name).weight.grad is None]
    check(not grads, f"no gradient reaches {', '.join(grads)}: use the layers in forward, without torch.no_grad()")
    check.done()


def check_cosine_learning_rate(cosine_learning_rate):
    """Check ``cosine_learning_rate(step, steps, lr)``: the float
    lr / 2 * (1 + cos(pi * step / steps)), from lr at step 0 to 0 at step = steps."""
    import math

    check = _Checks("cosine_learning_rate")
    lr, steps = 0.01, 200
    points = (0, 1, 50, 100, 150, 199, 200)
    rates = [_call(check, cosine_learning_rate, step, steps, lr) for step in points]
    wrong = [rate for rate in rates if isinstance(rate, bool) or not isinstance(rate, (int, float))]
    check(not wrong, f"return a Python float (math.cos works on floats), not a {type(wrong[0]).__name__}"
          if wrong else "")

    def schedule(rate):
        return [rate(step) for step in points]

    want = schedule(lambda t: lr / 2 * (1 + math.cos(math.pi * t / steps)))
    check.same(rates, want, [
        (schedule(lambda t: lr * (1 + math.cos(math.pi * t / steps))), "it starts at 2 * lr: the factor 1/2 is "
                                                                      "missing, lr / 2 * (1 + cos(...))"),
        (schedule(lambda t: lr / 2 * (1 + math.cos(t / steps))), "pi is missing: the angle goes from 0 to pi, "
                                                                 "math.pi * step / steps"),
        (schedule(lambda t: lr / 2 * (1 + math.cos(2 * math.pi * t / steps))),
         "it completes a whole period and comes back up to lr at the end: the angle goes from 0 to pi only"),
        (schedule(lambda t: lr / 2 * (1 - math.cos(math.pi * t / steps))), "it rises from 0 to lr: use "
                                                                           "1 + cos(...), not 1 - cos(...)"),
        (schedule(lambda t: lr * math.cos(math.pi * t / steps)), "it goes negative in the second half: "
                                                                 "use lr / 2 * (1 + cos(...))"),
        (schedule(lambda t: lr / 2 * (1 + math.cos(math.pi * (t // steps)))), "step // steps is 0 until the end: "
                                                                                "use step / steps"),
        (schedule(lambda t: lr / 2 * (1 + math.cos(math.radians(math.pi * t / steps)))),
         "the angle is converted from degrees: math.cos takes radians, math.cos(math.pi * step / steps)"),
    ], f"for lr={lr} and steps={steps} the rates at steps {points} should be {[round(r, 6) for r in want]}")
    other = _call(check, cosine_learning_rate, 30, 120, 1.0)
    check.same(other, 0.5 * (1 + math.cos(math.pi / 4)), [],
               f"cosine_learning_rate(30, 120, 1.0) should be (1 + cos(pi / 4)) / 2 = 0.8536, not {_show(other)}")
    check.done()


# --- notebook 09: controlling the painting ------------------------------------


def _correlated_pixels(height, width, mixing, seed):
    """RGB pixels (1, 3, H, W) in float64 whose channels are correlated by ``mixing`` (3 x 3)."""
    pixels = torch.rand((1, 3, height, width), generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    return torch.einsum("ck,nkhw->nchw", torch.tensor(mixing, dtype=torch.float64), pixels)


def _covariance_after(A, cov_a):
    """The covariance of the colours A c, for colours c of covariance ``cov_a``."""
    return A @ cov_a @ A.T


def check_match_histogram(match_histogram):
    """Check ``match_histogram(painting, photo)``: the painting's pixel colours c (RGB, (1, 3, H, W)) mapped to
    A c + b, one A and b for every pixel, so that their mean and covariance become the photo's."""
    check = _Checks("match_histogram")
    photo = _correlated_pixels(6, 8, [[0.8, 0.2, 0.0], [0.3, 0.6, 0.1], [0.0, 0.4, 0.5]], seed=21)
    painting = _correlated_pixels(5, 7, [[0.3, 0.0, 0.1], [0.2, 0.5, 0.0], [0.1, 0.1, 0.9]], seed=22) + 0.1
    saved = painting.clone()
    matched = _call(check, match_histogram, painting, photo)
    check(isinstance(matched, torch.Tensor), f"return a tensor, not a {type(matched).__name__}")
    check.same(tuple(matched.shape), tuple(painting.shape), [
        (tuple(photo.shape), "it has the photo's shape: return the painting's pixels, recoloured"),
    ], f"it should have the painting's shape {tuple(painting.shape)}, not {tuple(matched.shape)}")
    check(torch.equal(painting, saved), "it changed the painting in place: compute a new tensor instead")
    mean_p, cov_p = colour.colour_statistics(photo)
    mean_a, cov_a = colour.colour_statistics(painting)
    mean, cov = colour.colour_statistics(matched.detach().double())
    root_p, root_a = colour.matrix_power_symmetric(cov_p, 0.5), colour.matrix_power_symmetric(cov_a, 0.5)
    inverse_root_a = colour.matrix_power_symmetric(cov_a, -0.5)
    A = root_p @ inverse_root_a
    scales = (cov_p.diag() / cov_a.diag()).sqrt()
    check.same(cov, cov_p, [
        (cov_a, "the colours still have the painting's covariance: multiply each colour by "
                "A = Sigma_p^(1/2) Sigma_a^(-1/2)"),
        (torch.diag(scales) @ cov_a @ torch.diag(scales), "each channel was matched on its own (its mean and "
                                                           "standard deviation), so the correlations between "
                                                           "channels are still the painting's: use the 3 x 3 "
                                                           "covariance matrices"),
        (_covariance_after(cov_p @ torch.linalg.inv(cov_a), cov_a), "A = Sigma_p Sigma_a^-1 has no square roots: "
                                                                    "use Sigma_p^(1/2) Sigma_a^(-1/2)"),
        (_covariance_after(inverse_root_a @ root_p, cov_a), "A is the wrong way round (the two matrices are "
                                                            "multiplied in the wrong order, or A is applied "
                                                            "transposed): A = Sigma_p^(1/2) Sigma_a^(-1/2), the "
                                                            "photo's first, and the new channel c is the sum over "
                                                            "k of A[c, k] times channel k, e.g. "
                                                            "torch.einsum('ck,nkhw->nchw', A, painting)"),
        (_covariance_after(root_p @ root_a, cov_a), "the painting's covariance needs the power -1/2, not 1/2: "
                                                    "A = Sigma_p^(1/2) Sigma_a^(-1/2)"),
    ], "the colours' covariance should be the photo's: A Sigma_a A^T = Sigma_p with A = Sigma_p^(1/2) "
       "Sigma_a^(-1/2)", atol=1e-5)
    check.same(mean, mean_p, [
        (A @ mean_a, "the mean colour is A mu_a: add b = mu_p - A mu_a to every pixel"),
        (A @ mean_a + mean_p - mean_a, "b must be mu_p - A mu_a (with A): the mean lands at A mu_a + b"),
        (torch.zeros(3, dtype=torch.float64), "the mean colour is 0: after centring the colours, add the "
                                              "photo's mean mu_p back"),
    ], "the mean colour should be the photo's, mu_p = b + A mu_a", atol=1e-5)
    colours = painting.reshape(3, -1).T
    with_ones = torch.cat([colours, torch.ones(len(colours), 1, dtype=torch.float64)], dim=1)
    fitted = torch.linalg.lstsq(with_ones, matched.detach().double().reshape(3, -1).T).solution
    residual = (with_ones @ fitted - matched.detach().double().reshape(3, -1).T).abs().max()
    check(float(residual) < 1e-5, "the new colours are not A c + b with one A and one b for all pixels: the "
                                  "paper's method is linear (no sorting, clipping or per-region mapping)")
    itself = _call(check, match_histogram, photo, photo)
    check.same(itself, photo, [], "matching a picture to itself should leave it unchanged (A = I, b = 0)",
               atol=1e-5)
    check.done()


def check_guided_gram_matrix(guided_gram_matrix):
    """Check ``guided_gram_matrix(X, T)``: gram_matrix(T * X) * H * W / sum(T ** 2) for features X
    (1, C, H, W) and a guide T (1, 1, H, W), with the series' Gram matrix (divided by C*H*W)."""
    check = _Checks("guided_gram_matrix")
    C, H, W = 3, 4, 6
    X = _randn(1, C, H, W, seed=23).requires_grad_(True)
    T = torch.zeros(1, 1, H, W)
    T[..., :3] = 1.0
    T[..., 1:3, 3] = 0.5  # a soft edge
    G = _call(check, guided_gram_matrix, X, T)
    check(isinstance(G, torch.Tensor), f"return a tensor, not a {type(G).__name__}")
    check.same(tuple(G.shape), (C, C), [
        ((H * W, H * W), "it has shape (H*W, H*W): the Gram matrix is F @ F.T, one row and column per channel"),
        ((1, C, C), "drop the batch dimension: return a (C, C) matrix"),
    ], f"for X of shape (1, {C}, {H}, {W}) the shape should be ({C}, {C}), not {tuple(G.shape)}")
    Y = X.detach()
    area = float(T.square().sum())
    want = losses.gram_matrix(Y * T) * (H * W / area)
    check.same(G, want, [
        (losses.gram_matrix(Y * T), f"it is {H * W / area:.3g} times too small, which is H*W / sum(T**2): "
                                    "rescale by H * W / (T ** 2).sum(), so that the region counts as if it "
                                    "filled the image"),
        (losses.gram_matrix(Y * T) * (H * W / float(T.sum())), "divide by the sum of T squared, not of T: the "
                                                               "guide multiplies both factors of F @ F.T"),
        (losses.gram_matrix(Y * T * T) * (H * W / area), "the guide is applied twice: multiply the features "
                                                         "by T once"),
        (losses.gram_matrix(Y) * float(T.mean()), "it scales the plain Gram matrix: multiply the features by T "
                                                  "first, position by position, so that only the region counts"),
        (losses.gram_matrix(Y), "it ignores the guide T: multiply the features by T before the Gram matrix"),
        (want * C, f"it is {C} times too large, which is C: use the series' Gram matrix, divided by C*H*W, "
                   "e.g. d2lstyle.gram_matrix(X * T)"),
    ], "the values differ from gram_matrix(T * X) * H * W / sum(T ** 2)")
    ones = _call(check, guided_gram_matrix, Y, torch.ones(1, 1, H, W))
    check.same(ones, losses.gram_matrix(Y), [], "with T = 1 everywhere it should be the plain Gram matrix, "
                                                "gram_matrix(X)")
    left = torch.zeros(1, 1, H, W)
    left[..., :2] = 1.0
    region = _call(check, guided_gram_matrix, Y, left)
    check.same(region, losses.gram_matrix(Y[..., :2]), [], "with T = 1 in the two left columns and 0 elsewhere "
                                                           "it should be the Gram matrix of those columns alone, "
                                                           "gram_matrix(X[..., :2])")
    _expect_gradients(check, G.sum(), into={"X": X})
    outside = (T == 0).expand_as(X)
    check(bool((X.grad[outside] == 0).all()), "gradient reaches features where T = 0: multiply the features by "
                                              "T before the product, so that the outside of the region cannot "
                                              "change the result")
    check.done()
