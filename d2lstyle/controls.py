"""Controlling the painting: colour, stroke scale, where each style goes, several styles (notebook 09).

Gatys, Ecker, Bethge, Hertzmann and Shechtman, "Controlling Perceptual Factors
in Neural Style Transfer" (CVPR 2017), split a style into parts that can be
steered one at a time. Notation as in the rest of the series: p is the photo,
a (or a_s, painting number s) the artwork, x the synthesised image, F^l the
features of layer l (C_l channels, M_l = H_l W_l positions) and G^l their Gram
matrix. Each control lives with the stage of the pipeline it changes:

- **colour** (:mod:`d2lstyle.colour`): luminance-only transfer (the network
  sees the luminance Y alone, the result gets the photo's chrominance I, Q
  back) or colour histogram matching (the painting recoloured to the photo's
  mean colour and colour covariance before the run);
- **stroke scale** (``Controls.style_scale``): the size of the painting
  relative to the photo sets the size of the strokes, since VGG-19 sees
  patterns of a fixed size in pixels
  (:func:`d2lstyle.transfer.working_shapes`);
- **where each style goes**: a mask T_s (1 where painting s applies, 0
  where not) is read and brought to each layer's size by
  :mod:`d2lstyle.masks`, and weights the features before their Gram matrix
  is taken (:func:`d2lstyle.losses.guided_gram_matrix`);
- **several styles**: each painting a_s gets a blend weight w_s and a
  :class:`d2lstyle.objective.StyleTarget`, and the style loss is the
  weighted sum of each painting's loss (:func:`d2lstyle.losses.styles_loss`);
  a weight of 0 leaves that painting out altogether.

:class:`Controls`, this module's one class, holds these choices for
:func:`d2lstyle.transfer.stylise`; coarse to fine, the paper's way to high
resolution, is the recipe's ``scales`` (and ``scale_steps``).

>>> Controls(preserve_colors="histogram", blend=(0.7, 0.3)).blend_for(2)
(0.7, 0.3)
"""

from dataclasses import dataclass

from . import numbers
from .errors import RecipeError

PRESERVE_COLORS = (None, "luminance", "histogram")


@dataclass(frozen=True)
class Controls:
    """What to steer in a run of :func:`d2lstyle.transfer.stylise`, beyond its recipe. The defaults are a
    plain run.

    - ``preserve_colors``: None (the painting's colours), ``"luminance"`` or ``"histogram"`` (the photo's);
    - ``style_scale``: the painting's longer side relative to the photo's (2: strokes twice as large);
    - ``blend``: one weight w_s >= 0 per painting; None gives 1/n to each of n paintings without masks
      (the weights sum to 1, so beta keeps its meaning) and 1 to each painting with masks (each region
      is styled as strongly as a whole image with one painting);
    - ``masks``: None, or one mask per painting: a PIL image or an image file (white where it applies,
      black where not, grey in between; resized to the photo by :func:`d2lstyle.masks.load_mask`), or None
      for everywhere.

    >>> Controls(preserve_colors="luminance").style_scale
    1.0
    >>> Controls(style_scale=0)
    Traceback (most recent call last):
    ...
    d2lstyle.errors.RecipeError: style scale must be a finite number > 0, not 0
    """

    preserve_colors: str = None
    style_scale: float = 1.0
    blend: tuple = None
    masks: tuple = None

    def __post_init__(self):
        if self.preserve_colors not in PRESERVE_COLORS:
            raise RecipeError(f"preserve_colors must be None, 'luminance' or 'histogram', not "
                              f"{self.preserve_colors!r}")
        should_be = numbers.expected(self.style_scale, above=0)
        if should_be:
            raise RecipeError(f"style scale must be {should_be}, not {self.style_scale!r}")
        if self.blend is not None:
            if not isinstance(self.blend, (tuple, list)) or not self.blend:
                raise RecipeError(f"blend must be a tuple of weights, one per style, not {self.blend!r}")
            for number, weight in enumerate(self.blend, 1):
                should_be = numbers.expected(weight, at_least=0)
                if should_be:
                    raise RecipeError(f"blend weight {number} must be {should_be}, not {weight!r}")
            if not any(self.blend):
                raise RecipeError("every blend weight is 0, so no style would count; give at least one style "
                                  "a weight above 0 (to switch the style loss off, set the style weight to 0)")
        if self.masks is not None and (not isinstance(self.masks, (tuple, list)) or not self.masks):
            raise RecipeError(f"masks must be a tuple with one mask (or None) per style, not {self.masks!r}")

    def blend_for(self, count):
        """The blend weights for ``count`` paintings (see the class's docstring)."""
        self.validate_count(count)
        if self.blend is not None:
            return tuple(float(weight) for weight in self.blend)
        return (1.0,) * count if self.has_masks() else (1.0 / count,) * count

    def has_masks(self):
        return self.masks is not None and any(mask is not None for mask in self.masks)

    def validate_count(self, count):
        """Raise RecipeError unless ``blend`` and ``masks`` have one entry for each of ``count`` paintings."""
        for name, values in (("blend weights", self.blend), ("style masks", self.masks)):
            if values is not None and len(values) != count:
                raise RecipeError(f"{len(values)} {name} for {count} style image{'s' * (count != 1)}: give one "
                                  f"for each style, in the same order")

    def is_plain(self, count):
        """True when a run with ``count`` paintings needs none of the several-style machinery: one painting,
        everywhere, with weight 1."""
        return count == 1 and not self.has_masks() and self.blend_for(1) == (1.0,)
