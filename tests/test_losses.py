"""The three losses against values worked out by hand, independent formulas and gradient checks."""

import pytest
import torch

import d2lstyle
from d2lstyle import losses


def double(*shape, seed=0):
    generator = torch.Generator().manual_seed(seed)
    return torch.randn(*shape, generator=generator, dtype=torch.float64)


# --- content loss ---------------------------------------------------------------


def test_content_loss_by_hand():
    Y_hat = torch.tensor([[[[1.0, 2.0], [3.0, 5.0]]]])
    Y = torch.tensor([[[[1.0, 0.0], [0.0, 1.0]]]])
    assert d2lstyle.content_loss(Y_hat, Y).item() == pytest.approx((0 + 4 + 9 + 16) / 4)
    assert d2lstyle.content_loss(Y_hat, Y, reduction="sum").item() == pytest.approx(29)


def test_content_loss_gradient_is_2_diff_over_n_and_none_reaches_the_target():
    Y_hat = double(1, 3, 4, 5).requires_grad_()
    Y = double(1, 3, 4, 5, seed=1).requires_grad_()
    d2lstyle.content_loss(Y_hat, Y).backward()
    assert torch.allclose(Y_hat.grad, 2 * (Y_hat - Y).detach() / Y.numel())
    assert Y.grad is None
    assert torch.autograd.gradcheck(lambda a: d2lstyle.content_loss(a, Y), (Y_hat,))


def test_content_loss_rejects_mismatched_shapes():
    with pytest.raises(ValueError, match="do not match"):
        d2lstyle.content_loss(torch.zeros(1, 2, 3, 3), torch.zeros(1, 2, 3, 4))


# --- Gram matrix ------------------------------------------------------------------


def test_gram_matrix_by_hand():
    # Two channels over three positions: F = [[1, 0, 2], [0, 1, 1]]
    X = torch.tensor([[[[1.0, 0.0, 2.0]], [[0.0, 1.0, 1.0]]]])
    assert d2lstyle.gram_matrix(X, "none").tolist() == [[5.0, 2.0], [2.0, 2.0]]
    assert torch.allclose(d2lstyle.gram_matrix(X), torch.tensor([[5.0, 2.0], [2.0, 2.0]]) / 6)  # C*H*W = 6
    assert torch.allclose(d2lstyle.gram_matrix(X, "hw"), torch.tensor([[5.0, 2.0], [2.0, 2.0]]) / 3)


def test_gram_matrix_against_einsum_symmetric_and_positive_semidefinite():
    X = double(1, 6, 5, 7)
    expected = torch.einsum("bchw,bdhw->cd", X, X) / (6 * 5 * 7)
    G = d2lstyle.gram_matrix(X)
    assert torch.allclose(G, expected)
    assert torch.allclose(G, G.T)
    assert torch.linalg.eigvalsh(G).min() > -1e-12


def test_gram_matrix_forgets_where_features_are():
    X = double(1, 4, 6, 6)
    shuffled = X.reshape(1, 4, 36)[:, :, torch.randperm(36)].reshape(1, 4, 6, 6)
    assert torch.allclose(d2lstyle.gram_matrix(X), d2lstyle.gram_matrix(shuffled))
    assert not torch.allclose(X, shuffled)


def test_gram_matrix_input_checks():
    assert d2lstyle.gram_matrix(torch.ones(2, 3, 3)).shape == (2, 2)  # (C, H, W) is accepted
    with pytest.raises(ValueError, match=r"\(1, C, H, W\)"):
        d2lstyle.gram_matrix(torch.ones(2, 2, 3, 3))
    with pytest.raises(ValueError, match="normalization must be one of"):
        d2lstyle.gram_matrix(torch.ones(1, 2, 3, 3), "c")


# --- style loss -------------------------------------------------------------------


def test_style_loss_against_an_independent_formula():
    Y_hat, A = double(1, 4, 3, 5), double(1, 4, 3, 5, seed=1)
    F_hat, F_a = Y_hat.reshape(4, 15), A.reshape(4, 15)
    expected = (((F_hat @ F_hat.T - F_a @ F_a.T) / 60) ** 2).sum() / 16
    assert d2lstyle.style_loss(Y_hat, d2lstyle.gram_matrix(A)).item() == pytest.approx(expected.item())
    assert d2lstyle.style_loss(A, d2lstyle.gram_matrix(A)).item() == 0


