"""Choices made outside the code: which weights, quick mode, which device.

A notebook, a test run and the command-line tool read the same environment
variables, so one shell line switches the whole series:

==================  ===============================================================
D2LSTYLE_WEIGHTS    ``imagenet`` (default: pretrained, downloaded once),
                    ``random`` (seeded random weights: runs offline, but the
                    pictures are not real style transfer) or a path to a .pth file
D2LSTYLE_SEED       seed for random weights and noise images (default 0)
D2LSTYLE_QUICK      ``1`` for quick mode: images at most 64 px and at most 20
                    steps, so everything runs in seconds (CI, a first look)
D2LSTYLE_DEVICE     ``cpu``, ``cuda``, ``mps`` (default: the fastest available)
==================  ===============================================================

A value a variable cannot take (``D2LSTYLE_QUICK=maybe``) raises
:class:`~d2lstyle.errors.SettingsError` naming the variable: a typo never
silently turns a setting off.

Quick mode never changes what a notebook's source says: the source asks for
the full-quality numbers (``settings.steps(500)``) and quick mode caps them,
printing a line each time it does.

>>> s = Settings(weights="random", seed=0, quick=True, device=torch.device("cpu"))
>>> s.steps(500)
Quick mode: 500 steps -> 20.
20
>>> s.size((300, 450))
Quick mode: image size (300, 450) -> (43, 64).
(43, 64)
"""

import os
from dataclasses import dataclass

import torch

from . import vgg, weights as weights_module
from .errors import SettingsError

QUICK_MAX_SIDE = 64
QUICK_MAX_STEPS = 20


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
    except RuntimeError:
        raise ValueError(f"unknown device {name!r}; use cpu, cuda or mps") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError("device cuda was asked for, but PyTorch sees no CUDA GPU here; use --device cpu")
    if device.type == "mps" and not torch.backends.mps.is_available():
        raise ValueError("device mps was asked for, but it is not available here; use --device cpu")
    return device


def available_memory_bytes(device):
    """Free memory on ``device`` in bytes, or None where it cannot be told."""
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


@dataclass
class Settings:
    """The weights, seed, quick mode and device of a session."""

    weights: str = "imagenet"
    seed: int = 0
    quick: bool = False
    device: torch.device = torch.device("cpu")

    def steps(self, steps):
        """``steps``, capped at QUICK_MAX_STEPS in quick mode (and said so)."""
        if self.quick and steps > QUICK_MAX_STEPS:
            print(f"Quick mode: {steps} steps -> {QUICK_MAX_STEPS}.")
            return QUICK_MAX_STEPS
        return steps

    def size(self, size):
        """An image size (an int long side or (height, width)), shrunk in
        quick mode so that its longer side is at most QUICK_MAX_SIDE."""
        if not self.quick:
            return size
        if isinstance(size, int):
            if size <= QUICK_MAX_SIDE:
                return size
            print(f"Quick mode: image size {size} -> {QUICK_MAX_SIDE}.")
            return QUICK_MAX_SIDE
        height, width = size
        if max(height, width) <= QUICK_MAX_SIDE:
            return size
        scale = QUICK_MAX_SIDE / max(height, width)
        small = (max(1, round(height * scale)), max(1, round(width * scale)))
        print(f"Quick mode: image size {tuple(size)} -> {small}.")
        return small

    def recipe(self, recipe):
        """``recipe`` with its steps and image size capped in quick mode."""
        if not self.quick:
            return recipe
        return recipe.replace(steps=self.steps(recipe.steps), image_size=self.size(recipe.image_size))

    def load_vgg(self, pooling="max"):
        """VGG-19 with this session's weights, on this session's device."""
        return vgg.load_vgg19(self.weights, seed=self.seed, pooling=pooling).to(self.device)

    def describe(self):
        """A few lines saying what this session will use."""
        lines = [
            f"weights: {weights_module.describe(self.weights, self.seed)}",
            f"device:  {self.device}",
            f"quick mode: {'ON (images <= %d px, <= %d steps)' % (QUICK_MAX_SIDE, QUICK_MAX_STEPS) if self.quick else 'off'}",
        ]
        return "\n".join(lines)


def _flag(name, value):
    """The on/off value of the environment variable ``name``; a typo is an error, not "off"."""
    word = str(value).strip().lower()
    if word in ("1", "true", "yes", "on"):
        return True
    if word in ("", "0", "false", "no", "off"):
        return False
    raise SettingsError(f"{name}={value!r}: use 1 (on) or 0 (off)")


def _whole_number(name, value):
    try:
        return int(value)
    except ValueError:
        raise SettingsError(f"{name}={value!r}: use a whole number, such as 0") from None


def _device(name, value):
    try:
        return pick_device(value)
    except ValueError as error:
        raise SettingsError(f"{name}={value!r}: {error}") from None


def get_settings(weights=None, seed=None, quick=None, device=None, verbose=True):
    """Settings from the arguments, falling back on the D2LSTYLE_* variables.

    With ``verbose`` (the default) it prints what was chosen, so that a
    notebook always says which weights it runs with.
    """
    settings = Settings(
        weights=weights if weights is not None else os.environ.get("D2LSTYLE_WEIGHTS", "imagenet"),
        seed=seed if seed is not None else _whole_number("D2LSTYLE_SEED", os.environ.get("D2LSTYLE_SEED", "0")),
        quick=quick if quick is not None else _flag("D2LSTYLE_QUICK", os.environ.get("D2LSTYLE_QUICK", "0")),
        device=pick_device(device) if device is not None else _device("D2LSTYLE_DEVICE",
                                                                     os.environ.get("D2LSTYLE_DEVICE")),
    )
    if verbose:
        print(settings.describe())
    return settings
