r"""The painter: a network trained once per painting, that stylises any photo in one pass.

Optimising the pixels of x (:mod:`d2lstyle.transfer`) solves one optimisation
problem per photo: hundreds of passes through VGG-19. Johnson, Alahi and
Fei-Fei (2016) amortise that cost: a feed-forward network :math:`f_W` is
trained, once per painting a, to map any photo p to its stylised version,
minimising the same perceptual loss over many photos:

.. math:: \min_W \; \mathbb{E}_p \big[ \alpha \sum_l w^c_l L^l_\text{content}(f_W(p), p)
          + \beta \sum_l w^s_l L^l_\text{style}(f_W(p), a) + \gamma L_\text{TV}(f_W(p)) \big]

The features, Gram matrices and TV are those of :mod:`d2lstyle.losses`, summed
by :func:`d2lstyle.objective.loss_terms`. After training, stylising a photo is
one forward pass of :class:`Painter`: a fraction of a second on a CPU instead
of minutes.

The network (:class:`Painter`), in the layout of Johnson et al. with fewer
channels, so that it trains on a CPU:

1. encoder: a 9x9 convolution, then two 3x3 convolutions of stride 2
   (the feature maps shrink to a quarter of the height and width);
2. residual blocks (:class:`ResidualBlock`): x + F(x), so each block learns a
   correction to what it is given;
3. decoder: twice "upsample by 2, then a 3x3 convolution"
   (:class:`UpsampleConv`; transposed convolutions leave checkerboard
   artefacts), then a 3x3 convolution to the three colour channels
   (Johnson et al.'s is 9x9: at 512 px that one layer would cost as much as
   two residual blocks).

Every convolution but the last is followed by instance normalisation
(Ulyanov, Vedaldi and Lempitsky 2016; :func:`instance_norm`) and a ReLU.

Training (:func:`train_painter`) follows the usual advice: Adam with learning
rate 1e-3 annealed along a cosine (:func:`cosine_learning_rate`), random crops
and flips of the training photos (:func:`photo_batch`), gradient clipping. It
keeps books like :func:`d2lstyle.transfer.stylise`: callbacks, a progress bar,
Ctrl-C keeps the work done, and a checkpoint lets a run resume exactly where it
stopped. Model files (:func:`save_painter`, :func:`load_painter`) are read with
``torch.load(..., weights_only=True)`` and carry the settings they were
trained with.

>>> painter = Painter(channels=(4, 8, 16), residual_blocks=1)
>>> tuple(painter(torch.zeros(1, 3, 30, 41)).shape)   # any size in, the same size out
(1, 3, 30, 41)
"""

import contextlib
import copy
import dataclasses
import hashlib
import importlib.util
import math
import pickle
import signal
import threading
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from torch import nn

from . import images, losses
from .devices import fast_layout
from .errors import D2lStyleError, ImageError, PainterError
from .objective import LOSS_TERMS, Targets, loss_terms
from .recipes import Recipe
from .vgg import VGG19, FeatureExtractor

FORMAT = "d2lstyle-painter-1"
CHECKPOINT_FORMAT = "d2lstyle-painter-training-1"

# The smallest height and width the painter takes (its 9x9 reflection padding needs more than 4 pixels).
MIN_SIDE = 8

# A training crop shows at most this many crop sizes of a photo's shorter side (see photo_batch).
MAX_CROP_SCALE = 2.0

# The bundled photo kept out of training, to measure how well a painter generalises.
HELD_OUT_PHOTO = "tubingen"


# --- the network ---------------------------------------------------------------------------


def instance_norm(X, eps=1e-5):
    r"""Normalise each channel of each image over its own H x W positions.

    For X of shape (N, C, H, W), with the mean and the (biased) variance of
    channel c of image n over its HW positions,

    .. math:: \mu_{nc} = \frac{1}{HW} \sum_{i,j} X_{ncij}, \quad
              \sigma^2_{nc} = \frac{1}{HW} \sum_{i,j} (X_{ncij} - \mu_{nc})^2, \quad
              Y_{ncij} = \frac{X_{ncij} - \mu_{nc}}{\sqrt{\sigma^2_{nc} + \epsilon}}

    Batch normalisation would average over the batch too (n and i, j), so
    each image would depend on the others; instance normalisation removes
    each image's own contrast, which is what a painter should not keep.
    ``nn.InstanceNorm2d(C, affine=True)`` computes the same and then scales
    and shifts each channel by learned numbers.

    >>> X = torch.tensor([[[[1.0, 3.0]], [[10.0, 10.0]]]])   # N=1, C=2, H=1, W=2
    >>> instance_norm(X, eps=0.0)   # channel 0: mean 2, variance 1; channel 1: constant
    tensor([[[[-1.,  1.]],
    <BLANKLINE>
             [[nan, nan]]]])
    >>> instance_norm(X)[0, 1]      # eps keeps a constant channel at 0
    tensor([[0., 0.]])
    """
    mean = X.mean(dim=(2, 3), keepdim=True)
    variance = (X - mean).square().mean(dim=(2, 3), keepdim=True)
    return (X - mean) / torch.sqrt(variance + eps)


