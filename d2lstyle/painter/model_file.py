"""The painter's two files: a model file (:func:`save_painter`, :func:`load_painter`), which holds a trained
painter and the settings it was trained with, and a training checkpoint (:func:`save_training_checkpoint`,
:func:`load_training_checkpoint`), which holds what a run needs to resume exactly where it stopped.

Both are dicts of tensors and plain values under a format tag, written atomically and read with
``torch.load(..., weights_only=True)`` (:func:`d2lstyle.files.load_torch_file`), which never runs code from
the file. A file of the wrong kind ends in one :class:`~d2lstyle.errors.PainterError` line that says what it is.

>>> import tempfile
>>> from d2lstyle.painter import PainterSettings, new_painter
>>> settings = PainterSettings(channels=(4, 8, 8), residual_blocks=1)
>>> path = save_painter(Path(tempfile.mkdtemp()) / "tiny.pt", new_painter(settings), settings, style="stripes.png")
>>> saved = load_painter(path)
>>> saved.style, saved.settings == settings, describe_painter_file(path)
('stripes.png', True, 'a d2lstyle painter model file')

A painter of several paintings is saved with their names, in the order of its styles:

>>> path = save_painter(path, new_painter(settings, 2), settings, style=["stripes.png", "dots.png"])
>>> saved = load_painter(path)
>>> saved.styles, saved.painter.styles, saved.style_index("dots")
(['stripes.png', 'dots.png'], 2, 1)
"""

import copy
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from ..errors import D2lStyleError, InputError, PainterError
from ..files import describe_file, load_torch_file, write_atomically
from ..objective import LOSS_TERMS
from .network import Painter, new_painter
from .settings import PainterSettings

FORMAT = "d2lstyle-painter-3"
CHECKPOINT_FORMAT = "d2lstyle-painter-training-3"
# Model files of earlier formats that still load: format -> the settings such a file lacks, with the values its
# painter was trained with (format 1: crops at 1 to 2 crop sizes, nearest-neighbour upsampling, reflection
# padding, before those were settings; format 2: one painting per file, before painters of several).
EARLIER_FORMATS = {"d2lstyle-painter-1": {"max_crop_scale": 2.0, "upsample": "nearest", "padding": "reflect"},
                   "d2lstyle-painter-2": {}}
# Training checkpoints of this format resume after an update (a format-2 checkpoint holds one painting's loss
# weights as a dict, where format 3 holds a list of them); those of the others are refused.
RESUMABLE_CHECKPOINT_FORMATS = ("d2lstyle-painter-training-2",)
EARLIER_CHECKPOINT_FORMATS = ("d2lstyle-painter-training-1",)
MODEL_FILE = "d2lstyle painter model file"
CHECKPOINT_FILE = "d2lstyle painter training checkpoint"
# What a training checkpoint holds (training_checkpoint writes them all).
CHECKPOINT_KEYS = ("painter", "optimizer", "history", "settings", "loss_weights", "style", "network")


# --- model files ---------------------------------------------------------------------------------


def save_painter(path, result_or_painter, settings=None, style="", network="", history=None):
    """Save a trained painter as a model file; returns the path.

    Pass a :class:`~d2lstyle.painter.TrainingResult` (its painter, settings
    and history are saved) or a painter with its ``settings``. The file holds
    the weights (tensors only), the settings, the painting's name (``style``; a list of names, one per
    painting, for a painter of several), the VGG-19 it was trained with, the last losses and the training
    time, under a format tag; it is written atomically (:func:`d2lstyle.files.write_atomically`).
    """
    if isinstance(result_or_painter, nn.Module):
        painter = result_or_painter
    else:  # a TrainingResult
        result = result_or_painter
        painter, settings, history = result.painter, result.settings, result.history
        network = network or result.checkpoint["network"]
    if settings is None:
        raise InputError("save_painter needs the settings the painter was trained with")
    styles = [str(name) for name in style] if isinstance(style, (list, tuple)) else [str(style)]
    if len(styles) != painter.styles:
        raise InputError(f"the painter paints {painter.styles} paintings, but {len(styles)} names were given")
    if len(styles) > 1 and len({style_name(name) for name in styles}) < len(styles):
        raise PainterError(f"two paintings would have the same name ({', '.join(styles)}); rename one")
    history = history or {}
    payload = {
        "format": FORMAT,
        "state_dict": cpu_state(painter.state_dict()),
        "settings": settings.as_dict(),
        "style": ", ".join(styles),
        "styles": styles,
        "training_seconds": float(history["seconds"][-1]) if history.get("seconds") else 0.0,
        "network": str(network),
        "steps_done": int(history["step"][-1]) if history.get("step") else 0,
        "final_losses": {name: float(history[name][-1]) for name in LOSS_TERMS if history.get(name)},
    }
    return write_atomically(Path(path), lambda file: torch.save(payload, file), PainterError)


