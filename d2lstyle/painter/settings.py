"""The painter's settings: everything a painter is trained with, checked when they are made; a model file
carries them, and a training checkpoint resumes only with the same ones.

>>> PainterSettings(steps=0)
Traceback (most recent call last):
...
d2lstyle.errors.PainterError: painter setting steps must be a whole number >= 1, not 0
"""

import dataclasses
from dataclasses import dataclass

from .. import numbers
from ..errors import PainterError
from ..vgg import layer_index
from .network import PADDING_MODES, UPSAMPLE_MODES

# A training crop shows the photo's shorter side scaled to between 1 and this many crop sizes (see photo_batch).
MAX_CROP_SCALE = 4.0
# Training steps per painting for a painter of several (they share every convolution, so each needs fewer than
# the 800 of one alone; six paintings fit in 45 minutes on 2 cores), and the steps and learning rate that add a
# painting to a trained painter by its normalisation parameters alone: each scale and shift must move by about its
# own size, and Adam moves a parameter by at most about lr per step, so the 1e-3 of a full training would move
# them by at most 0.15 in 300 steps of a cosine schedule (300 x 1e-3 / 2).
STEPS_PER_PAINTING = 700
ADD_STEPS = 300
ADD_LR = 1e-2


@dataclass(frozen=True)
class PainterSettings:
    """Everything a painter is trained with; a model file carries them.

    The network: ``channels`` at full, half and quarter size, ``residual_blocks``, how
    the decoder upsamples (``upsample``) and how every convolution pads (``padding``).
    The loss: content at ``content_layers``, style at ``style_layers`` (relu1_1 ...
    relu5_1, those of Gatys et al.), both normalised (see
    :func:`~d2lstyle.painter.loss_recipe`) so that the weights alpha, beta,
    gamma (``content_weight``, ``style_weight``, ``tv_weight``) mean the
    same for every painting. Training: ``steps`` steps of Adam on batches of
    ``batch_size`` random ``crop`` x ``crop`` crops, each showing the photo's
    shorter side at 1 to ``max_crop_scale`` crop sizes, learning rate ``lr``
    annealed along a cosine to 0, gradient norm clipped at ``max_grad_norm``.
    The painting is seen with its longer side ``style_size`` pixels long,
    which sets the size of its brush strokes in the painter's output.

    The loss and the crops are those that made the painter paint the photo in
    the ablation of benchmarks/painter_ablation.py: content at relu4_2 (the
    optimisation's layer; relu2_2, Johnson et al.'s, lost the photo), style
    weight 0.5 (the earlier 10 laid one hatch over everything), crops showing
    the photo at up to 4 crop sizes (as large as it is painted at 512 px).
    The defaults (800 steps of 4 crops of 96 x 96 pixels) are sized for a
    CPU: how long they take is measured in benchmarks/results.md
    (``make bench-painter``). Johnson et al. used (32, 64, 128) channels,
    256-pixel crops and 40,000 steps on a GPU.

    >>> PainterSettings().replace(steps=10).steps
    10
    """

    channels: tuple = (16, 32, 64)
    residual_blocks: int = 5
    upsample: str = "nearest"
    padding: str = "reflect"
    content_layers: tuple = ("relu4_2",)
    style_layers: tuple = ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1")
    content_weight: float = 1.0
    style_weight: float = 0.5
    tv_weight: float = 1.0
    style_size: int = 512
    crop: int = 96
    max_crop_scale: float = MAX_CROP_SCALE
    batch_size: int = 4
    steps: int = 800
    lr: float = 1e-3
    max_grad_norm: float = 5.0
    seed: int = 0

    def __post_init__(self):
        validate_settings(self)

    def replace(self, **changes):
        """A copy with some settings changed."""
        return dataclasses.replace(self, **changes)

    def as_dict(self):
        """The settings as a plain dict (what a model file stores)."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values):
        """Settings from :meth:`as_dict`'s dict; unknown keys are an error."""
        names = {field.name for field in dataclasses.fields(cls)}
        unknown = sorted(set(values) - names)
        if unknown:
            raise PainterError(f"unknown painter settings: {', '.join(unknown)}")
        values = {key: tuple(value) if isinstance(value, list) else value for key, value in values.items()}
        return cls(**values)


def validate_settings(settings):
    """Raise :class:`~d2lstyle.errors.PainterError` for a setting that cannot work."""

    def whole(name, low):
        value = getattr(settings, name)
        should_be = numbers.expected(value, at_least=low, whole=True)
        if should_be:
            raise PainterError(f"painter setting {name} must be {should_be}, not {value!r}")

    def number(name, low, strict=False):
        value = getattr(settings, name)
        should_be = numbers.expected(value, **({"above": low} if strict else {"at_least": low}))
        if should_be:
            raise PainterError(f"painter setting {name} must be {should_be}, not {value!r}")

    channels = settings.channels
    if not (isinstance(channels, tuple) and len(channels) == 3
            and all(isinstance(c, int) and not isinstance(c, bool) and c >= 1 for c in channels)):
        raise PainterError(f"painter setting channels must be three whole numbers >= 1, not {channels!r}")
    for name in ("content_layers", "style_layers"):
        layers = getattr(settings, name)
        if not isinstance(layers, tuple) or not layers or not all(isinstance(layer, str) for layer in layers):
            raise PainterError(f"painter setting {name} must be a tuple of VGG-19 layer names, not {layers!r}")
        for layer in layers:
            layer_index(layer)
    whole("residual_blocks", 0)
    for name, modes in (("upsample", UPSAMPLE_MODES), ("padding", PADDING_MODES)):
        if getattr(settings, name) not in modes:
            raise PainterError(f"painter setting {name} must be one of {', '.join(modes)}, not "
                               f"{getattr(settings, name)!r}")
    whole("style_size", 16)
    whole("crop", 16)
    whole("batch_size", 1)
    whole("steps", 1)
    whole("seed", 0)
    for name in ("content_weight", "style_weight", "tv_weight"):
        number(name, 0)
    number("max_crop_scale", 1)
    number("lr", 0, strict=True)
    number("max_grad_norm", 0, strict=True)
