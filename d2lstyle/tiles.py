r"""Large images: coarse to fine, with the last scale painted in tiles.

An image of 4096 x 3072 pixels needs far more memory to optimise in one piece
than a laptop has (:func:`d2lstyle.devices.estimate_memory_bytes`: the
network's activations and L-BFGS' remembered steps grow with the pixels).
:func:`stylise_in_tiles` paints it in three stages:

1. The recipe's coarse scales (all but the last) run as an ordinary
   :func:`d2lstyle.transfer.stylise`: the layout of the whole picture, and
   the style weight beta for this pair (``balance_cap``).
2. That result is upsampled to the full size: the canvas.
3. The full size is cut into overlapping tiles of at most ``tile`` pixels a
   side (:func:`tile_spans`). Each tile is optimised in turn with the same
   objective, starting from the canvas there (so it continues what the tiles
   before it painted): its content target is the photo's tile, its style
   targets the Gram matrices of the *whole* painting at the full size
   (:func:`painting_grams`; the Gram matrix of
   :func:`d2lstyle.losses.gram_matrix` is a mean over positions, so a tile
   and the whole painting are compared alike). The tile
   goes back into the canvas with a weight that rises linearly from 0 at a
   side it shares with a neighbour to 1 at the overlap's inner edge
   (:func:`blend_weights`), so that no seam is left:

   .. math:: \text{canvas} \leftarrow w\,x_\text{tile} + (1 - w)\,\text{canvas}

Before any work the memory for one tile, one cell of the painting and the
canvas is checked against what is free
(:func:`check_memory`): a run that cannot fit is refused with a size that
would.

>>> tile_spans(2048, 1024, 128)
[(0, 768), (640, 1408), (1280, 2048)]
>>> tile_spans(700, 1024, 128)
[(0, 700)]
"""

import math

import torch
import torch.nn.functional as F

from . import devices, images
from .devices import estimate_memory_bytes, pick_device
from .errors import InputError, MemoryEstimateError, RecipeError
from .objective import Targets, compute_targets
from .runlog import StopRun, device_of
from .training import as_normalized
from .transfer import (TransferLog, TransferResult, checked_shapes, optimise, recipe_for_network, scale_schedule,
                       shape_at_scale, stylise)
from .vgg import VGG19, FeatureExtractor, layer_table, min_input_size

# Pixels by which neighbouring tiles overlap, at most (default_overlap).
OVERLAP = 128
# Pixels of the painting around each cell whose Gram matrices painting_grams computes (a multiple of 16).
MARGIN = 128


def layer_scale(name):
    """How many times smaller than the image a layer's features are (1 to 16 up to relu5_1).

    >>> layer_scale("relu1_1"), layer_scale("relu4_2")
    (1, 8)
    """
    return next(row["scale"] for row in layer_table() if row["name"] == name)


def tile_spans(length, tile, overlap):
    """``[(start, end), ...]``: the fewest spans of at most ``tile`` pixels
    that cover ``0 .. length`` with neighbours overlapping by at least
    ``overlap``, all of one length, the first at 0 and the last at ``length``.

    With n spans of length t, neighbours overlapping by o: n t - (n - 1) o >= length,
    so n = ceil((length - o) / (tile - o)) and t = ceil((length + (n - 1) o) / n).

    >>> tile_spans(1536, 1024, 128)
    [(0, 832), (704, 1536)]
    """
    if tile <= overlap:
        raise InputError(f"a tile of {tile} pixels must be larger than its overlap of {overlap} pixels")
    if length <= tile:
        return [(0, length)]
    count = math.ceil((length - overlap) / (tile - overlap))
    span = math.ceil((length + (count - 1) * overlap) / count)
    starts = [round(i * (length - span) / (count - 1)) for i in range(count)]
    return [(start, start + span) for start in starts]


