"""What Gatys et al.'s rescaled VGG-19 does to their alpha/beta (the study behind the gatys preset's weights).

Gatys et al. (2016, section 2) "normalized the network by scaling the weights such that the mean activation
of each convolutional filter over images and positions is equal to one". A ReLU network with max or average
pooling can be rescaled that way without changing what it computes, up to a factor per channel: dividing
channel c of layer l by its mean m_lc, and multiplying the next layer's weights by it, leaves every later
layer as it was. So the rescaled network's features are the original ones divided by m_lc, and their loss
terms change by:

    content  C_r = sum_c (F_c - P_c)^2 / m_c^2                      (about C / m^2)
    style    S_r = sum_kl (G_kl - A_kl)^2 / (m_k m_l)^2             (about S / m^4)

The paper's alpha/beta balances C_r against S_r, layer by layer. On the network as released (no rescaling), the
same objective needs each layer's weight multiplied by that layer's factor: C_r / C for the content layer and
E_r / E for each style layer (one number for all style layers, as the preset once had, matches only the total at
one image and leaves the style loss to the layer with the largest means). This script measures the means m_lc on
the bundled photos and paintings (a stand-in for the paper's ImageNet images, averaged the same way: over images
and positions, after each filter's ReLU, with average pooling as in the paper), then the factors for the
Tübingen / Starry Night pair, with x a finished painting made by d2lstyle.

    python benchmarks/gatys_rescaling.py [--side 256]

Prints the means, each layer's factor and its share of the style loss on both networks, and the per-layer weights
of the gatys preset (recipes.GATYS_CONTENT_LAYERS and GATYS_STYLE_LAYERS).
"""

import argparse
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

import d2lstyle  # noqa: E402
from d2lstyle import losses  # noqa: E402
from d2lstyle.vgg import LAYER_NAMES  # noqa: E402

RELU_LAYERS = [name for name in LAYER_NAMES if name.startswith("relu")]


def filter_means(vgg, pictures, side):
    """{relu layer: mean activation of each channel over the pictures and all positions}."""
    extract = d2lstyle.FeatureExtractor(vgg, RELU_LAYERS)
    sums = {name: 0 for name in RELU_LAYERS}
    with torch.no_grad():
        for picture in pictures:
            features = extract(d2lstyle.preprocess(picture, side))
            for name in RELU_LAYERS:
                sums[name] = sums[name] + features[name].mean(dim=(0, 2, 3))
    return {name: total / len(pictures) for name, total in sums.items()}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--side", type=int, default=256)
    args = parser.parse_args()
    vgg = d2lstyle.load_vgg19("original").with_pooling("avg")
    pictures = [d2lstyle.load_image(path) for kind in ("content", "style") for path in d2lstyle.bundled_images(kind)]
    means = filter_means(vgg, pictures, args.side)
    for name in ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu4_2", "relu5_1"):
        m = means[name]
        print(f"{name}: filter means median {m.median():.3g}, 10-90 % {m.quantile(0.1):.3g} .. {m.quantile(0.9):.3g}, "
              f"dead filters {int((m == 0).sum())}")

    recipe = d2lstyle.get_recipe("gatys", network="original")
    photo = d2lstyle.load_image(d2lstyle.bundled_image("tubingen"))
    painting = d2lstyle.load_image(d2lstyle.bundled_image("starry_night"))
    # x: a finished painting of the pair (d2l's objective, 150 Adam steps), where the balance matters
    result = d2lstyle.stylise(photo, painting, d2lstyle.get_recipe("d2l").replace(image_size=args.side, steps=150),
                              d2lstyle.load_vgg19("original"), progress=False)
    shape = tuple(result.image.shape[-2:])
    extract = d2lstyle.FeatureExtractor(vgg, recipe.layers())
    with torch.no_grad():
        fx = extract(result.image)
        fp = extract(d2lstyle.preprocess(photo, shape))
        fa = extract(d2lstyle.preprocess(painting, shape))  # the same number of positions M as x
    safe = {name: torch.where(m > 0, m, torch.ones_like(m)) for name, m in means.items()}

    (content_layer,) = recipe.content_layers
    difference = (fx[content_layer] - fp[content_layer]).square().sum(dim=(0, 2, 3))
    content_factor = float((difference / safe[content_layer].square()).sum() / difference.sum())
    print(f"content: C_r / C = {content_factor:.3g} ({content_layer})")
    style_plain = style_rescaled = 0.0
    layer_factors = {}
    for name in recipe.style_layers:
        m = safe[name]
        gram_difference = losses.gram_matrix(fx[name], "none") - losses.gram_matrix(fa[name], "none")
        divisor = losses.style_divisor("gatys", fx[name].shape)
        plain = float(gram_difference.square().sum()) / divisor
        rescaled = float((gram_difference / torch.outer(m, m)).square().sum()) / divisor
        layer_factors[name] = rescaled / plain
        style_plain, style_rescaled = style_plain + 0.2 * plain, style_rescaled + 0.2 * rescaled
        print(f"style {name}: E_r / E = {layer_factors[name]:.3g}; share of the style loss: "
              f"plain {0.2 * plain:.3g}, rescaled {0.2 * rescaled:.3g}")
    beta_paper = 1e3
    print(f"the paper's alpha/beta = 1e-3 as one number for all layers (balances the totals at x only): beta = "
          f"{beta_paper * (style_rescaled / style_plain) / content_factor:.3g} with content weight 0.5")
    print("per layer (the rescaled network's objective itself, to the accuracy of the means), the gatys preset's "
          "per-layer weights (its alpha and beta are chosen separately: recipes.GATYS_STYLE_WEIGHT):")
    print(f"  content_layers = {{'{content_layer}': {content_factor:.2g}}}")
    print("  style_layers = {" + ", ".join(f"'{name}': {0.2 * factor:.2g}" for name, factor in layer_factors.items())
          + "}")


if __name__ == "__main__":
    main()