def conv_layer(in_channels, out_channels, kernel_size, stride=1):
    """A convolution that pads by reflecting the image (no dark border)
    and keeps the size (halves it with ``stride=2``).

    >>> tuple(conv_layer(3, 8, 9)(torch.zeros(1, 3, 10, 12)).shape)
    (1, 8, 10, 12)
    """
    return nn.Conv2d(in_channels, out_channels, kernel_size, stride=stride, padding=kernel_size // 2,
                     padding_mode="reflect")


class InstanceNorm(nn.GroupNorm):
    """Instance normalisation with a learned scale and shift per channel:
    :func:`instance_norm`, then ``weight[c] * Y + bias[c]``.

    It is group normalisation with one channel per group: the same formula.
    We use PyTorch's GroupNorm for it because its CPU kernel is several times
    faster than InstanceNorm2d's on channels-last images (the layout the
    painter runs in); ``nn.InstanceNorm2d(C, affine=True)`` gives the same numbers.

    >>> X = torch.randn(2, 3, 4, 5)
    >>> torch.allclose(InstanceNorm(3)(X), instance_norm(X), atol=1e-5)   # weight 1, bias 0 at the start
    True
    """

    def __init__(self, channels, eps=1e-5):
        super().__init__(num_groups=channels, num_channels=channels, eps=eps, affine=True)


class ConvNormReLU(nn.Sequential):
    """Convolution, instance normalisation (with a learned scale and shift), ReLU."""

    def __init__(self, in_channels, out_channels, kernel_size, stride=1):
        super().__init__(conv_layer(in_channels, out_channels, kernel_size, stride),
                         InstanceNorm(out_channels), nn.ReLU(inplace=True))


class ResidualBlock(nn.Module):
    """``x + F(x)`` with F = conv, instance norm, ReLU, conv, instance norm.

    The block only has to learn a correction F(x) to its input, and the
    identity path carries the input (and the gradient) through unchanged:
    deep stacks of them train easily and keep the photo's detail. There is
    no ReLU after the sum (as in Johnson et al.'s supplement), so a block can
    also lower values.

    >>> block = ResidualBlock(4)
    >>> with torch.no_grad():
    ...     _ = block.norm2.weight.zero_()   # F(x) = 0: the block is the identity
    >>> x = torch.randn(1, 4, 6, 6)
    >>> torch.equal(block(x), x)
    True
    """

    def __init__(self, channels):
        super().__init__()
        self.conv1 = conv_layer(channels, channels, 3)
        self.norm1 = InstanceNorm(channels)
        self.conv2 = conv_layer(channels, channels, 3)
        self.norm2 = InstanceNorm(channels)

    def forward(self, x):
        correction = self.norm2(self.conv2(torch.relu(self.norm1(self.conv1(x)))))
        return x + correction


class UpsampleConv(nn.Sequential):
    """Upsample by 2 (nearest neighbour), then convolve; doubles the height and width.

    A transposed convolution of stride 2 does both in one layer, but its
    kernel overlaps itself unevenly (a 3x3 kernel covers some output pixels
    twice as often as others), which paints a checkerboard on the output
    (Odena, Dumoulin and Olah 2016). Upsampling first gives every output
    pixel the same treatment.

    >>> tuple(UpsampleConv(8, 4)(torch.zeros(1, 8, 5, 7)).shape)
    (1, 4, 10, 14)
    """

    def __init__(self, in_channels, out_channels, kernel_size=3):
        super().__init__(nn.Upsample(scale_factor=2, mode="nearest"),
                         conv_layer(in_channels, out_channels, kernel_size),
                         InstanceNorm(out_channels), nn.ReLU(inplace=True))


class Painter(nn.Module):
    """The feed-forward painter: encoder, residual blocks, decoder.

    ``channels`` = (c1, c2, c3) are the widths at full, half and quarter
    size (Johnson et al. use (32, 64, 128) and 5 blocks; the default here is
    a quarter of the work, sized for a CPU). The input and the output are
    standardised RGB images (:func:`d2lstyle.images.preprocess`) of any size:
    the input is padded (by reflection) to a multiple of 4 and the output
    cropped back.

    >>> painter = Painter()
    >>> sum(p.numel() for p in painter.parameters())
    421443
    """

    def __init__(self, channels=(16, 32, 64), residual_blocks=5):
        super().__init__()
        c1, c2, c3 = channels
        self.encoder = nn.Sequential(ConvNormReLU(3, c1, 9), ConvNormReLU(c1, c2, 3, stride=2),
                                     ConvNormReLU(c2, c3, 3, stride=2))
        self.residuals = nn.Sequential(*[ResidualBlock(c3) for _ in range(residual_blocks)])
        self.decoder = nn.Sequential(UpsampleConv(c3, c2), UpsampleConv(c2, c1), conv_layer(c1, 3, 3))
        self.to(memory_format=torch.channels_last)  # the layout oneDNN's convolutions run fastest in

    def forward(self, x):
        height, width = x.shape[-2:]
        if min(height, width) < MIN_SIDE:
            raise ImageError(f"the image is {height}x{width} pixels; the painter needs at least {MIN_SIDE} on "
                             "each side")
        pad_bottom, pad_right = -height % 4, -width % 4
        if pad_bottom or pad_right:
            x = F.pad(x, (0, pad_right, 0, pad_bottom), mode="reflect")
        y = self.decoder(self.residuals(self.encoder(fast_layout(x))))
        return y[..., :height, :width]


