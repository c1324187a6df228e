"""Checkpoints: save a run's image and loss history, and resume from them.

A checkpoint holds the synthesised image (standardised, as the pipeline keeps
images), the loss history so far, and the settings it was made with: the
recipe (every field of it) and the network. Resuming with other settings is
refused, since the history would then mix two different runs. The
optimiser's internal state is not saved: a resumed run starts Adam's moments
(or L-BFGS' memory) afresh from the saved image.

>>> import tempfile, pathlib, torch
>>> from d2lstyle.recipes import get_recipe
>>> path = pathlib.Path(tempfile.mkdtemp()) / "run.ckpt"
>>> _ = save_checkpoint(path, torch.zeros(1, 3, 4, 4), {"step": [1, 2]}, get_recipe("d2l"), "random (seed 0)")
>>> checkpoint = load_checkpoint(path)
>>> checkpoint["history"]["step"], checkpoint["recipe"]
([1, 2], 'd2l')
"""

import dataclasses
import hashlib
from pathlib import Path

import torch

from . import files
from .errors import CheckpointError

FORMAT = "d2lstyle-checkpoint-2"


def recipe_fingerprint(recipe):
    """A short hash of every setting of ``recipe``: equal only for the same settings.

    >>> from d2lstyle.recipes import get_recipe
    >>> d2l = get_recipe("d2l")
    >>> recipe_fingerprint(d2l) == recipe_fingerprint(d2l.replace(style_weight=1.0))
    False
    """
    fields = dataclasses.asdict(recipe)
    for ignored in ("summary", "source", "notes"):  # words, not settings
        fields.pop(ignored)
    return hashlib.sha256(repr(sorted(fields.items())).encode()).hexdigest()[:16]


def save_checkpoint(path, image, history, recipe, network=""):
    """Save the current image and loss history so that a run can resume.

    ``network`` is the network's description (``vgg.description``).
    Written to a temporary file and renamed
    (:func:`d2lstyle.files.write_atomically`), so a crash never leaves half
    a checkpoint. Returns the path written.
    """
    payload = {
        "format": FORMAT,
        "image": image.detach().to("cpu", torch.float32).clone(),
        "history": {key: list(values) for key, values in history.items()},
        "recipe": recipe.name,
        "fingerprint": recipe_fingerprint(recipe),
        "steps": recipe.steps,
        "network": network,
    }
    return files.write_atomically(Path(path), lambda file: torch.save(payload, file), CheckpointError)


def load_checkpoint(path):
    """Read a checkpoint written by :func:`save_checkpoint` (a dict)."""
    path = Path(path)
    payload = files.load_torch_file(path, "d2lstyle checkpoint", CheckpointError)
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise CheckpointError(f"{path}: not a d2lstyle checkpoint (or one from an older version)")
    image = payload.get("image")
    if not (isinstance(image, torch.Tensor) and image.dim() == 4 and image.shape[:2] == (1, 3)
            and torch.isfinite(image).all()):
        raise CheckpointError(f"{path}: the checkpoint's image is damaged")
    return payload


def validate_resumable(checkpoint, recipe, network=""):
    """``(history, image, steps done)`` from a checkpoint, after checking that
    it was made with the same recipe settings and network."""
    if checkpoint["fingerprint"] != recipe_fingerprint(recipe):
        raise CheckpointError(
            f"the checkpoint is from recipe {checkpoint['recipe']!r} ({checkpoint['steps']} steps) with other "
            f"settings than this run ({recipe.name!r}, {recipe.steps} steps); resume with the same options"
        )
    if network and checkpoint["network"] and checkpoint["network"] != network:
        raise CheckpointError(f"the checkpoint was made with the network {checkpoint['network']}, "
                              f"not {network}; resume with the same network")
    history = {key: list(values) for key, values in checkpoint["history"].items()}
    done = history["step"][-1] if history.get("step") else 0
    if done >= recipe.steps:
        raise CheckpointError(f"the checkpoint's run is already complete ({done} of {recipe.steps} steps)")
    return history, checkpoint["image"], done
