"""The presets hold their sources' numbers, and each one's total loss equals its tutorial's formula
written out independently here."""

import dataclasses

import pytest
import torch

import d2lstyle
from d2lstyle.errors import LayerError, RecipeError
from d2lstyle.recipes import get_recipe
from d2lstyle.objective import Targets, loss_terms

BLOCK_STARTS = ["1_1", "2_1", "3_1", "4_1", "5_1"]


def test_every_preset_is_listed_and_valid():
    assert list(d2lstyle.PRESETS) == ["default", "d2l", "pytorch-tutorial", "keras", "udacity", "gatys", "loss-design"]
    for name, recipe in d2lstyle.PRESETS.items():
        assert recipe.name == name and recipe.summary and recipe.source


def test_d2l_numbers():
    r = get_recipe("d2l", network="torchvision")
    assert (r.content_weight, r.style_weight, r.tv_weight) == (1.0, 1e4, 10.0)
    assert (r.optimizer, r.lr, r.lr_decay_every, r.lr_decay_factor, r.steps) == ("adam", 0.3, 50, 0.8, 500)
    assert r.image_size == (300, 450) and r.init == "content" and r.space == "normalized"
    # d2l's indices 0, 5, 10, 19, 28 and 25, as its in-place ReLUs really leave them.
    assert list(r.style_layers) == ["relu1_1", "relu2_1", "relu3_1", "relu4_1", "conv5_1"]
    assert [d2lstyle.layer_index(n) - (n != "conv5_1") for n in r.style_layers] == [0, 5, 10, 19, 28]
    assert list(r.content_layers) == ["relu4_4"] and d2lstyle.layer_index("relu4_4") - 1 == 25
    assert r.gram_normalization == "chw" and r.tv_reduction == "mean"


def test_pytorch_tutorial_numbers():
    r = get_recipe("pytorch-tutorial", network="torchvision")
    assert list(r.content_layers) == ["conv2_2"]  # its "conv_4" counts convolutions
    assert list(r.style_layers) == ["conv1_1", "conv1_2", "conv2_1", "conv2_2", "conv3_1"]
    assert (r.content_weight, r.style_weight, r.tv_weight) == (1.0, 1e6, 0.0)
    assert (r.optimizer, r.lr, r.steps) == ("lbfgs", 1.0, 300)
    # the tutorial has no line search; the preset adds one, and its notes say so and why
    assert r.line_search == "strong_wolfe" and any("no line search" in note for note in r.notes)
    assert (r.space, r.clamp, r.init) == ("pixels", True, "content")


def test_keras_numbers():
    r = get_recipe("keras")
    assert list(r.content_layers) == ["relu5_2"]
    assert list(r.style_layers) == [f"relu{b}" for b in BLOCK_STARTS]
    assert set(r.style_layers.values()) == {0.2}  # averaged over the five layers
    assert (r.content_weight, r.style_weight, r.tv_weight) == (1e4, 1e-2, 30.0)
    assert (r.optimizer, r.lr, r.betas[0], r.eps, r.steps) == ("adam", 0.02, 0.99, 0.1, 1000)
    assert (r.gram_normalization, r.tv_reduction, r.image_size, r.space, r.clamp) == ("hw", "sum", 512, "pixels", True)


def test_udacity_numbers():
    r = get_recipe("udacity", network="torchvision")
    assert r.style_layers == {"relu1_1": 1.0, "relu2_1": 0.8, "relu3_1": 0.5, "relu4_1": 0.3, "relu5_1": 0.1}
    assert list(r.content_layers) == ["relu4_2"]
    assert (r.content_weight, r.style_weight, r.lr, r.steps, r.image_size) == (1.0, 1e6, 0.003, 2000, 400)
    assert (r.gram_normalization, r.style_divisor) == ("none", "chw")


