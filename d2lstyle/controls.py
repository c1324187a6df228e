r"""Controlling the painting: colour, stroke scale, where each style goes, several styles.

Gatys, Ecker, Bethge, Hertzmann and Shechtman, "Controlling Perceptual Factors
in Neural Style Transfer" (CVPR 2017), split a style into parts that can be
steered one at a time. Notation as in the rest of the series: p is the photo,
a (or a_s, painting number s) the artwork, x the synthesised image, F^l the
features of layer l (C_l channels, M_l = H_l W_l positions) and G^l their Gram
matrix; alpha, beta, gamma the loss weights and w^s_l the per-layer style
weights.

**Colour.** A painting's colours come with its strokes; two ways keep the
photo's colours instead:

- *luminance-only transfer*: split each image into luminance Y and
  chrominance I, Q (:func:`rgb_to_yiq`), let the network see the luminance
  alone (:func:`luminance_only`), match the painting's luminance to the
  photo's (:func:`match_luminance`), and give the result the photo's I and Q
  (:func:`with_chrominance_of`);
- *colour histogram matching*: recolour the painting before the run so that
  its colours have the photo's mean and covariance (:func:`match_histogram`).

**Stroke scale.** The size of the painting relative to the photo
(``Controls.style_scale``) sets the size of the strokes: VGG-19 sees
patterns of a fixed size in pixels, so a painting shown twice as large gives
strokes twice as large.

**Where each style goes.** A mask T_s (1 where painting s applies, 0 where
not) is brought to each layer's size (:func:`mask_at_layer`) and weights the
features before their Gram matrix is taken (:func:`guided_gram_matrix`).

**Several styles.** Each painting a_s gets a blend weight w_s, and the style
loss is the weighted sum of each painting's loss (:func:`styles_loss`); a
weight of 0 leaves that painting out altogether.

:class:`Controls` holds these choices for :func:`d2lstyle.transfer.stylise`;
coarse to fine, the paper's way to high resolution, is the recipe's
``scales`` (and ``scale_steps``).

>>> pixels = torch.rand(1, 3, 4, 5, dtype=torch.float64)
>>> torch.allclose(yiq_to_rgb(rgb_to_yiq(pixels)), pixels)
True
"""

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from torch import nn

from . import images, losses
from .errors import ImageError, RecipeError
from .vgg import LAYER_NAMES, VGG19, layer_index

# --- colour: luminance and chrominance ---------------------------------------------------------------

# The YIQ colour space of NTSC television: Y is the luminance (the brightness a black-and-white set shows),
# I and Q the chrominance (orange-blue and purple-green). For pixels in [0, 1]:
#   Y = 0.299 R + 0.587 G + 0.114 B
#   I = 0.596 R - 0.274 G - 0.322 B
#   Q = 0.211 R - 0.523 G + 0.312 B
# and back (the inverse matrix, rounded here):
#   R = Y + 0.956 I + 0.621 Q,  G = Y - 0.272 I - 0.647 Q,  B = Y - 1.106 I + 1.703 Q.
# A grey pixel (R = G = B) has I = Q = 0, because each row of I and Q sums to 0.
RGB_TO_YIQ = torch.tensor([[0.299, 0.587, 0.114],
                           [0.596, -0.274, -0.322],
                           [0.211, -0.523, 0.312]], dtype=torch.float64)
YIQ_TO_RGB = torch.linalg.inv(RGB_TO_YIQ)


def _per_pixel(matrix, pixels):
    """``matrix`` (3 x 3) applied to the colour of every pixel of ``pixels`` (N, 3, H, W)."""
    return torch.einsum("ck,nkhw->nchw", matrix.to(pixels), pixels)


def rgb_to_yiq(pixels):
    """RGB pixels (N, 3, H, W) in [0, 1] -> their Y, I, Q channels (N, 3, H, W).

    >>> [round(value, 6) for value in rgb_to_yiq(torch.ones(1, 3, 1, 1)).flatten().tolist()]  # white
    [1.0, 0.0, 0.0]
    """
    return _per_pixel(RGB_TO_YIQ, pixels)


def yiq_to_rgb(yiq):
    """Y, I, Q channels (N, 3, H, W) -> RGB pixels: the inverse of :func:`rgb_to_yiq`."""
    return _per_pixel(YIQ_TO_RGB, yiq)


def luminance(pixels):
    """The luminance Y (N, 1, H, W) of RGB pixels (N, 3, H, W)."""
    return rgb_to_yiq(pixels)[:, :1]


def grey(Y):
    """A luminance (N, 1, H, W) as an RGB image whose three channels are all Y (its I and Q are 0)."""
    return Y.expand(-1, 3, -1, -1)