@dataclass
class SavedPainter:
    """A model file read by :func:`load_painter`."""

    painter: Painter  # in eval mode, on the device asked for
    settings: PainterSettings
    style: str  # the painting's name, as given when it was saved (the names, joined by commas, for several)
    network: str  # the VGG-19 it was trained with
    steps_done: int
    final_losses: dict
    styles: list = None  # the paintings' names, one per style of the painter
    training_seconds: float = 0.0  # wall time of its training (0: not recorded)

    def style_index(self, name):
        """The index of the painting called ``name`` (its file name, with or without the extension, in any
        case); an unknown name raises :class:`~d2lstyle.errors.PainterError` listing the names there are."""
        wanted = style_name(name)
        for index, known in enumerate(self.styles):
            if style_name(known) == wanted:
                return index
        raise PainterError(f"the painter has no painting called {name!r}; it paints "
                           + ", ".join(style_name(known) for known in self.styles))


def style_name(name):
    """The short name of a painting, as ``--style`` takes it: its file name without folder and extension,
    in lower case.

    >>> style_name("images/style/Starry_Night.jpg")
    'starry_night'
    """
    return Path(str(name)).stem.lower()


def load_painter(path, device="cpu", hint=""):
    """Read a model file written by :func:`save_painter`; returns a :class:`SavedPainter`.

    Loaded with ``weights_only=True`` (a file that would run code is
    refused). A missing, empty, truncated or foreign file (a VGG-19 weights
    file, a training checkpoint, a picture), one from another version, or
    one whose weights do not fit its settings or hold NaN ends in a
    :class:`~d2lstyle.errors.PainterError` that says which; ``hint`` (what to
    pass instead) is added where the file is of the wrong kind.
    """
    payload = load_torch_file(path, MODEL_FILE, PainterError, hint)
    hint = f"; {hint}" if hint else ""
    if not isinstance(payload, dict) or "format" not in payload:
        raise PainterError(f"{path}: not a {MODEL_FILE} (it holds no d2lstyle format tag; is it another "
                           f"network's weights?){hint}")
    if payload["format"] == CHECKPOINT_FORMAT or payload["format"] in RESUMABLE_CHECKPOINT_FORMATS:
        raise PainterError(f"{path}: is a training checkpoint, not a model file; finish the training with "
                           "`d2lstyle-painter train ... --resume` to get the model")
    if payload["format"] != FORMAT and payload["format"] not in EARLIER_FORMATS:
        raise PainterError(f"{path}: a model file of format {payload['format']!r}, which this version of "
                           f"d2lstyle does not read (it reads {FORMAT!r}); train the model again")
    try:
        settings = PainterSettings.from_dict({**EARLIER_FORMATS.get(payload["format"], {}),
                                              **dict(payload["settings"])})
        state = payload["state_dict"]
        styles = [str(name) for name in payload.get("styles", [payload.get("style", "")])]
        painter = new_painter(settings, len(styles))
        painter.load_state_dict(state)
    except (KeyError, TypeError, ValueError, RuntimeError, D2lStyleError) as error:
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise PainterError(f"{path}: a damaged model file: its weights do not fit its settings ({first_line})") from None
    if not all(torch.isfinite(value).all() for value in state.values() if value.is_floating_point()):
        raise PainterError(f"{path}: a damaged model file: its weights hold NaN or infinite values")
    painter.eval().to(device)
    return SavedPainter(painter, settings, str(payload.get("style", "")), str(payload.get("network", "")),
                        int(payload.get("steps_done", 0)), dict(payload.get("final_losses", {})), styles,
                        float(payload.get("training_seconds", 0.0)))