def test_gatys_numbers():
    r = get_recipe("gatys")
    assert list(r.content_layers) == ["relu4_2"] and list(r.style_layers) == [f"relu{b}_1" for b in range(1, 6)]
    # The rescaled network's terms over the released network's: about 1 / m^2 (content) and 1 / m^4 (style) with the
    # layers' mean activations m, 9 (relu5_1) to 190 (relu4_1) on the bundled pictures (benchmarks/gatys_rescaling.py)
    assert 1 / 300**2 < r.content_layers["relu4_2"] < 1 / 50**2
    assert all(0.2 / 400**4 < w < 0.2 / 5**4 for w in r.style_layers.values())
    weights = r.style_layers
    assert weights["relu5_1"] > weights["relu1_1"] > weights["relu3_1"] > weights["relu4_1"]  # smallest m first
    assert (r.content_weight, r.style_weight) == (0.5, 1e6)  # alpha = 1 (times the paper's 1/2), alpha/beta = 1e-6
    assert (r.pooling, r.optimizer, r.init) == ("avg", "lbfgs", "noise")
    assert (r.gram_normalization, r.style_reduction, r.style_divisor, r.content_reduction) == ("none", "sum", "gatys", "sum")


def test_the_default_recipes_summary_says_what_it_runs():
    """The summary is what the CLI and the explorer show: it must not drift from the fields."""
    recipe = get_recipe("default")
    assert recipe.optimizer == "lbfgs" and recipe.init == "recoloured" and recipe.line_search == "strong_wolfe"
    assert recipe.summary.startswith("L-BFGS with a line search from the photo in the painting's colours")
    assert f"{recipe.steps} loss evaluations at {recipe.image_size} px" in recipe.summary and recipe.scales == (1.0,)
    assert recipe.network == "original" and "original VGG-19" in recipe.summary


def test_replace_and_layers():
    r = get_recipe("keras").replace(steps=7, image_size=(32, 48))
    assert (r.steps, r.image_size, r.name) == (7, (32, 48), "keras")
    assert get_recipe("keras").steps == 1000  # the preset itself is unchanged
    assert r.layers() == ["relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1", "relu5_2"]
    with pytest.raises(dataclasses.FrozenInstanceError):
        r.steps = 3


@pytest.mark.parametrize("changes, message", [
    ({"steps": 0}, "steps must be a whole number"),
    ({"lr": -1.0}, "lr must be a finite number > 0"),
    ({"lr": float("inf")}, "lr must be a finite number > 0, not inf"),
    ({"content_weight": float("inf")}, "content_weight must be a finite number >= 0, not inf"),
    ({"tv_weight": float("nan")}, "tv_weight must be a finite number >= 0, not nan"),
    ({"style_layers": {"relu1_1": float("inf")}}, r"style_layers\['relu1_1'\] must be a finite number"),
    ({"style_weight": "1e4"}, "style_weight must be a finite number >= 0, not '1e4'"),
    ({"betas": (0.9, 1.5)}, "betas must be two numbers in"),
    ({"eps": -1e-8}, "eps must be a finite number >= 0"),
    ({"lbfgs_history": 0}, "lbfgs_history must be a whole number >= 1"),
    ({"steps": True}, "steps must be a whole number"),
    ({"optimizer": "sgd"}, "optimizer must be one of"),
    ({"style_weight": -1.0}, "style_weight must be a finite number >= 0"),
    ({"image_size": (10,)}, "image_size must be"),
    ({"scales": (1.0, 0.5)}, "scales must be a tuple increasing"),
    ({"scales": (0.5, float("nan"))}, "scales must be a tuple increasing"),
    ({"scales": (0.25, 0.5)}, r"ending at 1 \(the full image size, which the result has\)"),
    ({"scales": (0.5, 0.5, 1.0)}, "scales must be a tuple increasing"),
    ({"scales": (0.25, 0.5, 1.0), "steps": 2}, r"3 scales \(0.25, 0.5, 1\) need at least 3 steps, one for each, not 2"),
    ({"content_layers": {}, "style_layers": {}}, "at least one content or style layer"),
    ({"gram_normalization": "c"}, "gram_normalization must be one of"),
])
def test_bad_settings_are_refused(changes, message):
    with pytest.raises(RecipeError, match=message):
        get_recipe("d2l").replace(**changes)


