"""Checks for the exercises of notebook 01 (images): resizing to a long side, preprocessing and
postprocessing.
"""

import numpy as np
import torch
from PIL import Image

from .. import images
from .harness import _Checks, _call, _plain


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
