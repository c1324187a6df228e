"""Check for the exercise of notebook 05 (total variation loss).
"""

import torch

from .harness import _Checks, _call, _expect_gradients, _expect_loss_tensor, _randn, _show


def _tv_count_mistakes(sum_h, sum_w, shape):
    """Total variation with the sums of |differences| divided by wrong counts, as
    (value, message) pairs: the number of pixels, a count without the channels,
    or the vertical and horizontal counts swapped (each with and without the 1/2)."""
    _, C, H, W = shape
    right = (f"There are C*(H-1)*W = {C * (H - 1) * W} vertical differences and C*H*(W-1) = {C * H * (W - 1)} "
             "horizontal ones: divide each sum by its own count, or simply take .mean() of each")
    wrong_counts = [
        (C * H * W, C * H * W, "it divides by C*H*W, the number of values (pixels times channels)"),
        (H * W, H * W, "it divides by H*W, the number of pixels of one channel"),
        ((H - 1) * W, H * (W - 1), "its counts of differences, (H-1)*W and H*(W-1), leave out the C channels"),
        (C * H * (W - 1), C * (H - 1) * W, "it divides the vertical differences by the count of the horizontal "
                                           "ones and the other way round"),
    ]
    mistakes = []
    for count_h, count_w, wrong in wrong_counts:
        mistakes.append((0.5 * (sum_h / count_h + sum_w / count_w), f"{wrong}, with the 1/2 in front. {right}"))
        mistakes.append((sum_h / count_h + sum_w / count_w, f"{wrong}, and the 1/2 in front is missing. {right}"))
    return mistakes


def check_tv_loss(tv_loss):
    """Check ``tv_loss(Y_hat)``: 0.5 * (mean |vertical differences| + mean
    |horizontal differences|) of an image of shape (N, C, H, W)."""
    check = _Checks("tv_loss")
    X = _randn(1, 3, 4, 6, seed=6).requires_grad_(True)
    loss = _call(check, tv_loss, X)
    _expect_loss_tensor(check, loss)
    Y = X.detach()
    dh, dw = Y[:, :, 1:, :] - Y[:, :, :-1, :], Y[:, :, :, 1:] - Y[:, :, :, :-1]
    dc = Y[:, 1:] - Y[:, :-1]
    want = 0.5 * (dh.abs().mean() + dw.abs().mean())
    squared = "it squares the differences: use absolute ones (.abs()), which let sharp edges survive"
    channels = "it takes differences between colour channels (dim 1): use height (dim 2) and width (dim 3)"
    check.same(loss, want, _tv_count_mistakes(dh.abs().sum(), dw.abs().sum(), Y.shape) + [
        (0.5 * ((dh ** 2).mean() + (dw ** 2).mean()), squared),
        ((dh ** 2).mean() + (dw ** 2).mean(), squared),
        (2 * want, "it is twice the right value: the 1/2 in front is missing"),
        (0.5 * dh.abs().mean(), "it has only vertical differences (along H): add the horizontal ones (along W)"),
        (dh.abs().mean(), "it has only vertical differences (along H): add the horizontal ones (along W)"),
        (0.5 * dw.abs().mean(), "it has only horizontal differences (along W): add the vertical ones (along H)"),
        (dw.abs().mean(), "it has only horizontal differences (along W): add the vertical ones (along H)"),
        (0.5 * (dh.mean() + dw.mean()), "the absolute value is missing, so positive and negative differences "
                                        "cancel: use .abs()"),
        (torch.cat([dh.abs().flatten(), dw.abs().flatten()]).mean(),
         "it averages all differences together: average the vertical and the horizontal ones separately, "
         "then take half their sum"),
        (0.5 * (dh.abs().sum() + dw.abs().sum()), "it sums the differences: take the mean of each direction"),
        (dh.abs().sum() + dw.abs().sum(), "it sums the differences: take the mean of each direction, then half their sum"),
        (0.5 * (dc.abs().mean() + dh.abs().mean()), channels),
        (0.5 * (dc.abs().mean() + dw.abs().mean()), channels),
        (0.5 * ((Y - Y.roll(1, 2)).abs().mean() + (Y - Y.roll(1, 3)).abs().mean()),
         "torch.roll wraps around and adds differences between the first and last rows and columns: "
         "slice instead, X[:, :, 1:, :] - X[:, :, :-1, :]"),
    ], f"expected {_show(want)}, got {_show(loss)}")
    checkerboard = _call(check, tv_loss, torch.tensor([[[[0.0, 1.0], [1.0, 0.0]]]]))
    check.same(checkerboard, 1.0, [], "for the checkerboard [[0, 1], [1, 0]] every neighbour differs by 1, "
                                      f"so the loss is 0.5 * (1 + 1) = 1, not {_show(checkerboard)}")
    flat = _call(check, tv_loss, torch.full((1, 3, 4, 6), 0.7))
    check.same(flat, 0.0, [], f"an image of one colour has no variation: expected 0, not {_show(flat)}")
    _expect_gradients(check, loss, into={"Y_hat": X})
    check.done()
