"""Choices made outside the code: which network, seed, quick mode, which device.

A notebook, a test run, the explorer and the command-line tool all read them
through :func:`get_settings`, so one shell line switches the whole series:

==================  ===============================================================
D2LSTYLE_NETWORK    ``original`` (default: the original VGG-19, offline),
                    ``torchvision`` (torchvision's VGG-19, downloaded once),
                    ``random`` (speed tests only) or the path of a .pth file;
                    see :mod:`d2lstyle.networks`
D2LSTYLE_SEED       seed for random networks and noise images (default 0)
D2LSTYLE_QUICK      ``1`` for quick mode: images at most 64 px and at most 20
                    steps, so everything runs in seconds (CI, a first look)
D2LSTYLE_DEVICE     ``cpu``, ``cuda``, ``mps`` (default: the fastest available)
==================  ===============================================================

An argument given in code (or on the command line) wins over the variable.
A value a variable cannot take (``D2LSTYLE_QUICK=maybe``) raises
:class:`~d2lstyle.errors.SettingsError` naming the variable: a typo never
silently turns a setting off.

Quick mode never changes what a notebook's source says: the source asks for
the full-quality numbers (``settings.steps(500)``) and quick mode caps them,
printing a line each time it does. :meth:`Settings.cap_recipe` returns the
same lines instead of printing them.

>>> s = Settings(network="random", seed=0, quick=True, device=torch.device("cpu"))
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

from . import i18n, networks
from .devices import pick_device
from .errors import SettingsError

QUICK_MAX_SIDE = 64
QUICK_MAX_STEPS = 20


@dataclass
class Settings:
    """The network, seed, quick mode and device of a session."""

    network: str = networks.DEFAULT_NETWORK
    seed: int = 0
    quick: bool = False
    device: torch.device = torch.device("cpu")

    def cap_steps(self, steps):
        """``(steps, note)``: capped at QUICK_MAX_STEPS in quick mode, with a
        line saying so (None when nothing changed).

        >>> Settings(quick=True).cap_steps(500)
        (20, 'Quick mode: 500 steps -> 20.')
        """
        if self.quick and steps > QUICK_MAX_STEPS:
            return QUICK_MAX_STEPS, f"Quick mode: {steps} steps -> {QUICK_MAX_STEPS}."
        return steps, None

    def cap_size(self, size):
        """``(size, note)``: an image size (an int long side or (height, width)),
        shrunk in quick mode so that its longer side is at most QUICK_MAX_SIDE."""
        if not self.quick or (size if isinstance(size, int) else max(size)) <= QUICK_MAX_SIDE:
            return size, None
        if isinstance(size, int):
            small = QUICK_MAX_SIDE
        else:
            height, width = size
            scale = QUICK_MAX_SIDE / max(height, width)
            small = (max(1, round(height * scale)), max(1, round(width * scale)))
        shown = size if isinstance(size, int) else tuple(size)
        return small, f"Quick mode: image size {shown} -> {small}."

    def cap_recipe(self, recipe):
        """``(recipe, notes)``: ``recipe`` with its steps and image size capped
        in quick mode, and the lines that say what changed."""
        steps, steps_note = self.cap_steps(recipe.steps)
        size, size_note = self.cap_size(recipe.image_size)
        notes = [note for note in (steps_note, size_note) if note]
        if not notes:
            return recipe, []
        return recipe.replace(steps=steps, image_size=size), notes

    def steps(self, steps):
        """``steps``, capped in quick mode (and said so)."""
        return _printing(self.cap_steps(steps))

    def size(self, size):
        """An image size, capped in quick mode (and said so)."""
        return _printing(self.cap_size(size))

    def recipe(self, recipe):
        """``recipe`` with its steps and image size capped in quick mode (and said so)."""
        recipe, notes = self.cap_recipe(recipe)
        for note in notes:
            print(note)
        return recipe

    def load_vgg(self):
        """VGG-19 with this session's network, on this session's device."""
        return networks.load_vgg19(self.network, seed=self.seed).to(self.device)

    def describe(self):
        """A few lines saying what this session will use."""
        quick = f"ON (images <= {QUICK_MAX_SIDE} px, <= {QUICK_MAX_STEPS} steps)" if self.quick else "off"
        return "\n".join([
            f"network: {networks.describe(self.network, self.seed)}",
            f"device:  {self.device}",
            f"quick mode: {quick}",
        ])


def _printing(value_and_note):
    value, note = value_and_note
    if note:
        print(note)
    return value


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


def _network(name, value):
    try:
        return networks.validate_network_choice(value)
    except networks.NetworkError as error:
        raise SettingsError(f"{name}={value!r}: {error}") from None


def get_settings(network=None, seed=None, quick=None, device=None, verbose=True):
    """Settings from the arguments, falling back on the D2LSTYLE_* variables.

    With ``verbose`` (the default) it prints what was chosen, so that a
    notebook always says which network it runs with.
    """
    if "D2LSTYLE_WEIGHTS" in os.environ and "D2LSTYLE_NETWORK" not in os.environ:
        raise SettingsError("D2LSTYLE_WEIGHTS is now called D2LSTYLE_NETWORK (values: original, torchvision, "
                            "random or a file path); unset D2LSTYLE_WEIGHTS and set D2LSTYLE_NETWORK instead")
    env = os.environ.get
    settings = Settings(
        network=(networks.validate_network_choice(network) if network is not None
                 else _network("D2LSTYLE_NETWORK", env("D2LSTYLE_NETWORK", networks.DEFAULT_NETWORK))),
        seed=seed if seed is not None else _whole_number("D2LSTYLE_SEED", env("D2LSTYLE_SEED", "0")),
        quick=quick if quick is not None else _flag("D2LSTYLE_QUICK", env("D2LSTYLE_QUICK", "0")),
        device=pick_device(device) if device is not None else _device("D2LSTYLE_DEVICE", env("D2LSTYLE_DEVICE")),
    )
    if verbose:
        print(settings.describe())
    if i18n.language() != "en":  # D2LSTYLE_LANG=zh or a Chinese locale: messages and figure text in Chinese
        font = i18n.chinese_figures()
        if verbose:
            print(i18n.translate(f"language: Chinese (the checks, the advice and figure text; font {font})" if font
                                 else "language: Chinese (the checks and the advice); figure text stays English: "
                                      "no font with Chinese characters, install fonts-noto-cjk"))
    return settings
