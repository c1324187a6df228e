"""Stage 4 of the pipeline: :func:`stylise`, the whole algorithm in one call.

1. Size the images (:func:`working_shapes`) and turn them into tensors.
2. Compute the targets once: the photo's features and the painting's Gram
   matrices (:func:`d2lstyle.objective.compute_targets`).
3. Start from the photo, noise or the painting (:func:`d2lstyle.training.initial_image`).
4. Repeat: evaluate the total loss and take one optimiser step, with the very
   pieces notebook 06 builds (:func:`d2lstyle.training.training_step` for
   Adam, :func:`d2lstyle.training.make_closure` for L-BFGS).
5. Return the best image with the history of every loss term
   (:class:`TransferResult`).

Coarse to fine (``recipe.scales``): steps 1 to 4 run at each scale in turn,
each starting from the previous result upsampled (Gatys et al. 2017's way to
high resolution: the small image sets the large-scale layout, the large one
adds the fine strokes). One progress bar runs across the scales and names the
one being optimised; the memory check is made for the largest.

The controls of :mod:`d2lstyle.controls` (the photo's colours, the stroke
scale, several paintings, masks) come in one :class:`~d2lstyle.controls.Controls`.

Around the loop, a :class:`TransferLog` keeps the books: the history, the best
image, the callbacks (live plots, progress bars, checkpoints) and the safe
stops (all but the best image are :class:`d2lstyle.runlog.RunLog`'s, which the
painter's training keeps too). Ctrl-C, a callback asking to stop, or a loss that becomes NaN all end
the run with the best image found so far.

>>> from PIL import Image
>>> from d2lstyle import networks, recipes
>>> content = Image.new("RGB", (32, 32), (30, 90, 160))
>>> style = Image.new("RGB", (32, 32), (220, 180, 40))
>>> recipe = recipes.get_recipe("d2l").replace(image_size=(32, 32), steps=3)
>>> result = stylise(content, style, recipe, networks.load_vgg19("random"), progress=False)
>>> result.status, len(result.history["total"]), result.pil().size
('finished', 3, (32, 32))
"""

import math
import os
import sys
import warnings
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from . import colour, diagnosis, images
from . import controls as controls_module
from .checkpoints import describe_run, validate_resumable
from .devices import ensure_memory, fast_dtype, fast_layout, network_features, pick_device, round_down
from .errors import ImageError, InputError, RecipeError
from .masks import load_mask, mask_tensor
from .objective import balance_factor, compute_targets, loss_terms
from .recipes import BALANCED_FOR, Recipe, get_recipe, weights_family
from . import runlog
from .runlog import RunLog, StopRun, device_of
from .training import (SynthesizedImage, as_normalized, decayed_learning_rate, initial_image, make_closure,
                       make_optimizer, training_step)
from .vgg import VGG19, FeatureExtractor

# With precision="auto", the steps from this fraction of the run on are computed in float32.
FULL_PRECISION_FROM = 0.9


