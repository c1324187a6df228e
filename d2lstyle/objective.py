r"""The objective a recipe defines: fixed targets, and the total loss of an image.

.. math:: L(x) = \alpha \sum_l w^c_l L^l_\text{content}(x, p)
                 + \beta \sum_l w^s_l L^l_\text{style}(x, a) / D_l + \gamma L_\text{TV}(x)

with the content photograph p, the style artwork a, the synthesised image x,
the loss weights alpha, beta, gamma (``content_weight``, ``style_weight``,
``tv_weight``), the per-layer weights w^c_l, w^s_l (the values of
``content_layers`` and ``style_layers``) and a recipe's extra divisor D_l
(:func:`d2lstyle.losses.style_divisor`).

The targets (p's features and a's Gram matrices) never change, so
:func:`compute_targets` computes them once, before the first step. With
several paintings, or a painting confined to a region by a mask (notebook
09), each painting gets a :class:`StyleTarget` and the style term is
:func:`d2lstyle.losses.styles_loss` instead, a weighted sum over the
paintings.

>>> import torch
>>> from d2lstyle import networks, recipes, vgg
>>> recipe = recipes.get_recipe("d2l")
>>> extract = vgg.FeatureExtractor(networks.load_vgg19("random"), recipe.layers())
>>> p, a = torch.randn(1, 3, 32, 32), torch.randn(1, 3, 32, 32)
>>> targets = compute_targets(extract, p, a, recipe)
>>> terms = loss_terms(p, extract(p), targets, recipe)   # x = p: no content loss yet
>>> float(terms["content"]), bool(terms["style"] > 0), sorted(terms)
(0.0, True, ['content', 'style', 'total', 'tv'])
"""

from dataclasses import dataclass

import torch

from . import losses
from .masks import mask_at_layer

LOSS_TERMS = ("content", "style", "tv", "total")


@dataclass
class Targets:
    """What the synthesised image is pulled towards, computed once."""

    content: dict  # layer name -> the content image's features there
    grams: dict  # layer name -> the style image's Gram matrix there
    # Several paintings or masks: one StyleTarget per painting, used instead of grams.
    styles: list = None


@dataclass
class StyleTarget:
    """One painting's part of the style loss (:func:`d2lstyle.losses.styles_loss`)."""

    weight: float  # its blend weight w_s
    grams: dict  # layer name -> the painting's Gram matrix there
    guides: dict  # layer name -> its mask at that layer's size (1, 1, H_l, W_l); empty: the whole image


def compute_targets(extractor, content_x, style_x, recipe, blend=None, masks=None):
    """The content features and style Gram matrices a recipe compares against.

    Computed under ``torch.no_grad()``: no graph is kept, and no gradient can
    ever flow into a target. Either image may be None when the recipe has no
    layers of its kind.

    ``style_x`` may also be a list of paintings, each with a weight in
    ``blend`` and a mask in ``masks`` ((1, 1, H, W) at the content's size, or
    None for everywhere); their targets then go to ``styles``
    (:func:`style_targets`).
    """
    with torch.no_grad():
        content = {}
        if recipe.content_layers:
            features = extractor(content_x)
            content = {name: features[name] for name in recipe.content_layers}
        grams, styles = {}, None
        if recipe.style_layers and isinstance(style_x, (list, tuple)):
            styles = style_targets(extractor, style_x, blend, masks, recipe)
        elif recipe.style_layers:
            features = extractor(style_x)
            grams = {name: losses.gram_matrix(features[name], recipe.gram_normalization)
                     for name in recipe.style_layers}
    return Targets(content, grams, styles)


def style_targets(extractor, styles_x, blend, masks, recipe):
    """One :class:`StyleTarget` for each painting whose blend weight is above 0, computed without gradients.

    ``styles_x`` are the standardised paintings, ``blend`` their weights, ``masks`` for each a mask
    (1, 1, H, W) at the synthesised image's size or None (everywhere); a painting's guides are its mask
    at each style layer's size (:func:`d2lstyle.masks.mask_at_layer`).
    """
    targets = []
    with torch.no_grad():
        for style_x, weight, mask in zip(styles_x, blend, masks):
            if weight == 0:  # a painting with weight 0 is left out: it cannot contribute anything
                continue
            features = extractor(style_x)
            grams = {name: losses.gram_matrix(features[name], recipe.gram_normalization)
                     for name in recipe.style_layers}
            guides = {} if mask is None else {name: mask_at_layer(mask, name) for name in recipe.style_layers}
            targets.append(StyleTarget(weight, grams, guides))
    return targets