# --- settings -------------------------------------------------------------------------------


@dataclass(frozen=True)
class PainterSettings:
    """Everything a painter is trained with; a model file carries them.

    The loss: content at ``content_layers`` (relu2_2, as Johnson et al.: an
    early layer keeps the photo's edges in place), style at ``style_layers``
    (relu1_1 ... relu5_1, those of Gatys et al.), both normalised (see :func:`loss_recipe`) so that the weights alpha, beta,
    gamma (``content_weight``, ``style_weight``, ``tv_weight``) mean the
    same for every painting. Training: ``steps`` steps of Adam on batches of
    ``batch_size`` random ``crop`` x ``crop`` crops, learning rate ``lr``
    annealed along a cosine to 0, gradient norm clipped at ``max_grad_norm``.
    The painting is seen with its longer side ``style_size`` pixels long,
    which sets the size of its brush strokes in the painter's output.

    The defaults train in 8 to 12 minutes on a 2-core CPU (800 steps of 4
    crops of 96 x 96 pixels, with the original VGG-19); Johnson et al. used
    (32, 64, 128) channels, 256-pixel crops and 40,000 steps on a GPU.

    >>> PainterSettings().replace(steps=10).steps
    10
    """

    channels: tuple = (16, 32, 64)
    residual_blocks: int = 5
    content_layers: tuple = ("relu2_2",)
    style_layers: tuple = ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1")
    content_weight: float = 1.0
    style_weight: float = 10.0
    tv_weight: float = 1.0
    style_size: int = 512
    crop: int = 96
    batch_size: int = 4
    steps: int = 800
    lr: float = 1e-3
    max_grad_norm: float = 5.0
    seed: int = 0

    def __post_init__(self):
        validate_settings(self)

    def replace(self, **changes):
        """A copy with some settings changed."""
        return dataclasses.replace(self, **changes)

    def as_dict(self):
        """The settings as a plain dict (what a model file stores)."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values):
        """Settings from :meth:`as_dict`'s dict; unknown keys are an error."""
        names = {field.name for field in dataclasses.fields(cls)}
        unknown = sorted(set(values) - names)
        if unknown:
            raise PainterError(f"unknown painter settings: {', '.join(unknown)}")
        values = {key: tuple(value) if isinstance(value, list) else value for key, value in values.items()}
        return cls(**values)


def validate_settings(settings):
    """Raise :class:`~d2lstyle.errors.PainterError` for a setting that cannot work."""
    from .vgg import layer_index

    def whole(name, low):
        value = getattr(settings, name)
        if not (isinstance(value, int) and not isinstance(value, bool) and value >= low):
            raise PainterError(f"painter setting {name} must be a whole number >= {low}, not {value!r}")

    def number(name, low, strict=False):
        value = getattr(settings, name)
        ok = (isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
              and (value > low if strict else value >= low))
        if not ok:
            raise PainterError(f"painter setting {name} must be a finite number {'>' if strict else '>='} {low}, "
                               f"not {value!r}")

    channels = settings.channels
    if not (isinstance(channels, tuple) and len(channels) == 3
            and all(isinstance(c, int) and not isinstance(c, bool) and c >= 1 for c in channels)):
        raise PainterError(f"painter setting channels must be three whole numbers >= 1, not {channels!r}")
    for name in ("content_layers", "style_layers"):
        layers = getattr(settings, name)
        if not isinstance(layers, tuple) or not layers or not all(isinstance(layer, str) for layer in layers):
            raise PainterError(f"painter setting {name} must be a tuple of VGG-19 layer names, not {layers!r}")
        for layer in layers:
            layer_index(layer)
    whole("residual_blocks", 0)
    whole("style_size", 16)
    whole("crop", 16)
    whole("batch_size", 1)
    whole("steps", 1)
    whole("seed", 0)
    for name in ("content_weight", "style_weight", "tv_weight"):
        number(name, 0)
    number("lr", 0, strict=True)
    number("max_grad_norm", 0, strict=True)


def cosine_learning_rate(step, steps, lr):
    r"""The learning rate at ``step`` (counted from 0) of ``steps``, annealed along a cosine:

    .. math:: \eta_t = \frac{\eta_0}{2} \left(1 + \cos \frac{\pi t}{T}\right)

    It starts at ``lr``, falls slowly at first, fastest half way (lr / 2),
    and slowly again towards 0 at the end: big steps while the network is
    far from good, small ones to settle.

    >>> [round(cosine_learning_rate(t, 100, 1e-3), 6) for t in (0, 50, 100)]
    [0.001, 0.0005, 0.0]
    """
    return 0.5 * lr * (1 + math.cos(math.pi * step / steps))