def test_style_loss_gradient_and_detached_target():
    Y_hat = double(1, 3, 4, 4).requires_grad_()
    A = double(1, 3, 4, 4, seed=1).requires_grad_()
    gram_A = d2lstyle.gram_matrix(A)
    assert torch.autograd.gradcheck(lambda y: d2lstyle.style_loss(y, gram_A), (Y_hat,))
    d2lstyle.style_loss(Y_hat, gram_A).backward()
    assert A.grad is None


def test_style_loss_names_a_layer_mix_up():
    with pytest.raises(ValueError, match="another layer"):
        d2lstyle.style_loss(torch.ones(1, 4, 2, 2), torch.ones(8, 8))


def test_style_divisors():
    assert losses.style_divisor("none", (1, 64, 10, 20)) == 1
    assert losses.style_divisor("chw", (1, 64, 10, 20)) == 64 * 200
    assert losses.style_divisor("gatys", (1, 64, 10, 20)) == 4 * 64**2 * 200**2
    with pytest.raises(ValueError, match="style divisor"):
        losses.style_divisor("mean", (1, 1, 1, 1))


def test_gatys_divisor_matches_the_paper_formula():
    """E_l = 1/(4 N^2 M^2) sum (G - A)^2 with unnormalised Gram matrices."""
    X, S = double(1, 3, 2, 4), double(1, 3, 2, 4, seed=2)
    G, A = d2lstyle.gram_matrix(X, "none"), d2lstyle.gram_matrix(S, "none")
    paper = ((G - A) ** 2).sum() / (4 * 3**2 * 8**2)
    ours = d2lstyle.style_loss(X, A, "none", "sum") / losses.style_divisor("gatys", X.shape)
    assert ours.item() == pytest.approx(paper.item())


# --- total variation ----------------------------------------------------------------


def test_tv_of_a_checkerboard_and_of_a_constant():
    board = (torch.arange(8).view(1, 8) + torch.arange(8).view(8, 1)) % 2
    board = board.float().expand(1, 3, 8, 8)
    assert d2lstyle.tv_loss(board).item() == pytest.approx(1.0)
    assert d2lstyle.tv_loss(board, reduction="sum").item() == pytest.approx(2 * 3 * 8 * 7)
    assert d2lstyle.tv_loss(torch.full((1, 3, 5, 5), 0.7)).item() == 0


def test_tv_of_a_horizontal_ramp():
    ramp = torch.arange(6.0).view(1, 1, 1, 6).expand(1, 2, 4, 6)  # +1 per column, constant down columns
    assert d2lstyle.tv_loss(ramp).item() == pytest.approx(0.5 * (0 + 1))


def test_tv_uses_absolute_not_squared_differences():
    step = torch.zeros(1, 1, 1, 3)
    step[..., 2] = 4.0  # one jump of height 4
    assert d2lstyle.tv_loss(step, reduction="sum").item() == pytest.approx(4.0)  # squared would give 16


def test_tv_gradient():
    x = double(1, 3, 5, 6).requires_grad_()
    assert torch.autograd.gradcheck(d2lstyle.tv_loss, (x,))


def test_tv_input_checks():
    with pytest.raises(ValueError, match=r"\(N, C, H, W\)"):
        d2lstyle.tv_loss(torch.zeros(3, 4, 4))
    with pytest.raises(ValueError, match="reduction must be one of .'mean', 'sum', 'wrap'."):
        d2lstyle.tv_loss(torch.zeros(1, 3, 4, 4), reduction="max")


def test_wrapping_tv_compares_the_last_row_with_the_first():
    """torch.roll's TV charges an image for the edge between its bottom and its top, which it does not have."""
    gradient = torch.linspace(0, 1, 8).view(1, 1, 8, 1).expand(1, 1, 8, 8)  # dark at the top, light at the bottom
    # the 7 steps of 1/7 down each column cost the same both ways; wrapping adds the jump of 1 from bottom to top
    plain = d2lstyle.tv_loss(gradient, "mean")  # 0.5 * (mean over 7 rows of 1/7 + 0)
    wrapped = d2lstyle.tv_loss(gradient, "wrap")  # (7 * 1/7 + 1) / 8 + 0
    assert plain.item() == pytest.approx(0.5 / 7) and wrapped.item() == pytest.approx(2 / 8)
