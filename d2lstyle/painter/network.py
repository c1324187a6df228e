r"""The painter network :math:`f_W`: encoder, residual blocks, decoder, in the layout of Johnson et al. (2016)
with fewer channels, so that it trains on a CPU.

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
Stylising a photo (:func:`paint`) is one forward pass.

A painter for several paintings (``styles`` > 1) shares every convolution
between them and gives each painting its own scales and shifts in every
normalisation layer: conditional instance normalisation (Dumoulin, Shlens and
Kudlur 2017; :func:`conditional_instance_norm`). Choosing a painting, or a
blend of several, is choosing which scales and shifts to use
(:meth:`Painter.choose_style`).

>>> painter = Painter(channels=(4, 8, 16), residual_blocks=1)
>>> tuple(painter(torch.zeros(1, 3, 30, 41)).shape)   # any size in, the same size out
(1, 3, 30, 41)
"""

import math

import torch
import torch.nn.functional as F
from PIL import Image
from torch import nn

from .. import images
from ..devices import fast_layout
from ..errors import ImageError, InputError, PainterError
from ..runlog import device_of

# The smallest height and width the painter takes (its 9x9 reflection padding needs more than 4 pixels).
MIN_SIDE = 8
# How the decoder upsamples (nn.Upsample's modes) and how convolutions pad (nn.Conv2d's padding modes): the
# first of each is the painter's default; the others are there to measure what they change.
UPSAMPLE_MODES = ("nearest", "bilinear")
PADDING_MODES = ("reflect", "zeros")


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


def conv_layer(in_channels, out_channels, kernel_size, stride=1, padding="reflect"):
    """A convolution that pads by reflecting the image (no dark border; ``padding="zeros"`` pads with zeros)
    and keeps the size (halves it with ``stride=2``).

    >>> tuple(conv_layer(3, 8, 9)(torch.zeros(1, 3, 10, 12)).shape)
    (1, 8, 10, 12)
    """
    return nn.Conv2d(in_channels, out_channels, kernel_size, stride=stride, padding=kernel_size // 2,
                     padding_mode=padding)


def conditional_instance_norm(X, scales, shifts, mix, eps=1e-5):
    r"""Instance normalisation with the scale and shift of a chosen painting, or of a blend of paintings.

    A painter for S paintings keeps, in each normalisation layer with C
    channels, a scale :math:`\gamma_s \in \mathbb{R}^C` and a shift
    :math:`\beta_s \in \mathbb{R}^C` for every painting s (``scales`` and
    ``shifts``, of shape (S, C)). With blend weights :math:`m_s` (``mix``, shape
    (S,): one-hot for one painting, non-negative and summing to 1 for a blend)
    and :math:`\hat X` = :func:`instance_norm` (X),

    .. math:: Y_{ncij} = \Big(\sum_s m_s \gamma_{sc}\Big) \hat X_{ncij} + \sum_s m_s \beta_{sc}

    >>> X = torch.tensor([[[[1.0, 3.0]], [[4.0, 8.0]]]])      # N=1, C=2, H=1, W=2: normalised, [-1, 1] each
    >>> scales = torch.tensor([[1.0, 1.0], [3.0, 5.0]])        # S=2 paintings
    >>> shifts = torch.tensor([[0.0, 0.0], [10.0, 20.0]])
    >>> conditional_instance_norm(X, scales, shifts, torch.tensor([0.0, 1.0]), eps=0.0)   # painting 1
    tensor([[[[ 7., 13.]],
    <BLANKLINE>
             [[15., 25.]]]])
    >>> conditional_instance_norm(X, scales, shifts, torch.tensor([0.5, 0.5]), eps=0.0)   # half of each
    tensor([[[[ 3.,  7.]],
    <BLANKLINE>
             [[ 7., 13.]]]])
    """
    scale = mix @ scales  # (C,)
    shift = mix @ shifts
    return instance_norm(X, eps) * scale[:, None, None] + shift[:, None, None]


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


