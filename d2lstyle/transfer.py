"""Stage 4 of the pipeline: optimise the pixels of one image.

Style transfer trains no network. VGG-19 stays frozen; the only parameter is
the synthesised image itself (:class:`SynthesizedImage`), and every step
nudges its pixels down the gradient of the total loss

    L = alpha * content loss + beta * style loss + gamma * TV loss

The targets (the content image's features and the style image's Gram
matrices) never change, so they are computed once, before the first step.

:func:`stylise` runs a whole recipe: images in, :class:`TransferResult` out,
with a history of every loss term, callbacks for live plots and progress
bars, and safe stops: Ctrl-C, a callback asking to stop, or a loss that
becomes NaN all end the run with the best image found so far.

>>> from PIL import Image
>>> from d2lstyle import recipes, vgg
>>> content = Image.new("RGB", (32, 32), (30, 90, 160))
>>> style = Image.new("RGB", (32, 32), (220, 180, 40))
>>> recipe = recipes.get_recipe("d2l").replace(image_size=(32, 32), steps=3)
>>> result = stylise(content, style, recipe, vgg.load_vgg19("random"), progress=False)
>>> result.status, len(result.history["total"]), result.pil().size
('finished', 3, (32, 32))
"""

import math
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from . import images, losses
from .errors import CheckpointError, ImageError, MemoryEstimateError, RecipeError
from .recipes import Recipe, get_recipe
from .settings import available_memory_bytes, pick_device
from .vgg import FeatureExtractor, layer_index, layer_table

LOSS_TERMS = ("content", "style", "tv", "total")
# With precision="auto", the steps from this fraction of the run on are computed in float32.
FULL_PRECISION_FROM = 0.9


@dataclass
class Targets:
    """What the synthesised image is pulled towards, computed once."""

    content: dict  # layer name -> the content image's features there
    grams: dict  # layer name -> the style image's Gram matrix there


def compute_targets(extractor, content_x, style_x, recipe):
    """The content features and style Gram matrices a recipe compares against."""
    with torch.no_grad():
        content = {}
        if recipe.content_layers:
            features = extractor(content_x)
            content = {name: features[name] for name in recipe.content_layers}
        grams = {}
        if recipe.style_layers:
            features = extractor(style_x)
            grams = {name: losses.gram_matrix(features[name], recipe.gram_normalization)
                     for name in recipe.style_layers}
    return Targets(content, grams)


def loss_terms(image, features, targets, recipe):
    """The weighted loss terms of a recipe, and their sum ``total``.

    ``image`` is the optimised tensor (TV is measured on it), ``features`` the
    extractor's output for it. Each term already includes its weight, so
    ``total = content + style + tv``.
    """
    zero = image.new_zeros(())
    content = sum((weight * losses.content_loss(features[name], targets.content[name], recipe.content_reduction)
                   for name, weight in recipe.content_layers.items()), zero)
    style = zero
    for name, weight in recipe.style_layers.items():
        layer_loss = losses.style_loss(features[name], targets.grams[name],
                                       recipe.gram_normalization, recipe.style_reduction)
        style = style + weight * layer_loss / losses.style_divisor(recipe.style_divisor, features[name].shape)
    tv = losses.tv_loss(image, recipe.tv_reduction) if recipe.tv_weight else zero
    terms = {"content": recipe.content_weight * content,
             "style": recipe.style_weight * style,
             "tv": recipe.tv_weight * tv}
    terms["total"] = terms["content"] + terms["style"] + terms["tv"]
    return terms


class SynthesizedImage(nn.Module):
    """The image being optimised, as the model's one and only parameter."""

    def __init__(self, initial):
        super().__init__()
        self.weight = nn.Parameter(initial.detach().clone())

    def forward(self):
        return self.weight


