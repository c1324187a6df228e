r"""How good is a painting? Two numbers that need no eyes.

Measured with the original VGG-19 (the network of Gatys et al.), whatever
network made the picture, so that results of different recipes and networks
compare:

- the **style distance** of an image y to the painting a, summed over the
  five layers relu1_1 ... relu5_1, each relative to the painting's own
  Gram matrix (normalised by C*H*W):

  .. math:: S(y) = \sum_l \frac{\lVert G^l(y) - G^l(a) \rVert^2}{\lVert G^l(a) \rVert^2}

- the **content distance** of y to the photograph p at relu4_2:

  .. math:: C(y) = \frac{\lVert F(y) - F(p) \rVert^2}{\lVert F(p) \rVert^2}

A result x is reported relative to the two images it mixes:
``style = S(x) / S(p)`` (1: x has the photo's style statistics, 0: the
painting's) and ``content = C(x) / C(a)`` (0: x is the photo, 1: x is as
far from it as the painting). A good painting scores both well below 1; in
the trials behind this measure a pleasing Tübingen / Starry Night scored
about 0.25 and 0.48, an over-stylised one 0.10 and 0.90.

>>> from PIL import Image
>>> photo = Image.new("RGB", (64, 48), (40, 120, 200))
>>> painting = Image.effect_noise((64, 64), 60).convert("RGB")
>>> score = measure(photo, photo, painting)
>>> score.style, score.content   # the photo itself: its own style, no content lost
(1.0, 0.0)
"""

from dataclasses import dataclass

import numpy as np
import torch

from . import images, losses
from .errors import InputError
from .networks import load_vgg19
from .vgg import FeatureExtractor

STYLE_LAYERS = ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1")
CONTENT_LAYER = "relu4_2"
# The target a benchmark times a recipe to: both ratios at or below these.
TARGET_STYLE, TARGET_CONTENT = 0.45, 0.5

_judges = {}  # device -> the FeatureExtractor that measures, loaded once


@dataclass(frozen=True)
class Quality:
    """The two ratios of :func:`measure` (lower is better for both)."""

    style: float  # S(x) / S(p): how much of the photo's style is left
    content: float  # C(x) / C(a): how much of the photo's content is lost, relative to the painting

    def moved_towards_style(self):
        """The direction test: x is closer to the painting's style than the photo is,
        and closer to the photo's content than the painting is."""
        return self.style < 1 and self.content < 1

    def meets_target(self, style=TARGET_STYLE, content=TARGET_CONTENT):
        """Both ratios at or below the benchmark's target (0.45 and 0.5)."""
        return self.style <= style and self.content <= content

    def __str__(self):
        return f"style {self.style:.3f}, content {self.content:.3f}"


def judge(device="cpu"):
    """The original VGG-19's extractor for the measured layers (loaded once per device)."""
    device = torch.device(device)
    if device not in _judges:
        vgg = load_vgg19("original").to(device)
        _judges[device] = FeatureExtractor(vgg, list(STYLE_LAYERS) + [CONTENT_LAYER])
    return _judges[device]


def measure(result, photo, painting, device="cpu"):
    """The :class:`Quality` of ``result`` made from ``photo`` and ``painting``.

    ``result`` is a PIL image or a standardised tensor (1, 3, H, W) (as in a
    :class:`~d2lstyle.transfer.TransferResult`); ``photo`` and ``painting``
    are PIL images. To measure many results of one size, make a
    :class:`Scorer` once and call it.
    """
    x = result if torch.is_tensor(result) else images.preprocess(result)
    return Scorer(photo, painting, tuple(x.shape[-2:]), device)(x)