class ConditionalInstanceNorm(nn.Module):
    """:func:`conditional_instance_norm` as a layer: a scale and a shift per channel for each of ``styles``
    paintings (``weight`` and ``bias``, of shape (styles, channels)), and the blend ``mix`` that
    :meth:`Painter.choose_style` sets (painting 0 at the start).

    Its forward pass hands the blended scale and shift to PyTorch's group normalisation (one channel per
    group, as :class:`InstanceNorm` does), which computes the same numbers faster:

    >>> norm = ConditionalInstanceNorm(3, styles=2)
    >>> with torch.no_grad():
    ...     _ = norm.weight.uniform_(0.5, 2.0), norm.bias.normal_()
    >>> norm.mix = torch.tensor([0.25, 0.75])
    >>> X = torch.randn(2, 3, 4, 5)
    >>> torch.allclose(norm(X), conditional_instance_norm(X, norm.weight, norm.bias, norm.mix), atol=1e-5)
    True
    """

    def __init__(self, channels, styles, eps=1e-5):
        super().__init__()
        self.channels, self.eps = channels, eps
        self.weight = nn.Parameter(torch.ones(styles, channels))
        self.bias = nn.Parameter(torch.zeros(styles, channels))
        # the blend in use; not saved with the weights (a painter starts with painting 0)
        self.register_buffer("mix", torch.eye(styles)[0], persistent=False)

    def forward(self, x):
        return F.group_norm(x, self.channels, self.mix @ self.weight, self.mix @ self.bias, self.eps)


def norm_layer(channels, styles=1):
    """The normalisation after a convolution: :class:`InstanceNorm` for a painter of one painting,
    :class:`ConditionalInstanceNorm` for a painter of several."""
    return InstanceNorm(channels) if styles == 1 else ConditionalInstanceNorm(channels, styles)


class ConvNormReLU(nn.Sequential):
    """Convolution, instance normalisation (with a learned scale and shift, one per painting), ReLU."""

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding="reflect", styles=1):
        super().__init__(conv_layer(in_channels, out_channels, kernel_size, stride, padding),
                         norm_layer(out_channels, styles), nn.ReLU(inplace=True))


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

    def __init__(self, channels, padding="reflect", styles=1):
        super().__init__()
        self.conv1 = conv_layer(channels, channels, 3, padding=padding)
        self.norm1 = norm_layer(channels, styles)
        self.conv2 = conv_layer(channels, channels, 3, padding=padding)
        self.norm2 = norm_layer(channels, styles)

    def forward(self, x):
        correction = self.norm2(self.conv2(torch.relu(self.norm1(self.conv1(x)))))
        return x + correction


class UpsampleConv(nn.Sequential):
    """Upsample by 2 (nearest neighbour; ``mode="bilinear"`` interpolates), then convolve; doubles the height
    and width.

    A transposed convolution of stride 2 does both in one layer, but its
    kernel overlaps itself unevenly (a 3x3 kernel covers some output pixels
    twice as often as others), which paints a checkerboard on the output
    (Odena, Dumoulin and Olah 2016). Upsampling first gives every output
    pixel the same treatment.

    >>> tuple(UpsampleConv(8, 4)(torch.zeros(1, 8, 5, 7)).shape)
    (1, 4, 10, 14)
    """

    def __init__(self, in_channels, out_channels, kernel_size=3, mode="nearest", padding="reflect", styles=1):
        super().__init__(nn.Upsample(scale_factor=2, mode=mode),
                         conv_layer(in_channels, out_channels, kernel_size, padding=padding),
                         norm_layer(out_channels, styles), nn.ReLU(inplace=True))


