"""d2lstyle: neural style transfer (Gatys et al.), one small module per stage.

image file -> :mod:`~d2lstyle.images` -> :mod:`~d2lstyle.vgg` features
-> :mod:`~d2lstyle.losses` -> :mod:`~d2lstyle.transfer` (the optimiser)
-> image file, with the settings of each run in :mod:`~d2lstyle.recipes`.

>>> import d2lstyle
>>> d2lstyle.gram_matrix(d2lstyle.torch.ones(1, 1, 2, 2))
tensor([[1.]])
"""

import torch

from .errors import (CheckpointError, D2lStyleError, ImageError, LayerError, MemoryEstimateError, RecipeError,
                     SettingsError, WeightsError, WeightsUnavailableError)
from .images import (IMAGENET_MEAN, IMAGENET_STD, bundled_image, bundled_images, denormalize, load_image,
                     normalize, postprocess, preprocess, resize, save_image)
from .losses import content_loss, gram_matrix, style_loss, tv_loss
from . import plotting
from .recipes import PRESETS, Recipe, get_recipe
from .settings import Settings, get_settings, pick_device
from .transfer import (SynthesizedImage, TransferResult, compute_targets, load_checkpoint, loss_terms,
                       save_checkpoint, stylise)
from .vgg import LAYER_INDEX, LAYER_NAMES, FeatureExtractor, layer_index, load_vgg19

__version__ = "0.1.0"

# --- exercises: the checkers that notebook check cells call as d2lstyle.exercises.check_<name>(...)
from . import exercises  # noqa: E402  (imported last: it uses the stages above)