def stylise(content_img, style_img, recipe="default", vgg=None, *, device=None, seed=0,
            callbacks=(), progress=True, resume=None, memory_check=True, controls=None, start=None):
    """Run a whole recipe and return a :class:`TransferResult`.

    ``content_img`` and ``style_img`` are PIL images or paths of image files
    (``content_img`` may be None for texture synthesis from noise,
    ``style_img`` None for a reconstruction from content features alone).
    ``style_img`` may also be a list of several paintings, blended as
    ``controls`` says (a :class:`~d2lstyle.controls.Controls`: the photo's
    colours, the painting's scale, blend weights, masks; None: a plain run).
    ``vgg`` is a :class:`~d2lstyle.vgg.VGG19` (:func:`d2lstyle.networks.load_vgg19`
    or ``settings.load_vgg()``); the run uses its pooling switched to the
    recipe's. It runs on ``device``, by default the device ``vgg`` is on.

    Every callback is called as ``callback(info)`` with a :class:`StepInfo`
    after each loss evaluation; one that returns True stops the run. The run
    also stops cleanly on Ctrl-C and on a NaN or infinite loss; the result's
    ``status`` and ``message`` then say what happened, and its image is the
    best one found before it (it never holds NaN).

    ``resume`` takes a dict from :func:`d2lstyle.checkpoints.load_checkpoint`
    and continues from it. ``start``, a standardised image (1, 3, H, W), is
    where the first scale starts instead of the recipe's ``init`` (resized to
    that scale's size): the previous frame of a clip, warped, say
    (:mod:`d2lstyle.video`).

    A recipe with a ``balance_cap`` (the default) has its style weight beta
    multiplied by :func:`d2lstyle.objective.balance_factor` for this photo
    and painting, measured at the first scale before the first step; the
    result's ``recipe`` is the one that ran, with that beta.
    """
    _validate_inputs(content_img, style_img, vgg)
    vgg = vgg if isinstance(vgg, VGG19) else VGG19(vgg, description="a VGG-19 features stack")
    recipe = recipe_for_network(recipe, vgg)
    controls = controls_module.Controls() if controls is None else controls
    style_imgs = list(style_img) if isinstance(style_img, (list, tuple)) else [style_img]
    if not style_imgs:
        raise InputError("stylise got an empty list of style images")
    content_img, *style_imgs = (images.load_image(img) if isinstance(img, (str, os.PathLike)) else img
                                for img in [content_img, *style_imgs])
    if start is not None and (not isinstance(start, torch.Tensor) or start.dim() != 4 or start.shape[:2] != (1, 3)
                              or not torch.isfinite(start).all()):
        raise InputError(f"start must be a standardised image tensor (1, 3, H, W) of finite values, got "
                         f"{tuple(start.shape) if isinstance(start, torch.Tensor) else type(start).__name__}")
    if start is not None and resume is not None:
        raise InputError("give start or resume, not both: a resumed run continues from its checkpoint's image")
    if recipe.content_layers and content_img is None:
        raise RecipeError("the recipe has content layers but no content image was given")
    if recipe.style_layers and None in style_imgs:
        raise RecipeError("the recipe has style layers but no style image was given")
    blend = controls.blend_for(len(style_imgs))
    plain = controls.is_plain(len(style_imgs))
    if controls.preserve_colors is not None or controls.has_masks():
        if content_img is None:
            raise RecipeError("keeping the photo's colours or masking a style needs a content image")
    if resume is not None:  # what a checkpoint records, taken before the paintings are recoloured
        run = describe_run(recipe, vgg.description, seed, content_img, style_imgs, controls)
    if controls.preserve_colors == "luminance":
        vgg = colour.luminance_only(vgg)  # the network sees the luminance alone
    style_imgs = [img if img is None else colour.recoloured_painting(img, content_img, controls.preserve_colors)
                  for img in style_imgs]
    masks = [None if mask is None else load_mask(mask, content_img.size, number)
             for number, mask in enumerate(controls.masks or [None] * len(style_imgs), 1)]
    if device is None:
        device = device_of(vgg)
    elif not isinstance(device, torch.device):
        device = pick_device(device)
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True  # the shapes repeat: let cuDNN pick its fastest kernels once
    extractor = FeatureExtractor(vgg.with_pooling(recipe.pooling).to(device), recipe.layers())
    content_shape, style_shapes = checked_shapes(recipe, content_img, style_imgs, extractor.min_size,
                                                 controls.style_scale, device if memory_check else None)

    schedule = scale_schedule(recipe)

    def content_shape_at(scale):
        return shape_at_scale(content_shape, scale, extractor.min_size)

    def inputs_at(scale):
        """The photo, the paintings and the targets at ``scale`` of the working size."""
        content_x = _tensor_at(content_img, content_shape, scale, extractor.min_size, device)
        styles_x = [_tensor_at(img, style_shape, scale, extractor.min_size, device)
                    for img, style_shape in zip(style_imgs, style_shapes)]
        if plain:
            return content_x, styles_x, compute_targets(extractor, content_x, styles_x[0], recipe)
        guides = [None if mask is None else mask_tensor(mask, content_shape_at(scale)).to(device) for mask in masks]
        return content_x, styles_x, compute_targets(extractor, content_x, styles_x, recipe, blend, guides)

    if recipe.balance_cap and content_img is not None and None not in style_imgs:
        # beta for this pair, measured at the first scale (objective.balance_factor)
        content_x, _, targets = inputs_at(schedule[0][0])
        paintings_x = [_tensor_at(img, content_shape, schedule[0][0], extractor.min_size, device)
                       for img in style_imgs]
        factor = balance_factor(extractor, content_x, paintings_x, targets, recipe, None if plain else blend)
        recipe = recipe.replace(style_weight=recipe.style_weight * factor)

    image, history = None, None
    if resume is not None:
        history, image, _ = validate_resumable(resume, run)
        image = images.denormalize(image) if recipe.space == "pixels" else image
    log = TransferLog(recipe, callbacks, progress, history)
    generator = torch.Generator().manual_seed(seed)
    status, message = "finished", ""
    try:
        for number, (scale, last_step) in enumerate(schedule, 1):
            if log.done >= last_step:
                continue
            shape = content_shape_at(scale)
            content_x, styles_x, targets = inputs_at(scale)
            if image is None and start is None:
                first = initial_image(recipe, content_x, styles_x, generator, blend)
            elif image is None:  # the caller's start, in the recipe's space
                first = F.interpolate(start.to(device, torch.float32), size=shape, mode="bilinear",
                                      align_corners=False)
                first = images.denormalize(first) if recipe.space == "pixels" else first
            else:  # continue from the previous scale (or a checkpoint), upsampled
                first = F.interpolate(image.to(device), size=shape, mode="bilinear", align_corners=False)
            if len(schedule) > 1:
                log.describe(f"scale {number}/{len(schedule)}, {shape[1]}x{shape[0]} px")
            image = optimise(first, extractor, targets, recipe, log, scale, last_step)
    except StopRun as stop:
        status, message, image = stop.status, stop.message, log.best_image
    except KeyboardInterrupt:
        if log.best_image is None:  # nothing to keep yet: let Ctrl-C end the program as usual
            raise
        status, image = "interrupted", log.best_image
        message = log.stopped_by("interrupted by Ctrl-C") + "; kept the best image so far"
    finally:
        log.close()
    if recipe.clamp:
        image = image.clamp(0, 1)
    image = as_normalized(image, recipe.space).detach().to("cpu", torch.float32)
    if controls.preserve_colors == "luminance":  # the result's luminance, the photo's colours
        image = colour.with_chrominance_of(image, images.preprocess(content_img, tuple(image.shape[-2:])))
    result = TransferResult(image=image, history=log.history, status=status, message=message, recipe=recipe)
    if progress:  # a run watched with a progress bar ends with what its history says
        for line in result.advice():
            print(f"advice: {line}", file=sys.stderr)
    return result


