r"""Keeping the photo's colours (notebook 09, sections 1 and 2): colour transforms applied before and after a run.

A painting's colours come with its strokes. Gatys, Ecker, Bethge, Hertzmann
and Shechtman, "Controlling Perceptual Factors in Neural Style Transfer"
(CVPR 2017), give two ways to keep the photo's colours instead; p is the
photo, a the painting (artwork), x the synthesised image:

- *luminance-only transfer*: split each image into luminance Y and
  chrominance I, Q (:func:`rgb_to_yiq`), let the network see the luminance
  alone (:func:`luminance_only`), match the painting's luminance to the
  photo's (:func:`match_luminance`), and give the result the photo's I and Q
  (:func:`with_chrominance_of`);
- *colour histogram matching*: recolour the painting before the run so that
  its colours have the photo's mean and covariance (:func:`match_histogram`).

:func:`d2lstyle.transfer.stylise` applies them when its
:class:`~d2lstyle.controls.Controls` has ``preserve_colors`` set.

>>> pixels = torch.rand(1, 3, 4, 5, dtype=torch.float64)
>>> torch.allclose(yiq_to_rgb(rgb_to_yiq(pixels)), pixels)
True
"""

import numpy as np
import torch
from PIL import Image
from torch import nn

from . import images
from .errors import InputError
from .vgg import VGG19

# --- luminance and chrominance ---------------------------------------------------------------------------

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
        raise InputError(f"with_chrominance_of: shapes {tuple(x.shape)} and {tuple(photo.shape)} differ")
    yiq_x = rgb_to_yiq(images.denormalize(x.double()))
    yiq_p = rgb_to_yiq(images.denormalize(photo.double()))
    combined = torch.cat([yiq_x[:, :1], yiq_p[:, 1:]], dim=1)
    return images.normalize(yiq_to_rgb(combined)).to(x.dtype)


# --- histogram matching (the paper's linear method) --------------------------------------------------------


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


# --- the painting as a run gets it ---------------------------------------------------------------------------


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