# --- training photos ---------------------------------------------------------------------------


def training_photos(held_out=HELD_OUT_PHOTO):
    """The photos a painter is trained on when none are given, as paths.

    All are available offline, with free licences:

    - the bundled photos in ``images/content`` (see images/CREDITS.md:
      rainier CC BY-SA 4.0, astronaut public domain, chelsea and coffee CC0,
      tubingen CC BY 3.0) except ``held_out``, which is kept out so that how
      well a painter generalises can be measured on a photo it never saw;
    - ``grace_hopper.jpg`` from matplotlib's sample data (installed with
      matplotlib; a U.S. Navy photograph, public domain).

    Five photos are very few next to the 80,000 of Johnson et al. (COCO);
    random crops, scales and flips (:func:`photo_batch`) make many more
    training examples of them, and a painter learns textures that are local.
    Pass your own photos (``--photos DIR``) for better generalisation.

    >>> [path.stem for path in training_photos()]
    ['astronaut', 'chelsea', 'coffee', 'rainier', 'grace_hopper']
    """
    photos = [path for path in images.bundled_images("content") if path.stem != held_out]
    matplotlib_photo = matplotlib_sample_photo()
    if matplotlib_photo is not None:
        photos.append(matplotlib_photo)
    return photos


def matplotlib_sample_photo():
    """The path of grace_hopper.jpg in matplotlib's sample data, or None
    where that matplotlib was installed without it."""
    spec = importlib.util.find_spec("matplotlib")  # found without importing matplotlib
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(list(spec.submodule_search_locations)[0]) / "mpl-data" / "sample_data" / "grace_hopper.jpg"
    return path if path.is_file() else None