def optimise(start, extractor, targets, recipe, log, scale, last_step):
    """Optimise the image from ``start`` until ``log.done`` reaches ``last_step``;
    returns the optimised image (in the recipe's space).

    ``loss_fn`` below is notebook 06's objective plus the bookkeeping: it
    records every evaluation in ``log`` (which also raises :class:`StopRun`
    on a NaN loss or when a callback asks to stop).
    """
    synthesized = SynthesizedImage(start)
    optimizer = make_optimizer(recipe, synthesized.parameters())
    log.start_scale(start)
    # bfloat16 for Adam only: L-BFGS builds its curvature from differences of gradients and losses (and a line
    # search compares losses), which bfloat16's 8-bit mantissa blurs. On a CPU with native bfloat16 the default
    # recipe's first, overshooting L-BFGS step then never recovered: 128 px runs ended as the photo.
    fast = fast_dtype(start.device) if recipe.precision == "auto" and recipe.optimizer == "adam" else None

    def learning_rate():
        return decayed_learning_rate(log.done, recipe.lr, recipe.lr_decay_every, recipe.lr_decay_factor)

    def loss_fn(x):
        if log.done >= last_step:  # L-BFGS' line search may ask for more than the budget
            raise BudgetSpent
        if recipe.clamp:
            with torch.no_grad():
                x.clamp_(0, 1)
        # bfloat16 (where allowed and native) except for the last tenth of the steps,
        # whose small updates need more precision than bfloat16's 8-bit mantissa.
        dtype = fast if log.done < FULL_PRECISION_FROM * recipe.steps else None
        features = network_features(extractor, fast_layout(as_normalized(x, recipe.space)), dtype)
        terms = loss_terms(x, features, targets, recipe)
        log.record(terms, x, scale, learning_rate())
        return terms["total"]

    if recipe.optimizer == "adam":
        while log.done < last_step:
            for group in optimizer.param_groups:
                group["lr"] = learning_rate()
            training_step(synthesized, optimizer, loss_fn)
    else:
        closure = make_closure(synthesized, optimizer, loss_fn)
        try:
            while log.done < last_step:
                remaining = last_step - log.done
                optimizer.param_groups[0].update(max_iter=remaining, max_eval=remaining)
                optimizer.step(closure)
        except BudgetSpent:  # stopped inside a line search: keep the best point evaluated
            return log.best_image
    image = synthesized().detach()
    return image if torch.isfinite(image).all() else log.best_image