def test_bad_layer_names_and_unknown_presets():
    with pytest.raises(LayerError, match="did you mean"):
        get_recipe("d2l").replace(content_layers={"conv4_5": 1.0})
    with pytest.raises(RecipeError, match="presets: default, d2l"):
        get_recipe("picasso")


# --- each preset's total loss equals its tutorial's formula, written out here ---------


def fake_features(recipe, seed):
    generator = torch.Generator().manual_seed(seed)
    shapes = {"1": (64, 16, 16), "2": (128, 8, 8), "3": (256, 4, 4), "4": (512, 2, 2), "5": (512, 1, 2)}
    return {name: torch.rand(1, *shapes[name[4]], generator=generator) for name in recipe.layers()}


def preset_total(recipe, image):
    x_feats, p_feats, a_feats = (fake_features(recipe, seed) for seed in (1, 2, 3))
    targets = Targets(
        content={n: p_feats[n] for n in recipe.content_layers},
        grams={n: d2lstyle.gram_matrix(a_feats[n], recipe.gram_normalization) for n in recipe.style_layers},
    )
    return loss_terms(image, x_feats, targets, recipe)["total"].item(), (x_feats, p_feats, a_feats)


def flat(X):
    return X.reshape(X.shape[1], -1)


def tv_abs_sum(image):
    return (image[:, :, 1:] - image[:, :, :-1]).abs().sum() + (image[..., 1:] - image[..., :-1]).abs().sum()


def test_d2l_total_is_d2ls_formula():
    recipe, image = get_recipe("d2l", network="torchvision"), torch.rand(1, 3, 8, 8)
    total, (x, p, a) = preset_total(recipe, image)
    style = sum(((flat(x[n]) @ flat(x[n]).T - flat(a[n]) @ flat(a[n]).T) / x[n][0].numel()).square().mean()
                for n in recipe.style_layers)
    content = (x["relu4_4"] - p["relu4_4"]).square().mean()
    tv = 0.5 * ((image[:, :, 1:] - image[:, :, :-1]).abs().mean() + (image[..., 1:] - image[..., :-1]).abs().mean())
    assert total == pytest.approx((content + 1e4 * style + 10 * tv).item(), rel=1e-5)


def test_keras_total_is_the_tensorflow_tutorials_formula():
    recipe, image = get_recipe("keras"), torch.rand(1, 3, 8, 8)
    total, (x, p, a) = preset_total(recipe, image)

    def gram(X):  # einsum over positions, divided by the number of locations
        return torch.einsum("bchw,bdhw->bcd", X, X)[0] / (X.shape[2] * X.shape[3])

    style = sum((gram(x[n]) - gram(a[n])).square().mean() for n in recipe.style_layers) * 1e-2 / 5
    content = (x["relu5_2"] - p["relu5_2"]).square().mean() * 1e4
    assert total == pytest.approx((style + content + 30 * tv_abs_sum(image)).item(), rel=1e-5)


def test_udacity_total_is_the_exercises_formula():
    recipe, image = get_recipe("udacity", network="torchvision"), torch.rand(1, 3, 8, 8)
    total, (x, p, a) = preset_total(recipe, image)
    style = 0
    for name, weight in recipe.style_layers.items():
        _, d, h, w = x[name].shape
        layer = weight * (flat(x[name]) @ flat(x[name]).T - flat(a[name]) @ flat(a[name]).T).square().mean()
        style = style + layer / (d * h * w)
    content = (x["relu4_2"] - p["relu4_2"]).square().mean()
    assert total == pytest.approx((content + 1e6 * style).item(), rel=1e-5)


def test_pytorch_tutorial_total_is_its_formula():
    recipe, image = get_recipe("pytorch-tutorial", network="torchvision"), torch.rand(1, 3, 8, 8)
    total, (x, p, a) = preset_total(recipe, image)

    def gram(X):
        b, c, h, w = X.shape
        return flat(X) @ flat(X).T / (b * c * h * w)

    style = sum(torch.nn.functional.mse_loss(gram(x[n]), gram(a[n])) for n in recipe.style_layers)
    content = torch.nn.functional.mse_loss(x["conv2_2"], p["conv2_2"])
    assert total == pytest.approx((1e6 * style + content).item(), rel=1e-5)