def photos_in_folder(folder):
    """The image files in ``folder`` (not its subfolders) that Pillow can read, sorted by name."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ImageError(f"{folder}: no such folder of photos")
    extensions = set(Image.registered_extensions())
    paths = sorted(path for path in folder.iterdir()
                   if path.is_file() and path.suffix.lower() in extensions and not path.name.startswith("."))
    if not paths:
        raise ImageError(f"{folder}: holds no image files (.jpg, .png, ...) to train on")
    return paths


def shrink_for_crops(photo, crop, max_scale=MAX_CROP_SCALE):
    """``photo`` shrunk so that its shorter side is at most ``max_scale * crop``
    pixels, the most :func:`photo_batch` ever uses (a smaller photo is returned
    as it is). Keeps a large collection of photos small in memory.

    >>> shrink_for_crops(Image.new("RGB", (400, 300)), crop=50).size
    (133, 100)
    """
    width, height = photo.size
    largest = max_scale * crop
    if min(width, height) <= largest:
        return photo
    scale = largest / min(width, height)
    return photo.resize((max(1, round(width * scale)), max(1, round(height * scale))), Image.Resampling.LANCZOS)


def photo_batch(photos, crop, batch_size, seed=0, step=0, max_scale=MAX_CROP_SCALE):
    """A batch of random crops of ``photos`` (PIL images): a standardised
    tensor of shape (batch_size, 3, crop, crop).

    Each crop picks a photo, a scale (the photo's shorter side shrunk to
    between ``crop`` and ``max_scale * crop`` pixels, or its own size if
    smaller), a place, and a horizontal flip half of the time. The choices
    depend only on ``seed`` and ``step``, so a resumed run sees exactly the
    batches an uninterrupted one would.

    >>> photo = Image.new("RGB", (60, 40), (200, 100, 50))
    >>> tuple(photo_batch([photo], crop=16, batch_size=2, step=3).shape)
    (2, 3, 16, 16)
    """
    rng = np.random.default_rng([seed, step])
    crops = []
    for _ in range(batch_size):
        photo = photos[rng.integers(len(photos))]
        width, height = photo.size
        short = min(width, height)
        # the shorter side, in pixels, once the photo is scaled: from crop to min(max_scale * crop, short)
        largest = max(crop, min(max_scale * crop, short))
        scaled_short = crop + rng.random() * (largest - crop)
        box_side = crop * short / scaled_short  # the crop's side in the photo's own pixels
        left = rng.random() * (width - box_side) if width > box_side else 0.0
        top = rng.random() * (height - box_side) if height > box_side else 0.0
        box_side = min(box_side, width, height)
        piece = photo.resize((crop, crop), Image.Resampling.BILINEAR,
                             box=(left, top, left + box_side, top + box_side))
        if rng.random() < 0.5:
            piece = piece.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
        crops.append(images.preprocess(piece))
    return torch.cat(crops)


# --- the loss ---------------------------------------------------------------------------------


def loss_recipe(settings, style_grams, content_features):
    r"""The :class:`~d2lstyle.recipes.Recipe` whose :func:`~d2lstyle.objective.loss_terms`
    is the painter's loss, with per-layer weights that normalise each layer.

    Layers differ in size by orders of magnitude, and so do paintings. The
    per-layer weights make every term a relative distance:

    .. math:: w^s_l = \frac{C_l^2}{\lVert G^l(a) \rVert^2}, \qquad
              w^c_l = \frac{1}{\operatorname{mean} F^l(p)^2}

    so that :math:`w^s_l L^l_\text{style} = \lVert G^l(x) - G^l(a) \rVert^2 / \lVert G^l(a) \rVert^2`
    (``style_loss`` averages over the C x C entries) and
    :math:`w^c_l L^l_\text{content} = \lVert F^l(x) - F^l(p) \rVert^2 / \lVert F^l(p) \rVert^2`,
    with the mean over photos p of a sample batch (``content_features``:
    layer -> features of that batch). Then alpha, beta, gamma mean the same
    for every painting and network.
    """
    style = {name: float(gram.shape[0] ** 2 / gram.square().sum()) for name, gram in style_grams.items()}
    content = {name: float(1.0 / content_features[name].square().mean()) for name in settings.content_layers}
    return Recipe(name="painter", summary="the painter's perceptual loss", content_layers=content,
                  style_layers=style, content_weight=settings.content_weight, style_weight=settings.style_weight,
                  tv_weight=settings.tv_weight, gram_normalization="chw", style_reduction="mean",
                  content_reduction="mean", tv_reduction="mean", image_size=settings.crop)


def batch_loss_terms(y, features, content_targets, grams, recipe):
    """The loss terms of a batch: :func:`~d2lstyle.objective.loss_terms` for
    each image of the batch (the Gram matrix is defined per image), averaged.

    ``y`` is the painter's output (N, 3, H, W), ``features`` its VGG features,
    ``content_targets`` the photos' features (layer -> (N, C, H, W)), ``grams``
    the painting's Gram matrices.
    """
    total = {name: y.new_zeros(()) for name in LOSS_TERMS}
    count = y.shape[0]
    for n in range(count):
        targets = Targets(content={name: value[n:n + 1] for name, value in content_targets.items()}, grams=grams)
        terms = loss_terms(y[n:n + 1], {name: value[n:n + 1] for name, value in features.items()}, targets, recipe)
        for name in LOSS_TERMS:
            total[name] = total[name] + terms[name] / count
    return total


# --- training ---------------------------------------------------------------------------------


@dataclass
class TrainingStep:
    """What a callback of :func:`train_painter` is told after every step."""

    step: int  # steps done so far, 1-based
    steps: int  # steps planned in all
    losses: dict  # term -> float (weighted, averaged over the batch)
    painter: nn.Module  # the network being trained (in training mode); do not modify
    seconds: float  # wall time of training so far (a resumed run counts the earlier time too)
    history: dict  # every step so far, as in TrainingResult.history; do not modify
    checkpoint: object  # checkpoint() returns what save_training_checkpoint needs to resume from here


@dataclass
class TrainingResult:
    """The outcome of :func:`train_painter`."""

    painter: nn.Module  # the trained network, in eval mode, on the device it was trained on
    settings: PainterSettings
    history: dict  # "step", "seconds", "lr" and each loss term -> list of floats
    status: str  # "finished", "stopped", "interrupted" or "diverged"
    message: str = ""
    loss_weights: dict = None  # {"content": {layer: w}, "style": {layer: w}}: the per-layer weights
    checkpoint: dict = None  # what save_training_checkpoint needs to resume this run

    @property
    def final_loss(self):
        return self.history["total"][-1] if self.history["total"] else math.nan


def new_history():
    """An empty training history: one list per column."""
    return {key: [] for key in ("step", "seconds", "lr") + LOSS_TERMS}


def new_painter(settings):
    """An untrained :class:`Painter` for ``settings``, its weights drawn from ``settings.seed``
    (the global random state is left as it was)."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(settings.seed)
        return Painter(settings.channels, settings.residual_blocks)


def image_fingerprint(img):
    """A short hash of a PIL image's pixels: a checkpoint resumes only with the same painting."""
    return hashlib.sha256(img.tobytes() + repr(img.size).encode()).hexdigest()[:16]