def match_luminance(painting, photo):
    r"""The painting's luminance with the photo's mean and standard deviation, as a grey RGB image.

    .. math:: Y'_a = \frac{\sigma_p}{\sigma_a} (Y_a - \mu_a) + \mu_p

    Without it, luminance-only transfer would also copy the painting's
    brightness and contrast. Both arguments are RGB pixels (1, 3, H, W) in
    [0, 1]; the result may leave [0, 1] a little.

    >>> photo, painting = torch.rand(1, 3, 8, 8), torch.rand(1, 3, 6, 6) * 0.2
    >>> matched = luminance(match_luminance(painting, photo))
    >>> bool(torch.isclose(matched.mean(), luminance(photo).mean(), atol=1e-5))
    True
    """
    Y_a, Y_p = luminance(painting), luminance(photo)
    scale = Y_p.std() / Y_a.std().clamp_min(1e-8)
    return grey(scale * (Y_a - Y_a.mean()) + Y_p.mean())


class LuminanceInput(nn.Module):
    """Turns a standardised RGB image into the standardised grey image of its luminance Y.

    Put in front of a network's input stage, it makes the network see the
    luminance alone: two images with the same Y give the same features, and
    the gradient of any loss reaches the pixels only through Y.
    """

    def forward(self, x):
        return images.normalize(grey(luminance(images.denormalize(x))))


def luminance_only(vgg):
    """``vgg`` seeing only the luminance of its input (the layers are shared, not copied).

    >>> from d2lstyle.networks import load_vgg19
    >>> vgg = luminance_only(load_vgg19("random"))
    >>> red, its_grey = torch.zeros(1, 3, 32, 32), torch.zeros(1, 3, 32, 32)
    >>> red[:, 0], its_grey[:] = 1.0, 0.299   # pure red has luminance 0.299
    >>> torch.allclose(vgg(images.normalize(red)), vgg(images.normalize(its_grey)), atol=1e-5)
    True
    """
    stage = nn.Sequential(LuminanceInput(), vgg.input_stage)
    return VGG19(vgg.features, stage, f"{vgg.description} (seeing luminance only)", vgg.family)


def with_chrominance_of(x, photo):
    """The luminance Y of ``x`` with the chrominance I, Q of ``photo``: the last step of luminance-only
    transfer. Both are standardised tensors (1, 3, H, W) of the same size; so is the result.

    >>> x, photo = torch.randn(1, 3, 4, 4), torch.randn(1, 3, 4, 4)
    >>> yiq = rgb_to_yiq(images.denormalize(with_chrominance_of(x, photo)))
    >>> torch.allclose(yiq[:, 1:], rgb_to_yiq(images.denormalize(photo))[:, 1:], atol=1e-5)
    True
    """
    if x.shape != photo.shape:
        raise ValueError(f"with_chrominance_of: shapes {tuple(x.shape)} and {tuple(photo.shape)} differ")
    yiq_x = rgb_to_yiq(images.denormalize(x.double()))
    yiq_p = rgb_to_yiq(images.denormalize(photo.double()))
    combined = torch.cat([yiq_x[:, :1], yiq_p[:, 1:]], dim=1)
    return images.normalize(yiq_to_rgb(combined)).to(x.dtype)


# --- colour: histogram matching (the paper's linear method) ---------------------------------------------


def colour_statistics(pixels):
    r"""The mean colour mu (3,) and the 3 x 3 covariance Sigma of the pixels of an image (1, 3, H, W):

    .. math:: \mu = \frac{1}{M} \sum_i c_i, \qquad \Sigma = \frac{1}{M} \sum_i (c_i - \mu)(c_i - \mu)^\top

    over the M = H W pixel colours c_i (column vectors of R, G, B).

    >>> mean, cov = colour_statistics(torch.tensor([[[[0.0, 1.0]], [[0.5, 0.5]], [[1.0, 0.0]]]]))
    >>> mean.tolist(), cov[0].tolist()
    ([0.5, 0.5, 0.5], [0.25, 0.0, -0.25])
    """
    colours = pixels.reshape(3, -1)
    mean = colours.mean(dim=1)
    centred = colours - mean[:, None]
    return mean, centred @ centred.T / colours.shape[1]