class Painter(nn.Module):
    """The feed-forward painter: encoder, residual blocks, decoder.

    ``channels`` = (c1, c2, c3) are the widths at full, half and quarter
    size (Johnson et al. use (32, 64, 128) and 5 blocks; the default here is
    a quarter of the work, sized for a CPU). The input and the output are
    standardised RGB images (:func:`d2lstyle.images.preprocess`) of any size:
    the input is padded (by reflection) to a multiple of 4 and the output
    cropped back. ``upsample`` and ``padding`` choose the decoder's upsampling
    and every convolution's padding (:data:`UPSAMPLE_MODES`, :data:`PADDING_MODES`).
    ``styles`` is how many paintings it paints (each with its own normalisation
    scales and shifts: :class:`ConditionalInstanceNorm`); :meth:`choose_style` picks one.

    >>> painter = Painter()
    >>> sum(p.numel() for p in painter.parameters())
    421443
    >>> six = Painter(styles=6)   # each more painting adds 2 numbers per normalised channel: 800 x 2
    >>> sum(p.numel() for p in six.parameters()) - sum(p.numel() for p in painter.parameters())
    8000
    """

    def __init__(self, channels=(16, 32, 64), residual_blocks=5, upsample="nearest", padding="reflect", styles=1):
        super().__init__()
        if not (isinstance(styles, int) and styles >= 1):
            raise InputError(f"a painter paints at least 1 painting, not {styles!r}")
        self.styles = styles
        c1, c2, c3 = channels
        self.encoder = nn.Sequential(ConvNormReLU(3, c1, 9, padding=padding, styles=styles),
                                     ConvNormReLU(c1, c2, 3, stride=2, padding=padding, styles=styles),
                                     ConvNormReLU(c2, c3, 3, stride=2, padding=padding, styles=styles))
        self.residuals = nn.Sequential(*[ResidualBlock(c3, padding, styles) for _ in range(residual_blocks)])
        self.decoder = nn.Sequential(UpsampleConv(c3, c2, mode=upsample, padding=padding, styles=styles),
                                     UpsampleConv(c2, c1, mode=upsample, padding=padding, styles=styles),
                                     conv_layer(c1, 3, 3, padding=padding))
        self.to(memory_format=torch.channels_last)  # the layout oneDNN's convolutions run fastest in

    def choose_style(self, style):
        """Paint from now on in painting ``style`` (its index, 0 to styles - 1) or in a blend: a sequence
        of ``styles`` non-negative weights, which are scaled to sum to 1. Returns the blend as a tensor.

        >>> painter = Painter(channels=(4, 8, 16), residual_blocks=1, styles=3)
        >>> painter.choose_style([1, 0, 3])
        tensor([0.2500, 0.0000, 0.7500])
        >>> painter.choose_style(3)
        Traceback (most recent call last):
        ...
        d2lstyle.errors.PainterError: this painter paints 3 paintings, numbered 0 to 2; there is no painting 3
        """
        mix = style_mix(style, self.styles)
        for module in self.modules():
            if isinstance(module, ConditionalInstanceNorm):
                module.mix = mix.to(module.weight)
        return mix

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



def style_mix(style, styles):
    """The blend weights (a float tensor of ``styles`` numbers summing to 1) for ``style``: a painting's index,
    or a sequence of ``styles`` non-negative weights. Anything else raises :class:`~d2lstyle.errors.PainterError`.

    >>> style_mix(1, 3), style_mix([2, 2, 0], 3)
    (tensor([0., 1., 0.]), tensor([0.5000, 0.5000, 0.0000]))
    >>> style_mix([1, -1], 2)
    Traceback (most recent call last):
    ...
    d2lstyle.errors.PainterError: blend weights must be non-negative numbers that are not all 0, not [1, -1]
    """
    if isinstance(style, int) and not isinstance(style, bool):
        if not 0 <= style < styles:
            raise PainterError(f"this painter paints {styles} painting{'s' if styles != 1 else ''}, numbered 0 to "
                               f"{styles - 1}; there is no painting {style}")
        return torch.eye(styles)[style]
    weights = [float(w) for w in style] if isinstance(style, (list, tuple, torch.Tensor)) else None
    if weights is None or len(weights) != styles:
        raise PainterError(f"choose a painting by its index (0 to {styles - 1}) or a blend of {styles} weights, "
                           f"not {style!r}")
    if not all(math.isfinite(w) and w >= 0 for w in weights) or sum(weights) <= 0:
        shown = style.tolist() if isinstance(style, torch.Tensor) else list(style)
        raise PainterError(f"blend weights must be non-negative numbers that are not all 0, not {shown}")
    mix = torch.tensor(weights)
    return mix / mix.sum()