def scale_schedule(recipe):
    """``[(scale, last step), ...]``: the coarse-to-fine scales, each with the
    step count at which it ends. The steps are shared in the proportions of
    ``recipe.scale_steps`` (equally when it is empty), rounded down, and the
    steps left over go one each to the first scales. Every scale gets at least
    one step (a recipe has at least one step per scale): a scale left with none
    takes one from the scale with the most, so the last scale, the full size,
    is always optimised.

    >>> scale_schedule(get_recipe("d2l").replace(scales=(0.25, 0.5, 1.0), steps=10))
    [(0.25, 4), (0.5, 7), (1.0, 10)]
    >>> scale_schedule(get_recipe("d2l").replace(scales=(0.25, 0.5, 1.0), scale_steps=(300, 100, 50), steps=450))
    [(0.25, 300), (0.5, 400), (1.0, 450)]
    >>> scale_schedule(get_recipe("d2l").replace(scales=(0.25, 0.5, 1.0), scale_steps=(300, 100, 1), steps=10))
    [(0.25, 7), (0.5, 9), (1.0, 10)]
    """
    shares = recipe.scale_steps or (1,) * len(recipe.scales)
    counts = [recipe.steps * share // sum(shares) for share in shares]
    for index in range(recipe.steps - sum(counts)):
        counts[index] += 1
    for index, count in enumerate(counts):
        if count == 0:
            counts[counts.index(max(counts))] -= 1
            counts[index] = 1
    ends = [sum(counts[: index + 1]) for index in range(len(counts))]
    return list(zip(recipe.scales, ends))


# --- the books kept around the loop -----------------------------------------------


@dataclass
class StepInfo:
    """What a callback is told after every loss evaluation."""

    step: int  # evaluations done so far, 1-based
    steps: int  # evaluations planned in all
    losses: dict  # term -> float, as in TransferResult.history
    image: torch.Tensor  # the current image, standardised (1, 3, H, W); do not modify
    seconds: float  # wall time since the run started
    scale: float  # fraction of the full size being optimised
    history: dict  # the run's history so far (as in TransferResult); do not modify


@dataclass
class TransferResult:
    """The outcome of :func:`stylise`."""

    image: torch.Tensor  # standardised (1, 3, H, W), on the CPU
    history: dict  # "step", "seconds", "scale", "lr" and each loss term -> list of floats
    status: str  # "finished", "stopped", "interrupted" or "diverged"
    message: str = ""
    recipe: Recipe = None

    def pil(self):
        """The image as an 8-bit RGB PIL image."""
        return images.postprocess(self.image)

    def advice(self):
        """What the loss history says went wrong, and what to change (:mod:`d2lstyle.diagnosis`)."""
        return diagnosis.advice(self.history, self.status, self.message)

    @property
    def final_loss(self):
        """The last total loss recorded."""
        return self.history["total"][-1] if self.history["total"] else math.nan


def new_history():
    """An empty history of :func:`stylise`: one list per column (:func:`d2lstyle.runlog.new_history`)."""
    return runlog.new_history(("scale", "lr"))


class BudgetSpent(Exception):
    """Raised when L-BFGS asks for a loss evaluation beyond the step budget."""


class TransferLog(RunLog):
    """The books of one run of :func:`stylise`: those of :class:`d2lstyle.runlog.RunLog`
    (every loss evaluation in ``history``, the callbacks, the progress bar, the
    stops), and the best image so far.

    ``record`` is called once per loss evaluation, before the backward pass.
    """

    def __init__(self, recipe, callbacks=(), progress=True, history=None):
        super().__init__(recipe.steps, history if history is not None else new_history(), callbacks, progress,
                         title="style transfer")
        self.recipe = recipe
        self.best_loss, self.best_image = math.inf, None

    def start_scale(self, image):
        """A new scale begins: the best image so far is its starting image."""
        self.best_loss, self.best_image = math.inf, image.detach().clone()

    def record(self, terms, image, scale, lr):
        """Note one evaluation of ``terms`` at ``image`` (in the recipe's space)."""
        values = {name: float(value.detach()) for name, value in terms.items()}
        if not math.isfinite(values["total"]):
            raise StopRun("diverged", divergence_message(values, image, self.recipe, self.done + 1))
        if values["total"] < self.best_loss:
            self.best_loss, self.best_image = values["total"], image.detach().clone()
        seconds = self.record_step(values, scale=scale, lr=lr)
        self.ask_callbacks(StepInfo(self.done, self.recipe.steps, values,
                                    as_normalized(image.detach(), self.recipe.space), seconds, scale, self.history))


TERM_WORDS = {"content": "content", "style": "style", "tv": "total variation"}  # the loss terms, in words


def divergence_message(values, image, recipe, step):
    """Why the loss became NaN or infinite at ``step``, and what to change."""
    rolled_back = f"the loss became NaN or infinite at step {step}; rolled back to the best image before it. "
    largest = float(image.detach().abs().max())
    if not math.isfinite(largest) or largest > 1e3:
        return rolled_back + (f"The pixels grew to {largest:.3g}: the learning rate ({recipe.lr:g}) is too high "
                              f"for this recipe; try {recipe.lr / 10:g}")
    overflowed = [name for name in TERM_WORDS if not math.isfinite(values[name])]
    if overflowed:
        name = overflowed[0]
        weight = getattr(recipe, f"{name}_weight")
        return rolled_back + (f"The {TERM_WORDS[name]} term overflowed with its weight {weight:g}: use a smaller "
                              f"{TERM_WORDS[name]} weight (--{name}-weight)")
    return rolled_back + f"Try a smaller learning rate than {recipe.lr:g}, or smaller loss weights"


# --- sizes and inputs -----------------------------------------------------------------


def working_shapes(recipe, content_img, style_img, min_side=1, style_scale=1.0):
    """(height, width) of the content and style tensors at full scale.

    The content image is resized as ``recipe.image_size`` says; the style
    image keeps its own aspect ratio, with a longer side ``style_scale`` times
    the content's (or longer, if its shorter side would otherwise be under
    ``min_side``).

    >>> from PIL import Image
    >>> photo, painting = Image.new("RGB", (400, 300)), Image.new("RGB", (200, 100))
    >>> working_shapes(get_recipe("d2l").replace(image_size=200), photo, painting, 16, style_scale=2)
    ((150, 200), (200, 400))
    """
    reference = content_img if content_img is not None else style_img
    if isinstance(recipe.image_size, int):
        content_shape = images.shape_for_long_side(reference.size, recipe.image_size)
    else:
        content_shape = tuple(recipe.image_size)
    style_shape = None
    if style_img is not None:
        long_side = max(round(style_scale * max(content_shape)),
                        math.ceil(min_side * max(style_img.size) / min(style_img.size)))
        style_shape = images.shape_for_long_side(style_img.size, long_side)
    return content_shape, style_shape


def shape_at_scale(shape, scale, min_side):
    """The (height, width) optimised at ``scale`` of the full-size ``shape``;
    a coarse scale (< 1) never goes below ``min_side``, the smallest size the
    network accepts.

    >>> shape_at_scale((40, 60), 0.5, 16), shape_at_scale((20, 60), 0.5, 16)
    ((20, 30), (16, 30))
    """
    scaled = tuple(max(1, round(side * scale)) for side in shape)
    return scaled if scale >= 1 else tuple(max(side, min_side) for side in scaled)


def checked_shapes(recipe, content_img, style_imgs, min_side, style_scale=1.0, device=None):
    """``(content shape, [style shape, ...])`` at full scale (:func:`working_shapes`), returned once every
    image the run will make has been checked, before any is made.

    The run makes the photo at each of the recipe's scales (its masks at the
    same sizes) and each painting at each scale; the largest scale makes the
    largest of each. Raises :class:`~d2lstyle.errors.ImageError` when

    - a scale or the style scale would shrink an image to less than one pixel
      (one that is merely under ``min_side``, the smallest the network
      accepts, is enlarged to it: see :func:`shape_at_scale` and
      :func:`working_shapes`);
    - the photo at full size is smaller than ``min_side``;
    - an image is larger than ``images.DEFAULT_MAX_PIXELS``, the largest
      picture d2lstyle reads;

    - the photo or a painting as given is smaller than ``min_side``;

    and, given a ``device``, :class:`~d2lstyle.errors.MemoryEstimateError`
    when the photo's optimisation or a painting's features would not fit in
    its memory (:func:`d2lstyle.devices.ensure_memory`).

    >>> from PIL import Image
    >>> photo, painting = Image.new("RGB", (400, 300)), Image.new("RGB", (200, 100))
    >>> checked_shapes(get_recipe("d2l").replace(image_size=200), photo, [painting], 16, style_scale=2)
    ((150, 200), [(200, 400)])
    >>> checked_shapes(get_recipe("d2l").replace(image_size=200), photo, [painting], 16, 1e6)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    d2lstyle.errors.ImageError: style scale 1e+06 would make the style image as large as 100000000x200000000 ...
    """
    for role, img in [("content", content_img)] + [("style", img) for img in style_imgs]:
        if img is not None and min(img.size) < min_side:
            raise ImageError(
                f"the {role} image is only {img.size[0]}x{img.size[1]} pixels; layer {recipe.layers()[-1]} "
                f"needs at least {min_side} pixels on each side: use a larger image"
            )
    shapes = [working_shapes(recipe, content_img, img, min_side, style_scale) for img in style_imgs]
    content_shape, style_shapes = shapes[0][0], [style_shape for _, style_shape in shapes]
    largest, smallest, limit = max(recipe.scales), min(recipe.scales), images.DEFAULT_MAX_PIXELS
    height, width = full = shape_at_scale(content_shape, largest, min_side)
    reference = content_img if content_img is not None else style_imgs[0]
    long_over_short = max(reference.size) / min(reference.size)  # the photo's: --size keeps it
    if round(min(content_shape) * smallest) < 1:
        raise ImageError(f"scale {smallest:g} would shrink the {height}x{width} image to less than one pixel; "
                         f"use scales of {min_side / min(content_shape):.2g} or more (the network needs "
                         f"{min_side} pixels on each side)")
    if min(full) < min_side:
        raise ImageError(f"the image would be {height}x{width} pixels at size {recipe.image_size}, too small "
                         f"for layer {recipe.layers()[-1]}: it needs at least {min_side} pixels on each side; "
                         f"use a larger size (--size {math.ceil(min_side * long_over_short)} or more)")
    if height * width > limit:
        raise ImageError(f"the image would be {height}x{width} pixels at size {recipe.image_size}, over the "
                         f"limit of {limit:,} pixels; use a smaller size "
                         f"(--size {math.isqrt(int(limit * long_over_short))} or less)")
    for number, (img, style_shape) in enumerate(zip(style_imgs, style_shapes), 1):
        if img is None:
            continue
        name = "the style image" if len(style_imgs) == 1 else f"style image {number}"
        painting_ratio = max(img.size) / min(img.size)
        if round(style_scale * max(content_shape) / painting_ratio) < 1:  # its shorter side, as asked
            raise ImageError(f"style scale {style_scale:g} would shrink {name} to less than one pixel; use a "
                             f"style scale of {min_side * painting_ratio / max(content_shape):.2g} or more (the "
                             f"network needs {min_side} pixels on each side)")
        style_height, style_width = shape_at_scale(style_shape, largest, min_side)
        if style_height * style_width > limit:
            fitting = math.sqrt(limit * painting_ratio) / max(content_shape)
            raise ImageError(f"style scale {style_scale:g} would make {name} as large as {style_height}x"
                             f"{style_width} pixels, over the limit of {limit:,} pixels; use a style scale of "
                             f"{round_down(fitting):g} or less (--style-scale)")
    if device is not None:
        ensure_memory(full, recipe, device)
        for style_shape in style_shapes:
            if style_shape is not None:
                ensure_memory(shape_at_scale(style_shape, largest, min_side), recipe, device, style_scale)
    return content_shape, style_shapes


def recipe_for_network(recipe, vgg):
    """The recipe to run on ``vgg``: a preset's name gives the preset with its loss
    weights for the network's family; a :class:`Recipe` is kept as it is, with
    a warning when its weights were balanced for the other pretrained network."""
    if not isinstance(recipe, Recipe):
        return get_recipe(recipe, network=weights_family(vgg.family))
    if vgg.family in BALANCED_FOR and recipe.network != vgg.family:
        warnings.warn(
            f"recipe {recipe.name!r} has loss weights balanced for the {recipe.network} VGG-19, but this network "
            f"is the {vgg.family} one, whose features have another size: use "
            f"get_recipe({recipe.name!r}, network={vgg.family!r}) or set the weights yourself", stacklevel=3)
    return recipe


def _validate_inputs(content_img, style_img, vgg):
    if vgg is None:
        raise InputError("stylise needs vgg: load it with d2lstyle.load_vgg19() or settings.load_vgg()")
    if not isinstance(vgg, nn.Module) or not hasattr(vgg, "__len__") or len(vgg) != 37:
        raise InputError("vgg must be VGG-19's 37-layer features stack (d2lstyle.load_vgg19())")
    if content_img is None and style_img is None:
        raise InputError("stylise needs a content image, a style image, or both")


def _tensor_at(img, full_shape, scale, min_side, device):
    """``img`` (or None) as a standardised tensor at ``scale`` of its working shape, on ``device``."""
    if img is None:
        return None
    return images.preprocess(img, shape_at_scale(full_shape, scale, min_side)).to(device)