def matrix_power_symmetric(matrix, power, floor=1e-6):
    r"""``matrix ** power`` for a symmetric positive semi-definite matrix, through its eigenvalues:

    .. math:: \Sigma = U \Lambda U^\top \quad\Rightarrow\quad \Sigma^{t} = U \Lambda^{t} U^\top

    (U orthogonal, Lambda diagonal). Eigenvalues below ``floor`` count as
    ``floor``, so that the inverse square root (t = -1/2) of a flat image's
    covariance stays finite. t = 1/2 gives the symmetric square root.

    >>> matrix_power_symmetric(torch.tensor([[4.0, 0.0], [0.0, 9.0]]), 0.5)
    tensor([[2., 0.],
            [0., 3.]])
    """
    eigenvalues, U = torch.linalg.eigh(matrix)
    return U @ torch.diag(eigenvalues.clamp_min(floor) ** power) @ U.T


def match_histogram(painting, photo):
    r"""The painting recoloured so that its colours have the photo's mean and covariance.

    Gatys et al.'s linear method: every pixel colour c of the painting becomes

    .. math:: c' = A c + b, \qquad A = \Sigma_p^{1/2} \Sigma_a^{-1/2}, \qquad b = \mu_p - A \mu_a

    with the photo's and the painting's mean colours mu and covariances Sigma
    (:func:`colour_statistics`) and the symmetric matrix square roots of
    :func:`matrix_power_symmetric`. Then the mean of c' is A mu_a + b = mu_p,
    and its covariance A Sigma_a A^T = Sigma_p^{1/2} Sigma_a^{-1/2} Sigma_a
    Sigma_a^{-1/2} Sigma_p^{1/2} = Sigma_p. Both arguments are RGB pixels
    (1, 3, H, W) in [0, 1], of any sizes; the result may leave [0, 1] a little.

    >>> photo, painting = torch.rand(1, 3, 8, 8, dtype=torch.float64), torch.rand(1, 3, 5, 7, dtype=torch.float64)
    >>> mean, cov = colour_statistics(match_histogram(painting, photo))
    >>> torch.allclose(mean, colour_statistics(photo)[0]), torch.allclose(cov, colour_statistics(photo)[1])
    (True, True)
    """
    mean_a, cov_a = colour_statistics(painting)
    mean_p, cov_p = colour_statistics(photo)
    A = matrix_power_symmetric(cov_p, 0.5) @ matrix_power_symmetric(cov_a, -0.5)
    b = mean_p - A @ mean_a
    return _per_pixel(A, painting) + b.view(1, 3, 1, 1)


def _pixels(img):
    """A PIL image as RGB pixels (1, 3, H, W) in [0, 1], in float64."""
    return torch.from_numpy(np.asarray(img.convert("RGB"), dtype=np.float64) / 255).permute(2, 0, 1)[None]


def _image(pixels):
    """RGB pixels (1, 3, H, W) -> an 8-bit PIL image (clipped to [0, 1], rounded)."""
    values = pixels[0].permute(1, 2, 0).clamp(0, 1).mul(255).round().to(torch.uint8)
    return Image.fromarray(values.numpy())


def recoloured_painting(painting_img, photo_img, preserve_colors):
    """The painting (a PIL image) prepared for a run that keeps the photo's colours: with ``"histogram"``
    its colours matched to the photo's (:func:`match_histogram`), with ``"luminance"`` its luminance
    matched to the photo's, as a grey image (:func:`match_luminance`); with None, the painting itself.
    Values outside [0, 1] are clipped, as an image file would clip them."""
    if preserve_colors is None:
        return painting_img
    match = match_histogram if preserve_colors == "histogram" else match_luminance
    return _image(match(_pixels(painting_img), _pixels(photo_img)))


# --- where each style goes: masks and guided Gram matrices ---------------------------------------------


def poolings_before(layer):
    """How many 2x2 poolings VGG-19 applies before ``layer``.

    >>> poolings_before("relu1_1"), poolings_before("pool1"), poolings_before("relu4_2")
    (0, 1, 3)
    """
    return sum(1 for name in LAYER_NAMES[: layer_index(layer) + 1] if name.startswith("pool"))


def mask_at_layer(mask, layer):
    """A mask (1, 1, H, W) at the image's size, brought to ``layer``'s size: one 2x2 average per pooling
    before the layer. The averages halve the size exactly as the network's poolings do (rounding down),
    so the mask has the shape of the layer's feature maps; a position whose 2x2 block straddles the
    mask's border gets a weight between 0 and 1.

    >>> T = torch.tensor([[[[1.0, 1.0, 0.0, 0.0], [1.0, 1.0, 1.0, 0.0]]]])
    >>> mask_at_layer(T, "relu2_1")
    tensor([[[[1.0000, 0.2500]]]])
    """
    for _ in range(poolings_before(layer)):
        mask = F.avg_pool2d(mask, 2)
    return mask