def blend_weights(span, whole, overlap):
    """The weight of one tile's pixels along one axis, for the tile at ``span``
    of an axis ``0 .. whole``: 0 at a side that has a neighbour, rising
    linearly to 1 at ``overlap`` pixels from it; 1 at the picture's own border.

    >>> blend_weights((0, 6), 10, 4).tolist()
    [1.0, 1.0, 0.75, 0.5, 0.25, 0.0]
    >>> blend_weights((4, 10), 10, 4).tolist()
    [0.0, 0.25, 0.5, 0.75, 1.0, 1.0]
    """
    start, end = span
    inside = torch.arange(end - start, dtype=torch.float32)  # pixels from the tile's first one
    distance = torch.full_like(inside, math.inf)  # pixels to the nearest side shared with a neighbour
    if start > 0:
        distance = torch.minimum(distance, inside)
    if end < whole:
        distance = torch.minimum(distance, inside.flip(0))
    return (distance / overlap).clamp(max=1)


def painting_grams(extractor, painting_x, recipe, cell, margin=MARGIN):
    r"""The whole painting's Gram matrices at each style layer, computed one
    cell of at most ``cell`` pixels a side at a time (without gradients), so
    that a painting too large for the network at once still gives them.

    Each cell is run through the network with ``margin`` more pixels of the
    painting around it (the features near a cell's side then see what is
    beyond it, as they would in the whole painting), and only the features
    of the cell itself are kept. The products add up over the cells:

    .. math:: G = \frac{1}{n} \sum_\text{cells} F_\text{cell} F_\text{cell}^\top

    with n as :func:`d2lstyle.losses.gram_matrix` divides (C N for ``"chw"``,
    N positions in all). With a margin as large as the painting, every cell
    sees the whole painting and G is exactly the whole painting's Gram matrix.
    Cells and margins are whole multiples of 16 pixels: relu5_1's features
    are 16 times smaller than the image, so a cell's features are whole rows
    and columns of them.
    """
    height, width = painting_x.shape[-2:]
    cell, margin = max(16, cell // 16 * 16), math.ceil(margin / 16) * 16
    sums, positions = {}, {}
    with torch.no_grad():
        for top in range(0, height, cell):
            for left in range(0, width, cell):
                bottom, right = min(top + cell, height), min(left + cell, width)
                window_top, window_left = max(top - margin, 0), max(left - margin, 0)
                window = painting_x[..., window_top:min(bottom + margin, height), window_left:min(right + margin, width)]
                features = extractor(window)
                for name in recipe.style_layers:
                    step = layer_scale(name)
                    kept = features[name][..., (top - window_top) // step:(bottom - window_top) // step,
                                          (left - window_left) // step:(right - window_left) // step]
                    flat = kept.reshape(kept.shape[1], -1)
                    sums[name] = sums.get(name, 0) + flat @ flat.T
                    positions[name] = positions.get(name, 0) + flat.shape[1]
    divisor = {"chw": lambda name: sums[name].shape[0] * positions[name], "hw": lambda name: positions[name],
               "none": lambda name: 1}[recipe.gram_normalization]
    return {name: sums[name] / divisor(name) for name in recipe.style_layers}


def tile_shape(shape, tile, overlap):
    """(height, width) of each tile when ``shape`` is cut by :func:`tile_spans`.

    >>> tile_shape((1536, 2048), 1024, 128)
    (832, 768)
    """
    (top, bottom), (left, right) = tile_spans(shape[0], tile, overlap)[0], tile_spans(shape[1], tile, overlap)[0]
    return bottom - top, right - left


def memory_needed(shape, tile, overlap, style_shape, recipe):
    """Bytes the tiled scale needs (:func:`d2lstyle.devices.estimate_memory_bytes`'s safe side): the largest
    of one tile's optimisation and the features of one cell of the painting with its margins
    (:func:`painting_grams`, without gradients); plus the canvas, the photo and the painting (five images of
    ``shape``)."""
    tile_height, tile_width = tile_shape(shape, tile, overlap)
    cell = tuple(min(side, max(tile_height, tile_width) + 2 * MARGIN) for side in style_shape)
    return (max(estimate_memory_bytes((tile_height, tile_width), recipe),
                estimate_memory_bytes(cell, recipe, gradients=False)) + 5 * 4 * 3 * shape[0] * shape[1])


def check_memory(shape, tile, overlap, style_shape, recipe, device):
    """Raise :class:`~d2lstyle.errors.MemoryEstimateError`, before any work,
    when the tiled scale (:func:`memory_needed`) cannot fit on ``device``,
    naming the largest tile (a multiple of 16 pixels, at least 64) that
    would; else return the bytes it needs."""
    needed = memory_needed(shape, tile, overlap, style_shape, recipe)
    available = devices.available_memory_bytes(device)
    if available is None or needed <= 0.9 * available:
        return needed
    fitting = next((smaller for smaller in range((tile - 1) // 16 * 16, 63, -16)
                    if memory_needed(shape, smaller, min(overlap, default_overlap(smaller)), style_shape, recipe)
                    <= 0.9 * available), None)
    advice = f"use smaller tiles (--tile {fitting} or less)" if fitting else "free some memory first"
    height, width = tile_shape(shape, tile, overlap)
    raise MemoryEstimateError(f"painting {shape[0]}x{shape[1]} pixels in tiles of {height}x{width} needs about "
                              f"{needed / 2**30:.1f} GiB, but only {available / 2**30:.1f} GiB is free on {device}; "
                              f"{advice}")


def default_overlap(tile):
    """The overlap of tiles of ``tile`` pixels when none is given: a quarter of the tile, at most ``OVERLAP``.

    >>> default_overlap(1024), default_overlap(64)
    (128, 16)
    """
    return min(OVERLAP, tile // 4) if isinstance(tile, int) else OVERLAP


def check_tiling(recipe, tile, overlap=None):
    """Raise :class:`~d2lstyle.errors.RecipeError` or :class:`~d2lstyle.errors.InputError`, before any work,
    when ``recipe`` cannot be painted in tiles of ``tile`` pixels overlapping by ``overlap``.

    >>> from d2lstyle.recipes import get_recipe
    >>> check_tiling(get_recipe("default").replace(scales=(0.5, 1.0)), 1024)
    >>> check_tiling(get_recipe("default"), 1024)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    d2lstyle.errors.RecipeError: painting in tiles continues a coarse-to-fine run: give the recipe two scales ...
    """
    overlap = default_overlap(tile) if overlap is None else overlap
    if len(recipe.scales) < 2:
        raise RecipeError("painting in tiles continues a coarse-to-fine run: give the recipe two scales or more "
                          "(for example scales=(0.25, 1.0), on the command line --scales 0.25,1)")
    if not isinstance(tile, int) or not isinstance(overlap, int) or overlap < 1 or tile <= 2 * overlap:
        raise InputError(f"tile ({tile!r}) and overlap ({overlap!r}) must be whole numbers of pixels, the tile "
                         "more than twice the overlap, the overlap at least 1")
    smallest = min_input_size(recipe.layers())
    if tile < smallest:
        raise InputError(f"a tile of {tile} pixels is smaller than the {smallest} pixels layer "
                         f"{recipe.layers()[-1]} needs: use --tile {smallest} or more")


def stylise_in_tiles(content_img, style_img, recipe, vgg, *, tile=1024, overlap=None, device=None,
                     callbacks=(), progress=True, memory_check=True):
    """:func:`~d2lstyle.transfer.stylise` for images too large to optimise in
    one piece: the recipe's coarse scales as usual, then its last (full) scale
    in overlapping tiles of at most ``tile`` pixels a side, neighbours
    overlapping by ``overlap`` pixels (None: :func:`default_overlap`); the
    module's docstring says how. Returns a :class:`~d2lstyle.transfer.TransferResult`
    with the whole image; its history holds the coarse run's evaluations and
    then every tile's (each tile gets the last scale's share of the steps).

    The recipe needs two scales or more (``scales=(0.25, 1.0)``, say): the
    coarse scales set the picture's layout, which tiles alone cannot see. One
    painting, without masks or blends. Ctrl-C during the tiles keeps the tiles
    finished (status ``"interrupted"``); a run stopped during the coarse
    scales returns the coarse result as it is. Callbacks get each evaluation as in
    ``stylise``; during the tiles, ``info.image`` is the tile's.

    >>> from PIL import Image
    >>> from d2lstyle import networks, recipes
    >>> photo = Image.new("RGB", (96, 64), (30, 90, 160))
    >>> painting = Image.new("RGB", (64, 64), (220, 180, 40))
    >>> recipe = recipes.get_recipe("default").replace(image_size=96, scales=(0.5, 1.0), steps=4, balance_cap=0)
    >>> result = stylise_in_tiles(photo, painting, recipe, networks.load_vgg19("random"), tile=64, overlap=16,
    ...                           progress=False)
    >>> result.status, result.pil().size, len(result.history["step"])  # 2 coarse steps, 2 for each of 2 tiles
    ('finished', (96, 64), 6)
    """
    if vgg is None:
        raise InputError("stylise_in_tiles needs vgg: load it with d2lstyle.load_vgg19() or settings.load_vgg()")
    vgg = vgg if isinstance(vgg, VGG19) else VGG19(vgg, description="a VGG-19 features stack")
    recipe = recipe_for_network(recipe, vgg)
    if content_img is None or style_img is None or isinstance(style_img, (list, tuple)):
        raise InputError("stylise_in_tiles takes one photo and one painting")
    overlap = default_overlap(tile) if overlap is None else overlap
    check_tiling(recipe, tile, overlap)
    content_img, style_img = (images.load_image(img) if not hasattr(img, "size") else img
                              for img in (content_img, style_img))
    device = device_of(vgg) if device is None else (device if isinstance(device, torch.device)
                                                      else pick_device(device))
    extractor = FeatureExtractor(vgg.with_pooling(recipe.pooling).to(device), recipe.layers())
    shape, (style_shape,) = checked_shapes(recipe, content_img, [style_img], extractor.min_size)
    rows, columns = tile_spans(shape[0], tile, overlap), tile_spans(shape[1], tile, overlap)
    if memory_check:
        check_memory(shape, tile, overlap, style_shape, recipe, device)

    # 1. the coarse scales, as an ordinary run (its own memory check is for its largest scale)
    coarse_ends = [last for _, last in scale_schedule(recipe)[:-1]]
    coarse_scale = recipe.scales[-2]
    coarse_recipe = recipe.replace(image_size=shape_at_scale(shape, coarse_scale, extractor.min_size),
                                   scales=tuple(scale / coarse_scale for scale in recipe.scales[:-1]),
                                   scale_steps=tuple(end - start for start, end in zip([0] + coarse_ends, coarse_ends)),
                                   steps=coarse_ends[-1])
    coarse = stylise(content_img, style_img, coarse_recipe, vgg, device=device, callbacks=callbacks,
                     progress=progress, memory_check=memory_check)
    if coarse.status != "finished":
        return coarse
    ran = coarse.recipe.replace(image_size=recipe.image_size, scales=recipe.scales, scale_steps=recipe.scale_steps,
                                steps=recipe.steps)

    # 2. the canvas, and the whole painting's Gram matrices at the full size
    canvas = F.interpolate(coarse.image, size=shape, mode="bilinear", align_corners=False)
    photo = images.preprocess(content_img, shape)
    grams = painting_grams(extractor, images.preprocess(style_img, style_shape).to(device), ran, tile)

    # 3. the tiles, one after the other, each blended into the canvas
    spans = [(row, column) for row in rows for column in columns]
    share = recipe.steps - coarse_ends[-1]
    tile_recipe = ran.replace(steps=coarse_ends[-1] + share * len(spans))
    log = TransferLog(tile_recipe, callbacks, progress, {name: list(values) for name, values in coarse.history.items()})
    status, message = "finished", ""
    try:
        for number, (row, column) in enumerate(spans, 1):
            log.describe(f"tile {number}/{len(spans)}")
            window = (..., slice(*row), slice(*column))
            photo_tile = photo[window].to(device)
            targets = Targets(compute_targets(extractor, photo_tile, None, ran.replace(style_layers={})).content,
                              grams)
            start = canvas[window].to(device)  # the canvas is standardised; the recipe may optimise pixels
            start = images.denormalize(start) if ran.space == "pixels" else start
            painted = as_normalized(optimise(start, extractor, targets, tile_recipe, log, 1.0,
                                             coarse_ends[-1] + number * share), ran.space)
            weight = blend_weights(row, shape[0], overlap)[:, None] * blend_weights(column, shape[1], overlap)
            canvas[window] = weight * painted.detach().to("cpu", torch.float32) + (1 - weight) * canvas[window]
    except StopRun as stop:
        status, message = stop.status, f"{stop.message}; kept the tiles finished before it"
    except KeyboardInterrupt:
        status, message = "interrupted", log.stopped_by("interrupted by Ctrl-C") + "; kept the tiles finished"
    finally:
        log.close()
    return TransferResult(image=canvas, history=log.history, status=status, message=message, recipe=ran)
