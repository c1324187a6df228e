r"""The recipes: every number that turns the losses into one style transfer.

The same algorithm is taught with very different numbers: style weights from
1e-2 to 1e10 appear because each tutorial normalises the Gram matrix
and sums the losses differently, and because the two pretrained VGG-19s see
features of very different sizes. A :class:`Recipe` names all those choices,
and ``PRESETS`` holds the well-known tutorials':

=====================  =========================================================
``default``            this project's recommendation (see benchmarks/README.md)
``d2l``                Dive into Deep Learning, section "Neural Style Transfer"
``pytorch-tutorial``   the PyTorch tutorial "Neural Transfer Using PyTorch"
``keras``              the TensorFlow tutorial "Neural style transfer"
``udacity``            Udacity's deep-learning-v2-pytorch style-transfer exercise
``gatys``              Gatys, Ecker and Bethge, CVPR 2016
``loss-design``        the loss-design article this project grew from
=====================  =========================================================

The total loss of a recipe is

.. math:: L = \alpha \sum_l w^c_l L^l_\text{content} + \beta \sum_l w^s_l L^l_\text{style} / D_l
              + \gamma L_\text{TV}

with ``content_weight`` alpha, ``style_weight`` beta, ``tv_weight`` gamma,
per-layer weights w^c_l, w^s_l (the values of ``content_layers`` and
``style_layers``) and the style divisor D_l (see
:func:`d2lstyle.losses.style_divisor`).

**Loss weights depend on the network.** The original VGG-19 takes pixels in
0..255, torchvision's takes pixels standardised to about -2..2: the original's
features are about k = 255 x 0.226 = 58 times larger. The content loss, a
square of features, grows by k^2, the style loss, a square of Gram matrices
(themselves squares), by k^4, and the TV loss, measured on the image, not at
all. So the same objective on the original network takes alpha / k^2,
beta / k^4 and the same gamma (:func:`weights_for_other_network`); its values,
and so the optimisers' step sizes and tolerances, stay about what they were.
Each preset keeps its source's numbers for the network its source used, and
the other network's are derived this way (and checked with the quality
measure: tests/test_quality.py). ``get_recipe(name, network)`` picks them;
``recipe.network`` says which network a recipe's weights are for.

>>> get_recipe("d2l", network="torchvision").style_weight
10000.0
>>> get_recipe("d2l").style_weight   # on the default network, the original VGG-19
0.00091
>>> get_recipe("d2l").replace(steps=10).steps
10
"""

import dataclasses
from dataclasses import dataclass, field

from . import losses, numbers, vgg
from .errors import RecipeError