# --- training checkpoints ------------------------------------------------------------------------


def training_checkpoint(painter, optimizer, history, settings, loss_weights, style, network):
    """A training checkpoint, as a dict of copies (later steps do not change it): the painter's weights and
    Adam's state on the CPU, the history, the settings, the per-layer loss weights, the painting's fingerprint
    (``style``) and the VGG-19's description (``network``)."""
    return {
        "format": CHECKPOINT_FORMAT,
        "painter": cpu_state(painter.state_dict()),
        "optimizer": copy.deepcopy(optimizer.state_dict()),
        "history": {key: list(values) for key, values in history.items()},
        "settings": settings.as_dict(),
        "loss_weights": loss_weights,
        "style": style,
        "network": network,
    }


def save_training_checkpoint(path, checkpoint):
    """Save what :func:`~d2lstyle.painter.train_painter` needs to resume a run (weights, Adam's
    state, history, settings): ``result.checkpoint`` of a :class:`~d2lstyle.painter.TrainingResult`
    (or the result itself), or ``info.checkpoint()`` in a callback. Written atomically."""
    if not isinstance(checkpoint, dict):  # a TrainingResult
        checkpoint = checkpoint.checkpoint
    return write_atomically(Path(path), lambda file: torch.save(checkpoint, file), PainterError)


def load_training_checkpoint(path, hint=""):
    """Read a training checkpoint (a dict for ``train_painter(..., resume=)``); ``hint`` (what to do
    instead) is added where the file is missing or of the wrong kind."""
    payload = load_torch_file(path, CHECKPOINT_FILE, PainterError, hint)
    hint = f"; {hint}" if hint else ""
    tag = payload.get("format") if isinstance(payload, dict) else None
    if tag == FORMAT or tag in EARLIER_FORMATS:
        raise PainterError(f"{path}: is a {MODEL_FILE}, not a training checkpoint{hint}")
    if tag in EARLIER_CHECKPOINT_FORMATS:
        raise PainterError(f"{path}: a training checkpoint of format {tag!r}, from an earlier d2lstyle whose "
                           f"training this one cannot resume (it resumes {CHECKPOINT_FORMAT!r}); start the "
                           "training again")
    if not isinstance(payload, dict) or (tag != CHECKPOINT_FORMAT and tag not in RESUMABLE_CHECKPOINT_FORMATS):
        raise PainterError(f"{path}: not a {CHECKPOINT_FILE}{hint}")
    missing = [key for key in CHECKPOINT_KEYS if key not in payload]
    if missing:
        raise PainterError(f"{path}: a damaged training checkpoint (missing {', '.join(missing)})")
    if tag in RESUMABLE_CHECKPOINT_FORMATS and isinstance(payload["loss_weights"].get("style"), dict):
        payload["loss_weights"] = {**payload["loss_weights"], "style": [payload["loss_weights"]["style"]]}
        payload["format"] = CHECKPOINT_FORMAT
    return payload


# --- helpers --------------------------------------------------------------------------------------


def describe_painter_file(path):
    """What the file at ``path`` holds, in words, knowing the painter's own files: ``"a d2lstyle painter
    model file"``, ``"a d2lstyle painter training checkpoint"``, ``"a PyTorch file of another kind"``, else
    what :func:`d2lstyle.files.describe_file` says (``"a picture (PNG)"``, ``"a text file"``, ...).
    Read with ``weights_only=True``: nothing in the file is run."""
    try:
        payload = load_torch_file(path, "PyTorch file")
    except D2lStyleError:
        return describe_file(path)
    tag = payload.get("format") if isinstance(payload, dict) else None
    if isinstance(tag, str) and (tag == FORMAT or tag in EARLIER_FORMATS):
        return f"a {MODEL_FILE}"
    if isinstance(tag, str) and (tag == CHECKPOINT_FORMAT or tag in EARLIER_CHECKPOINT_FORMATS
                                 or tag in RESUMABLE_CHECKPOINT_FORMATS):
        return f"a {CHECKPOINT_FILE}"
    return "a PyTorch file of another kind"


def cpu_state(state):
    """A copy of a ``state_dict`` of tensors, on the CPU (what a file stores)."""
    return {key: value.detach().to("cpu").clone() for key, value in state.items()}
