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

import torch

from . import images, losses
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
    are PIL images. Everything is measured at the result's size: the photo is
    resized to it, the painting is resized (cropped to the result's aspect
    ratio) for the content distance and scaled to the same longer side,
    keeping its own aspect ratio, for its Gram matrices.
    """
    extract = judge(device)
    x = result.detach().to(device, torch.float32) if torch.is_tensor(result) else images.preprocess(result).to(device)
    shape = tuple(x.shape[-2:])
    p = images.preprocess(photo, shape).to(device)
    a_same_shape = images.preprocess(painting, shape).to(device)
    a = images.preprocess(painting, max(shape)).to(device)
    with torch.no_grad():
        fx, fp, fa_same, fa = extract(x), extract(p), extract(a_same_shape), extract(a)
        grams_a = {name: losses.gram_matrix(fa[name]) for name in STYLE_LAYERS}

        def style_distance(features):
            return sum(float((losses.gram_matrix(features[name]) - grams_a[name]).square().sum()
                             / grams_a[name].square().sum()) for name in STYLE_LAYERS)

        def content_distance(features):
            target = fp[CONTENT_LAYER]
            return float((features[CONTENT_LAYER] - target).square().sum() / target.square().sum())

        photo_style, painting_content = style_distance(fp), content_distance(fa_same)
        if photo_style == 0 or painting_content == 0:
            raise ValueError("the photo and the painting look the same to VGG-19: there is nothing to measure")
        style = style_distance(fx) / photo_style
        content = content_distance(fx) / painting_content
    return Quality(round(style, 6), round(content, 6))