@dataclass(frozen=True)
class Recipe:
    """All the settings of one style-transfer run. Change one with ``replace``."""

    name: str
    summary: str
    # Layers and their per-layer weights a_l (content) and b_l (style).
    content_layers: dict = field(default_factory=lambda: {"conv4_2": 1.0})
    style_layers: dict = field(default_factory=dict)
    # alpha, beta, gamma in the total loss, for the network named by `network`.
    content_weight: float = 1.0
    style_weight: float = 1e4
    tv_weight: float = 10.0
    # > 0: lower beta for a pair whose style is far from the photo's relative to their difference in content,
    # multiplying it by min(1, balance_cap / q) (d2lstyle.objective.balance_factor); 0: beta as given.
    balance_cap: float = 0.0
    # How each loss is normalised (see d2lstyle.losses).
    gram_normalization: str = "chw"
    style_reduction: str = "mean"
    style_divisor: str = "none"
    content_reduction: str = "mean"
    tv_reduction: str = "mean"
    pooling: str = "max"
    # The optimiser. `steps` counts loss evaluations (one forward and backward
    # pass each), for Adam and L-BFGS alike, so that costs compare.
    optimizer: str = "adam"
    lr: float = 0.3
    betas: tuple = (0.9, 0.999)
    eps: float = 1e-8
    lr_decay_every: int = 0  # multiply lr by lr_decay_factor every this many steps (0: never)
    lr_decay_factor: float = 1.0
    lbfgs_history: int = 100
    line_search: object = None  # None or "strong_wolfe" (L-BFGS only)
    steps: int = 500
    # The image: size (an int long side, or (height, width)), where the
    # optimisation starts, and in which space the pixels are optimised.
    image_size: object = (300, 450)
    init: str = "content"  # "content", "recoloured", "noise", "randn" or "style" (d2lstyle.training.initial_image)
    space: str = "normalized"  # "normalized" (ImageNet mean/std) or "pixels" ([0, 1])
    clamp: bool = False  # clamp pixels to [0, 1] after every step
    # Coarse to fine: optimise at these fractions of image_size in turn,
    # upsampling the result each time; the last is 1, so the result has the
    # full size. The steps are shared in the proportions of scale_steps (one
    # whole number per scale, e.g. (300, 100, 50); empty: equally), at least
    # one per scale; see d2lstyle.transfer.scale_schedule.
    scales: tuple = (1.0,)
    scale_steps: tuple = ()
    # "float32" everywhere, or "auto": with Adam, run VGG-19 in bfloat16 (autocast) where
    # the hardware computes it natively (CPUs with AVX512-BF16 or AMX, CUDA GPUs
    # with bf16), about 1.6 times as fast per step on the CPU measured; losses and targets stay in float32.
    # L-BFGS always runs in float32: its curvature estimates need it (d2lstyle.transfer.optimise).
    precision: str = "float32"
    # The network whose feature sizes the loss weights are balanced for: "original" or "torchvision".
    network: str = "original"
    source: str = ""
    notes: tuple = ()

    def __post_init__(self):
        validate_recipe(self)

    def replace(self, **changes):
        """A copy with some settings changed: ``recipe.replace(steps=100)``."""
        return dataclasses.replace(self, **changes)

    def for_network(self, network):
        """This recipe with its loss weights for ``network`` ("original" or "torchvision"): alpha / k^2,
        beta / k^4 and the same gamma from torchvision's VGG-19 to the original (the reverse the other way,
        :func:`weights_for_other_network`); the recipe itself when its weights are for that network already.
        The ``balance_cap`` bounds q = L_style(p) / L_content(a), which scales like beta / alpha the other way
        round: it is multiplied by k^2.

        >>> get_recipe("d2l").for_network("torchvision").style_weight
        10000.0
        >>> round(get_recipe("default").for_network("torchvision").balance_cap * FEATURE_SCALE_SQUARED, 2)
        0.3
        """
        _validate_choice("network", network, BALANCED_FOR)
        if network == self.network:
            return self
        alpha, beta, gamma = weights_for_other_network((self.content_weight, self.style_weight, self.tv_weight),
                                                       self.network)
        k2 = 1 / FEATURE_SCALE_SQUARED if self.network == "torchvision" else FEATURE_SCALE_SQUARED
        return self.replace(content_weight=alpha, style_weight=beta, tv_weight=gamma,
                            balance_cap=_two_digits(self.balance_cap / k2), network=network)

    def layers(self):
        """Every layer the recipe reads, in network order."""
        names = set(self.content_layers) | set(self.style_layers)
        return sorted(names, key=vgg.layer_index)


# The values each choice of a recipe can take (the explorer and the CLI offer these).
OPTIMIZERS = ("adam", "lbfgs")
LINE_SEARCHES = (None, "strong_wolfe")
INITS = ("content", "recoloured", "noise", "randn", "style")
SPACES = ("normalized", "pixels")
PRECISIONS = ("float32", "auto")
BALANCED_FOR = ("original", "torchvision")


def weights_family(family):
    """The network whose loss weights suit a network of ``family`` (``vgg.family``): its own for the two
    pretrained VGG-19s, the original's for any other (a random network has no weights of its own).
    Everything that picks a preset's weights for a loaded network asks this.

    >>> weights_family("torchvision"), weights_family("random")
    ('torchvision', 'original')
    """
    return family if family in BALANCED_FOR else "original"


def _validate_choice(name, value, choices):
    if value not in choices:
        raise RecipeError(f"recipe setting {name} must be one of {', '.join(map(repr, choices))}, not {value!r}")


def _validate_number(name, value, low, low_allowed=True):
    """A finite number >= low (> low when not ``low_allowed``)."""
    bound = {"at_least": low} if low_allowed else {"above": low}
    should_be = numbers.expected(value, **bound)
    if should_be:
        raise RecipeError(f"recipe setting {name} must be {should_be}, not {value!r}")


