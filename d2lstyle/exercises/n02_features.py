"""Checks for the exercises of notebook 02 (features): VGG-19's layer names and extracting the
features of named layers.
"""

import torch
from torch import nn

from .. import vgg
from .harness import _Checks, _call, _expect_gradients, _randn, _show


def check_vgg19_layer_names(vgg19_layer_names):
    """Check ``vgg19_layer_names()``: the 37 names conv1_1, relu1_1, conv1_2,
    relu1_2, pool1, conv2_1, ... pool5, in the order of VGG-19's layers."""
    check = _Checks("vgg19_layer_names")
    names = _call(check, vgg19_layer_names)
    check(isinstance(names, (list, tuple)) and all(isinstance(name, str) for name in names),
          f"return a list of strings such as 'conv1_1', not {_show(names)}")
    names = list(names)
    want = list(vgg.LAYER_NAMES)
    check(bool(names), "it returned no names")
    check(names[0] not in ("conv0_0", "conv0_1", "conv1_0"),
          f"the first name is {names[0]!r}: blocks and convolutions are numbered from 1, "
          "so the first layer is conv1_1")
    check(any(name.startswith("pool") for name in names),
          "there are no pooling layers: each block ends with pool{b} (pool1 ... pool5)")
    check(any(name.startswith("relu") for name in names),
          "there are no ReLU layers: every conv{b}_{i} is followed by relu{b}_{i}")
    convs = [sum(name.startswith(f"conv{block}_") for name in names) for block in range(1, 6)]
    check(convs == [2, 2, 4, 4, 4], f"the blocks have {convs} convolutions; VGG-19's have [2, 2, 4, 4, 4] "
                                    "(VGG-16's have [2, 2, 3, 3, 3])")
    check(len(names) == 37, f"{len(names)} names; VGG-19's features have 37 layers (16 conv, 16 relu, 5 pool)")
    wrong = [index for index, (name, right) in enumerate(zip(names, want)) if name != right]
    check(not wrong, f"name {wrong[0]} is {names[wrong[0]]!r}, but layer {wrong[0]} is {want[wrong[0]]!r}"
          if wrong else "")
    check.done()


def _small_vgg19():
    """A network with VGG-19's 37 layers in torchvision's order (convolutions,
    in-place ReLUs, max poolings) but only a few channels, so checks are fast."""
    small_layout = tuple(item if item == "M" else item // 16 for item in vgg.VGG19_LAYOUT)  # 4 to 32 channels
    with torch.random.fork_rng(devices=[]):  # seeded, without touching the learner's random state
        torch.manual_seed(0)
        net = vgg.make_vgg19_features(layout=small_layout)
    return net.requires_grad_(False).eval()


def _outputs_of_every_layer(net, X, count):
    """The outputs of the first ``count`` layers of ``net``, with the ReLUs run out of place."""
    outputs = []
    with torch.no_grad():
        for layer in net[:count]:
            X = torch.relu(X) if isinstance(layer, nn.ReLU) else layer(X)
            outputs.append(X)
    return outputs


def _wrong_layer_message(name, index, other):
    """What it means that the value for layer ``name`` (at ``index``) is the output of layer ``other``."""
    other_name = vgg.LAYER_NAMES[other]
    if other == index + 1 and name.startswith("conv"):
        return (f"{name} came back after its ReLU: torchvision's ReLUs work in place and overwrite a stored conv "
                "output when the next layer runs. Store a copy (X.clone()) of a conv output, "
                "or apply that ReLU out of place")
    if abs(other - index) == 1:
        neighbour = "the layer before it" if other < index else "the layer after it"
        return (f"the value for {name} is the output of {other_name}, {neighbour}: an off-by-one in the indices. "
                f"Store X right after running layer {index}")
    return f"the value for {name} is the output of {other_name} (index {other}), not of {name} (index {index})"


def check_extract_features(extract_features):
    """Check ``extract_features(X, net, layers)``: a dict {name: tensor} with
    exactly the requested layers (conv outputs before their ReLU), computed
    without running any layer past the deepest requested, with the gradient
    flowing back to X. ``net`` here is a small network shaped like VGG-19."""
    check = _Checks("extract_features")
    net = _small_vgg19()
    layers = ["conv2_1", "conv3_1", "relu1_1", "pool1"]  # not sorted by depth on purpose
    deepest = max(vgg.LAYER_INDEX[name] for name in layers)
    ran = set()
    for index, layer in enumerate(net):
        layer.register_forward_hook(lambda module, inputs, output, index=index: ran.add(index))
    X = _randn(1, 3, 32, 32, seed=1).requires_grad_(True)
    features = _call(check, extract_features, X, net, layers)
    check(isinstance(features, dict), f"return a dict {{layer name: tensor}}, not a {type(features).__name__}")
    missing = [name for name in layers if name not in features]
    unsorted = "conv3_1" in missing and layers[-1] not in missing
    check(not missing, f"no entry for {', '.join(missing)}: " + (
        "the list of layers is not sorted by depth, so run the network up to the deepest requested layer "
        "(here conv3_1), not the last one in the list" if unsorted else "return one entry per requested layer"))
    extra = sorted(set(features) - set(layers))
    check(not extra, f"it returned layers nobody asked for ({', '.join(map(str, extra))}): return exactly the requested ones")
    check(max(ran, default=-1) <= deepest,
          f"it ran layers past conv3_1 (index {deepest}), the deepest one requested: stop there, "
          "the layers after it only cost time")
    outputs = _outputs_of_every_layer(net, X.detach(), deepest + 2)
    for name in layers:
        index = vgg.LAYER_INDEX[name]
        mistakes = [(output, _wrong_layer_message(name, index, other))
                    for other, output in enumerate(outputs) if other != index]
        check.same(features[name], outputs[index], mistakes,
                   f"the value for {name} is not the output of layer {index} of net for this input")
    total = sum(feature.sum() for feature in features.values())
    _expect_gradients(check, total, into={"X": X})
    check.done()