def train_painter(style_img, photos=None, settings=None, vgg=None, *, device=None, callbacks=(), progress=True,
                  resume=None):
    """Train a :class:`Painter` for the painting ``style_img``; returns a :class:`TrainingResult`.

    ``style_img`` and ``photos`` are PIL images or paths (``photos`` None:
    :func:`training_photos`). ``vgg`` is a :class:`~d2lstyle.vgg.VGG19`
    (the original VGG-19 by default: ``d2lstyle.load_vgg19()``). Each step:

    1. a batch of random crops p (:func:`photo_batch`) and, without gradients,
       their content features F^l(p);
    2. the painter's output x = f_W(p), its VGG features, and the loss
       (:func:`batch_loss_terms`);
    3. backward, clip the gradient norm, one Adam step with the cosine
       learning rate (:func:`cosine_learning_rate`).

    Every callback is called as ``callback(info)`` with a :class:`TrainingStep`
    after each step; one that returns True stops training. Ctrl-C stops it
    too, after the step under way has been completed or undone (never half
    an update); a loss or gradient that becomes NaN or infinite stops it
    before the update. Whatever stops it, the result holds the painter as it is and a
    ``checkpoint`` to resume from (:func:`save_training_checkpoint`,
    :func:`load_training_checkpoint`, then ``resume=``): a resumed run
    continues with the same optimiser state and the same batches, so it ends
    as an uninterrupted run would.
    """
    settings = settings or PainterSettings()
    if vgg is None:
        raise ValueError("train_painter needs vgg: load it with d2lstyle.load_vgg19() or settings.load_vgg()")
    style_img = images.load_image(style_img) if not isinstance(style_img, Image.Image) else style_img
    photos = training_photos() if photos is None else photos
    photos = [shrink_for_crops(images.load_image(photo) if not isinstance(photo, Image.Image) else photo,
                               settings.crop) for photo in photos]
    if not photos:
        raise ImageError("train_painter needs at least one training photo")
    vgg = vgg if isinstance(vgg, VGG19) else VGG19(vgg, description="a VGG-19 features stack")
    device = torch.device(device) if device is not None else _device_of(vgg)
    vgg = channels_last_network(vgg, device)
    extractor = FeatureExtractor(vgg, list(settings.content_layers) + list(settings.style_layers))
    content_extractor = FeatureExtractor(vgg, settings.content_layers)
    if settings.crop < extractor.min_size:
        raise PainterError(f"crops of {settings.crop} px are too small for layer {extractor.layers[-1]}: "
                           f"use at least {extractor.min_size} px")

    with torch.no_grad():
        style_x = images.preprocess(style_img, max(settings.style_size, extractor.min_size)).to(device)
        style_features = extractor(fast_layout(style_x))
        grams = {name: losses.gram_matrix(style_features[name]) for name in settings.style_layers}
    painter = new_painter(settings).to(device)
    optimizer = torch.optim.Adam(painter.parameters(), lr=settings.lr)
    style_print = image_fingerprint(style_img)
    if resume is not None:
        history, weights = _restore(resume, settings, style_print, vgg.description, painter, optimizer)
        recipe = _recipe_from_weights(settings, weights)
    else:
        history = new_history()
        with torch.no_grad():
            # a batch that no training step draws (they draw steps 0 .. steps - 1)
            sample = photo_batch(photos, settings.crop, max(settings.batch_size, 4), settings.seed, settings.steps)
            recipe = loss_recipe(settings, grams, content_extractor(fast_layout(sample.to(device))))
    weights = {"content": dict(recipe.content_layers), "style": dict(recipe.style_layers)}

    def checkpoint():
        return {
            "format": CHECKPOINT_FORMAT,
            "painter": _cpu_state(painter.state_dict()),
            "optimizer": copy.deepcopy(optimizer.state_dict()),
            "history": {key: list(values) for key, values in history.items()},
            "settings": settings.as_dict(),
            "loss_weights": weights,
            "style": style_print,
            "network": vgg.description,
        }

    done = history["step"][-1] if history["step"] else 0
    started = time.perf_counter() - (history["seconds"][-1] if history["seconds"] else 0.0)
    bar = _progress_bar(settings.steps, done) if progress else None
    status, message = "finished", ""
    painter.train()
    try:
        while done < settings.steps:
            lr = cosine_learning_rate(done, settings.steps, settings.lr)
            batch = photo_batch(photos, settings.crop, settings.batch_size, settings.seed, done).to(device)
            with torch.no_grad():
                content_targets = content_extractor(fast_layout(batch))
            optimizer.zero_grad(set_to_none=True)
            y = painter(fast_layout(batch))
            terms = batch_loss_terms(y, extractor(fast_layout(y)), content_targets, grams, recipe)
            values = {name: float(value.detach()) for name, value in terms.items()}
            if not math.isfinite(values["total"]):
                status = "diverged"
                message = (f"the loss became NaN or infinite at step {done + 1}; kept the painter from before it. "
                           f"Try a smaller learning rate than {settings.lr:g} or a smaller max_grad_norm")
                break
            terms["total"].backward()
            gradient_norm = nn.utils.clip_grad_norm_(painter.parameters(), settings.max_grad_norm)
            if not torch.isfinite(gradient_norm):
                status = "diverged"
                message = (f"the gradient became NaN or infinite at step {done + 1} (the loss was {values['total']:.3g}); "
                           f"kept the painter from before it. Try smaller loss weights or a smaller learning rate "
                           f"than {settings.lr:g}")
                break
            with _ctrl_c_waits():  # an update is never left half-done
                for group in optimizer.param_groups:
                    group["lr"] = lr
                optimizer.step()
                done += 1
                seconds = time.perf_counter() - started
                for key, value in (("step", done), ("seconds", seconds), ("lr", lr)):
                    history[key].append(value)
                for name in LOSS_TERMS:
                    history[name].append(values[name])
            if bar is not None:
                bar.update(1)
                bar.set_postfix(loss=f"{values['total']:.4g}", refresh=False)
            info = TrainingStep(done, settings.steps, values, painter, seconds, history, checkpoint)
            if any([callback(info) for callback in callbacks]):  # a list: every callback sees every step
                status, message = "stopped", f"stopped after {done} of {settings.steps} steps"
                break
    except KeyboardInterrupt:
        status = "interrupted"
        message = f"interrupted by Ctrl-C after {done} of {settings.steps} steps"
    finally:
        if bar is not None:
            bar.close()
    painter.eval()
    return TrainingResult(painter, settings, history, status, message, weights, checkpoint())


