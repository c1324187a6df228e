"""Stage 2 of the pipeline: VGG-19 and the activations of its named layers.

VGG-19's convolutional part is 37 layers in five blocks, written below as
data (``VGG19_LAYOUT``, in the style of torchvision's ``cfgs``): a number is a
3x3 convolution with that many output channels, followed by a ReLU; ``"M"``
is a 2x2 pooling that halves the height and width and ends a block. We use
the names of Gatys et al.: ``conv{b}_{i}`` is the i-th convolution of block b
(its output *before* the ReLU), ``relu{b}_{i}`` the same activation after the
ReLU, and ``pool{b}`` the block's pooling. The indices are torchvision's
(``vgg19().features``): conv4_2 is index 21 and relu4_2 index 22.

A :class:`VGG19` is that stack plus an *input stage*: each trained VGG-19
expects its input in the form it was trained on (the original one BGR pixels
in 0..255 minus a mean, torchvision's standardised RGB), and the input stage
converts the pipeline's images (standardised RGB, see :mod:`d2lstyle.images`)
to that form. Which parameters and which input stage a network gets is chosen
in :mod:`d2lstyle.networks`.

Beware a trap in much published code: torchvision's ReLUs work in place, so a
conv output kept by reference is overwritten with its ReLU as soon as the next
layer runs. :class:`FeatureExtractor` returns each layer exactly as named.

>>> LAYER_INDEX["conv4_2"], LAYER_NAMES[22]
(21, 'relu4_2')
"""

import difflib

import torch
from torch import nn

from .errors import ImageError, LayerError

# VGG-19 ("configuration E" of Simonyan and Zisserman): channels of each 3x3
# convolution, "M" for each 2x2 pooling.
VGG19_LAYOUT = (64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M",
                512, 512, 512, 512, "M", 512, 512, 512, 512, "M")
POOLINGS = ("max", "avg")


def _layer_names(layout):
    names, block, conv = [], 1, 1
    for item in layout:
        if item == "M":
            names.append(f"pool{block}")
            block, conv = block + 1, 1
        else:
            names += [f"conv{block}_{conv}", f"relu{block}_{conv}"]
            conv += 1
    return tuple(names)


LAYER_NAMES = _layer_names(VGG19_LAYOUT)
LAYER_INDEX = {name: index for index, name in enumerate(LAYER_NAMES)}
LAYER_NAMING = "names are conv{b}_{i}, relu{b}_{i} and pool{b}, for blocks b = 1..5 (e.g. conv1_1, relu4_2, pool3)"


def layer_index(name):
    """Index in ``vgg19().features`` of a layer name such as ``"conv4_2"``.

    >>> layer_index("relu1_1")
    1
    """
    if name in LAYER_INDEX:
        return LAYER_INDEX[name]
    close = difflib.get_close_matches(str(name), LAYER_NAMES, n=3)
    if close:
        raise LayerError(f"VGG-19 has no layer {name!r}; did you mean {', '.join(close)}? ({LAYER_NAMING})")
    raise LayerError(f"VGG-19 has no layer {name!r} ({LAYER_NAMING})")


def layer_table(layout=VGG19_LAYOUT):
    """One row per layer: name, index, kind, input and output channels, and scale.

    ``scale`` is the factor by which the layer's height and width are smaller
    than the input's (1, 2, 4, 8, 16 or 32).

    >>> layer_table()[4]
    {'name': 'pool1', 'index': 4, 'kind': 'pool', 'in_channels': 64, 'channels': 64, 'scale': 2}
    >>> layer_table()[5]["in_channels"], layer_table()[5]["channels"]
    (64, 128)
    """
    rows, channels, scale = [], 3, 1
    conv_channels = iter(item for item in layout if item != "M")
    for index, name in enumerate(_layer_names(layout)):
        kind = name[:4]  # "conv", "relu" or "pool"
        in_channels = channels
        if kind == "conv":
            channels = next(conv_channels)
        if kind == "pool":
            scale *= 2
        rows.append({"name": name, "index": index, "kind": kind, "in_channels": in_channels,
                     "channels": channels, "scale": scale})
    return rows


def convolution_shapes(layout=VGG19_LAYOUT):
    """``{index: (out channels, in channels, 3, 3)}`` for every convolution.

    >>> convolution_shapes()[21]
    (512, 512, 3, 3)
    """
    return {row["index"]: (row["channels"], row["in_channels"], 3, 3)
            for row in layer_table(layout) if row["kind"] == "conv"}


def make_vgg19_features(pooling="max", layout=VGG19_LAYOUT):
    """An untrained VGG-19 ``features`` stack with torchvision's layer order.

    ``pooling="avg"`` makes each 2x2 pooling an average, as Gatys et al. did
    ("improves the gradient flow and one obtains slightly more appealing
    results"). ``layout`` may have other channel counts (a small stand-in
    for fast tests).

    >>> stack = make_vgg19_features()
    >>> len(stack), stack[0]
    (37, Conv2d(3, 64, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1)))
    """
    if pooling not in POOLINGS:
        raise ValueError(f"pooling must be one of {POOLINGS}, not {pooling!r}")
    layers = []
    for row in layer_table(layout):
        if row["kind"] == "conv":
            layers.append(nn.Conv2d(row["in_channels"], row["channels"], kernel_size=3, padding=1))
        elif row["kind"] == "relu":
            layers.append(nn.ReLU(inplace=True))
        else:
            layers.append(nn.MaxPool2d(2, 2) if pooling == "max" else nn.AvgPool2d(2, 2))
    return nn.Sequential(*layers)