def initial_image(recipe, content_x, style_x, generator=None):
    """Where the optimisation starts, in the recipe's space.

    ``content_x`` and ``style_x`` are normalised tensors at the working size
    (either may be None when the recipe does not use it). The start has the
    content's shape (the style's, for texture synthesis). Noise is standard
    normal in the normalised space and uniform in [0, 1] in pixel space.
    """
    reference = content_x if content_x is not None else style_x
    if recipe.init == "noise":
        noise = torch.rand if recipe.space == "pixels" else torch.randn
        return noise(reference.shape, generator=generator).to(reference.device)
    if recipe.init == "content":
        if content_x is None:
            raise RecipeError("init='content' needs a content image; use init='noise' for texture synthesis")
        start = content_x.clone()
    else:
        if style_x is None:
            raise RecipeError("init='style' needs a style image")
        start = F.interpolate(style_x, size=reference.shape[-2:], mode="bilinear", align_corners=False)
    return images.denormalize(start) if recipe.space == "pixels" else start


def as_normalized(image, space):
    """The network input for an image held in ``space``."""
    return images.normalize(image) if space == "pixels" else image


@dataclass
class StepInfo:
    """What a callback is told after every loss evaluation."""

    step: int  # evaluations done so far, 1-based
    steps: int  # evaluations planned in all
    losses: dict  # term -> float, as in TransferResult.history
    image: torch.Tensor  # the current image, normalised (1, 3, H, W); do not modify
    seconds: float  # wall time since the run started
    scale: float  # fraction of the full size being optimised
    history: dict  # the run's history so far (as in TransferResult); do not modify


@dataclass
class TransferResult:
    """The outcome of :func:`stylise`."""

    image: torch.Tensor  # normalised (1, 3, H, W), on the CPU
    history: dict  # "step", "seconds", "scale", "lr" and each loss term -> list of floats
    status: str  # "finished", "stopped", "interrupted" or "diverged"
    message: str = ""
    recipe: Recipe = None

    def pil(self):
        """The image as an 8-bit RGB PIL image."""
        return images.postprocess(self.image)

    @property
    def final_loss(self):
        """The last total loss recorded."""
        return self.history["total"][-1] if self.history["total"] else math.nan


def new_history():
    return {key: [] for key in ("step", "seconds", "scale", "lr") + LOSS_TERMS}


class _StopRun(Exception):
    """Raised inside the loop to end it: a callback asked, or the loss diverged."""

    def __init__(self, status, message=""):
        super().__init__(message)
        self.status, self.message = status, message


def working_shapes(recipe, content_img, style_img, min_side=1):
    """(height, width) of the content and style tensors at full scale.

    The content image is resized as ``recipe.image_size`` says; the style
    image keeps its own aspect ratio, with the same longer side (or longer, if
    its shorter side would otherwise be under ``min_side``).
    """
    reference = content_img if content_img is not None else style_img
    if isinstance(recipe.image_size, int):
        content_shape = images.shape_for_long_side(reference.size, recipe.image_size)
    else:
        content_shape = tuple(recipe.image_size)
    style_shape = None
    if style_img is not None:
        long_side = max(max(content_shape), math.ceil(min_side * max(style_img.size) / min(style_img.size)))
        style_shape = images.shape_for_long_side(style_img.size, long_side)
    return content_shape, style_shape


def _scaled(shape, scale):
    return tuple(max(1, round(side * scale)) for side in shape)


def _at_least(shape, min_side):
    return tuple(max(side, min_side) for side in shape)


def shape_at_scale(shape, scale, min_side):
    """The (height, width) optimised at ``scale`` of the full-size ``shape``;
    a coarse scale (< 1) never goes below ``min_side``, the smallest size the
    network accepts.

    >>> shape_at_scale((40, 60), 0.5, 16), shape_at_scale((20, 60), 0.5, 16)
    ((20, 30), (16, 30))
    """
    scaled = _scaled(shape, scale)
    return scaled if scale >= 1 else _at_least(scaled, min_side)


