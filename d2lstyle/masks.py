"""Where each style goes (notebook 09, section 5): masks, read from files and brought to each layer's size.

A mask T_s says where painting s applies: 1 there, 0 elsewhere, grey in
between. It is drawn at the photo's size (:func:`load_mask`), resized with
the photo to the size of a run (:func:`mask_tensor`), and brought to the size
of each style layer's feature maps (:func:`mask_at_layer`), where it weights
the features before their Gram matrix is taken
(:func:`d2lstyle.losses.guided_gram_matrix`).

>>> mask_at_layer(torch.ones(1, 1, 32, 48), "relu3_1").shape   # two poolings before relu3_1
torch.Size([1, 1, 8, 12])
"""

from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from . import images
from .errors import ImageError
from .vgg import LAYER_NAMES, layer_index


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
