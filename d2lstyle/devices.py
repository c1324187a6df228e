"""Where a run computes, and how fast and in how much memory.

- :func:`pick_device`: the CPU, a CUDA GPU or Apple's MPS;
- :func:`fast_layout` and :func:`fast_dtype`: the memory layout and the
  number format that make VGG-19 fastest on a device (measurements in
  benchmarks/README.md);
- :func:`estimate_memory_bytes` and :func:`ensure_memory`: refuse, before any
  work, an image too large for the memory there is.

>>> pick_device("cpu")
device(type='cpu')
"""

import math

import torch

from .errors import InputError, MemoryEstimateError
from .vgg import layer_index, layer_table


def pick_device(name=None):
    """The torch device to run on: ``name`` if given ("cpu", "cuda", "mps",
    "cuda:1"), else CUDA if available, else Apple's MPS, else the CPU."""
    if name in (None, "", "auto"):
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    try:
        device = torch.device(name)
    except (RuntimeError, TypeError):
        raise InputError(f"unknown device {name!r}; use cpu, cuda or mps") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise InputError("device cuda was asked for, but PyTorch sees no CUDA GPU here; use --device cpu")
    if device.type == "cuda" and device.index is not None and device.index >= torch.cuda.device_count():
        raise InputError(f"device {name} was asked for, but there are only {torch.cuda.device_count()} CUDA GPUs")
    if device.type == "mps" and not torch.backends.mps.is_available():
        raise InputError("device mps was asked for, but it is not available here; use --device cpu")
    if device.type not in ("cpu", "cuda", "mps"):
        raise InputError(f"unknown device {name!r}; use cpu, cuda or mps")
    return device


def available_memory_bytes(device):
    """Free memory on ``device`` in bytes, or None where it cannot be told
    (MPS, or a system without /proc/meminfo)."""
    device = torch.device(device)
    if device.type == "cuda":
        return torch.cuda.mem_get_info(device)[0]
    if device.type == "cpu":
        try:
            with open("/proc/meminfo") as file:
                for line in file:
                    if line.startswith("MemAvailable:"):
                        return int(line.split()[1]) * 1024
        except OSError:
            return None
    return None


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

    >>> from d2lstyle.networks import load_vgg19
    >>> from d2lstyle.vgg import FeatureExtractor
    >>> extract = FeatureExtractor(load_vgg19("random"), ["relu1_1"])
    >>> network_features(extract, torch.randn(1, 3, 8, 8), torch.bfloat16)["relu1_1"].dtype
    torch.float32
    """
    if dtype is None:
        return extractor(x)
    with torch.autocast(x.device.type, dtype=dtype):
        features = extractor(x)
    return {name: value.float() for name, value in features.items()}


def estimate_memory_bytes(shape, recipe, gradients=True):
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

    With ``gradients=False``, the memory to compute an image's features once
    without autograd, as a painting's style targets are: two layers' outputs
    at a time (a layer's input and its output), one copy of each requested
    feature, the weights' two copies, and the image three times (the resized
    picture, its float array, the standardised tensor); the same 1.25 and
    256 MiB on top.

    >>> from d2lstyle.recipes import get_recipe
    >>> round(estimate_memory_bytes((341, 512), get_recipe("d2l")) / 2**20)
    1085
    >>> round(estimate_memory_bytes((341, 512), get_recipe("d2l"), gradients=False) / 2**20)
    601
    """
    height, width = shape
    requested = set(recipe.layers())
    deepest = max(layer_index(name) for name in requested)
    kept = features = largest = weights = 0
    for row in layer_table()[: deepest + 1]:
        if row["kind"] == "pool":
            height, width = height // 2, width // 2
        size = row["channels"] * height * width
        if row["kind"] == "conv":
            kept += size
            weights += (row["in_channels"] * 9 + 1) * row["channels"]
        elif row["kind"] == "pool":
            kept += size * (1 if recipe.pooling == "avg" else 3)  # int64 indices: 2 floats each
        if row["name"] in requested:
            features += size
        largest = max(largest, size)
    image = 3 * shape[0] * shape[1]
    if gradients:
        copies = 2 * recipe.lbfgs_history + 4 if recipe.optimizer == "lbfgs" else 6
        floats = kept + 2 * features + 3 * largest + 2 * weights + copies * image
    else:
        floats = 2 * largest + features + 2 * weights + 3 * image
    return int(4 * floats * 1.25) + 256 * 2**20


def ensure_memory(shape, recipe, device, style_scale=None):
    """Raise MemoryEstimateError, before any work, when an image of ``shape``
    cannot fit; else return the estimate in bytes.

    The image is the one optimised, or, given its ``style_scale``, a painting
    whose features are computed once, without gradients. The message says
    what would fit: a smaller ``--size``, or a smaller ``--style-scale``.
    """
    painting = style_scale is not None
    needed = estimate_memory_bytes(shape, recipe, gradients=not painting)
    available = available_memory_bytes(device)
    if available is None or needed <= 0.9 * available:
        return needed
    fixed = estimate_memory_bytes((0, 0), recipe, gradients=not painting)  # the weights and the work space
    if fixed > 0.9 * available:
        raise MemoryEstimateError(f"the network alone needs about {fixed / 2**30:.1f} GiB, but only "
                                  f"{available / 2**30:.1f} GiB is free on {device}; free some memory first")
    shrink = math.sqrt((0.9 * available - fixed) / (needed - fixed))  # how much shorter each side must be
    usage = f"needs about {needed / 2**30:.1f} GiB, but only {available / 2**30:.1f} GiB is free on {device}"
    if painting:
        raise MemoryEstimateError(
            f"the style image, {shape[0]}x{shape[1]} pixels at style scale {style_scale:g}, {usage}; use a "
            f"smaller style scale (--style-scale {round_down(style_scale * shrink):g} or less)"
        )
    fitting = int(max(shape) * shrink) // 16 * 16
    raise MemoryEstimateError(
        f"an image of {shape[0]}x{shape[1]} pixels {usage}; use a smaller size (--size {max(fitting, 16)} "
        "or less)"
    )


def round_down(value):
    """``value`` (> 0) rounded down to two significant digits: advice that never overshoots a limit.

    >>> round_down(0.04567), round_down(0.3), round_down(1234.5)
    (0.045, 0.3, 1200.0)
    """
    unit = 10 ** (math.floor(math.log10(value)) - 1)
    return float(f"{math.floor(value / unit + 1e-9) * unit:.2g}")  # (+1e-9 and .2g: float rounding, 0.3 / 0.01)