def estimate_memory_bytes(shape, recipe):
    """A safe upper estimate of the memory one optimisation run needs, in bytes.

    Counted in 4-byte floats from the layer shapes, up to the deepest layer
    the recipe reads:

    - every convolution's output (autograd keeps it for the backward pass:
      the in-place ReLU's result is also the next layer's input);
    - every pooling's output and, for max pooling, its int64 indices;
    - two more copies of each requested feature (an out-of-place ReLU or the
      Gram matrix's reshaped copy, and the loss's difference);
    - three gradients the size of the largest layer during the backward pass;
    - two copies of the convolution weights (the layouts oneDNN and cuDNN
      reorder them into);
    - the optimiser's copies of the image (Adam: 6, L-BFGS: 2 per remembered
      step and 4 more).

    The sum times 1.25, plus 256 MiB of work space (oneDNN's kernels and
    caches, the allocator), is 1.3 to 1.7 times the peak measured by
    ``make bench`` from 256 to 1024 px (see benchmarks/README.md).

    >>> recipe = get_recipe("d2l")
    >>> round(estimate_memory_bytes((341, 512), recipe) / 2**20)
    1085
    """
    height, width = shape
    requested = set(recipe.layers())
    deepest = max(layer_index(name) for name in requested)
    floats = largest = weights = 0
    channels = 3
    for row in layer_table()[: deepest + 1]:
        if row["kind"] == "MaxPool2d":
            height, width = height // 2, width // 2
        size = row["channels"] * height * width
        if row["kind"] == "Conv2d":
            floats += size
            weights += (channels * 9 + 1) * row["channels"]
            channels = row["channels"]
        elif row["kind"] == "MaxPool2d":
            floats += size * (1 if recipe.pooling == "avg" else 3)  # int64 indices: 2 floats each
        if row["name"] in requested:
            floats += 2 * size
        largest = max(largest, size)
    image = 3 * shape[0] * shape[1]
    copies = 2 * recipe.lbfgs_history + 4 if recipe.optimizer == "lbfgs" else 6
    floats += 3 * largest + 2 * weights + copies * image
    return int(4 * floats * 1.25) + 256 * 2**20


def check_memory(shape, recipe, device):
    """Raise MemoryEstimateError, before any work, when a size cannot fit."""
    needed = estimate_memory_bytes(shape, recipe)
    available = available_memory_bytes(device)
    if available is not None and needed > 0.9 * available:
        side = max(shape)
        fitting = int(side * math.sqrt(0.9 * available / needed)) // 16 * 16
        raise MemoryEstimateError(
            f"an image of {shape[0]}x{shape[1]} pixels needs about {needed / 2**30:.1f} GiB, but only "
            f"{available / 2**30:.1f} GiB is free on {device}; use a smaller size (--size {max(fitting, 16)} "
            "or less)"
        )
    return needed


