r"""The painter's loss: the perceptual loss of :mod:`d2lstyle.objective`, with per-layer weights that make
every term a relative distance (:func:`loss_recipe`), averaged over a batch (:func:`batch_loss_terms`), and
the size the painting is seen at (:func:`painting_long_side`).

For a photo p, the painter's output x = f_W(p) and the painting a,

.. math:: L(x) = \alpha \sum_l w^c_l L^l_\text{content}(x, p)
          + \beta \sum_l w^s_l L^l_\text{style}(x, a) + \gamma L_\text{TV}(x)

>>> from d2lstyle.painter import PainterSettings
>>> recipe = recipe_from_weights(PainterSettings(style_weight=2.0), {"relu4_2": 0.5}, {"relu1_1": 3.0})
>>> recipe.content_layers, recipe.style_layers, recipe.style_weight
({'relu4_2': 0.5}, {'relu1_1': 3.0}, 2.0)
"""

import math

from ..errors import ImageError
from ..objective import LOSS_TERMS, Targets, loss_terms
from ..recipes import Recipe
from ..vgg import layer_index, min_input_size


def loss_recipe(settings, style_grams, content_features):
    r"""The :class:`~d2lstyle.recipes.Recipe` whose :func:`~d2lstyle.objective.loss_terms`
    is the painter's loss, with per-layer weights that normalise each layer.

    Layers differ in size by orders of magnitude, and so do paintings. The
    per-layer weights make every term a relative distance:

    .. math:: w^s_l = \frac{C_l^2}{\lVert G^l(a) \rVert^2}, \qquad
              w^c_l = \frac{1}{\operatorname{mean} F^l(p)^2}

    so that :math:`w^s_l L^l_\text{style} = \lVert G^l(x) - G^l(a) \rVert^2 / \lVert G^l(a) \rVert^2`
    (``style_loss`` averages over the C x C entries) and
    :math:`w^c_l L^l_\text{content} = \lVert F^l(x) - F^l(p) \rVert^2 / \lVert F^l(p) \rVert^2`,
    with the mean over photos p of a sample batch (``content_features``:
    layer -> features of that batch). Then alpha, beta, gamma mean the same
    for every painting and network.
    """
    style = {name: float(gram.shape[0] ** 2 / gram.square().sum()) for name, gram in style_grams.items()}
    content = {name: float(1.0 / content_features[name].square().mean()) for name in settings.content_layers}
    return recipe_from_weights(settings, content, style)


def recipe_from_weights(settings, content_weights, style_weights):
    """The :class:`~d2lstyle.recipes.Recipe` of the painter's loss for ``settings``, with the per-layer
    weights (layer -> w) that :func:`loss_recipe` computed (a resumed run takes them from its checkpoint)."""
    return Recipe(name="painter", summary="the painter's perceptual loss", content_layers=dict(content_weights),
                  style_layers=dict(style_weights), content_weight=settings.content_weight,
                  style_weight=settings.style_weight, tv_weight=settings.tv_weight, gram_normalization="chw",
                  style_reduction="mean", content_reduction="mean", tv_reduction="mean", image_size=settings.crop)


def batch_loss_terms(y, features, content_targets, grams, recipe):
    """The loss terms of a batch: :func:`~d2lstyle.objective.loss_terms` for
    each image of the batch (the Gram matrix is defined per image), averaged.

    ``y`` is the painter's output (N, 3, H, W), ``features`` its VGG features,
    ``content_targets`` the photos' features (layer -> (N, C, H, W)), ``grams``
    the painting's Gram matrices.
    """
    total = {name: y.new_zeros(()) for name in LOSS_TERMS}
    count = y.shape[0]
    for n in range(count):
        targets = Targets(content={name: value[n:n + 1] for name, value in content_targets.items()}, grams=grams)
        terms = loss_terms(y[n:n + 1], {name: value[n:n + 1] for name, value in features.items()}, targets, recipe)
        for name in LOSS_TERMS:
            total[name] = total[name] + terms[name] / count
    return total



def painting_long_side(painting_size, settings):
    """The longer side, in pixels, of the painting (PIL ``painting_size`` = (width, height)) as the loss sees
    it: ``settings.style_size``, or more for a painting so long and thin that its shorter side would be under
    the smallest size the deepest layer takes (the rule of :func:`d2lstyle.transfer.working_shapes`). A
    painting under that size on its own is refused, as :func:`d2lstyle.transfer.stylise` refuses it.

    >>> from d2lstyle.painter import PainterSettings
    >>> painting_long_side((1024, 768), PainterSettings()), painting_long_side((3000, 30), PainterSettings())
    (512, 1600)
    >>> painting_long_side((3000, 6), PainterSettings())
    Traceback (most recent call last):
    ...
    d2lstyle.errors.ImageError: the painting is only 3000x6 pixels; layer relu5_1 needs at least 16 pixels on each side: use a painting at least 16 pixels on each side
    """
    layers = settings.content_layers + settings.style_layers
    min_side = min_input_size(layers)
    width, height = painting_size
    if min(width, height) < min_side:
        deepest = max(layers, key=layer_index)
        raise ImageError(f"the painting is only {width}x{height} pixels; layer {deepest} needs at least {min_side} "
                         f"pixels on each side: use a painting at least {min_side} pixels on each side")
    return max(settings.style_size, math.ceil(min_side * max(width, height) / min(width, height)))