def _validate_whole(name, value, low):
    should_be = numbers.expected(value, at_least=low, whole=True)
    if should_be:
        raise RecipeError(f"recipe setting {name} must be {should_be}, not {value!r}")


def validate_recipe(recipe):
    """Raise :class:`~d2lstyle.errors.RecipeError` for a setting that cannot work.

    Every number must be finite: an infinite or NaN weight or learning rate
    would only turn the loss into NaN after the run has started.

    >>> get_recipe("d2l").replace(style_weight=float("inf"))
    Traceback (most recent call last):
    ...
    d2lstyle.errors.RecipeError: recipe setting style_weight must be a finite number >= 0, not inf
    """
    for kind in ("content_layers", "style_layers"):
        layers = getattr(recipe, kind)
        if not isinstance(layers, dict):
            raise RecipeError(f"recipe setting {kind} must be a dict {{layer name: weight}}, not {layers!r}")
        for layer, weight in layers.items():
            vgg.layer_index(layer)
            _validate_number(f"{kind}[{layer!r}]", weight, 0)
    if not recipe.content_layers and not recipe.style_layers:
        raise RecipeError("a recipe needs at least one content or style layer")
    _validate_choice("gram_normalization", recipe.gram_normalization, losses.GRAM_NORMALIZATIONS)
    _validate_choice("style_reduction", recipe.style_reduction, losses.REDUCTIONS)
    _validate_choice("style_divisor", recipe.style_divisor, losses.STYLE_DIVISORS)
    _validate_choice("content_reduction", recipe.content_reduction, losses.REDUCTIONS)
    _validate_choice("tv_reduction", recipe.tv_reduction, losses.TV_REDUCTIONS)
    _validate_choice("pooling", recipe.pooling, vgg.POOLINGS)
    _validate_choice("optimizer", recipe.optimizer, OPTIMIZERS)
    _validate_choice("line_search", recipe.line_search, LINE_SEARCHES)
    _validate_choice("init", recipe.init, INITS)
    _validate_choice("space", recipe.space, SPACES)
    _validate_choice("precision", recipe.precision, PRECISIONS)
    _validate_choice("network", recipe.network, BALANCED_FOR)
    _validate_whole("steps", recipe.steps, 1)
    _validate_whole("lbfgs_history", recipe.lbfgs_history, 1)
    _validate_whole("lr_decay_every", recipe.lr_decay_every, 0)
    _validate_number("lr", recipe.lr, 0, low_allowed=False)
    _validate_number("eps", recipe.eps, 0)
    _validate_number("lr_decay_factor", recipe.lr_decay_factor, 0, low_allowed=False)
    if not (isinstance(recipe.betas, tuple) and len(recipe.betas) == 2
            and all(numbers.is_number(b) and 0 <= b < 1 for b in recipe.betas)):
        raise RecipeError(f"recipe setting betas must be two numbers in [0, 1), not {recipe.betas!r}")
    for name in ("content_weight", "style_weight", "tv_weight", "balance_cap"):
        _validate_number(name, getattr(recipe, name), 0)
    size = recipe.image_size
    valid_size = (isinstance(size, int) and not isinstance(size, bool) and size >= 1) or (
        isinstance(size, tuple) and len(size) == 2
        and all(isinstance(s, int) and not isinstance(s, bool) and s >= 1 for s in size))
    if not valid_size:
        raise RecipeError(f"recipe setting image_size must be a whole number or (height, width), not {size!r}")
    scales = recipe.scales
    if (not isinstance(scales, tuple) or not scales or not all(numbers.is_number(s) and 0 < s <= 1 for s in scales)
            or list(scales) != sorted(set(scales)) or scales[-1] != 1):
        raise RecipeError(f"recipe setting scales must be a tuple increasing from >0 and ending at 1 (the full "
                          f"image size, which the result has), not {scales!r}")
    if recipe.steps < len(scales):
        raise RecipeError(f"{len(scales)} scales ({', '.join(f'{s:g}' for s in scales)}) need at least "
                          f"{len(scales)} steps, one for each, not {recipe.steps}; give more steps or fewer scales")
    shares = recipe.scale_steps
    if shares != () and not (isinstance(shares, tuple) and len(shares) == len(scales) and all(
            isinstance(s, int) and not isinstance(s, bool) and s >= 1 for s in shares)):
        raise RecipeError(f"recipe setting scale_steps must be empty or one whole number >= 1 per scale "
                          f"({len(scales)} for scales {scales}), not {shares!r}")