def guided_gram_matrix(X, T, normalization="chw"):
    r"""The Gram matrix of the features X (1, C, H, W) in the region given by the guide T (1, 1, H, W):

    .. math:: G_T = \operatorname{gram}(T \circ X) \cdot \frac{H W}{\sum_i T_i^2}

    T multiplies every channel at each position (the paper's guided Gram
    matrix); the factor rescales it from the region's area to the whole
    image's, so that a guide of ones gives the plain Gram matrix and a region
    is compared with the painting as if it filled the image. ``normalization``
    is that of :func:`d2lstyle.losses.gram_matrix`.

    >>> X = torch.tensor([[[[1.0, 2.0]], [[3.0, 4.0]]]])  # C=2, H=1, W=2
    >>> guided_gram_matrix(X, torch.tensor([[[[1.0, 0.0]]]]), "none")  # only the first position, x 2
    tensor([[ 2.,  6.],
            [ 6., 18.]])
    """
    area = T.square().sum()
    if float(area) == 0:
        raise ValueError("guided_gram_matrix: the guide is 0 everywhere, so the region is empty")
    height, width = X.shape[-2:]
    return losses.gram_matrix(X * T, normalization) * (height * width / area)


# --- several styles ----------------------------------------------------------------------------------------


@dataclass
class StyleTarget:
    """One painting's part of the style loss."""

    weight: float  # its blend weight w_s
    grams: dict  # layer name -> the painting's Gram matrix there
    guides: dict  # layer name -> its mask at that layer's size (1, 1, H_l, W_l); empty: the whole image


def style_targets(extractor, styles_x, blend, masks, recipe):
    """One :class:`StyleTarget` for each painting whose blend weight is above 0, computed without gradients.

    ``styles_x`` are the standardised paintings, ``blend`` their weights, ``masks`` for each a mask
    (1, 1, H, W) at the synthesised image's size or None (everywhere).
    """
    targets = []
    with torch.no_grad():
        for style_x, weight, mask in zip(styles_x, blend, masks):
            if weight == 0:  # a painting with weight 0 is left out: it cannot contribute anything
                continue
            features = extractor(style_x)
            grams = {name: losses.gram_matrix(features[name], recipe.gram_normalization)
                     for name in recipe.style_layers}
            guides = {} if mask is None else {name: mask_at_layer(mask, name) for name in recipe.style_layers}
            targets.append(StyleTarget(weight, grams, guides))
    return targets


def styles_loss(Y_hat, layer, targets, normalization="chw", reduction="mean"):
    r"""The style loss of several paintings, maybe each in its own region, at one layer:

    .. math:: \sum_s w_s \, \frac{\sum_i (T^l_{s,i})^2}{M_l} \, E(G^l_{T_s}(x), G^l(a_s))

    with each painting's blend weight w_s, its guide T^l_s at this layer, the
    guided Gram matrix of :func:`guided_gram_matrix` and E the squared error
    of :func:`d2lstyle.losses.style_loss` (its mean, or its sum with
    ``reduction="sum"``). The area factor makes each pixel's pull as strong
    as in a run with one painting everywhere, however small its region. A
    painting without a guide counts everywhere (factor 1); one whose region
    is empty at this layer adds nothing.
    """
    total = Y_hat.new_zeros(())
    height, width = Y_hat.shape[-2:]
    for target in targets:
        guide = target.guides.get(layer)
        if guide is None:
            gram, area = losses.gram_matrix(Y_hat, normalization), 1.0
        else:
            area = guide.square().sum() / (height * width)
            if float(area) == 0:
                continue
            gram = guided_gram_matrix(Y_hat, guide, normalization)
        squared = (gram - target.grams[layer].detach()).square()
        error = squared.mean() if reduction == "mean" else squared.sum()
        total = total + target.weight * area * error
    return total


# --- the controls of one run -------------------------------------------------------------------------------

PRESERVE_COLORS = (None, "luminance", "histogram")


