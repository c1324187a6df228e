"""Check for the exercise of notebook 03 (content loss).
"""

import torch

from .. import losses
from .harness import _Checks, _call, _expect_gradients, _expect_loss_tensor, _randn, _show


def check_content_loss(content_loss):
    """Check ``content_loss(Y_hat, Y)``: the mean of the squared differences, a
    scalar tensor, with no gradient into the target Y."""
    check = _Checks("content_loss")
    Y_hat = _randn(1, 3, 4, 5, seed=1).requires_grad_(True)
    Y = _randn(1, 3, 4, 5, seed=2).requires_grad_(True)
    loss = _call(check, content_loss, Y_hat, Y)
    _expect_loss_tensor(check, loss)
    difference = (Y_hat - Y).detach()
    want = losses.content_loss(Y_hat, Y).detach()
    check.same(loss, want, [
        (want * 60, "it is 60 times too large, which is C*H*W: it sums the squared differences. "
                    "Take their mean instead (.mean())"),
        (want * 3, "it is 3 times too large, which is C: it divides by H*W only. Divide by C*H*W (.mean())"),
        (want * 20, "it is 20 times too large, which is H*W: it divides by C only. Divide by C*H*W (.mean())"),
        (want / 2, "it is half the right value: drop the 1/2, this series uses the plain mean"),
        (difference.abs().mean(), "it uses absolute differences: square them instead"),
        (want.sqrt(), "it takes the square root of the mean: the loss is the mean squared difference, no root"),
        (difference.mean() ** 2, "it squares the mean difference: average the squared differences instead"),
    ], f"expected {_show(want)}, got {_show(loss)}: compute the mean of (Y_hat - Y) ** 2")
    by_hand = _call(check, content_loss, torch.tensor([[[[1.0, 2.0], [3.0, 4.0]]]]), torch.zeros(1, 1, 2, 2))
    check.same(by_hand, 7.5, [], f"for Y_hat = [[1, 2], [3, 4]] and Y = 0 the loss is (1 + 4 + 9 + 16) / 4 = 7.5, "
                                 f"not {_show(by_hand)}")
    same = _call(check, content_loss, Y.detach(), Y.detach())
    check.same(same, 0.0, [], f"content_loss(Y, Y) should be 0, not {_show(same)}")
    _expect_gradients(check, loss, into={"Y_hat": Y_hat}, not_into=[(
        Y, "gradient flows into the target Y: detach it (Y.detach()); the content features are a fixed target")])
    check.done()
