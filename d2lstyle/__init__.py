"""d2lstyle: neural style transfer (Gatys et al.), one small module per stage.

image file -> :mod:`~d2lstyle.images` -> :mod:`~d2lstyle.vgg` features (of a
network from :mod:`~d2lstyle.networks`) -> :mod:`~d2lstyle.losses`, summed by
:mod:`~d2lstyle.objective` -> :mod:`~d2lstyle.training` (the optimiser's
pieces), run by :mod:`~d2lstyle.transfer` -> image file, with the settings of
each run in :mod:`~d2lstyle.recipes`. :mod:`~d2lstyle.painter` trains a
network that does the same in one forward pass (fast style transfer). The
controls of Gatys et al. 2017 (colour, stroke scale, masks, several styles)
are in :mod:`~d2lstyle.controls`; large images in tiles in :mod:`~d2lstyle.tiles`; clips (known motion,
optical flow, warping, flicker) in :mod:`~d2lstyle.video`.

The figures (:mod:`~d2lstyle.plotting`), the explorer (its model
:mod:`~d2lstyle.explorer` and its view :mod:`~d2lstyle.widgets`) and the exercise
checkers (:mod:`~d2lstyle.exercises`) are imported on their own, so that the
command-line tool starts without matplotlib.

>>> import d2lstyle
>>> d2lstyle.gram_matrix(d2lstyle.torch.ones(1, 1, 2, 2))
tensor([[1.]])
"""

import torch

from .checkpoints import load_checkpoint, save_checkpoint
from .controls import Controls
from .errors import (CheckpointError, D2lStyleError, ImageError, InputError, LayerError, MemoryEstimateError,
                     NetworkError, NetworkUnavailableError, RecipeError, SettingsError)
from .images import (IMAGENET_MEAN, IMAGENET_STD, bundled_image, bundled_images, denormalize, load_image,
                     normalize, postprocess, preprocess, resize, save_image)
from .losses import content_loss, gram_matrix, style_loss, tv_loss
from .networks import NETWORKS, load_vgg19
from .objective import compute_targets, loss_terms
from .painter import Painter, PainterSettings, load_painter, paint, save_painter, train_painter
from .recipes import PRESETS, Recipe, get_recipe
from .settings import Settings, get_settings
from .devices import pick_device
from .training import SynthesizedImage, decayed_learning_rate, make_closure, training_step
from .transfer import TransferResult, stylise
from .vgg import LAYER_INDEX, LAYER_NAMES, VGG19, FeatureExtractor, layer_index

__version__ = "0.2.0"
