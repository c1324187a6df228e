"""The training loop, piece by piece (notebook 06).

Style transfer trains no network. VGG-19 stays frozen; the only parameter is
the synthesised image itself (:class:`SynthesizedImage`), and every step
nudges its pixels down the gradient of the total loss
(:mod:`d2lstyle.objective`). The pieces:

- :func:`initial_image`: where the optimisation starts (the photo, the photo in the painting's colours, noise
  or the painting);
- :func:`make_optimizer`: Adam or L-BFGS, as the recipe says;
- :func:`decayed_learning_rate`: d2l's step-decay schedule for Adam;
- :func:`training_step`: one Adam step;
- :func:`make_closure`: the function L-BFGS calls to evaluate the loss.

:func:`d2lstyle.transfer.stylise` runs exactly these pieces, with
bookkeeping around them.

>>> x = SynthesizedImage(torch.zeros(1, 3, 2, 2))
>>> optimizer = torch.optim.Adam(x.parameters(), lr=0.1)
>>> losses = [training_step(x, optimizer, lambda image: ((image - 1) ** 2).sum()) for _ in range(3)]
>>> losses[0] > losses[-1]
True
"""

import torch
import torch.nn.functional as F
from torch import nn

from . import colour, images
from .errors import RecipeError


class SynthesizedImage(nn.Module):
    """The image being optimised, as the model's one and only parameter.

    >>> x = SynthesizedImage(torch.zeros(1, 3, 2, 2))
    >>> [tuple(p.shape) for p in x.parameters()], x() is x.weight
    ([(1, 3, 2, 2)], True)
    """

    def __init__(self, initial):
        super().__init__()
        self.weight = nn.Parameter(initial.detach().clone())

    def forward(self):
        return self.weight


def initial_image(recipe, content_x, style_x, generator=None, weights=None):
    """Where the optimisation starts, in the recipe's space.

    ``content_x`` and ``style_x`` are standardised tensors at the working
    size (either may be None when the recipe does not use it; ``style_x``
    may be a list of several paintings, of which ``style`` takes the first
    and ``recoloured`` all, mixed by their blend ``weights``). The start has
    the content's shape (the style's, for texture synthesis). ``recoloured``
    starts from the photo with the painting's mean colour and colour
    covariance (:func:`recoloured_photo`). Noise is
    standard normal in the standardised space and uniform in [0, 1] in pixel
    space.

    >>> from d2lstyle.recipes import get_recipe
    >>> p = torch.zeros(1, 3, 4, 6)
    >>> initial_image(get_recipe("d2l"), p, None).equal(p)
    True
    """
    paintings = [x for x in (style_x if isinstance(style_x, (list, tuple)) else [style_x]) if x is not None]
    style_x = paintings[0] if paintings else None
    reference = content_x if content_x is not None else style_x
    if recipe.init == "noise":
        noise = torch.rand if recipe.space == "pixels" else torch.randn
        return noise(reference.shape, generator=generator).to(reference.device)
    if recipe.init == "randn":  # standard normal whatever the space: in pixel space, not an image in [0, 1]
        return torch.randn(reference.shape, generator=generator).to(reference.device)
    if recipe.init in ("content", "recoloured"):
        if content_x is None:
            raise RecipeError(f"init='{recipe.init}' needs a content image; use init='noise' for texture synthesis")
        start = content_x.clone()
        if recipe.init == "recoloured":
            if style_x is None:
                raise RecipeError("init='recoloured' needs a style image")
            start = recoloured_photo(content_x, paintings, weights)
    else:
        if style_x is None:
            raise RecipeError("init='style' needs a style image")
        start = F.interpolate(style_x, size=reference.shape[-2:], mode="bilinear", align_corners=False)
    return images.denormalize(start) if recipe.space == "pixels" else start