def channels_last_network(vgg, device):
    """``vgg`` on ``device`` with its weights stored channels-last, like the images it is given:
    else every convolution reorders its weights at every call, which on small crops costs more than
    the convolution itself. A converted copy; ``vgg`` itself when it already is so."""
    weight = vgg[0].weight
    if weight.device == torch.device(device) and weight.is_contiguous(memory_format=torch.channels_last):
        return vgg
    return copy.deepcopy(vgg).to(device, memory_format=torch.channels_last)


def _recipe_from_weights(settings, weights):
    return Recipe(name="painter", summary="the painter's perceptual loss", content_layers=dict(weights["content"]),
                  style_layers=dict(weights["style"]), content_weight=settings.content_weight,
                  style_weight=settings.style_weight, tv_weight=settings.tv_weight, image_size=settings.crop)


def _restore(checkpoint, settings, style_print, network, painter, optimizer):
    """Load a training checkpoint's state into ``painter`` and ``optimizer``
    after checking it belongs to this run; returns (history, loss weights)."""
    if checkpoint["settings"] != settings.as_dict():
        changed = sorted(key for key, value in settings.as_dict().items() if checkpoint["settings"].get(key) != value)
        raise PainterError(f"the checkpoint was made with other settings ({', '.join(changed)} differ); resume with "
                           "the same options")
    if checkpoint["style"] != style_print:
        raise PainterError("the checkpoint was made with another painting; resume with the same style image")
    if checkpoint["network"] != network:
        raise PainterError(f"the checkpoint was made with the network {checkpoint['network']}, not {network}; "
                           "resume with the same network")
    history = {key: list(values) for key, values in checkpoint["history"].items()}
    done = history["step"][-1] if history.get("step") else 0
    if done >= settings.steps:
        raise PainterError(f"the checkpoint's training is already complete ({done} of {settings.steps} steps)")
    painter.load_state_dict(checkpoint["painter"])
    optimizer.load_state_dict(checkpoint["optimizer"])
    return history, checkpoint["loss_weights"]


