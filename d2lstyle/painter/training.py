r"""Training a painter: Adam on the painter's weights W, over batches of random crops of the photos,

.. math:: \min_W \; \mathbb{E}_p \big[ L(f_W(p)) \big]

with the loss L of :mod:`d2lstyle.painter.loss`. The loop (:func:`train_painter`) follows the usual advice:
learning rate 1e-3 annealed along a cosine (:func:`cosine_learning_rate`), random crops and flips of the
training photos (:func:`~d2lstyle.painter.photo_batch`), gradient clipping. Its books are those of
:func:`d2lstyle.transfer.stylise` (:class:`d2lstyle.runlog.RunLog`): callbacks, a progress bar, the history,
Ctrl-C keeps the work done, and a checkpoint lets a run resume exactly where it stopped.

>>> [round(cosine_learning_rate(t, 100, 1e-3), 6) for t in (0, 50, 100)]
[0.001, 0.0005, 0.0]
"""

import contextlib
import copy
import hashlib
import math
import signal
import threading
from dataclasses import dataclass

import torch
from PIL import Image
from torch import nn

from .. import images, losses
from ..devices import fast_layout
from ..errors import ImageError, InputError, PainterError
from ..runlog import RunLog, StopRun, device_of, new_history
from ..vgg import VGG19, FeatureExtractor
from .loss import batch_loss_terms, loss_recipe, painting_long_side, recipe_from_weights
from .model_file import training_checkpoint
from .network import ConditionalInstanceNorm, new_painter
from .photos import photo_batch, shrink_for_crops, training_photos
from .settings import PainterSettings

# The columns of a painter's history besides "step", "seconds" and the loss terms.
HISTORY_COLUMNS = ("lr",)


def cosine_learning_rate(step, steps, lr):
    r"""The learning rate at ``step`` (counted from 0) of ``steps``, annealed along a cosine:

    .. math:: \eta_t = \frac{\eta_0}{2} \left(1 + \cos \frac{\pi t}{T}\right)

    It starts at ``lr``, falls slowly at first, fastest half way (lr / 2),
    and slowly again towards 0 at the end: big steps while the network is
    far from good, small ones to settle.

    >>> cosine_learning_rate(0, 100, 1e-3), cosine_learning_rate(50, 100, 1e-3)
    (0.001, 0.0005)
    """
    return 0.5 * lr * (1 + math.cos(math.pi * step / steps))


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
    status: str  # "finished", "stopped", "interrupted" or "diverged" (see d2lstyle.runlog)
    message: str = ""
    loss_weights: dict = None  # {"content": {layer: w}, "style": {layer: w}}: the per-layer weights
    checkpoint: dict = None  # what save_training_checkpoint needs to resume this run

    @property
    def final_loss(self):
        return self.history["total"][-1] if self.history["total"] else math.nan


def image_fingerprint(img):
    """A short hash of a PIL image's pixels: a checkpoint resumes only with the same painting."""
    return hashlib.sha256(img.tobytes() + repr(img.size).encode()).hexdigest()[:16]