FIVE_BLOCKS = ("1_1", "2_1", "3_1", "4_1", "5_1")
# Gatys et al. computed their losses on a *rescaled* VGG-19: each filter's weights scaled so that its mean
# activation over images and positions is 1. On the network as released, layer l's features are m_l times larger
# (m_l: its filters' mean activations), so its content term is about m_l^2 and its style term about m_l^4 times the
# rescaled network's. The gatys preset carries the rescaling as per-layer weights: the rescaled network's term over
# the released network's, measured for each layer on a finished painting of Tübingen / Starry Night with the means
# of the 11 bundled pictures (`python benchmarks/gatys_rescaling.py --side 256`; the means range from 9 (relu5_1)
# to 190 (relu4_1)), times the paper's w_l = 1/5 for the style layers.
GATYS_CONTENT_LAYERS = {"relu4_2": 7.9e-05}
GATYS_STYLE_LAYERS = {"relu1_1": 2e-07, "relu2_1": 4.3e-09, "relu3_1": 6.6e-09, "relu4_1": 1.7e-10, "relu5_1": 1.7e-05}
# With the rescaling in place, the paper's alpha/beta = 1e-3 reconstructs the photo: from noise at 128 px, style
# ratio 1.88 and content ratio 0.24 after 60 evaluations (the same balance as one style weight for all layers,
# 0.14, gave 1.02 and 0.06 after 500). alpha/beta = 1e-5 gives 0.73 / 0.17 after 60, 1e-6 gives 0.34 / 0.33, a
# painting (measured 2 Dec 2026 with tests/test_quality.py's settings): the preset uses beta = 1e6 (alpha = 1).
GATYS_STYLE_WEIGHT = 1e6

# k^2: how much larger the original VGG-19's squared features are than torchvision's (see the module's docstring).
FEATURE_SCALE_SQUARED = (255 * 0.226) ** 2


def weights_for_other_network(weights, network):
    """(alpha, beta, gamma) for the other network than ``network``, the one they were set for: alpha / k^2,
    beta / k^4 and the same gamma from torchvision's VGG-19 to the original, the reverse the other way.
    Rounded to two significant digits: the conversion is an estimate (tests/test_quality.py checks the results).

    >>> weights_for_other_network((1.0, 1e4, 10.0), "torchvision")
    (0.0003, 0.00091, 10.0)
    """
    alpha, beta, gamma = weights
    k2 = 1 / FEATURE_SCALE_SQUARED if network == "torchvision" else FEATURE_SCALE_SQUARED
    return _two_digits(alpha * k2), _two_digits(beta * k2 * k2), gamma


def _two_digits(value):
    return float(f"{value:.1e}") if value else 0.0


D2L = Recipe(
    name="d2l",
    summary="Dive into Deep Learning: Adam lr 0.3 decayed x0.8 every 50 steps, 500 steps, 300x450",
    # d2l asks for conv layers 0, 5, 10, 19, 28 (style) and 25 (content), but
    # keeps them by reference while torchvision's in-place ReLUs run: what it
    # really compares are the post-ReLU values, except conv5_1, the last
    # layer it runs. This preset reproduces what d2l computes.
    content_layers={"relu4_4": 1.0},
    style_layers={"relu1_1": 1.0, "relu2_1": 1.0, "relu3_1": 1.0, "relu4_1": 1.0, "conv5_1": 1.0},
    content_weight=1.0, style_weight=1e4, tv_weight=10.0, network="torchvision",
    gram_normalization="chw", optimizer="adam", lr=0.3, lr_decay_every=50, lr_decay_factor=0.8,
    steps=500, image_size=(300, 450), init="content", space="normalized",
    source="Zhang, Lipton, Li, Smola: Dive into Deep Learning, section 14.12 (PyTorch version)",
    notes=(
        "d2l names conv layers 0, 5, 10, 19, 28 and 25, but torchvision's in-place ReLUs overwrite them: "
        "the features it uses are relu1_1, relu2_1, relu3_1, relu4_1, conv5_1 (style) and relu4_4 (content).",
        "d2l resizes the style image to the content image's shape; d2lstyle keeps its aspect ratio.",
        "d2l's weights (1, 1e4, 10) are for torchvision's VGG-19; on the original VGG-19 they become "
        "(3e-4, 9.1e-4, 10).",
    ),
)