def stylise(content_img, style_img, recipe="default", vgg=None, *, device=None, seed=0,
            callbacks=(), progress=True, resume=None, memory_check=True):
    """Run a whole recipe and return a :class:`TransferResult`.

    ``content_img`` and ``style_img`` are PIL images or paths of image files
    (``content_img`` may be None for texture synthesis from noise,
    ``style_img`` None for a reconstruction from content features alone).
    ``vgg`` is VGG-19's ``features`` with the weights you chose
    (:func:`d2lstyle.vgg.load_vgg19`); its pooling is switched to the
    recipe's if they differ.

    Every callback is called as ``callback(info)`` with a :class:`StepInfo`
    after each loss evaluation; one that returns True stops the run. The run
    also stops cleanly on Ctrl-C and on a NaN or infinite loss; the result's
    ``status`` and ``message`` then say what happened, and its image is the
    best one found before it (it never holds NaN).

    ``resume`` takes a dict from :func:`load_checkpoint` and continues from it.
    """
    recipe = get_recipe(recipe)
    content_img, style_img = (images.load_image(img) if isinstance(img, (str, os.PathLike)) else img
                              for img in (content_img, style_img))
    if vgg is None:
        raise ValueError("stylise needs vgg: load it with d2lstyle.load_vgg19('imagenet' or 'random' or a path)")
    if content_img is None and style_img is None:
        raise ValueError("stylise needs a content image, a style image, or both")
    if recipe.content_layers and content_img is None:
        raise RecipeError("the recipe has content layers but no content image was given")
    if recipe.style_layers and style_img is None:
        raise RecipeError("the recipe has style layers but no style image was given")
    device = pick_device(device) if not isinstance(device, torch.device) else device
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True  # the shapes repeat: let cuDNN pick its fastest kernels once
    vgg = with_pooling(vgg, recipe.pooling).to(device)
    extractor = FeatureExtractor(vgg, recipe.layers())
    for role, img in (("content", content_img), ("style", style_img)):
        if img is not None and min(img.size) < extractor.min_size:
            raise ImageError(
                f"the {role} image is only {img.size[0]}x{img.size[1]} pixels; layer {recipe.layers()[-1]} "
                f"needs at least {extractor.min_size} pixels on each side: use a larger image"
            )
    content_shape, style_shape = working_shapes(recipe, content_img, style_img, extractor.min_size)
    if memory_check:
        check_memory(content_shape, recipe, device)
    generator = torch.Generator().manual_seed(seed)

    scales = recipe.scales
    steps_per_scale = [recipe.steps // len(scales) + (i < recipe.steps % len(scales)) for i in range(len(scales))]
    history = new_history()
    image, done = None, 0
    if resume is not None:
        history, image, done = _unpack_checkpoint(resume, recipe)

    bar = _progress_bar(recipe.steps, progress, done)
    start = time.perf_counter() - (history["seconds"][-1] if history["seconds"] else 0.0)
    best = {"loss": math.inf, "image": None}  # the best image evaluated at the current scale
    status, message = "finished", ""
    try:
        first_step = 0
        for scale, steps in zip(scales, steps_per_scale):
            last_step = first_step + steps
            if done < last_step:
                shape = shape_at_scale(content_shape, scale, extractor.min_size)
                content_x = images.preprocess(content_img, shape).to(device) if content_img is not None else None
                style_x = None
                if style_img is not None:
                    style_x = images.preprocess(style_img, _at_least(_scaled(style_shape, scale), extractor.min_size))
                    style_x = style_x.to(device)
                targets = compute_targets(extractor, content_x, style_x, recipe)
                if image is None:
                    start_image = initial_image(recipe, content_x, style_x, generator)
                else:  # continue from the previous scale (or a checkpoint), upsampled
                    start_image = F.interpolate(image.to(device), size=shape, mode="bilinear", align_corners=False)
                synthesized = SynthesizedImage(start_image).to(device)
                best.update(loss=math.inf, image=start_image.detach().clone())
                done = _optimise(synthesized, extractor, targets, recipe, done, last_step, scale,
                                 history, callbacks, bar, start, best)
                image = synthesized.weight.detach()
            first_step = last_step
    except _StopRun as stop:
        status, message, image = stop.status, stop.message, best["image"]
    except KeyboardInterrupt:
        if best["image"] is None:  # nothing to keep yet: let Ctrl-C end the program as usual
            raise
        status, image = "interrupted", best["image"]
        message = f"interrupted by Ctrl-C after {len(history['step'])} of {recipe.steps} steps; kept the best image so far"
    finally:
        if bar is not None:
            bar.close()
    image = as_normalized(image, recipe.space).detach().to("cpu", torch.float32)
    return TransferResult(image=image, history=history, status=status, message=message, recipe=recipe)


def _optimise(synthesized, extractor, targets, recipe, first_step, last_step, scale, history, callbacks, bar,
              start, best):
    """Optimise ``synthesized`` from step ``first_step`` to ``last_step``; returns the steps done.

    ``best`` is updated with the lowest-loss image evaluated, which is what a
    stopped, interrupted or diverged run returns.
    """
    param = synthesized.weight
    network_dtype = fast_dtype(param.device) if recipe.precision == "auto" else None
    counter = {"done": first_step}
    if recipe.optimizer == "adam":
        optimizer = torch.optim.Adam([param], lr=recipe.lr, betas=recipe.betas, eps=recipe.eps)
    else:
        optimizer = torch.optim.LBFGS([param], lr=recipe.lr, history_size=recipe.lbfgs_history,
                                      line_search_fn=recipe.line_search)

    def current_lr():
        return decayed_learning_rate(counter["done"], recipe.lr, recipe.lr_decay_every, recipe.lr_decay_factor)

    def evaluate():
        """One forward and backward pass; records the losses; returns the total."""
        if counter["done"] >= last_step:  # L-BFGS' line search may ask for more than the budget
            raise _BudgetSpent
        if recipe.clamp:
            with torch.no_grad():
                param.clamp_(0, 1)
        optimizer.zero_grad(set_to_none=True)
        # bfloat16 (where allowed and native) except for the last tenth of the steps,
        # whose small updates need more precision than bfloat16's 8-bit mantissa.
        dtype = network_dtype if counter["done"] < FULL_PRECISION_FROM * recipe.steps else None
        features = network_features(extractor, fast_layout(as_normalized(param, recipe.space)), dtype)
        terms = loss_terms(param, features, targets, recipe)
        total = terms["total"]
        if not torch.isfinite(total):
            raise _diverged(counter["done"] + 1, recipe)
        total.backward()
        lr = current_lr()
        counter["done"] += 1
        values = {name: float(value.detach()) for name, value in terms.items()}
        if values["total"] < best["loss"]:
            best.update(loss=values["total"], image=param.detach().clone())
        _record(history, counter["done"], time.perf_counter() - start, scale, lr, values)
        if bar is not None:
            bar.update(1)
            bar.set_postfix(loss=f"{values['total']:.4g}", refresh=False)
        info = StepInfo(counter["done"], recipe.steps, values, as_normalized(param.detach(), recipe.space),
                        history["seconds"][-1], scale, history)
        if any([callback(info) for callback in callbacks]):
            raise _StopRun("stopped", f"stopped after {counter['done']} of {recipe.steps} steps")
        return total

    if recipe.optimizer == "adam":
        while counter["done"] < last_step:
            for group in optimizer.param_groups:
                group["lr"] = current_lr()
            evaluate()
            optimizer.step()
            if recipe.clamp:
                with torch.no_grad():
                    param.clamp_(0, 1)
    else:
        try:
            while counter["done"] < last_step:
                remaining = last_step - counter["done"]
                optimizer.param_groups[0]["max_iter"] = remaining
                optimizer.param_groups[0]["max_eval"] = remaining
                optimizer.step(evaluate)
        except _BudgetSpent:  # stopped inside a line search: keep the best point evaluated
            with torch.no_grad():
                param.copy_(best["image"])
    if not torch.isfinite(param).all():
        with torch.no_grad():
            param.copy_(best["image"])
    return counter["done"]


class _BudgetSpent(Exception):
    """Raised when L-BFGS asks for a loss evaluation beyond the step budget."""


def _diverged(step, recipe):
    return _StopRun(
        "diverged",
        f"the loss became NaN or infinite at step {step}; rolled back to the best image before it. "
        f"The learning rate ({recipe.lr:g}) is probably too high: try {recipe.lr / 10:g}, "
        "or smaller loss weights",
    )


def _record(history, step, seconds, scale, lr, values):
    history["step"].append(step)
    history["seconds"].append(seconds)
    history["scale"].append(scale)
    history["lr"].append(lr)
    for name in LOSS_TERMS:
        history[name].append(values[name])


def _progress_bar(total, progress, initial):
    if not progress:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, initial=initial, desc="style transfer", unit="step")