def recoloured_photo(content_x, style_x, weights=None):
    r"""The photo with the painting's colours: each pixel colour c becomes A c + b, with A and b chosen so that
    the colours' mean and 3 x 3 covariance become the painting's, clipped to [0, 1]:

    .. math:: A = \Sigma_a^{1/2} \Sigma_p^{-1/2}, \qquad b = \mu_a - A \mu_p

    (:func:`d2lstyle.colour.match_histogram`'s map, with the roles of photo and painting swapped). Both are
    standardised tensors; so is the result. ``style_x`` may be a list of paintings (of any sizes) with blend
    ``weights`` (default: equal): then mu_a and Sigma_a are those of the mixture, the mean
    :math:`\sum_i w_i \mu_i` and the covariance :math:`\sum_i w_i (\Sigma_i + (\mu_i - \mu_a)(\mu_i - \mu_a)^\top)`
    with the weights scaled to sum to 1; a painting of weight 0 plays no part.

    A start that already has the painting's colour statistics spares the optimiser the evaluations that would
    otherwise go into moving the colours (relu1_1's Gram matrix is mostly colour).

    >>> photo = images.normalize(torch.rand(1, 3, 6, 8, generator=torch.Generator().manual_seed(0)))
    >>> painting = images.normalize(torch.rand(1, 3, 5, 5, generator=torch.Generator().manual_seed(1)) * 0.5)
    >>> mean = colour.colour_statistics(images.denormalize(recoloured_photo(photo, painting)))[0]
    >>> torch.allclose(mean, colour.colour_statistics(images.denormalize(painting))[0], atol=1e-5)
    True
    """
    paintings = style_x if isinstance(style_x, (list, tuple)) else [style_x]
    weights = [1.0] * len(paintings) if weights is None or sum(weights) <= 0 else list(weights)
    total = sum(weights)
    # on the CPU in float64 (Apple's MPS has no float64); a few 3 x 3 matrices and one pass over the pixels
    statistics = [colour.colour_statistics(images.denormalize(x.detach().cpu()).double()) for x in paintings]
    mean = sum(weight * mean_i for weight, (mean_i, _) in zip(weights, statistics)) / total
    cov = sum(weight * (cov_i + torch.outer(mean_i - mean, mean_i - mean))
              for weight, (mean_i, cov_i) in zip(weights, statistics)) / total
    photo = images.denormalize(content_x.detach().cpu()).double()
    mean_p, cov_p = colour.colour_statistics(photo)
    A = colour.matrix_power_symmetric(cov, 0.5) @ colour.matrix_power_symmetric(cov_p, -0.5)
    b = mean - A @ mean_p
    recoloured = (colour._per_pixel(A, photo) + b.view(1, 3, 1, 1)).clamp(0, 1)
    return images.normalize(recoloured.to(content_x.device, content_x.dtype))


def as_normalized(image, space):
    """The standardised image the network takes, for an image held in ``space``
    ("normalized", already standardised, or "pixels", values in [0, 1])."""
    return images.normalize(image) if space == "pixels" else image


def make_optimizer(recipe, parameters):
    """The recipe's optimiser over ``parameters``: Adam, or L-BFGS with its
    history size and line search.

    >>> from d2lstyle.recipes import get_recipe
    >>> type(make_optimizer(get_recipe("gatys"), [torch.zeros(1, requires_grad=True)])).__name__
    'LBFGS'
    """
    if recipe.optimizer == "adam":
        return torch.optim.Adam(parameters, lr=recipe.lr, betas=recipe.betas, eps=recipe.eps)
    return torch.optim.LBFGS(parameters, lr=recipe.lr, history_size=recipe.lbfgs_history,
                             line_search_fn=recipe.line_search)


def decayed_learning_rate(step, lr, every, factor):
    """The learning rate of d2l's step-decay schedule at ``step`` (counted from 0):

        lr_t = lr * factor ** (step // every)

    so it is ``lr`` for steps 0 .. every-1, ``lr * factor`` for the next
    ``every`` steps, and so on, like ``torch.optim.lr_scheduler.StepLR``.
    ``every=0`` means no decay.

    >>> [round(decayed_learning_rate(step, 0.3, 50, 0.8), 4) for step in (0, 49, 50, 100)]
    [0.3, 0.3, 0.24, 0.192]
    """
    if not every:
        return lr
    return lr * factor ** (step // every)


def training_step(synthesized, optimizer, loss_fn):
    """One optimisation step of the image; returns the loss as a Python float.

    Zero the gradients (PyTorch adds new ones to old ones), evaluate
    ``loss_fn(synthesized())``, backpropagate to the pixels, update them.
    The loss is returned as a float so that keeping a list of losses does not
    keep every step's computation graph alive.

    >>> synthesized = SynthesizedImage(torch.ones(1, 3, 2, 2))
    >>> optimizer = torch.optim.SGD(synthesized.parameters(), lr=0.25)
    >>> training_step(synthesized, optimizer, lambda x: (x ** 2).sum())  # gradient 2x = 2
    12.0
    >>> synthesized().mean().item()  # 1 - 0.25 * 2
    0.5
    """
    optimizer.zero_grad()
    loss = loss_fn(synthesized())
    loss.backward()
    optimizer.step()
    return loss.item()


def make_closure(synthesized, optimizer, loss_fn):
    """The closure ``torch.optim.LBFGS.step`` calls to evaluate the loss.

    L-BFGS evaluates the loss several times per step (its line search tries
    several step lengths), so it needs a function it can call: each call zeroes
    the gradients, evaluates ``loss_fn(synthesized())``, backpropagates and
    returns the loss tensor. The optimiser updates the image itself.

    >>> synthesized = SynthesizedImage(torch.ones(1, 3, 2, 2))
    >>> optimizer = torch.optim.LBFGS(synthesized.parameters(), line_search_fn="strong_wolfe")
    >>> closure = make_closure(synthesized, optimizer, lambda x: ((x - 3) ** 2).sum())
    >>> closure().item(), synthesized.weight.grad.mean().item()  # 12 * (1 - 3)^2, 2 * (1 - 3)
    (48.0, -4.0)
    >>> _ = optimizer.step(closure)
    >>> round(synthesized().mean().item(), 4)  # the minimum, x = 3
    3.0
    """
    def closure():
        optimizer.zero_grad()
        loss = loss_fn(synthesized())
        loss.backward()
        return loss

    return closure