@dataclass(frozen=True)
class Controls:
    """What to steer in a run of :func:`d2lstyle.transfer.stylise`, beyond its recipe. The defaults are a
    plain run.

    - ``preserve_colors``: None (the painting's colours), ``"luminance"`` or ``"histogram"`` (the photo's);
    - ``style_scale``: the painting's longer side relative to the photo's (2: strokes twice as large);
    - ``blend``: one weight w_s >= 0 per painting; None gives 1/n to each of n paintings without masks
      (the weights sum to 1, so beta keeps its meaning) and 1 to each painting with masks (each region
      is styled as strongly as a whole image with one painting);
    - ``masks``: None, or one mask per painting: a PIL image or an image file (white where it applies,
      black where not, grey in between; resized to the photo), or None for everywhere.

    >>> Controls(preserve_colors="luminance").style_scale
    1.0
    >>> Controls(style_scale=0)
    Traceback (most recent call last):
    ...
    d2lstyle.errors.RecipeError: style scale must be a finite number > 0, not 0
    """

    preserve_colors: str = None
    style_scale: float = 1.0
    blend: tuple = None
    masks: tuple = None

    def __post_init__(self):
        if self.preserve_colors not in PRESERVE_COLORS:
            raise RecipeError(f"preserve_colors must be None, 'luminance' or 'histogram', not "
                              f"{self.preserve_colors!r}")
        if not (_is_number(self.style_scale) and self.style_scale > 0):
            raise RecipeError(f"style scale must be a finite number > 0, not {self.style_scale!r}")
        if self.blend is not None:
            if not isinstance(self.blend, (tuple, list)) or not self.blend:
                raise RecipeError(f"blend must be a tuple of weights, one per style, not {self.blend!r}")
            for number, weight in enumerate(self.blend, 1):
                if not (_is_number(weight) and weight >= 0):
                    raise RecipeError(f"blend weight {number} must be a finite number >= 0, not {weight!r}")
            if not any(self.blend):
                raise RecipeError("every blend weight is 0, so no style would count; give at least one style "
                                  "a weight above 0 (to switch the style loss off, set the style weight to 0)")
        if self.masks is not None and (not isinstance(self.masks, (tuple, list)) or not self.masks):
            raise RecipeError(f"masks must be a tuple with one mask (or None) per style, not {self.masks!r}")

    def blend_for(self, count):
        """The blend weights for ``count`` paintings (see the class's docstring)."""
        self.validate_count(count)
        if self.blend is not None:
            return tuple(float(weight) for weight in self.blend)
        return (1.0,) * count if self.has_masks() else (1.0 / count,) * count

    def has_masks(self):
        return self.masks is not None and any(mask is not None for mask in self.masks)

    def validate_count(self, count):
        """Raise RecipeError unless ``blend`` and ``masks`` have one entry for each of ``count`` paintings."""
        for name, values in (("blend weights", self.blend), ("masks", self.masks)):
            if values is not None and len(values) != count:
                raise RecipeError(f"{len(values)} {name} for {count} style image{'s' * (count != 1)}: give one "
                                  f"for each style, in the same order")

    def is_plain(self, count):
        """True when a run with ``count`` paintings needs none of the several-style machinery: one painting,
        everywhere, with weight 1."""
        return count == 1 and not self.has_masks() and self.blend_for(1) == (1.0,)


def _is_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def load_mask(mask, size, number=1):
    """A mask as an 8-bit greyscale PIL image of ``size`` (the photo's (width, height)).

    ``mask`` is a PIL image or the path of an image file; colours become
    their luminance, transparency counts as white (as in
    :func:`d2lstyle.images.load_image`); a mask of another size is resized to
    the photo's, stretched if its shape differs. A mask that is black
    everywhere raises :class:`~d2lstyle.errors.ImageError`: its style would
    apply nowhere. ``number`` names the style in messages.

    >>> load_mask(Image.new("L", (4, 2), 255), (8, 6)).size
    (8, 6)
    """
    name = f"the mask of style {number}"
    if isinstance(mask, (str, Path)):
        name = f"{mask} (the mask of style {number})"
        try:
            mask = images.load_image(mask)
        except ImageError as error:
            raise ImageError(f"{error} (the mask of style {number})") from None
    if not isinstance(mask, Image.Image):
        raise ImageError(f"the mask of style {number} must be a PIL image or an image file, not "
                         f"{type(mask).__name__}")
    grey_mask = mask.convert("L")
    if grey_mask.size != tuple(size):
        grey_mask = grey_mask.resize(tuple(size), Image.Resampling.BILINEAR)
    if grey_mask.getextrema()[1] == 0:
        raise ImageError(f"{name} is black everywhere, so its style would apply nowhere; paint white where "
                         "it should apply")
    return grey_mask


def mask_tensor(mask_img, shape):
    """A greyscale mask (PIL) as a tensor (1, 1, height, width) in [0, 1], resized as the photo is to
    ``shape`` (:func:`d2lstyle.images.resize`: cropped to the aspect ratio, then scaled).

    >>> mask_tensor(Image.new("L", (6, 4), 255), (2, 3))
    tensor([[[[1., 1., 1.],
              [1., 1., 1.]]]])
    """
    resized = images.resize(mask_img, tuple(shape))
    return torch.from_numpy(np.asarray(resized, dtype=np.float32) / 255)[None, None]
