"""Where VGG-19's weights come from: ImageNet (downloaded once), a file, or a seeded random draw.

Three choices, always made explicitly:

- ``"imagenet"``: torchvision's ``VGG19_Weights.IMAGENET1K_V1``, downloaded once
  into the torch cache (``torch.hub.get_dir()/checkpoints``) with a progress bar
  and a check of the file's SHA-256 hash. Without network access this fails with
  a :class:`~d2lstyle.errors.WeightsUnavailableError` that says where to put the
  file by hand and how to use random weights instead.
- ``"random"``: He-initialised weights drawn from a seeded generator. They make
  every step of the pipeline run (and are what the tests and offline notebooks
  use), but the "features" they compute are not the features of a trained
  network, so the pictures they give are not real style transfer.
- a path to a state dict file: either a whole torchvision VGG-19
  (``features.0.weight`` ...) or only its ``features`` part (``0.weight`` ...).
  It is read with ``torch.load(..., weights_only=True)``, which refuses files
  that would run code when unpickled.

>>> state = random_state_dict(seed=0)
>>> tuple(state["0.weight"].shape), len(state)
((64, 3, 3, 3), 32)
"""

import math
import pickle
import urllib.error
import zipfile
from pathlib import Path

import torch

from .errors import WeightsError, WeightsUnavailableError

# torchvision's VGG19_Weights.IMAGENET1K_V1. The hex digits in the file name are
# the first digits of the file's SHA-256 hash, which torch.hub checks.
IMAGENET_URL = "https://download.pytorch.org/models/vgg19-dcbb9e9d.pth"

# VGG-19's convolutions: (index in vgg19().features, in channels, out channels).
VGG19_CONVOLUTIONS = (
    (0, 3, 64), (2, 64, 64),
    (5, 64, 128), (7, 128, 128),
    (10, 128, 256), (12, 256, 256), (14, 256, 256), (16, 256, 256),
    (19, 256, 512), (21, 512, 512), (23, 512, 512), (25, 512, 512),
    (28, 512, 512), (30, 512, 512), (32, 512, 512), (34, 512, 512),
)


def expected_shapes():
    """The shape of every tensor in a VGG-19 ``features`` state dict."""
    shapes = {}
    for index, in_channels, out_channels in VGG19_CONVOLUTIONS:
        shapes[f"{index}.weight"] = (out_channels, in_channels, 3, 3)
        shapes[f"{index}.bias"] = (out_channels,)
    return shapes


def cache_path(url=IMAGENET_URL):
    """Where torch.hub keeps (or will keep) the downloaded weights file."""
    return Path(torch.hub.get_dir()) / "checkpoints" / url.rsplit("/", 1)[-1]


def describe(weights, seed=0):
    """A one-line description of a weights choice, for printing.

    >>> describe("random", seed=3)
    'random (seed 3): NOT pretrained; pictures will not look like real style transfer'
    """
    if weights == "imagenet":
        return "imagenet (torchvision VGG19_Weights.IMAGENET1K_V1, pretrained)"
    if weights == "random":
        return f"random (seed {seed}): NOT pretrained; pictures will not look like real style transfer"
    return f"file {weights}"


def get_state_dict(weights="imagenet", seed=0, progress=True):
    """The ``features`` state dict for a weights choice ("imagenet", "random" or a path)."""
    if weights == "imagenet":
        return imagenet_state_dict(progress=progress)
    if weights == "random":
        return random_state_dict(seed)
    if isinstance(weights, (str, Path)):
        return state_dict_from_file(weights)
    raise WeightsError(f"weights must be 'imagenet', 'random' or a file path, not {weights!r}")


def unavailable_message(url, reason):
    """The message shown when the ImageNet weights cannot be downloaded."""
    return (
        f"could not download the pretrained VGG-19 weights from {url} ({reason}). "
        f"Download that file on a machine with internet access and put it at {cache_path(url)} "
        "(or anywhere, and pass its path: --weights PATH / D2LSTYLE_WEIGHTS=PATH), "
        "or run with random weights instead: --weights random / D2LSTYLE_WEIGHTS=random "
        "(everything runs, but the pictures are not real style transfer)"
    )


