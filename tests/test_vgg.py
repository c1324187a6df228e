"""VGG-19's layer names, the feature extractor's exact values, truncation and frozen weights."""

import pytest
import torch
import torch.nn.functional as F
import torchvision
from torch import nn

import d2lstyle
from d2lstyle import vgg as vgg_module
from d2lstyle.errors import ImageError, LayerError


@pytest.fixture(scope="module")
def torchvision_features():
    return torchvision.models.vgg.make_layers(torchvision.models.vgg.cfgs["E"])


def test_layer_names_match_torchvision_module_types(torchvision_features):
    kinds = {"conv": nn.Conv2d, "relu": nn.ReLU, "pool": nn.MaxPool2d}
    assert len(d2lstyle.LAYER_NAMES) == len(torchvision_features) == 37
    for index, name in enumerate(d2lstyle.LAYER_NAMES):
        assert isinstance(torchvision_features[index], kinds[name[:4]]), name
    # The indices the tutorials quote.
    assert [d2lstyle.layer_index(n) for n in ("conv1_1", "conv2_1", "conv3_1", "conv4_1", "conv5_1")] == [0, 5, 10, 19, 28]
    assert d2lstyle.layer_index("conv4_2") == 21 and d2lstyle.layer_index("conv4_4") == 25
    assert d2lstyle.LAYER_NAMES[-1] == "pool5" and len(set(d2lstyle.LAYER_NAMES)) == 37


def test_channels_match_torchvision(torchvision_features):
    for row in vgg_module.layer_table():
        module = torchvision_features[row["index"]]
        if isinstance(module, nn.Conv2d):
            assert module.out_channels == row["channels"], row["name"]
    scales = {row["name"]: row["scale"] for row in vgg_module.layer_table()}
    assert scales["conv1_1"] == 1 and scales["pool1"] == 2 and scales["conv5_1"] == 16 and scales["pool5"] == 32


def test_our_stack_loads_torchvision_weights_strictly(torchvision_features):
    ours = vgg_module.make_vgg19_features()
    ours.load_state_dict(torchvision_features.state_dict(), strict=True)
    x = torch.randn(1, 3, 32, 32)
    assert torch.allclose(ours(x), torchvision_features(x), atol=1e-5)


def test_unknown_layer_names_get_suggestions():
    with pytest.raises(LayerError, match="did you mean conv4_2"):
        d2lstyle.layer_index("conv4-2")
    with pytest.raises(LayerError, match="no layer 'fc7'"):
        d2lstyle.FeatureExtractor(d2lstyle.load_vgg19("random"), ["fc7"])


def test_weights_are_frozen_and_in_eval_mode(random_vgg):
    assert not any(p.requires_grad for p in random_vgg.parameters())
    assert not random_vgg.training
    assert "random" in random_vgg.description


def test_conv_outputs_are_pre_relu_despite_in_place_relus(random_vgg):
    torch.manual_seed(0)
    x = torch.randn(1, 3, 20, 20)
    extract = d2lstyle.FeatureExtractor(random_vgg, ["conv1_1", "relu1_1", "conv1_2", "relu1_2"])
    features = extract(x)
    # Independent computation with functional ops.
    conv1_1 = F.conv2d(x, random_vgg[0].weight, random_vgg[0].bias, padding=1)
    conv1_2 = F.conv2d(conv1_1.clamp(min=0), random_vgg[2].weight, random_vgg[2].bias, padding=1)
    assert torch.allclose(features["conv1_1"], conv1_1, atol=1e-5)
    assert torch.allclose(features["relu1_1"], conv1_1.clamp(min=0), atol=1e-5)
    assert torch.allclose(features["conv1_2"], conv1_2, atol=1e-5)
    assert torch.allclose(features["relu1_2"], conv1_2.clamp(min=0), atol=1e-5)
    assert (features["conv1_1"] < 0).any()  # really pre-ReLU
    assert list(features) == ["conv1_1", "relu1_1", "conv1_2", "relu1_2"]


def test_the_in_place_relu_trap_that_the_extractor_avoids(random_vgg):
    """Keeping a conv output by reference, as published tutorials do, silently gives post-ReLU values."""
    x = torch.randn(1, 3, 8, 8)
    kept = None
    for index, layer in enumerate(random_vgg[:2]):
        x = layer(x)
        if index == 0:
            kept = x  # by reference
    assert (kept >= 0).all()  # the in-place ReLU overwrote it
    assert (d2lstyle.FeatureExtractor(random_vgg, ["conv1_1"])(torch.randn(1, 3, 8, 8))["conv1_1"] < 0).any()


def test_no_layer_past_the_deepest_runs(random_vgg):
    calls = []
    hooks = [layer.register_forward_hook(lambda module, i, o, index=index: calls.append(index))
             for index, layer in enumerate(random_vgg)]
    try:
        features = d2lstyle.FeatureExtractor(random_vgg, ["relu2_1", "conv1_1"])(torch.randn(1, 3, 16, 16))
    finally:
        for hook in hooks:
            hook.remove()
    assert set(features) == {"relu2_1", "conv1_1"}
    # relu1_1 (index 1) runs out of place, without its module, to keep conv1_1 pre-ReLU;
    # nothing after relu2_1 (index 6) runs.
    assert calls == [0, 2, 3, 4, 5, 6]


def test_gradients_reach_the_image_but_not_the_weights(random_vgg):
    x = torch.randn(1, 3, 16, 16, requires_grad=True)
    features = d2lstyle.FeatureExtractor(random_vgg, ["conv1_1", "relu3_1"])(x)
    (features["conv1_1"].square().mean() + features["relu3_1"].mean()).backward()
    assert x.grad is not None and x.grad.abs().sum() > 0
    assert all(p.grad is None for p in random_vgg.parameters())


def test_too_small_an_image_is_refused_clearly(random_vgg):
    extract = d2lstyle.FeatureExtractor(random_vgg, ["conv5_1"])
    with pytest.raises(ImageError, match="too small for layer conv5_1.*at least 16 pixels"):
        extract(torch.randn(1, 3, 15, 40))
    assert extract(torch.randn(1, 3, 16, 16))["conv5_1"].shape == (1, 512, 1, 1)
    assert vgg_module.min_input_size(["relu1_1", "pool2"]) == 2


def test_average_pooling_shares_the_convolutions(random_vgg):
    avg = random_vgg.with_pooling("avg")
    pools = [layer for layer in avg if isinstance(layer, (nn.MaxPool2d, nn.AvgPool2d))]
    assert len(pools) == 5 and all(isinstance(p, nn.AvgPool2d) for p in pools)
    assert avg[0] is random_vgg[0]
    assert random_vgg.with_pooling("max") is random_vgg
    assert avg.input_stage is random_vgg.input_stage and avg.pooling == "avg"
    x = torch.randn(1, 3, 4, 4)
    out = d2lstyle.FeatureExtractor(avg, ["pool1"])(x)["pool1"]
    conv = torch.relu(random_vgg[2](torch.relu(random_vgg[0](x))))
    assert torch.allclose(out, F.avg_pool2d(conv, 2), atol=1e-5)


def test_make_features_rejects_unknown_pooling():
    with pytest.raises(ValueError, match="pooling must be one of"):
        vgg_module.make_vgg19_features("median")