@contextlib.contextmanager
def _ctrl_c_waits():
    """Within the block, Ctrl-C (SIGINT) is held back and raised when it ends."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    pressed = []
    previous = signal.signal(signal.SIGINT, lambda number, frame: pressed.append(number))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if pressed:
        raise KeyboardInterrupt


def _progress_bar(total, initial):
    from tqdm.auto import tqdm

    return tqdm(total=total, initial=initial, desc="training the painter", unit="step")


def _device_of(module):
    parameter = next(module.parameters(), None)
    return parameter.device if parameter is not None else torch.device("cpu")


def _cpu_state(state):
    return {key: value.detach().to("cpu").clone() for key, value in state.items()}


# --- stylising ----------------------------------------------------------------------------------


def paint(painter, img, size=512, device=None):
    """Stylise a photo (a PIL image or a path) with a trained painter: one
    forward pass. ``size`` is the longer side of the output (None: the
    photo's own size). Returns a PIL image.

    >>> painter = Painter(channels=(4, 8, 16), residual_blocks=1).eval()
    >>> paint(painter, Image.new("RGB", (90, 60)), size=48).size
    (48, 32)
    """
    img = images.load_image(img) if not isinstance(img, Image.Image) else img
    device = torch.device(device) if device is not None else _device_of(painter)
    x = images.preprocess(img, size).to(device)
    with torch.inference_mode():
        y = painter(fast_layout(x))
    return images.postprocess(y)


# --- model files and training checkpoints ----------------------------------------------------------


def save_painter(path, result_or_painter, settings=None, style="", network="", history=None):
    """Save a trained painter as a model file; returns the path.

    Pass a :class:`TrainingResult` (its painter, settings and history are
    saved) or a painter with its ``settings``. The file holds the weights
    (tensors only), the settings, the painting's name, the VGG-19 it was
    trained with and the last losses, under a format tag; it is written
    atomically (:func:`d2lstyle.images.write_atomically`).
    """
    if isinstance(result_or_painter, TrainingResult):
        painter, settings, history = result_or_painter.painter, result_or_painter.settings, result_or_painter.history
        network = network or result_or_painter.checkpoint["network"]
    else:
        painter = result_or_painter
    if settings is None:
        raise ValueError("save_painter needs the settings the painter was trained with")
    history = history or {}
    payload = {
        "format": FORMAT,
        "state_dict": _cpu_state(painter.state_dict()),
        "settings": settings.as_dict(),
        "style": str(style),
        "network": str(network),
        "steps_done": int(history["step"][-1]) if history.get("step") else 0,
        "final_losses": {name: float(history[name][-1]) for name in LOSS_TERMS if history.get(name)},
    }
    return images.write_atomically(Path(path), lambda file: torch.save(payload, file), PainterError)


@dataclass
class SavedPainter:
    """A model file read by :func:`load_painter`."""

    painter: Painter  # in eval mode, on the device asked for
    settings: PainterSettings
    style: str  # the painting's name, as given when it was saved
    network: str  # the VGG-19 it was trained with
    steps_done: int
    final_losses: dict


def _read(path, what):
    """``torch.load(path, weights_only=True)`` with every failure turned into a PainterError."""
    path = Path(path)
    if not path.exists():
        raise PainterError(f"{path}: no such {what}")
    if path.is_dir():
        raise PainterError(f"{path}: is a folder, not a {what}")
    if path.stat().st_size == 0:
        raise PainterError(f"{path}: the file is empty (0 bytes), not a {what}")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as error:
        if "global" in str(error).lower() or "weights_only" in str(error):
            raise PainterError(f"{path}: refused: loading it would run code from the file (torch.load with "
                               f"weights_only=True refused it), so it is not a {what}; load only files you "
                               "trust") from None
        raise PainterError(f"{path}: not a {what} (the file is damaged or of another kind)") from None
    except (RuntimeError, EOFError, zipfile.BadZipFile, OSError, ValueError, KeyError, AttributeError,
            IndexError, TypeError) as error:
        raise PainterError(f"{path}: not a {what} (the file is damaged or of another kind: "
                           f"{type(error).__name__})") from None


def load_painter(path, device="cpu"):
    """Read a model file written by :func:`save_painter`; returns a :class:`SavedPainter`.

    Loaded with ``weights_only=True`` (a file that would run code is
    refused). A missing, empty, truncated or foreign file (a VGG-19 weights
    file, a training checkpoint, a picture), one from another version, or
    one whose weights do not fit its settings or hold NaN ends in a
    :class:`~d2lstyle.errors.PainterError` that says which.
    """
    what = "d2lstyle painter model file"
    payload = _read(path, what)
    if not isinstance(payload, dict) or "format" not in payload:
        raise PainterError(f"{path}: not a {what} (it holds no d2lstyle format tag; is it another "
                           "network's weights?)")
    if payload["format"] == CHECKPOINT_FORMAT:
        raise PainterError(f"{path}: is a training checkpoint, not a model file; finish the training with "
                           "`d2lstyle-painter train ... --resume` to get the model")
    if payload["format"] != FORMAT:
        raise PainterError(f"{path}: a model file of format {payload['format']!r}, which this version of "
                           f"d2lstyle does not read (it reads {FORMAT!r}); train the model again")
    try:
        settings = PainterSettings.from_dict(dict(payload["settings"]))
        state = payload["state_dict"]
        painter = Painter(settings.channels, settings.residual_blocks)
        painter.load_state_dict(state)
    except (KeyError, TypeError, ValueError, RuntimeError, D2lStyleError) as error:
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise PainterError(f"{path}: a damaged model file: its weights do not fit its settings ({first_line})") from None
    if not all(torch.isfinite(value).all() for value in state.values() if value.is_floating_point()):
        raise PainterError(f"{path}: a damaged model file: its weights hold NaN or infinite values")
    painter.eval().to(device)
    return SavedPainter(painter, settings, str(payload.get("style", "")), str(payload.get("network", "")),
                        int(payload.get("steps_done", 0)), dict(payload.get("final_losses", {})))


def save_training_checkpoint(path, checkpoint):
    """Save what :func:`train_painter` needs to resume a run (weights, Adam's
    state, history, settings): ``result.checkpoint`` of a :class:`TrainingResult`,
    or ``info.checkpoint()`` in a callback. Written atomically."""
    if isinstance(checkpoint, TrainingResult):
        checkpoint = checkpoint.checkpoint
    return images.write_atomically(Path(path), lambda file: torch.save(checkpoint, file), PainterError)


def load_training_checkpoint(path):
    """Read a training checkpoint (a dict for ``train_painter(..., resume=)``)."""
    what = "d2lstyle painter training checkpoint"
    payload = _read(path, what)
    if not isinstance(payload, dict) or payload.get("format") != CHECKPOINT_FORMAT:
        raise PainterError(f"{path}: not a {what}")
    needed = ("painter", "optimizer", "history", "settings", "loss_weights", "style", "network")
    missing = [key for key in needed if key not in payload]
    if missing:
        raise PainterError(f"{path}: a damaged training checkpoint (missing {', '.join(missing)})")
    return payload