def new_painter(settings, styles=1):
    """An untrained :class:`Painter` for ``settings`` (a :class:`~d2lstyle.painter.PainterSettings`) and
    ``styles`` paintings, its weights drawn from ``settings.seed`` (the global random state is left as it
    was)."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(settings.seed)
        return Painter(settings.channels, settings.residual_blocks, settings.upsample, settings.padding, styles)


# --- stylising ----------------------------------------------------------------------------------


def painted_shape(photo_size, size):
    """(height, width) of the painter's output for a photo of PIL ``photo_size`` = (width, height) at ``size``
    (the longer side; None: the photo's own size). A photo so thin that a side would be under
    :data:`MIN_SIDE` pixels raises :class:`~d2lstyle.errors.ImageError` saying which ``size`` would work.

    >>> painted_shape((900, 600), 300)
    (200, 300)
    >>> painted_shape((600, 5), 512)
    Traceback (most recent call last):
    ...
    d2lstyle.errors.ImageError: the photo is 600x5 pixels, 512x4 at size 512: the painter needs at least 8 pixels on each side; use a size of at least 960, or a photo less thin
    """
    width, height = photo_size
    shape = (height, width) if size is None else images.shape_for_long_side(photo_size, size)
    if min(shape) >= MIN_SIDE:
        return shape
    needed = math.ceil(MIN_SIDE * max(width, height) / min(width, height))
    at_size = "" if size is None else f", {shape[1]}x{shape[0]} at size {size}"
    raise ImageError(f"the photo is {width}x{height} pixels{at_size}: the painter needs at least {MIN_SIDE} "
                     f"pixels on each side; use a size of at least {needed}, or a photo less thin")


def paint(painter, img, size=512, device=None, style=None, work_size=None):
    """Stylise a photo (a PIL image or a path) with a trained painter: one
    forward pass. ``size`` is the longer side of the output (None: the
    photo's own size; a photo too thin for it is refused by :func:`painted_shape`).
    ``style`` chooses the painting of a painter of several (:meth:`Painter.choose_style`: an index or blend
    weights; None: the one chosen last). ``work_size``: paint at this longer side, then resize the picture to
    ``size`` with Lanczos; the strokes keep the size they have at ``work_size``, and the time follows its
    pixels (a quarter of them at 512 for a 1024 px output). None: paint at ``size``. Returns a PIL image.

    >>> painter = Painter(channels=(4, 8, 16), residual_blocks=1).eval()
    >>> paint(painter, Image.new("RGB", (90, 60)), size=48).size
    (48, 32)
    >>> paint(painter, Image.new("RGB", (90, 60)), size=48, work_size=24).size   # painted at 24x16
    (48, 32)
    """
    img = images.load_image(img) if not isinstance(img, Image.Image) else img
    device = torch.device(device) if device is not None else device_of(painter)
    height, width = painted_shape(img.size, size)  # a photo too thin for the painter is refused here
    if work_size is not None:
        painted_shape(img.size, work_size)
    if style is not None:
        painter.choose_style(style)
    x = images.preprocess(img, size if work_size is None else work_size)
    with torch.inference_mode():
        y = painter(fast_layout(x.to(device)))
    picture = images.postprocess(y)
    return picture if picture.size == (width, height) else picture.resize((width, height), Image.Resampling.LANCZOS)