DEFAULT = Recipe(
    name="default",
    summary="L-BFGS with a line search from the photo in the painting's colours, 60 loss evaluations at 512 px, "
            "on the original VGG-19",
    # Gatys et al.'s layers (after their ReLUs), d2l's Gram matrix divided by C*H*W and mean squared
    # differences, beta / alpha = 100, no TV. benchmarks/tune.py at 512 px: the quality target after 10
    # evaluations; pastiche's weights (beta / alpha = 1000) over-paint. The strong-Wolfe line search paints as
    # well and its loss never rises above its start; without it, L-BFGS's second step overshot (up to 1e17 times
    # the start) on half the pairs at 256 px and once left the photo unpainted (benchmarks/overshoot.py). The
    # start is the photo recoloured with the painting's mean colour and colour covariance: it reaches pastiche's
    # 120-iteration picture on both ratios in well under half of pastiche's time, and ends with more of the
    # painting than a start from the photo (benchmarks/bolder.py; results.md, section bolder). beta is lowered
    # for a pair whose style term at the photo is more than 0.3 times the painting's content term (balance_cap,
    # objective.balance_factor): with beta / alpha = 100 everywhere, five of the 30 bundled pairs (three on the
    # close-up of the cat) lost too much of the photo (tools/make_gallery.py; results.md, section gallery). The
    # cap 0.3 was chosen on those pairs (docs/recipes.md; benchmarks/balance.py): the cat with the Great Wave still
    # missed the content goal at 0.35; 0.3 is the largest cap tried with which all 30 pairs meet both goals.
    content_layers={"relu4_2": 1.0},
    style_layers={f"relu{b}": 1.0 for b in FIVE_BLOCKS},
    content_weight=1.0, style_weight=100.0, tv_weight=0.0, balance_cap=0.3, network="original",
    gram_normalization="chw", optimizer="lbfgs", lr=1.0, lbfgs_history=100, line_search="strong_wolfe",
    steps=60, image_size=512, init="recoloured", space="normalized", precision="auto",
    source="this project (benchmarks/tune.py; the measurements are in benchmarks/README.md)",
    notes=(
        "L-BFGS takes nearly the same steps whatever the objective's scale, so only the ratio "
        "beta / alpha matters; on torchvision's VGG-19 the weights become (3300, 1.1e9): its features are about "
        "58 times smaller (weights_for_other_network).",
        "precision='auto' would run VGG-19 in bfloat16 on CPUs with AVX512-BF16 or AMX and on CUDA GPUs with "
        "bfloat16, but only with Adam: this recipe's L-BFGS runs in float32 everywhere, since in bfloat16 its "
        "first overshooting step never recovered (a 128 px run of 30 evaluations ended as the photo).",
    ),
)

PYTORCH = Recipe(
    name="pytorch-tutorial",
    summary="PyTorch tutorial: L-BFGS on [0, 1] pixels, 300 evaluations, style weight 1e6",
    # The tutorial's conv_1 ... conv_5 count convolutions, not blocks, and it
    # replaces the ReLUs by out-of-place ones: these are pre-ReLU values.
    content_layers={"conv2_2": 1.0},
    style_layers={"conv1_1": 1.0, "conv1_2": 1.0, "conv2_1": 1.0, "conv2_2": 1.0, "conv3_1": 1.0},
    content_weight=1.0, style_weight=1e6, tv_weight=0.0, network="torchvision",
    gram_normalization="chw", optimizer="lbfgs", lr=1.0, line_search="strong_wolfe", steps=300,
    image_size=512, init="content", space="pixels", clamp=True,
    source="Alexis Jacq and Winston Herring: Neural Transfer Using PyTorch (pytorch.org tutorials)",
    notes=(
        "The tutorial's L-BFGS has no line search; this preset adds one (strong Wolfe). Without it, L-BFGS's "
        "first full step can overshoot on the original VGG-19 (the loss grows a thousandfold) and the run end "
        "as far from the photo as the painting is: tests/test_quality.py's direction test caught it.",
        "The tutorial's 'conv_4' is the fourth convolution, conv2_2, not a layer of block 4.",
        "It uses 512 px on a GPU and 128 px on a CPU, and resizes the shorter side.",
        "Its Gram matrix is divided by B*C*H*W with a batch B of 1, the same as C*H*W.",
        "Its weights (1, 1e6) are for torchvision's VGG-19; on the original VGG-19 they become (3e-4, 0.091).",
    ),
)