def with_pooling(vgg, pooling):
    """``vgg`` with every pooling layer of the given kind ("max" or "avg").

    The convolutions are shared, not copied; an unchanged network is returned
    as it is.
    """
    wanted = nn.MaxPool2d if pooling == "max" else nn.AvgPool2d
    if all(isinstance(layer, wanted) for layer in vgg if isinstance(layer, (nn.MaxPool2d, nn.AvgPool2d))):
        return vgg
    layers = [wanted(2, 2) if isinstance(layer, (nn.MaxPool2d, nn.AvgPool2d)) else layer for layer in vgg]
    swapped = nn.Sequential(*layers)
    swapped.weights_description = getattr(vgg, "weights_description", "")
    return swapped


# --- checkpoints -----------------------------------------------------------

def save_checkpoint(path, image, history, recipe):
    """Save the current image and loss history so that a run can resume.

    Written to a temporary file and renamed (:func:`d2lstyle.images.write_atomically`).
    The optimiser's internal state is not saved: a resumed run starts Adam's
    moments (or L-BFGS' memory) afresh from the saved image.
    """
    path = Path(path)
    payload = {
        "format": "d2lstyle-checkpoint-1",
        "image": image.detach().to("cpu", torch.float32).clone(),  # normalised
        "history": {key: list(values) for key, values in history.items()},
        "recipe": recipe.name,
        "steps": recipe.steps,
    }
    return images.write_atomically(path, lambda file: torch.save(payload, file), CheckpointError)