def test_gatys_total_is_the_papers_formula():
    recipe, image = get_recipe("gatys"), torch.rand(1, 3, 8, 8)
    total, (x, p, a) = preset_total(recipe, image)
    style = 0
    for name in recipe.style_layers:
        N, M = x[name].shape[1], x[name][0, 0].numel()
        G, A = flat(x[name]) @ flat(x[name]).T, flat(a[name]) @ flat(a[name]).T
        w = recipe.style_layers[name]  # the paper's 1/5 times the rescaling's factor for this layer
        style = style + w * (G - A).square().sum() / (4 * N**2 * M**2)
    content = 0.5 * recipe.content_layers["relu4_2"] * (x["relu4_2"] - p["relu4_2"]).square().sum()
    alpha, beta = 1.0, recipe.style_weight
    assert total == pytest.approx((alpha * content + beta * style).item(), rel=1e-5)


def test_loss_design_numbers_and_its_traps():
    r = get_recipe("loss-design", network="torchvision")
    assert (r.content_weight, r.style_weight, r.tv_weight) == (1e5, 1e10, 1e-6)
    assert list(r.content_layers) == ["conv4_2"]
    # features[:23] ends at index 22 (relu4_2): every layer it can compute is there, conv5_1 (28) is not
    assert max(d2lstyle.layer_index(name) for name in r.layers()) <= 22
    assert list(r.style_layers) == ["conv1_1", "conv2_1", "conv3_1", "conv4_1"]
    assert (r.tv_reduction, r.init, r.space, r.optimizer) == ("wrap", "randn", "pixels", "lbfgs")


def test_the_other_network_gets_the_same_objective_rescaled():
    """alpha / k^2 and beta / k^4 with k = 255 * 0.226: with features k times larger, every term keeps its value."""
    k2 = (255 * 0.226) ** 2
    for name in d2lstyle.PRESETS:
        ours, theirs = get_recipe(name, "original"), get_recipe(name, "torchvision")
        if ours.content_weight:
            assert ours.content_weight * k2 == pytest.approx(theirs.content_weight, rel=0.06), name
        if ours.style_weight:
            assert ours.style_weight * k2 * k2 == pytest.approx(theirs.style_weight, rel=0.06), name
        assert ours.tv_weight == pytest.approx(theirs.tv_weight, rel=0.06), name
        assert (ours.network, theirs.network) == ("original", "torchvision")


def test_a_recipe_balanced_for_the_other_network_is_warned_about(random_vgg):
    from d2lstyle.transfer import recipe_for_network
    from d2lstyle.vgg import VGG19

    torchvision_like = VGG19(random_vgg.features, family="torchvision")
    assert recipe_for_network("d2l", torchvision_like).style_weight == 1e4  # a name: the weights for that network
    with pytest.warns(UserWarning, match="balanced for the original VGG-19, but this network is the torchvision"):
        recipe_for_network(get_recipe("d2l"), torchvision_like)


def test_the_balance_cap_moves_with_the_network_like_alpha_over_beta():
    """q = L_style(p) / L_content(a) scales like beta / alpha's inverse: on features k times smaller, k^-4 / k^-2."""
    from d2lstyle.recipes import FEATURE_SCALE_SQUARED

    default = get_recipe("default")
    on_torchvision = default.for_network("torchvision")
    ratio_before = default.style_weight / default.content_weight
    ratio_after = on_torchvision.style_weight / on_torchvision.content_weight
    # cap * beta / alpha, the largest weighted style term at p over the content term at a, is the same on both
    assert on_torchvision.balance_cap * ratio_after == pytest.approx(default.balance_cap * ratio_before, rel=0.05)
    assert on_torchvision.balance_cap == pytest.approx(0.3 / FEATURE_SCALE_SQUARED, rel=0.02)
    assert on_torchvision.for_network("original").balance_cap == pytest.approx(0.3, rel=0.02)
    assert get_recipe("d2l").balance_cap == 0 == get_recipe("d2l").for_network("original").balance_cap