KERAS = Recipe(
    name="keras",
    summary="TensorFlow tutorial: Adam lr 0.02 on [0, 1] pixels, 1000 steps, style 1e-2, content 1e4",
    # Keras' blockN_convM layers include their ReLU: post-ReLU values.
    content_layers={"relu5_2": 1.0},
    style_layers={f"relu{b}": 0.2 for b in FIVE_BLOCKS},
    content_weight=1e4, style_weight=1e-2, tv_weight=30.0, network="original",
    gram_normalization="hw", tv_reduction="sum",
    optimizer="adam", lr=0.02, betas=(0.99, 0.999), eps=0.1, steps=1000,
    image_size=512, init="content", space="pixels", clamp=True,
    source="TensorFlow tutorial: Neural style transfer (tensorflow.org/tutorials/generative/style_transfer)",
    notes=(
        "Keras' VGG19 is the original VGG-19 and takes BGR pixels in 0..255 minus the mean pixel: the "
        "original network's input stage does exactly that, so on it this preset is the tutorial's own.",
        "Style and content are averaged over their layers (weights 1/5 and 1/1).",
        "On torchvision's VGG-19 the weights become (3.3e7, 1.1e5, 30).",
    ),
)

UDACITY = Recipe(
    name="udacity",
    summary="Udacity exercise: Adam lr 0.003, 2000 steps, style 1e6 with per-layer weights",
    # get_features keeps conv outputs by reference while every in-place ReLU
    # runs, so all the features it compares are post-ReLU values.
    content_layers={"relu4_2": 1.0},
    style_layers={"relu1_1": 1.0, "relu2_1": 0.8, "relu3_1": 0.5, "relu4_1": 0.3, "relu5_1": 0.1},
    content_weight=1.0, style_weight=1e6, tv_weight=0.0, network="torchvision",
    gram_normalization="none", style_divisor="chw",
    optimizer="adam", lr=0.003, steps=2000, image_size=400, init="content", space="normalized",
    source="Udacity deep-learning-v2-pytorch, style-transfer/Style_Transfer_Exercise.ipynb",
    notes=(
        "Udacity asks for conv1_1 ... conv5_1 and conv4_2, but in-place ReLUs turn them into relu values.",
        "Its Gram matrix is not normalised; each layer's loss is divided by C*H*W instead.",
        "The per-layer style weights are the exercise notebook's; copies of the solution use 1, 0.75, 0.2, 0.2, 0.2.",
        "Its load_image passes 400 to transforms.Resize, which sets the shorter side, not the longer one.",
        "Its weights (1, 1e6) are for torchvision's VGG-19; on the original VGG-19 they become (3e-4, 0.091).",
    ),
)