def load_checkpoint(path):
    """Read a checkpoint written by :func:`save_checkpoint`."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: no such checkpoint file")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # noqa: BLE001 - any unreadable file gets the same clear message
        raise CheckpointError(f"{path}: not a d2lstyle checkpoint ({type(error).__name__})") from None
    if not isinstance(payload, dict) or payload.get("format") != "d2lstyle-checkpoint-1":
        raise CheckpointError(f"{path}: not a d2lstyle checkpoint")
    return payload


def _unpack_checkpoint(checkpoint, recipe):
    if checkpoint["recipe"] != recipe.name or checkpoint["steps"] != recipe.steps:
        raise CheckpointError(
            f"the checkpoint is from recipe {checkpoint['recipe']!r} with {checkpoint['steps']} steps, "
            f"but this run uses {recipe.name!r} with {recipe.steps}; resume with the same settings"
        )
    history = {key: list(values) for key, values in checkpoint["history"].items()}
    done = history["step"][-1] if history["step"] else 0
    image = checkpoint["image"]
    if recipe.space == "pixels":
        image = images.denormalize(image)
    return history, image, done


# --- the training loop, piece by piece (notebook 06) ----------------------
# stylise's loop above is built from the same three ideas, plus bookkeeping
# (history, callbacks, the best image, safe stops).

def decayed_learning_rate(step, lr, every, factor):
    """The learning rate of d2l's step-decay schedule at ``step`` (counted from 0):

        lr_t = lr * factor ** (step // every)

    so it is ``lr`` for steps 0 .. every-1, ``lr * factor`` for the next
    ``every`` steps, and so on, like ``torch.optim.lr_scheduler.StepLR``.
    ``every=0`` means no decay.

    >>> [round(decayed_learning_rate(step, 0.3, 50, 0.8), 4) for step in (0, 49, 50, 100)]
    [0.3, 0.3, 0.24, 0.192]
    """
    if not every:
        return lr
    return lr * factor ** (step // every)


def training_step(synthesized, optimizer, loss_fn):
    """One optimisation step of the image; returns the loss as a Python float.

    Zero the gradients (PyTorch adds new ones to old ones), evaluate
    ``loss_fn(synthesized())``, backpropagate to the pixels, update them.
    The loss is returned as a float so that keeping a list of losses does not
    keep every step's computation graph alive.

    >>> synthesized = SynthesizedImage(torch.ones(1, 3, 2, 2))
    >>> optimizer = torch.optim.SGD(synthesized.parameters(), lr=0.25)
    >>> training_step(synthesized, optimizer, lambda x: (x ** 2).sum())  # gradient 2x = 2
    12.0
    >>> synthesized().mean().item()  # 1 - 0.25 * 2
    0.5
    """
    optimizer.zero_grad()
    loss = loss_fn(synthesized())
    loss.backward()
    optimizer.step()
    return loss.item()


def make_closure(synthesized, optimizer, loss_fn):
    """The closure ``torch.optim.LBFGS.step`` calls to evaluate the loss.

    L-BFGS evaluates the loss several times per step (its line search tries
    several step lengths), so it needs a function it can call: each call zeroes
    the gradients, evaluates ``loss_fn(synthesized())``, backpropagates and
    returns the loss tensor. The optimiser updates the image itself.

    >>> synthesized = SynthesizedImage(torch.ones(1, 3, 2, 2))
    >>> optimizer = torch.optim.LBFGS(synthesized.parameters(), line_search_fn="strong_wolfe")
    >>> closure = make_closure(synthesized, optimizer, lambda x: ((x - 3) ** 2).sum())
    >>> closure().item(), synthesized.weight.grad.mean().item()  # 12 * (1 - 3)^2, 2 * (1 - 3)
    (48.0, -4.0)
    >>> _ = optimizer.step(closure)
    >>> round(synthesized().mean().item(), 4)  # the minimum, x = 3
    3.0
    """
    def closure():
        optimizer.zero_grad()
        loss = loss_fn(synthesized())
        loss.backward()
        return loss

    return closure


# --- performance (measurements in benchmarks/README.md) --------------------

# Devices whose convolutions run faster on images stored channels-last
# (N, H, W, C in memory): oneDNN on CPUs, cuDNN on GPUs.
CHANNELS_LAST_DEVICES = ("cpu", "cuda")


def fast_layout(x):
    """``x`` with the memory layout its device's convolutions prefer.

    Same values, same shape; only the order in memory changes (channels
    last on a CPU or a GPU), which lets oneDNN and cuDNN skip converting
    every layer's input and output. The copy is of the 3-channel image only.

    >>> x = torch.randn(1, 3, 4, 5)
    >>> y = fast_layout(x)
    >>> torch.equal(x, y), y.is_contiguous(memory_format=torch.channels_last)
    (True, True)
    """
    if x.device.type in CHANNELS_LAST_DEVICES:
        return x.contiguous(memory_format=torch.channels_last)
    return x


def fast_dtype(device):
    """``torch.bfloat16`` where ``device`` computes it natively (a CUDA GPU with
    bf16, a CPU with AVX512-BF16 or AMX), else None: keep float32.

    Elsewhere (most laptops, Apple's MPS) bfloat16 would be emulated and slower.
    """
    device = torch.device(device)
    if device.type == "cuda":
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else None
    if device.type == "cpu":
        # (private helpers, so looked up with a fallback for other torch versions)
        native = any(getattr(torch.cpu, check, lambda: False)()
                     for check in ("_is_avx512_bf16_supported", "_is_amx_tile_supported"))
        return torch.bfloat16 if native else None
    return None


def network_features(extractor, x, dtype=None):
    """``extractor(x)``, run in ``dtype`` (autocast) when one is given; the
    features come back in float32, so the losses and Gram matrices are
    computed at full precision against the float32 targets.

    >>> from d2lstyle.vgg import load_vgg19
    >>> extract = FeatureExtractor(load_vgg19("random"), ["relu1_1"])
    >>> network_features(extract, torch.randn(1, 3, 8, 8), torch.bfloat16)["relu1_1"].dtype
    torch.float32
    """
    if dtype is None:
        return extractor(x)
    with torch.autocast(x.device.type, dtype=dtype):
        features = extractor(x)
    return {name: value.float() for name, value in features.items()}