def train_painter(style_img, photos=None, settings=None, vgg=None, *, device=None, callbacks=(), progress=True,
                  resume=None, start_from=None):
    """Train a :class:`~d2lstyle.painter.Painter` for the painting ``style_img``; returns a :class:`TrainingResult`.

    ``style_img`` and ``photos`` are PIL images or paths (``photos`` None:
    :func:`~d2lstyle.painter.training_photos`); ``style_img`` may also be a list of paintings, for one painter
    that paints them all (conditional instance normalisation: each painting its own normalisation scales and
    shifts, every convolution shared; step t trains painting t mod S). ``vgg`` is a :class:`~d2lstyle.vgg.VGG19`
    (the original VGG-19 by default: ``d2lstyle.load_vgg19()``). Each painting is
    seen at :func:`~d2lstyle.painter.painting_long_side` (one too small for the
    style layers is refused). Each step:

    1. a batch of random crops p (:func:`~d2lstyle.painter.photo_batch`) and,
       without gradients, their content features F^l(p);
    2. the painter's output x = f_W(p), its VGG features, and the loss
       (:func:`~d2lstyle.painter.batch_loss_terms`);
    3. backward, clip the gradient norm, one Adam step with the cosine
       learning rate (:func:`cosine_learning_rate`).

    ``start_from`` (a trained painter) adds the paintings to it instead: the result paints its paintings and
    then the new ones, and only the new ones' normalisation scales and shifts are trained (every other weight
    stays as it was). Each step costs as much as a step of a full training (the gradient still flows back
    through the whole network), but a few hundred steps at a larger learning rate suffice
    (:data:`~d2lstyle.painter.ADD_STEPS`, :data:`~d2lstyle.painter.ADD_LR`). ``settings`` must then describe
    the same network (channels, blocks, upsampling, padding). The result's painter paints painting 0 until
    :meth:`~d2lstyle.painter.Painter.choose_style` says otherwise.

    Every callback is called as ``callback(info)`` with a :class:`TrainingStep`
    after each step; one that returns True stops training. Ctrl-C stops it
    too, after the step under way has been completed or undone (never half
    an update); a loss or gradient that becomes NaN or infinite stops it
    before the update. Whatever stops it, the result holds the painter as it is and a
    ``checkpoint`` to resume from (:func:`~d2lstyle.painter.save_training_checkpoint`,
    :func:`~d2lstyle.painter.load_training_checkpoint`, then ``resume=``): a resumed run
    continues with the same optimiser state and the same batches, so it ends
    as an uninterrupted run would.
    """
    settings = settings or PainterSettings()
    if vgg is None:
        raise InputError("train_painter needs vgg: load it with d2lstyle.load_vgg19() or settings.load_vgg()")
    paintings = list(style_img) if isinstance(style_img, (list, tuple)) else [style_img]
    if not paintings:
        raise ImageError("train_painter needs at least one painting")
    paintings = [images.load_image(img) if not isinstance(img, Image.Image) else img for img in paintings]
    long_sides = [painting_long_side(img.size, settings) for img in paintings]
    photos = training_photos() if photos is None else photos
    photos = [shrink_for_crops(images.load_image(photo) if not isinstance(photo, Image.Image) else photo,
                               settings.crop, settings.max_crop_scale) for photo in photos]
    if not photos:
        raise ImageError("train_painter needs at least one training photo")
    vgg = vgg if isinstance(vgg, VGG19) else VGG19(vgg, description="a VGG-19 features stack")
    device = torch.device(device) if device is not None else device_of(vgg)
    vgg = channels_last_network(vgg, device)
    extractor = FeatureExtractor(vgg, list(settings.content_layers) + list(settings.style_layers))
    content_extractor = FeatureExtractor(vgg, settings.content_layers)
    if settings.crop < extractor.min_size:
        raise PainterError(f"crops of {settings.crop} px are too small for layer {extractor.layers[-1]}: "
                           f"use at least {extractor.min_size} px")

    grams = []  # one dict (layer -> Gram matrix) per painting
    with torch.no_grad():
        for img, long_side in zip(paintings, long_sides):
            style_features = extractor(fast_layout(images.preprocess(img, long_side).to(device)))
            grams.append({name: losses.gram_matrix(style_features[name]) for name in settings.style_layers})
    style_print = "+".join(image_fingerprint(img) for img in paintings)
    if start_from is None:
        first = 0  # the index, in the painter, of the first painting trained here
        painter = new_painter(settings, len(paintings)).to(device)
        trained = list(painter.parameters())
    else:
        first = start_from.styles
        painter = painter_with_more_paintings(start_from, settings, len(paintings)).to(device)
        trained = only_new_paintings_train(painter, first)
        style_print = f"{state_fingerprint(start_from)}+{style_print}"
    optimizer = torch.optim.Adam(trained, lr=settings.lr)
    if resume is not None:
        history, weights = restore_checkpoint(resume, settings, style_print, vgg.description, painter, optimizer)
    else:
        history = new_history(HISTORY_COLUMNS)
        with torch.no_grad():
            # a batch that no training step draws (they draw steps 0 .. steps - 1)
            sample = photo_batch(photos, settings.crop, max(settings.batch_size, 4), settings.seed, settings.steps,
                                 settings.max_crop_scale)
            sample_features = content_extractor(fast_layout(sample.to(device)))
            recipes = [loss_recipe(settings, painting_grams, sample_features) for painting_grams in grams]
        weights = {"content": dict(recipes[0].content_layers),
                   "style": [dict(recipe.style_layers) for recipe in recipes]}
    recipes = [recipe_from_weights(settings, weights["content"], style) for style in weights["style"]]
    title = "training the painter" if len(paintings) == 1 else f"training the painter on {len(paintings)} paintings"
    log = RunLog(settings.steps, history, callbacks, progress, title=title)

    def checkpoint():
        return training_checkpoint(painter, optimizer, log.history, settings, weights, style_print, vgg.description)

    status, message = "finished", ""
    painter.train()
    try:
        while log.done < settings.steps:
            step = log.done + 1
            lr = cosine_learning_rate(log.done, settings.steps, settings.lr)
            batch = photo_batch(photos, settings.crop, settings.batch_size, settings.seed, log.done,
                                settings.max_crop_scale).to(device)
            painting = log.done % len(paintings)  # the paintings take turns
            painter.choose_style(first + painting)
            with torch.no_grad():
                content_targets = content_extractor(fast_layout(batch))
            optimizer.zero_grad(set_to_none=True)
            y = painter(fast_layout(batch))
            terms = batch_loss_terms(y, extractor(fast_layout(y)), content_targets, grams[painting],
                                     recipes[painting])
            values = {name: float(value.detach()) for name, value in terms.items()}
            if not math.isfinite(values["total"]):
                raise StopRun("diverged", f"the loss became NaN or infinite at step {step}; kept the painter from "
                                          f"before it. Try a smaller learning rate than {settings.lr:g} or a smaller "
                                          "max_grad_norm")
            terms["total"].backward()
            gradient_norm = nn.utils.clip_grad_norm_(trained, settings.max_grad_norm)
            if not torch.isfinite(gradient_norm):
                raise StopRun("diverged", f"the gradient became NaN or infinite at step {step} (the loss was "
                                          f"{values['total']:.3g}); kept the painter from before it. Try smaller "
                                          f"loss weights or a smaller learning rate than {settings.lr:g}")
            with _ctrl_c_waits():  # an update is never left half-done
                for group in optimizer.param_groups:
                    group["lr"] = lr
                optimizer.step()
                seconds = log.record_step(values, lr=lr)
            log.ask_callbacks(TrainingStep(log.done, settings.steps, values, painter, seconds, log.history,
                                           checkpoint))
    except StopRun as stop:
        status, message = stop.status, stop.message
    except KeyboardInterrupt:
        status, message = "interrupted", log.stopped_by("interrupted by Ctrl-C")
    finally:
        log.close()
    painter.eval()
    painter.choose_style(0)
    return TrainingResult(painter, settings, log.history, status, message, weights, checkpoint())


