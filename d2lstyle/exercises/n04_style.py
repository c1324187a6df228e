"""Checks for the exercises of notebook 04 (style loss): the Gram matrix and the style loss.
"""

import torch

from .. import losses
from .harness import _Checks, _call, _expect_gradients, _expect_loss_tensor, _randn, _show


def check_gram_matrix(gram_matrix):
    """Check ``gram_matrix(X)``: for X of shape (1, C, H, W), the (C, C) matrix
    F F^T / (C H W) with F = X reshaped to (C, H*W)."""
    check = _Checks("gram_matrix")
    C, H, W = 3, 4, 5
    X = _randn(1, C, H, W, seed=3).requires_grad_(True)
    G = _call(check, gram_matrix, X)
    check(isinstance(G, torch.Tensor), f"return a tensor, not a {type(G).__name__}")
    check.same(tuple(G.shape), (C, C), [
        ((H * W, H * W), "it has shape (H*W, H*W): that is F.T @ F. The Gram matrix is F @ F.T, "
                         "one row and column per channel"),
        ((1, C, C), "drop the batch dimension: return a (C, C) matrix"),
    ], f"for X of shape (1, {C}, {H}, {W}) the shape should be ({C}, {C}), not {tuple(G.shape)}")
    check(torch.allclose(G, G.T, rtol=1e-4, atol=1e-6), "it is not symmetric (G[k, l] should equal G[l, k]): "
                                                        "compute F @ F.T with F = X.reshape(C, H * W)")
    want = losses.gram_matrix(X.detach())
    scrambled = X.detach().reshape(H * W, C)
    check.same(G, want, [
        (want * C * H * W, f"it is {C * H * W} times too large, which is C*H*W: the Gram matrix was not "
                           "normalised. Divide F @ F.T by C * H * W"),
        (want * C, f"it is {C} times too large, which is C: it divides by H*W only. Divide by C * H * W"),
        (want * H * W, f"it is {H * W} times too large, which is H*W: it divides by C only. Divide by C * H * W"),
        (want / (C * H * W), f"it is {C * H * W} times too small: it divides by C*H*W twice"),
        (want / C, f"it is {C} times too small, which is C: it divides by C^2*H*W (C twice, perhaps "
                   "C * X.numel() or C * C * H * W). Divide by C * H * W, the number of values in X"),
        (scrambled.T @ scrambled / (C * H * W), "X was reshaped to (H*W, C), which mixes values of different "
                                                "channels: reshape it to (C, H*W), one row per channel"),
    ], "the values differ from F @ F.T / (C*H*W) with F = X.reshape(C, H*W)")
    by_hand = _call(check, gram_matrix, torch.tensor([[[[1.0, 2.0]], [[3.0, 4.0]]]]))
    check.same(by_hand, [[1.25, 2.75], [2.75, 6.25]], [],
               "for X = [[[[1, 2]], [[3, 4]]]] (C=2, H=1, W=2) the Gram matrix is "
               f"[[1+4, 3+8], [3+8, 9+16]] / 4 = [[1.25, 2.75], [2.75, 6.25]], not {_show(by_hand)}")
    tiled = _call(check, gram_matrix, X.detach().repeat(1, 1, 2, 2))
    check.same(tiled, want, [], "repeating the feature map 2x2 times changed the Gram matrix: divide by the "
                                "number of positions H*W too, so it does not depend on the image size")
    _expect_gradients(check, G.sum(), into={"X": X})
    check.done()


_GRAM_OF_GRAM = ("it takes the Gram matrix of gram_Y, which already is a Gram matrix (the style image's, "
                 "computed once before training): compare gram_matrix(Y_hat) with gram_Y itself, "
                 "((gram_matrix(Y_hat) - gram_Y) ** 2).mean()")
_STYLE_LOSS_HINTS = {  # gram_Y, a (C, C) matrix, is the only 2-D tensor here: a gram_matrix got it as features
    "expected 4, got 2": _GRAM_OF_GRAM,
    "expected 3, got 2": _GRAM_OF_GRAM,
    "expects features of shape (1, C, H, W), got (": _GRAM_OF_GRAM,
}


def check_style_loss(style_loss):
    """Check ``style_loss(Y_hat, gram_Y)``: the mean of the squared differences
    between gram_matrix(Y_hat) and gram_Y, a scalar tensor, gram_Y detached."""
    check = _Checks("style_loss")
    Y_hat = _randn(1, 3, 4, 5, seed=4).requires_grad_(True)
    gram_Y = losses.gram_matrix(_randn(1, 3, 4, 5, seed=5)).requires_grad_(True)
    loss = _call(check, style_loss, Y_hat, gram_Y, hints=_STYLE_LOSS_HINTS)
    _expect_loss_tensor(check, loss)
    G, target = losses.gram_matrix(Y_hat.detach()), gram_Y.detach()
    want = ((G - target) ** 2).mean()
    gram_of_gram = [(((G - target @ target.T / n) ** 2).mean(), _GRAM_OF_GRAM) for n in (9, 3, 1)]  # C^2, C, 1
    check.same(loss, want, gram_of_gram + [
        (want * 9, "it is 9 times too large, which is C^2: it sums over the C x C entries. Take their mean"),
        (((G * 60 - target) ** 2).mean(), "the Gram matrix of Y_hat is C*H*W times too large: normalise it like "
                                          "gram_Y (check your gram_matrix, or use d2lstyle.gram_matrix)"),
        (((G * 3 - target) ** 2).mean(), "the Gram matrix of Y_hat is divided by H*W only: divide by C*H*W "
                                         "(check your gram_matrix, or use d2lstyle.gram_matrix)"),
        (want / 4, "it is a quarter of the right value: drop the 1/4 (Gatys et al.'s factor), "
                   "this series uses the plain mean"),
        ((G - target).abs().mean(), "it uses absolute differences: square them instead"),
        (want.sqrt(), "it takes the square root of the mean: the loss is the mean squared difference, no root"),
    ], f"expected {_show(want)}, got {_show(loss)}: compute the mean of (gram_matrix(Y_hat) - gram_Y) ** 2")
    by_hand = _call(check, style_loss, torch.ones(1, 2, 1, 2), torch.zeros(2, 2), hints=_STYLE_LOSS_HINTS)
    check.same(by_hand, 0.25, [], "for Y_hat = ones(1, 2, 1, 2) every entry of its Gram matrix is 2 / 4 = 0.5, so "
                                  f"against gram_Y = 0 the loss is 0.5 ** 2 = 0.25, not {_show(by_hand)}")
    same = _call(check, style_loss, Y_hat.detach(), G, hints=_STYLE_LOSS_HINTS)
    check.same(same, 0.0, [], f"style_loss(Y, gram_matrix(Y)) should be 0, not {_show(same)}")
    _expect_gradients(check, loss, into={"Y_hat": Y_hat}, not_into=[(
        gram_Y, "gradient flows into the target gram_Y: detach it (gram_Y.detach()); "
                "the style's Gram matrix is a fixed target")])
    check.done()