GATYS = Recipe(
    name="gatys",
    summary="Gatys et al. 2016: L-BFGS from white noise, average pooling, their rescaled network, alpha/beta = 1e-6",
    content_layers=GATYS_CONTENT_LAYERS,
    style_layers=GATYS_STYLE_LAYERS,
    content_weight=0.5, style_weight=GATYS_STYLE_WEIGHT, tv_weight=0.0, network="original",
    gram_normalization="none", style_reduction="sum", style_divisor="gatys", content_reduction="sum",
    pooling="avg", optimizer="lbfgs", lr=1.0, line_search="strong_wolfe", steps=500, image_size=512, init="noise",
    space="normalized",
    source="Gatys, Ecker, Bethge: Image Style Transfer Using Convolutional Neural Networks, CVPR 2016",
    notes=(
        "L_content = 1/2 sum (F - P)^2 (content_weight 0.5 = alpha * 1/2 with alpha = 1), "
        "E_l = sum (G - A)^2 / (4 N^2 M^2), w_l = 1/5.",
        "The paper's network is the original VGG-19 rescaled so that each filter's mean activation over images "
        "and positions is 1. The per-layer weights carry that rescaling to the network as released (each is the "
        "rescaled network's loss term over the released one's, measured by benchmarks/gatys_rescaling.py; the "
        "style layers' include w_l = 1/5).",
        "The paper's alpha/beta = 1e-3 reconstructs the photo with these definitions (style ratio 1.88, content "
        "0.24 after 60 evaluations from noise at 128 px); the preset uses 1e-6, measured to paint (0.34, 0.33).",
        "Caffe's ReLUs are in place too, so the paper's conv4_2 and conv1_1 ... conv5_1 are post-ReLU "
        "values, as in the authors' own PyTorch code.",
    ),
)

LOSS_DESIGN = Recipe(
    name="loss-design",
    summary="the loss-design article, reconstructed: L-BFGS from noise, content 1e5, style 1e10, TV 1e-6 "
            "(wrapping TV)",
    # Its network is torchvision's features[:23], which ends at relu4_2: conv5_1,
    # the fifth style layer it names, is never computed, so four style layers
    # remain. Its TV uses torch.roll (the "wrap" reduction), and it starts from
    # torch.randn noise in [0, 1] pixel space, which is no image (space "pixels",
    # init "randn").
    content_layers={"conv4_2": 1.0},
    style_layers={"conv1_1": 1.0, "conv2_1": 1.0, "conv3_1": 1.0, "conv4_1": 1.0},
    content_weight=1e5, style_weight=1e10, tv_weight=1e-6, network="torchvision",
    gram_normalization="chw", tv_reduction="wrap", optimizer="lbfgs", lr=1.0, steps=300,
    image_size=512, init="randn", space="pixels", clamp=False,
    source="the loss-design article this project grew from: a reconstruction of its published code's intent "
           "(that code cannot run as printed; the notes list each departure)",
    notes=(
        "A reconstruction, not the code as it runs: its get_style_loss compares names such as 'conv1_1' with a "
        "Sequential's layer names '0' ... '22', so its list of style targets stays empty and indexing it raises; "
        "the preset uses the style layers the article names.",
        "Its code takes the content target at relu4_2 (features[:23] ends there); the preset uses conv4_2, "
        "the layer the article names.",
        "Its loop calls L-BFGS's optimizer.step 300 times with the default max_iter of 20: up to 6,000 loss "
        "evaluations (notebook 06's counting trap); the preset runs 300 evaluations.",
        "Its code feeds pixels to the network without ImageNet standardisation; the preset standardises them "
        "(space 'pixels' is standardised before the network).",
        "It names conv5_1 among its style layers, but cuts the network at features[:23] (up to relu4_2), "
        "so conv5_1 could never run: the preset keeps the other four style layers.",
        "Its total variation compares neighbours with torch.roll, which wraps around: the last row is "
        "compared with the first and the last column with the first.",
        "It starts from torch.randn noise in pixel space: values around 0 with a standard deviation of 1, "
        "most of them outside [0, 1], so the first images are no pictures.",
        "Its weights (1e5, 1e10, 1e-6) are for torchvision's VGG-19; on the original VGG-19 they become "
        "(30, 910, 1e-6).",
    ),
)

PRESETS = {recipe.name: recipe for recipe in (DEFAULT, D2L, PYTORCH, KERAS, UDACITY, GATYS, LOSS_DESIGN)}


def get_recipe(name, network="original"):
    """The preset recipe called ``name`` (see ``PRESETS``), with its loss weights for ``network``
    ("original", the default network, or "torchvision"). A :class:`Recipe` is returned as it is.

    >>> get_recipe("keras").style_weight, get_recipe("keras", "torchvision").style_weight
    (0.01, 110000.0)
    """
    if isinstance(name, Recipe):
        return name
    if name not in PRESETS:
        raise RecipeError(f"no recipe called {name!r}; presets: {', '.join(PRESETS)}")
    return PRESETS[name].for_network(network)