class Scorer:
    """Measures results of one size against one photo and one painting; the
    photo's and the painting's features are computed once.

    Everything is measured at ``shape`` (the results' (height, width)): the
    photo is resized to it; the painting is resized (cropped to that aspect
    ratio) for its content distance, and scaled to the same longer side,
    keeping its own aspect ratio, for its Gram matrices.
    """

    def __init__(self, photo, painting, shape, device="cpu"):
        self.extract = judge(device)
        self.device = torch.device(device)
        with torch.no_grad():
            self.photo_features = self.extract(images.preprocess(photo, shape).to(device))
            painting_same_shape = self.extract(images.preprocess(painting, shape).to(device))
            painting_features = self.extract(images.preprocess(painting, max(shape)).to(device))
            self.painting_grams = {name: losses.gram_matrix(painting_features[name]) for name in STYLE_LAYERS}
            self.photo_style = self.style_distance(self.photo_features)
            self.painting_content = self.content_distance(painting_same_shape)
        if self.photo_style == 0 or self.painting_content == 0:
            raise InputError("the photo and the painting look the same to VGG-19: there is nothing to measure")

    def style_distance(self, features):
        """S: the summed relative squared distances of the Gram matrices to the painting's."""
        return sum(float((losses.gram_matrix(features[name]) - target).square().sum() / target.square().sum())
                   for name, target in self.painting_grams.items())

    def content_distance(self, features):
        """C: the relative squared distance of the relu4_2 features to the photo's."""
        target = self.photo_features[CONTENT_LAYER]
        return float((features[CONTENT_LAYER] - target).square().sum() / target.square().sum())

    def __call__(self, result):
        """The :class:`Quality` of a result: a PIL image or a standardised tensor of this size."""
        x = result if torch.is_tensor(result) else images.preprocess(result)
        with torch.no_grad():
            features = self.extract(x.detach().to(self.device, torch.float32))
        return Quality(round(self.style_distance(features) / self.photo_style, 6),
                       round(self.content_distance(features) / self.painting_content, 6))


# --- texture where the photo has none ---------------------------------------------------------


@dataclass(frozen=True)
class Texture:
    """The numbers of :func:`texture`: how much fine pattern a picture holds, and how regular it is."""

    contrast: float  # the standard deviation of the grey levels' fine detail (0-255)
    regularity: float  # the share of that detail's energy in its few strongest frequencies (0 to 1)

    def __str__(self):
        return f"contrast {self.contrast:.1f}, regularity {self.regularity:.3f}"


def texture(picture, longest=16, strongest=8):
    r"""How much fine pattern a picture (PIL) holds, and how much of it is one repeated pattern.

    The picture's grey levels g (0-255), mirrored at two edges so that they wrap around smoothly, are split into
    frequencies by the 2-D discrete Fourier transform :math:`\hat g`; the detail d is what repeats at least once
    every ``longest`` pixels (the slower frequencies, a sky's gradient or the picture's big shapes, are set
    aside). ``contrast`` is the standard deviation of d, and ``regularity`` the share of its energy
    :math:`|\hat g|^2` in the ``strongest`` frequencies that hold most of it: noise spreads its energy over all
    of them (a share near 0), a hatch repeated over the whole picture puts almost all of it into a few (near 1).
    Measured in a painted sky, it tells whether a painter keeps the calm parts of a photo calm or covers them
    with a pattern of its own.

    >>> import numpy as np
    >>> from PIL import Image
    >>> str(texture(Image.new("RGB", (64, 64), (128, 128, 128))))          # flat: nothing
    'contrast 0.0, regularity 0.000'
    >>> columns = 128 + 60 * np.cos(np.pi / 2 * np.arange(64))   # stripes 4 pixels apart: 188, 128, 68, 128, ...
    >>> str(texture(Image.fromarray(np.tile(columns, (64, 1)).round().astype(np.uint8))))   # std 60 / sqrt(2)
    'contrast 42.3, regularity 0.977'
    >>> ramp = np.tile(np.linspace(60, 200, 64), (64, 1))           # a smooth gradient is no texture (and the
    >>> texture(Image.fromarray(ramp.round().astype(np.uint8))).contrast < 1   # regularity of so little means nothing)
    True
    >>> noise = np.random.default_rng(0).normal(128, 20, (64, 64)).clip(0, 255).astype(np.uint8)
    >>> texture(Image.fromarray(noise)).regularity < 0.05   # 8 of its thousands of frequencies hold little
    True
    """
    grey = np.asarray(picture.convert("L"), dtype=np.float64)
    height, width = grey.shape
    # mirrored at its right and bottom edges, the picture repeats with no jump where it wraps around
    mirrored = np.pad(grey, ((0, height), (0, width)), mode="symmetric")
    spectrum = np.fft.rfft2(mirrored)
    frequency = np.hypot(np.fft.fftfreq(2 * height)[:, None], np.fft.rfftfreq(2 * width)[None, :])
    spectrum[frequency < 1 / longest] = 0  # the mean (frequency 0) and the slow changes
    detail = np.fft.irfft2(spectrum, s=mirrored.shape)[:height, :width]
    energy = np.abs(spectrum) ** 2
    total = energy.sum()
    regularity = float(np.sort(energy.ravel())[-strongest:].sum() / total) if total > 1e-9 else 0.0
    return Texture(round(float(detail.std()), 6), round(regularity, 6))