def imagenet_state_dict(url=IMAGENET_URL, progress=True):
    """Download (once) and load torchvision's pretrained VGG-19 ``features``.

    The file goes into the torch cache; a later call loads it from there
    without touching the network. torch.hub downloads into a temporary file
    and renames it only after the hash check, so a failed or interrupted
    download leaves nothing half-written behind.
    """
    cached = cache_path(url)
    try:
        state = torch.hub.load_state_dict_from_url(
            url, progress=progress, check_hash=True, map_location="cpu",
            file_name=cached.name, weights_only=True,
        )
    except urllib.error.URLError as error:
        raise WeightsUnavailableError(unavailable_message(url, getattr(error, "reason", error))) from None
    except (ConnectionError, TimeoutError) as error:
        raise WeightsUnavailableError(unavailable_message(url, error)) from None
    except RuntimeError as error:
        if "invalid hash value" in str(error):
            raise WeightsError(
                f"the file downloaded from {url} failed its SHA-256 check ({error}); it was not saved. "
                "Try again; if it keeps failing, the download is being altered on its way"
            ) from None
        raise _unreadable(cached, error) from None
    except (pickle.UnpicklingError, EOFError, zipfile.BadZipFile, OSError) as error:
        raise _unreadable(cached, error) from None
    return check_state_dict(state, source=cached)


def _unreadable(path, error):
    return WeightsError(
        f"{path}: not a readable PyTorch weights file ({type(error).__name__}: {error}). "
        "If it is the cached download, delete it and run again"
    )


def state_dict_from_file(path):
    """Load and check a VGG-19 state dict saved with ``torch.save``.

    Accepts a whole VGG-19 (``features.*`` and ``classifier.*`` keys; the
    classifier is dropped) or only ``features`` (``0.weight`` ...). Refuses,
    with a message saying why: a missing file, a file that is not a state dict,
    a pickle that would run code, and tensors with the wrong names or shapes.
    """
    path = Path(path)
    if not path.is_file():
        hint = " (a folder)" if path.is_dir() else ""
        raise WeightsError(
            f"{path}: no such weights file{hint}; --weights takes 'imagenet', 'random' or the path of a .pth file"
        )
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as error:
        if "global" not in str(error).lower():  # garbage, not a pickle that names code to run
            raise _unreadable(path, error) from None
        raise WeightsError(
            f"{path}: refused: it is not a plain state dict of tensors, and loading it would run code "
            "from the file (torch.load with weights_only=True refused it); load only weights files you trust"
        ) from None
    except (RuntimeError, EOFError, zipfile.BadZipFile, OSError, ValueError) as error:
        raise _unreadable(path, error) from None
    return check_state_dict(state, source=path)


def check_state_dict(state, source="state dict"):
    """Return the ``features`` part of ``state`` with keys ``0.weight`` ...,
    after checking that every tensor VGG-19 needs is there with its shape."""
    if isinstance(state, dict) and isinstance(state.get("state_dict"), dict):
        state = state["state_dict"]
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise WeightsError(f"{source}: expected a state dict (a dict of tensors), found {type(state).__name__}")
    features = {}
    for key, value in state.items():
        key = key.removeprefix("module.")
        if key.startswith("classifier."):
            continue
        features[key.removeprefix("features.")] = value
    expected = expected_shapes()
    missing = [k for k in expected if k not in features]
    unexpected = [k for k in features if k not in expected]
    wrong = [
        f"{k} is {tuple(features[k].shape)}, expected {expected[k]}"
        for k in expected if k in features and tuple(features[k].shape) != expected[k]
    ]
    problems = []
    if missing:
        problems.append(f"missing {', '.join(missing[:4])}{' ...' if len(missing) > 4 else ''}")
    if unexpected:
        problems.append(f"unexpected {', '.join(unexpected[:4])}{' ...' if len(unexpected) > 4 else ''}")
    if wrong:
        problems.append("; ".join(wrong[:4]))
    if problems:
        raise WeightsError(f"{source}: not VGG-19 weights: {'; '.join(problems)}")
    non_finite = [k for k in expected if not torch.isfinite(features[k]).all()]
    if non_finite:
        raise WeightsError(f"{source}: holds NaN or infinite values in {', '.join(non_finite[:4])}")
    return {k: features[k].float() for k in expected}


def random_state_dict(seed=0):
    """Seeded random VGG-19 ``features`` weights (He initialisation).

    Each convolution's weights are drawn from N(0, 2 / fan_in) with
    fan_in = 9 * in_channels, so that the variance of the activations stays
    roughly constant from layer to layer through the ReLUs; biases are zero.
    The same seed always gives the same weights, on every machine.
    """
    generator = torch.Generator().manual_seed(seed)
    state = {}
    for index, in_channels, out_channels in VGG19_CONVOLUTIONS:
        std = math.sqrt(2.0 / (9 * in_channels))
        state[f"{index}.weight"] = torch.randn(out_channels, in_channels, 3, 3, generator=generator) * std
        state[f"{index}.bias"] = torch.zeros(out_channels)
    return state