def painter_with_more_paintings(painter, settings, more):
    """A copy of the trained ``painter`` that paints ``more`` paintings besides its own: every weight copied,
    and in each normalisation layer, the new paintings' scales and shifts start as the mean of the old ones'.

    >>> from d2lstyle.painter import PainterSettings
    >>> settings = PainterSettings(channels=(4, 8, 8), residual_blocks=1)
    >>> wider = painter_with_more_paintings(new_painter(settings, 2), settings, 1)
    >>> wider.styles, tuple(wider.encoder[0][1].weight.shape)
    (3, (3, 4))
    """
    old = painter.state_dict()
    wider = new_painter(settings, painter.styles + more)
    state = wider.state_dict()
    if set(old) != set(state) or any(old[key].shape[-1:] != state[key].shape[-1:] for key in old):
        raise PainterError("the settings describe another network than the painter's (channels, residual blocks): "
                           "add paintings with the settings the painter was trained with")
    for key, value in old.items():
        if value.shape == state[key].shape:
            state[key] = value.detach().clone()
        else:  # a normalisation layer's scales or shifts: (S, C), or (C,) for one painting
            rows = value.detach().reshape(-1, value.shape[-1])
            state[key] = torch.cat([rows, rows.mean(dim=0, keepdim=True).expand(more, -1)])
    wider.load_state_dict(state)
    return wider.to(device_of(painter), memory_format=torch.channels_last)


def only_new_paintings_train(painter, first):
    """Freeze everything in ``painter`` but the normalisation scales and shifts of paintings ``first`` onwards
    (their gradients for earlier paintings are set to 0); returns the parameters to give the optimiser."""
    trained = []
    for parameter in painter.parameters():
        parameter.requires_grad_(False)
    for module in painter.modules():
        if isinstance(module, ConditionalInstanceNorm):
            keep = torch.zeros_like(module.weight[:, :1])
            keep[first:] = 1
            for parameter in (module.weight, module.bias):
                parameter.requires_grad_(True)
                parameter.register_hook(lambda grad, keep=keep: grad * keep)
                trained.append(parameter)
    return trained


def state_fingerprint(painter):
    """A short hash of a painter's weights: a checkpoint of added paintings resumes only on the same painter."""
    digest = hashlib.sha256()
    for key, value in sorted(painter.state_dict().items()):
        digest.update(key.encode() + value.detach().to("cpu", torch.float32).contiguous().numpy().tobytes())
    return digest.hexdigest()[:16]


def channels_last_network(vgg, device):
    """``vgg`` on ``device`` with its weights stored channels-last, like the images it is given:
    else every convolution reorders its weights at every call, which on small crops costs more than
    the convolution itself. A converted copy; ``vgg`` itself when it already is so."""
    weight = vgg[0].weight
    if weight.device == torch.device(device) and weight.is_contiguous(memory_format=torch.channels_last):
        return vgg
    return copy.deepcopy(vgg).to(device, memory_format=torch.channels_last)


def restore_checkpoint(checkpoint, settings, style_print, network, painter, optimizer):
    """Load a training checkpoint's state into ``painter`` and ``optimizer``
    after checking it belongs to this run; returns (history, loss weights)."""
    if checkpoint["settings"] != settings.as_dict():
        changed = sorted(key for key, value in settings.as_dict().items() if checkpoint["settings"].get(key) != value)
        raise PainterError(f"the checkpoint was made with other settings ({', '.join(changed)} differ); resume with "
                           "the same options")
    if checkpoint["style"] != style_print:
        raise PainterError("the checkpoint was made with other paintings (or another painter to add them to); "
                           "resume with the same style images")
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