def loss_terms(image, features, targets, recipe):
    """The weighted loss terms of a recipe, and their sum ``total``.

    ``image`` is the optimised tensor (TV is measured on it), ``features`` the
    extractor's output for it. Each term already includes its weight, so
    ``total = content + style + tv``. A term whose weight is 0 is not
    computed at all.
    """
    zero = image.new_zeros(())
    content = style = tv = zero
    if recipe.content_weight:
        content = sum((weight * losses.content_loss(features[name], targets.content[name],
                                                    recipe.content_reduction)
                       for name, weight in recipe.content_layers.items()), zero)
    if recipe.style_weight:
        for name, weight in recipe.style_layers.items():
            if targets.styles is None:  # one painting, everywhere
                layer_loss = losses.style_loss(features[name], targets.grams[name],
                                               recipe.gram_normalization, recipe.style_reduction)
            else:
                layer_loss = losses.styles_loss(features[name], name, targets.styles,
                                                recipe.gram_normalization, recipe.style_reduction)
            style = style + weight * layer_loss / losses.style_divisor(recipe.style_divisor, features[name].shape)
    if recipe.tv_weight:
        tv = losses.tv_loss(image, recipe.tv_reduction)
    terms = {"content": recipe.content_weight * content,
             "style": recipe.style_weight * style,
             "tv": recipe.tv_weight * tv}
    terms["total"] = terms["content"] + terms["style"] + terms["tv"]
    return terms


def style_to_content(extractor, content_x, paintings_x, targets, recipe, blend=None):
    r"""q = L_style(p) / L_content(a): the unweighted style term of the photo p itself (:func:`loss_terms`
    divided by beta) over the unweighted content term of the painting a resized to the photo's shape (divided by
    alpha). It says how far the painting's style is from the photo's, relative to how far its content is. With
    several paintings (``paintings_x``, one per painting at the photo's shape, with ``blend`` weights) the content
    term is their blend-weighted mean. None where it means nothing: no content or style term, or a painting
    whose content is the photo's.
    """
    if not (recipe.content_weight and recipe.style_weight and recipe.content_layers and recipe.style_layers):
        return None
    blend = [1.0] * len(paintings_x) if blend is None else list(blend)
    with torch.no_grad():
        style_of_photo = float(loss_terms(content_x, extractor(content_x), targets, recipe)["style"])
        used = [(weight, painting) for weight, painting in zip(blend, paintings_x) if weight > 0]
        content_of_painting = sum(weight * float(loss_terms(painting, extractor(painting), targets, recipe)["content"])
                                  for weight, painting in used) / sum(weight for weight, _ in used)
    if content_of_painting <= 0:
        return None
    return (style_of_photo / recipe.style_weight) / (content_of_painting / recipe.content_weight)


def balance_factor(extractor, content_x, paintings_x, targets, recipe, blend=None):
    r"""The factor ``stylise`` multiplies beta by for this photo and painting (``recipe.balance_cap``):

    .. math:: f = \min\left(1, \frac{\text{cap}}{q}\right)

    with q = L_style(p) / L_content(a) (:func:`style_to_content`). Where q is large (a close-up photo whose
    features are weak, a painting whose style is far from the photo's), the style term dominates the first steps
    and the result loses the photo (docs/recipes.md); f lowers beta there and leaves it alone elsewhere. It
    scales beta, it does not replace it: doubling beta still doubles the weight that runs. f = 1 when the cap
    is 0 or q means nothing.

    >>> from d2lstyle import networks, recipes, vgg
    >>> recipe = recipes.get_recipe("d2l").replace(balance_cap=1e-12)
    >>> extract = vgg.FeatureExtractor(networks.load_vgg19("random"), recipe.layers())
    >>> p, a = torch.rand(1, 3, 32, 32), torch.rand(1, 3, 32, 32)
    >>> targets = compute_targets(extract, p, a, recipe)
    >>> 0 < balance_factor(extract, p, [a], targets, recipe) < 1
    True
    >>> balance_factor(extract, p, [a], targets, recipe.replace(balance_cap=0))
    1.0
    """
    if not recipe.balance_cap or content_x is None:
        return 1.0
    q = style_to_content(extractor, content_x, paintings_x, targets, recipe, blend)
    return 1.0 if q is None else min(1.0, recipe.balance_cap / q)
