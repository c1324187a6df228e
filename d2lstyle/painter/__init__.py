r"""The painter: a network trained once per painting, that stylises any photo in one pass.

Optimising the pixels of x (:mod:`d2lstyle.transfer`) solves one optimisation
problem per photo: hundreds of passes through VGG-19. Johnson, Alahi and
Fei-Fei (2016) amortise that cost: a feed-forward network :math:`f_W` is
trained, once per painting a, to map any photo p to its stylised version,
minimising the same perceptual loss over many photos:

.. math:: \min_W \; \mathbb{E}_p \big[ \alpha \sum_l w^c_l L^l_\text{content}(f_W(p), p)
          + \beta \sum_l w^s_l L^l_\text{style}(f_W(p), a) + \gamma L_\text{TV}(f_W(p)) \big]

The features, Gram matrices and TV are those of :mod:`d2lstyle.losses`, summed
by :func:`d2lstyle.objective.loss_terms`. After training, stylising a photo is
one forward pass of :class:`Painter` instead of hundreds through VGG-19
(benchmarks/results.md measures both).

One concept per module, in the order they are needed:

- :mod:`~d2lstyle.painter.network`: the network (:class:`Painter`, its
  :class:`ResidualBlock`, :class:`UpsampleConv`, :func:`instance_norm`, and
  :func:`conditional_instance_norm` for a painter of several paintings) and
  stylising a photo with it (:func:`paint`);
- :mod:`~d2lstyle.painter.settings`: what a painter is trained with
  (:class:`PainterSettings`);
- :mod:`~d2lstyle.painter.photos`: the training photos and their random crops
  (:func:`training_photos`, :func:`photo_batch`);
- :mod:`~d2lstyle.painter.loss`: the normalised perceptual loss
  (:func:`loss_recipe`, :func:`batch_loss_terms`);
- :mod:`~d2lstyle.painter.training`: the training loop (:func:`train_painter`,
  :func:`cosine_learning_rate`), for one painting, several, or paintings added to a
  trained painter (:func:`painter_with_more_paintings`);
- :mod:`~d2lstyle.painter.model_file`: model files and training checkpoints
  (:func:`save_painter`, :func:`load_painter`), read with
  ``torch.load(..., weights_only=True)``.

Everything a notebook or the command line (:mod:`d2lstyle.painter_cli`) uses
is here, as ``painter.X``.

>>> import torch
>>> painter = Painter(channels=(4, 8, 16), residual_blocks=1)
>>> tuple(painter(torch.zeros(1, 3, 30, 41)).shape)   # any size in, the same size out
(1, 3, 30, 41)
"""

from .loss import batch_loss_terms, loss_recipe, painting_long_side, recipe_from_weights
from .model_file import (CHECKPOINT_FILE, CHECKPOINT_FORMAT, EARLIER_FORMATS, FORMAT, MODEL_FILE, SavedPainter,
                         describe_painter_file, load_painter, load_training_checkpoint, save_painter,
                         save_training_checkpoint, style_name)
from .network import (MIN_SIDE, PADDING_MODES, UPSAMPLE_MODES, ConditionalInstanceNorm, ConvNormReLU, InstanceNorm,
                      Painter, ResidualBlock, UpsampleConv, conditional_instance_norm, conv_layer, instance_norm,
                      new_painter, norm_layer, paint, painted_shape, style_mix)
from .photos import (HELD_OUT_PHOTO, flat_photo, load_picture, matplotlib_sample_photo, package_file, photo_batch,
                     photos_in_folder, shrink_for_crops, training_photos)
from .settings import (ADD_LR, ADD_STEPS, MAX_CROP_SCALE, STEPS_PER_PAINTING, PainterSettings,
                       validate_settings)
from .training import (TrainingResult, TrainingStep, channels_last_network, cosine_learning_rate,
                       image_fingerprint, painter_with_more_paintings, train_painter)

__all__ = [
    "ADD_LR", "ADD_STEPS", "CHECKPOINT_FILE", "CHECKPOINT_FORMAT", "EARLIER_FORMATS", "FORMAT",
    "HELD_OUT_PHOTO", "MAX_CROP_SCALE", "STEPS_PER_PAINTING",
    "MIN_SIDE", "MODEL_FILE", "PADDING_MODES", "UPSAMPLE_MODES", "ConditionalInstanceNorm", "ConvNormReLU",
    "InstanceNorm", "Painter", "PainterSettings", "ResidualBlock", "SavedPainter", "TrainingResult", "TrainingStep",
    "UpsampleConv", "batch_loss_terms", "channels_last_network", "conditional_instance_norm", "conv_layer",
    "cosine_learning_rate", "describe_painter_file",
    "flat_photo", "image_fingerprint", "instance_norm", "load_painter", "load_picture", "load_training_checkpoint",
    "loss_recipe", "matplotlib_sample_photo", "new_painter", "norm_layer", "package_file", "paint", "painted_shape",
    "painter_with_more_paintings", "painting_long_side", "photo_batch", "photos_in_folder", "recipe_from_weights",
    "save_painter", "save_training_checkpoint", "shrink_for_crops", "style_mix", "style_name", "train_painter",
    "training_photos", "validate_settings",
]
