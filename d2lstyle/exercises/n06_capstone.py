"""Check for the capstone of notebook 06: the whole method, written on one page from the series' pieces.
"""

import math

import torch
from torch import nn

from .. import images, losses, quality
from ..networks import load_vgg19
from ..vgg import FeatureExtractor
from .harness import _Checks, _call, _randn, _show

# What a run of the capstone must reach on the small real run (64 px, 30 evaluations, from the photo): ratios
# measured with d2lstyle.quality; the reference reaches about style 0.15, content 0.75 (tests/test_exercises.py).
PAINTS_STYLE_BELOW, PAINTS_CONTENT_BELOW = 0.8, 0.9

_HINTS = {
    "backward through the graph a second time": "a target keeps its graph: detach the photo's features and the "
                                                "painting's Gram matrices (.detach()) when you compute them, "
                                                "before the loop",
    "does not require grad": "the image you optimise needs requires_grad_(True) (and must be what the optimiser "
                             "updates)",
    "can't optimize a non-leaf": "optimise a leaf tensor: start.clone().requires_grad_(True)",
}


class _TinyExtractor(nn.Module):
    """Three small random convolutions standing in for VGG-19 (fast). Its parameters require gradients, like
    an unfrozen network's, so that a target that kept its graph fails on the second backward pass."""

    layers = ("a", "b", "c")

    def __init__(self):
        super().__init__()
        generator = torch.Generator().manual_seed(11)
        self.convs = nn.ModuleList(nn.Conv2d(c_in, c_out, 3, padding=1) for c_in, c_out in ((3, 4), (4, 6), (6, 5)))
        for conv in self.convs:
            conv.weight.data = torch.randn(conv.weight.shape, generator=generator) * 0.4
            conv.bias.data = torch.randn(conv.bias.shape, generator=generator) * 0.1

    def forward(self, X):
        features = {}
        for name, conv in zip(self.layers, self.convs):
            X = torch.relu(conv(X))
            features[name] = X
        return features


def _total(extract, X, photo, painting, content_layer, style_weights, alpha, beta, gamma, reduction="mean",
           weighted=True, gram=losses.gram_matrix):
    """The total loss at X, as the capstone defines it (or with one mistake switched on)."""
    with torch.no_grad():
        features, photo_features, painting_features = extract(X), extract(photo), extract(painting)
        content = losses.content_loss(features[content_layer], photo_features[content_layer], reduction=reduction)
        style = sum((weight if weighted else 1.0) * losses.style_loss(features[layer],
                                                                      gram(painting_features[layer]),
                                                                      reduction=reduction)
                    for layer, weight in style_weights.items())
        return float(alpha * content + beta * style + gamma * losses.tv_loss(X, reduction=reduction))


def check_style_transfer(style_transfer, network=None):
    """Check ``style_transfer(photo, painting, start, extract, content_layer, style_weights, alpha, beta, gamma,
    steps)``, which returns ``(X, history)``: L-BFGS on the image from ``start`` with at most ``steps``
    evaluations of

        L(X) = alpha * content_loss(F_c(X), F_c(photo)) + beta * sum_l w_l * style_loss(F_l(X), G(F_l(painting)))
               + gamma * tv_loss(X),

    ``history`` the total loss of each evaluation (numbers), ``X`` the final image, detached. Then a small real
    run with VGG-19 (``network``: a loaded one, or None for the original) must paint: the quality measure's style
    ratio below PAINTS_STYLE_BELOW and content ratio below PAINTS_CONTENT_BELOW.
    """
    check = _Checks("style_transfer")
    extract = _TinyExtractor()
    photo, painting, start = _randn(1, 3, 12, 10, seed=21), _randn(1, 3, 12, 10, seed=22), _randn(1, 3, 12, 10,
                                                                                                  seed=23)
    style_weights = {"a": 1.0, "b": 0.5, "c": 2.0}
    setting = dict(content_layer="b", style_weights=style_weights, alpha=1.0, beta=100.0, gamma=0.5)
    start_copy = start.clone()
    result = _call(check, style_transfer, photo, painting, start, extract, "b", style_weights, 1.0, 100.0, 0.5, 8,
                   hints=_HINTS)
    check(isinstance(result, (tuple, list)) and len(result) == 2, "return two things: (X, history)")
    X, history = result
    check(isinstance(X, torch.Tensor) and X.shape == photo.shape,
          f"X should be the image, a tensor of shape {tuple(photo.shape)}")
    check(not X.requires_grad, "return X.detach(): the result should not carry the optimiser's graph")
    check(torch.equal(start, start_copy), "`start` was changed in place: optimise a copy, "
                                          "start.clone().requires_grad_(True)")
    check(isinstance(history, (list, tuple)) and len(history) > 0, "history should list the total loss of each "
                                                                   "evaluation")
    check(all(isinstance(value, (int, float)) for value in history),
          "history should hold numbers (loss.item()), not tensors: a tensor keeps its whole graph alive")
    check(len(history) <= math.ceil(8 * 1.25),
          f"{len(history)} evaluations for steps=8: one optimizer.step of L-BFGS runs up to max_iter evaluations, "
          "so call it once, with max_iter=steps (not `steps` times)")
    first = history[0]
    want = _total(extract, start, photo, painting, **setting)
    check.same(first, want, [
        (_total(extract, photo, photo, painting, **setting), "the first loss is the photo's: start from `start`"),
        (_total(extract, start, photo, painting, **setting, weighted=False), "the style layers' weights w_l are "
                                                                             "missing: multiply each layer's loss"),
        (_total(extract, start, photo, painting, **setting, reduction="sum"), "the losses are summed where they "
                                                                              "should be averaged: use the series' "
                                                                              "mean losses"),
        (_total(extract, start, photo, painting, **dict(setting, alpha=1.0, beta=1.0, gamma=1.0)),
         "the loss weights alpha, beta, gamma are missing"),
        (_total(extract, start, photo, painting, **dict(setting, gamma=0.0)), "the total variation term is missing"),
        (_total(extract, start, photo, painting, **dict(setting, alpha=0.0)), "the content term is missing"),
    ], f"the first loss should be L(start) = {_show(want)}, not {_show(first)}")
    check(history[-1] < history[0], f"the loss did not fall ({_show(history[0])} -> {_show(history[-1])}): "
                                    "step the optimiser on the image")
    final = _total(extract, X, photo, painting, **setting)
    check(final < 0.9 * history[0], f"the returned X has the loss {_show(final)}, hardly below the start's "
                                    f"{_show(history[0])}: return the tensor the optimiser updated")

    net = network if network is not None else load_vgg19("original")
    layers = ["relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1", "relu4_2"]
    vgg_extract = FeatureExtractor(net, layers)
    photo_img, painting_img = (images.load_image(images.bundled_image(name)) for name in ("tubingen", "starry_night"))
    real_photo, real_painting = images.preprocess(photo_img, 64), images.preprocess(painting_img, 64)
    X, history = _call(check, style_transfer, real_photo, real_painting, real_photo, vgg_extract, "relu4_2",
                       {layer: 1.0 for layer in layers[:5]}, 1.0, 100.0, 0.0, 30, hints=_HINTS)
    score = quality.Scorer(photo_img, painting_img, tuple(X.shape[-2:]))(X)
    check(score.style < PAINTS_STYLE_BELOW and score.content < PAINTS_CONTENT_BELOW,
          f"on Tübingen and The Starry Night at 64 px (30 evaluations) it scores {score}: it should paint "
          f"(style ratio below {PAINTS_STYLE_BELOW}, content ratio below {PAINTS_CONTENT_BELOW})")
    check.done()
    return score
