"""Checkpoints: save a run's image and loss history, and resume from them.

A checkpoint holds the synthesised image (standardised, as the pipeline keeps
images), the loss history so far, and what the run was made with
(:func:`describe_run`): every setting of the recipe, the network, the seed,
the controls, and a hash of the pixels of the photo, each painting and each
mask. Resuming another run is refused, naming what differs, since the history
would then mix two different runs. The optimiser's internal state is not
saved: a resumed run starts Adam's moments (or L-BFGS' memory) afresh from the
saved image.

>>> import tempfile, pathlib, torch
>>> from d2lstyle.recipes import get_recipe
>>> path = pathlib.Path(tempfile.mkdtemp()) / "run.ckpt"
>>> _ = save_checkpoint(path, torch.zeros(1, 3, 4, 4), {"step": [1, 2]}, describe_run(get_recipe("d2l")))
>>> checkpoint = load_checkpoint(path)
>>> checkpoint["history"]["step"], checkpoint["run"]["settings"]["name"]
([1, 2], 'd2l')
"""

import dataclasses
import hashlib
import os
from pathlib import Path

import torch

from . import files, images
from .errors import CheckpointError

FORMAT = "d2lstyle-checkpoint-3"


def describe_run(recipe, network="", seed=None, photo=None, paintings=(), controls=None):
    """What makes a run's result what it is, as ``{"settings": {...}, "pictures": {...}}``.

    The settings are every setting of ``recipe`` (by its field name), then,
    where given, the network's description (``vgg.description``), the seed
    and the controls (a :class:`~d2lstyle.controls.Controls`); the pictures
    are a hash of the pixels of the photo, of each painting and of each mask
    (PIL images or image files). Two runs with equal descriptions compute the
    same thing; :func:`run_differences` says in words where two differ.

    >>> from d2lstyle.recipes import get_recipe
    >>> run = describe_run(get_recipe("d2l"), "random (seed 0)", seed=0)
    >>> run["settings"]["steps"], run["settings"]["network used"], run["pictures"]
    (500, 'random (seed 0)', {})
    """
    settings = dataclasses.asdict(recipe)
    for ignored in ("summary", "source", "notes"):  # words, not settings
        settings.pop(ignored)
    if network:
        settings["network used"] = network  # ("network" is the recipe's: the one its loss weights are for)
    if seed is not None:
        settings["seed"] = seed
    pictures = {}
    if photo is not None:
        pictures["the photo"] = pixels_hash(photo)
    for number, painting in enumerate(paintings, 1):
        pictures[f"style image {number}"] = None if painting is None else pixels_hash(painting)
    if paintings:
        settings["style images"] = len(paintings)
    if controls is not None:
        settings["preserve colors"] = controls.preserve_colors
        settings["style scale"] = controls.style_scale
        if paintings:
            settings["blend weights"] = controls.blend_for(len(paintings))
        masks = controls.masks or ()
        settings["masked styles"] = tuple(number for number, mask in enumerate(masks, 1) if mask is not None)
        for number, mask in enumerate(masks, 1):
            if mask is not None:
                pictures[f"the mask of style {number}"] = pixels_hash(mask)
    return {"settings": settings, "pictures": pictures}


def pixels_hash(img):
    """A short hash of a picture's pixels, size and mode (a PIL image or an image file): equal only for the
    same picture, whatever its file's name or format.

    >>> from PIL import Image
    >>> pixels_hash(Image.new("RGB", (2, 2))) == pixels_hash(Image.new("RGB", (2, 2), (0, 0, 1)))
    False
    """
    if isinstance(img, (str, os.PathLike)):
        img = images.load_image(img)
    digest = hashlib.sha256(f"{img.mode} {img.size}".encode())
    digest.update(img.tobytes())
    return digest.hexdigest()[:16]


def run_differences(saved, now):
    """What differs between the run ``saved`` described and the run ``now`` describes
    (:func:`describe_run`), in words; only what ``saved`` recorded counts.

    >>> from d2lstyle.recipes import get_recipe
    >>> d2l = get_recipe("d2l")
    >>> run_differences(describe_run(d2l), describe_run(d2l.replace(steps=20, pooling="avg")))
    ["pooling (was 'max', now 'avg')", 'steps (was 500, now 20)']
    """
    differences = [f"{name} (was {value!r}, now {now['settings'].get(name)!r})"
                   for name, value in saved["settings"].items() if now["settings"].get(name) != value]
    differences += [f"{name} (another picture)" for name, digest in saved["pictures"].items()
                    if now["pictures"].get(name) != digest]
    return differences


def save_checkpoint(path, image, history, run):
    """Save the current image and loss history so that a run can resume.

    ``run`` says what the run was made with: :func:`describe_run`'s
    description of it. Written to a temporary file and renamed
    (:func:`d2lstyle.files.write_atomically`), so a crash never leaves half
    a checkpoint. Returns the path written.
    """
    payload = {
        "format": FORMAT,
        "image": image.detach().to("cpu", torch.float32).clone(),
        "history": {key: list(values) for key, values in history.items()},
        "run": run,
    }
    return files.write_atomically(Path(path), lambda file: torch.save(payload, file), CheckpointError)


def load_checkpoint(path):
    """Read a checkpoint written by :func:`save_checkpoint` (a dict)."""
    path = Path(path)
    payload = files.load_torch_file(path, "d2lstyle checkpoint", CheckpointError)
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise CheckpointError(f"{path}: not a d2lstyle checkpoint (or one from an older version)")
    image, run = payload.get("image"), payload.get("run")
    if not (isinstance(image, torch.Tensor) and image.dim() == 4 and image.shape[:2] == (1, 3)
            and torch.isfinite(image).all()):
        raise CheckpointError(f"{path}: the checkpoint's image is damaged")
    if not (isinstance(payload.get("history"), dict) and isinstance(run, dict)
            and isinstance(run.get("settings"), dict) and isinstance(run.get("pictures"), dict)):
        raise CheckpointError(f"{path}: the checkpoint is damaged (its history or settings are missing)")
    return payload


def validate_resumable(checkpoint, run):
    """``(history, image, steps done)`` from a checkpoint, after checking that
    it was made by the run that ``run`` describes (:func:`describe_run`) and
    that this run has steps left."""
    differences = run_differences(checkpoint["run"], run)
    if differences:
        raise CheckpointError(f"the checkpoint is from another run than this one: {'; '.join(differences)}; "
                              "resume with the same options and files, or leave out --resume to start afresh")
    history = {key: list(values) for key, values in checkpoint["history"].items()}
    done = history["step"][-1] if history.get("step") else 0
    steps = run["settings"]["steps"]
    if done >= steps:
        raise CheckpointError(f"the checkpoint's run is already complete ({done} of {steps} steps)")
    return history, checkpoint["image"], done
