"""Stage 2 of the pipeline: VGG-19 and the activations of its named layers.

VGG-19's convolutional part (torchvision's ``vgg19().features``) is 37 layers
in five blocks. Block b has 2 or 4 convolutions, each followed by a ReLU, and
ends with a 2x2 pooling that halves the height and width. We use the names of
Gatys et al.: ``conv{b}_{i}`` is the i-th convolution of block b (its output
*before* the ReLU), ``relu{b}_{i}`` the same activation after the ReLU, and
``pool{b}`` the block's pooling. For example conv4_2 is index 21 and relu4_2
index 22.

Beware a trap in much published code: torchvision's ReLUs work in place, so a
conv output kept by reference is overwritten with its ReLU as soon as the next
layer runs. :class:`FeatureExtractor` returns each layer exactly as named.

>>> LAYER_INDEX["conv4_2"], LAYER_NAMES[22]
(21, 'relu4_2')
"""

import difflib

import torch
from torch import nn

from . import weights as weights_module
from .errors import ImageError, LayerError

# Convolutions per block and channels per block of VGG-19.
BLOCK_SIZES = (2, 2, 4, 4, 4)
BLOCK_CHANNELS = (64, 128, 256, 512, 512)


def _layer_names():
    names = []
    for block, size in enumerate(BLOCK_SIZES, start=1):
        for conv in range(1, size + 1):
            names += [f"conv{block}_{conv}", f"relu{block}_{conv}"]
        names.append(f"pool{block}")
    return tuple(names)


LAYER_NAMES = _layer_names()
LAYER_INDEX = {name: index for index, name in enumerate(LAYER_NAMES)}


def layer_index(name):
    """Index in ``vgg19().features`` of a layer name such as ``"conv4_2"``.

    >>> layer_index("relu1_1")
    1
    """
    if name in LAYER_INDEX:
        return LAYER_INDEX[name]
    close = difflib.get_close_matches(str(name), LAYER_NAMES, n=3)
    hint = f"; did you mean {' or '.join(close)}?" if close else ""
    raise LayerError(
        f"VGG-19 has no layer {name!r}{hint} Names are conv{{b}}_{{i}}, relu{{b}}_{{i}} "
        f"and pool{{b}}, for blocks b = 1..5 (e.g. conv1_1, relu4_2, pool3)"
    )


def layer_table():
    """One row per layer: name, index, kind, output channels and spatial scale.

    ``scale`` is the factor by which the layer's height and width are smaller
    than the input's (1, 2, 4, 8, 16 or 32).

    >>> layer_table()[4]
    {'name': 'pool1', 'index': 4, 'kind': 'MaxPool2d', 'channels': 64, 'scale': 2}
    """
    rows, scale = [], 1
    for index, name in enumerate(LAYER_NAMES):
        block = int(name[4])  # conv4_2 -> 4, pool3 -> 3
        kind = {"conv": "Conv2d", "relu": "ReLU", "pool": "MaxPool2d"}[name[:4]]
        if kind == "MaxPool2d":
            scale *= 2
        rows.append({"name": name, "index": index, "kind": kind,
                     "channels": BLOCK_CHANNELS[block - 1], "scale": scale})
    return rows


def make_vgg19_features(pooling="max"):
    """An untrained VGG-19 ``features`` stack with torchvision's layer order.

    ``pooling="avg"`` swaps each 2x2 max pooling for average pooling, as Gatys
    et al. did ("improves the gradient flow and one obtains slightly more
    appealing results").
    """
    if pooling not in ("max", "avg"):
        raise ValueError(f"pooling must be 'max' or 'avg', not {pooling!r}")
    layers, in_channels = [], 3
    for size, channels in zip(BLOCK_SIZES, BLOCK_CHANNELS):
        for _ in range(size):
            layers += [nn.Conv2d(in_channels, channels, kernel_size=3, padding=1), nn.ReLU(inplace=True)]
            in_channels = channels
        layers.append(nn.MaxPool2d(2, 2) if pooling == "max" else nn.AvgPool2d(2, 2))
    return nn.Sequential(*layers)


def load_vgg19(weights="imagenet", seed=0, pooling="max", progress=True):
    """VGG-19 ``features`` with the chosen weights, frozen and in eval mode.

    ``weights`` is ``"imagenet"`` (downloaded once), ``"random"`` (seeded by
    ``seed``) or the path of a state dict; see :mod:`d2lstyle.weights`. The
    weights never need gradients: only the image is optimised.

    >>> vgg = load_vgg19("random", seed=0)
    >>> len(vgg), any(p.requires_grad for p in vgg.parameters()), vgg.training
    (37, False, False)
    """
    vgg = make_vgg19_features(pooling)
    vgg.load_state_dict(weights_module.get_state_dict(weights, seed=seed, progress=progress))
    vgg.requires_grad_(False)
    vgg.eval()
    vgg.weights_description = weights_module.describe(weights, seed)
    return vgg


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
    """Runs VGG-19 up to the deepest requested layer and returns the requested
    activations as a dict ``{layer name: tensor}``.

    Layers after the deepest requested one are dropped, so they cost nothing.
    A requested ``conv`` output keeps its pre-ReLU value: the ReLU right after
    it is then computed out of place instead of overwriting it.

    >>> vgg = load_vgg19("random")
    >>> extract = FeatureExtractor(vgg, ["conv1_1", "relu1_1"])
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
        self.net = vgg[: max(indices) + 1]
        self.names_at = {}
        for name, index in zip(self.layers, indices):
            self.names_at.setdefault(index, []).append(name)
        self.min_size = min_input_size(self.layers)

    def forward(self, x):
        height, width = x.shape[-2:]
        if min(height, width) < self.min_size:
            deepest = self.layers[max(range(len(self.layers)), key=lambda i: layer_index(self.layers[i]))]
            raise ImageError(
                f"the image is {height}x{width} pixels, too small for layer {deepest}: the poolings before it "
                f"need at least {self.min_size} pixels on each side; use a larger image size"
            )
        features = {}
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