class VGG19(nn.Module):
    """VGG-19's convolutional part with the input stage of its trained parameters.

    ``features`` is the 37-layer stack (indexable like torchvision's:
    ``vgg[0]`` is conv1_1, ``vgg[:5]`` block 1); ``input_stage`` converts the
    pipeline's standardised RGB images into the input these parameters were
    trained on; ``description`` says in words which network this is, and
    ``family`` which loss weights suit it ("original", "torchvision", or
    "random"; see :func:`d2lstyle.recipes.get_recipe`).
    ``vgg(x)`` runs both: ``features(input_stage(x))``.

    >>> from d2lstyle.networks import load_vgg19
    >>> vgg = load_vgg19("random")
    >>> len(vgg), type(vgg[1]).__name__, tuple(vgg(torch.zeros(1, 3, 32, 32)).shape)
    (37, 'ReLU', (1, 512, 1, 1))
    """

    def __init__(self, features, input_stage=None, description="", family="random"):
        super().__init__()
        self.input_stage = input_stage if input_stage is not None else nn.Identity()
        self.features = features
        self.description = description
        self.family = family

    def forward(self, x):
        return self.features(self.input_stage(x))

    def __getitem__(self, index):
        return self.features[index]

    def __len__(self):
        return len(self.features)

    def __iter__(self):
        return iter(self.features)

    @property
    def pooling(self):
        """"max" or "avg": the kind of the stack's pooling layers."""
        return "avg" if isinstance(self.features[4], nn.AvgPool2d) else "max"

    def with_pooling(self, pooling):
        """This network with every pooling of the given kind ("max" or "avg").

        The convolutions and the input stage are shared, not copied; with the
        pooling it already has, the network itself is returned.

        >>> from d2lstyle.networks import load_vgg19
        >>> vgg = load_vgg19("random")
        >>> avg = vgg.with_pooling("avg")
        >>> avg.pooling, avg[0] is vgg[0], vgg.with_pooling("max") is vgg
        ('avg', True, True)
        """
        if pooling not in POOLINGS:
            raise ValueError(f"pooling must be one of {POOLINGS}, not {pooling!r}")
        if pooling == self.pooling:
            return self
        pool = nn.MaxPool2d if pooling == "max" else nn.AvgPool2d
        layers = [pool(2, 2) if name.startswith("pool") else layer for name, layer in zip(LAYER_NAMES, self)]
        return VGG19(nn.Sequential(*layers), self.input_stage, self.description, self.family)


def min_input_size(layers):
    """Smallest height and width the network accepts to compute ``layers``:
    each pooling before the deepest layer halves the size, which must stay >= 1.

    >>> min_input_size(["conv5_1"]), min_input_size(["relu1_1"])
    (16, 1)
    """
    deepest = max(layer_index(name) for name in layers)
    poolings = sum(1 for name in LAYER_NAMES[:deepest] if name.startswith("pool"))
    return 2 ** poolings


class FeatureExtractor(nn.Module):
    """Runs VGG-19 (its input stage, then its layers up to the deepest requested
    one) and returns the requested activations as a dict ``{layer name: tensor}``.

    Layers after the deepest requested one are dropped, so they cost nothing.
    A requested ``conv`` output keeps its pre-ReLU value: the ReLU right after
    it is then computed out of place instead of overwriting it.

    >>> from d2lstyle.networks import load_vgg19
    >>> extract = FeatureExtractor(load_vgg19("random"), ["conv1_1", "relu1_1"])
    >>> features = extract(torch.randn(1, 3, 8, 8))
    >>> bool((features["conv1_1"] < 0).any()), bool((features["relu1_1"] >= 0).all())
    (True, True)
    >>> len(extract.net)
    2
    """

    def __init__(self, vgg, layers):
        super().__init__()
        if isinstance(layers, str):
            layers = [layers]
        self.layers = list(dict.fromkeys(layers))  # unique names, order kept
        if not self.layers:
            raise LayerError("FeatureExtractor needs at least one layer name")
        indices = [layer_index(name) for name in self.layers]
        self.input_stage = getattr(vgg, "input_stage", nn.Identity())
        self.net = vgg[: max(indices) + 1]
        self.names_at = {}
        for name, index in zip(self.layers, indices):
            self.names_at.setdefault(index, []).append(name)
        self.min_size = min_input_size(self.layers)

    def forward(self, x):
        height, width = x.shape[-2:]
        if min(height, width) < self.min_size:
            deepest = max(self.layers, key=layer_index)
            raise ImageError(
                f"the image is {height}x{width} pixels, too small for layer {deepest}: the poolings before it "
                f"need at least {self.min_size} pixels on each side; use a larger image size"
            )
        features = {}
        x = self.input_stage(x)
        keep_input = False  # True when the previous output must survive the next ReLU
        for index, layer in enumerate(self.net):
            if keep_input and isinstance(layer, nn.ReLU):
                x = torch.relu(x)  # out of place: the stored conv output stays pre-ReLU
            else:
                x = layer(x)
            keep_input = index in self.names_at and isinstance(layer, nn.Conv2d)
            for name in self.names_at.get(index, ()):
                features[name] = x
        return {name: features[name] for name in self.layers}
