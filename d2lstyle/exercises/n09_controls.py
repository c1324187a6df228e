"""Checks for the exercises of notebook 09 (controlling the painting): colour histogram matching
and the guided Gram matrix.
"""

import torch

from .. import colour, losses
from .harness import _Checks, _call, _expect_gradients, _randn


def _correlated_pixels(height, width, mixing, seed):
    """RGB pixels (1, 3, H, W) in float64 whose channels are correlated by ``mixing`` (3 x 3)."""
    pixels = torch.rand((1, 3, height, width), generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    return torch.einsum("ck,nkhw->nchw", torch.tensor(mixing, dtype=torch.float64), pixels)


def _covariance_after(A, cov_a):
    """The covariance of the colours A c, for colours c of covariance ``cov_a``."""
    return A @ cov_a @ A.T


def check_match_histogram(match_histogram):
    """Check ``match_histogram(painting, photo)``: the painting's pixel colours c (RGB, (1, 3, H, W)) mapped to
    A c + b, one A and b for every pixel, so that their mean and covariance become the photo's."""
    check = _Checks("match_histogram")
    photo = _correlated_pixels(6, 8, [[0.8, 0.2, 0.0], [0.3, 0.6, 0.1], [0.0, 0.4, 0.5]], seed=21)
    painting = _correlated_pixels(5, 7, [[0.3, 0.0, 0.1], [0.2, 0.5, 0.0], [0.1, 0.1, 0.9]], seed=22) + 0.1
    saved = painting.clone()
    matched = _call(check, match_histogram, painting, photo)
    check(isinstance(matched, torch.Tensor), f"return a tensor, not a {type(matched).__name__}")
    check.same(tuple(matched.shape), tuple(painting.shape), [
        (tuple(photo.shape), "it has the photo's shape: return the painting's pixels, recoloured"),
    ], f"it should have the painting's shape {tuple(painting.shape)}, not {tuple(matched.shape)}")
    check(torch.equal(painting, saved), "it changed the painting in place: compute a new tensor instead")
    mean_p, cov_p = colour.colour_statistics(photo)
    mean_a, cov_a = colour.colour_statistics(painting)
    mean, cov = colour.colour_statistics(matched.detach().double())
    root_p, root_a = colour.matrix_power_symmetric(cov_p, 0.5), colour.matrix_power_symmetric(cov_a, 0.5)
    inverse_root_a = colour.matrix_power_symmetric(cov_a, -0.5)
    A = root_p @ inverse_root_a
    scales = (cov_p.diag() / cov_a.diag()).sqrt()
    check.same(cov, cov_p, [
        (cov_a, "the colours still have the painting's covariance: multiply each colour by "
                "A = Sigma_p^(1/2) Sigma_a^(-1/2)"),
        (torch.diag(scales) @ cov_a @ torch.diag(scales), "each channel was matched on its own (its mean and "
                                                           "standard deviation), so the correlations between "
                                                           "channels are still the painting's: use the 3 x 3 "
                                                           "covariance matrices"),
        (_covariance_after(cov_p @ torch.linalg.inv(cov_a), cov_a), "A = Sigma_p Sigma_a^-1 has no square roots: "
                                                                    "use Sigma_p^(1/2) Sigma_a^(-1/2)"),
        (_covariance_after(inverse_root_a @ root_p, cov_a), "A is the wrong way round (the two matrices are "
                                                            "multiplied in the wrong order, or A is applied "
                                                            "transposed): A = Sigma_p^(1/2) Sigma_a^(-1/2), the "
                                                            "photo's first, and the new channel c is the sum over "
                                                            "k of A[c, k] times channel k, e.g. "
                                                            "torch.einsum('ck,nkhw->nchw', A, painting)"),
        (_covariance_after(root_p @ root_a, cov_a), "the painting's covariance needs the power -1/2, not 1/2: "
                                                    "A = Sigma_p^(1/2) Sigma_a^(-1/2)"),
    ], "the colours' covariance should be the photo's: A Sigma_a A^T = Sigma_p with A = Sigma_p^(1/2) "
       "Sigma_a^(-1/2)", atol=1e-5)
    check.same(mean, mean_p, [
        (A @ mean_a, "the mean colour is A mu_a: add b = mu_p - A mu_a to every pixel"),
        (A @ mean_a + mean_p - mean_a, "b must be mu_p - A mu_a (with A): the mean lands at A mu_a + b"),
        (torch.zeros(3, dtype=torch.float64), "the mean colour is 0: after centring the colours, add the "
                                              "photo's mean mu_p back"),
    ], "the mean colour should be the photo's, mu_p = b + A mu_a", atol=1e-5)
    colours = painting.reshape(3, -1).T
    with_ones = torch.cat([colours, torch.ones(len(colours), 1, dtype=torch.float64)], dim=1)
    fitted = torch.linalg.lstsq(with_ones, matched.detach().double().reshape(3, -1).T).solution
    residual = (with_ones @ fitted - matched.detach().double().reshape(3, -1).T).abs().max()
    check(float(residual) < 1e-5, "the new colours are not A c + b with one A and one b for all pixels: the "
                                  "paper's method is linear (no sorting, clipping or per-region mapping)")
    itself = _call(check, match_histogram, photo, photo)
    check.same(itself, photo, [], "matching a picture to itself should leave it unchanged (A = I, b = 0)",
               atol=1e-5)
    check.done()


def check_guided_gram_matrix(guided_gram_matrix):
    """Check ``guided_gram_matrix(X, T)``: gram_matrix(T * X) * H * W / sum(T ** 2) for features X
    (1, C, H, W) and a guide T (1, 1, H, W), with the series' Gram matrix (divided by C*H*W)."""
    check = _Checks("guided_gram_matrix")
    C, H, W = 3, 4, 6
    X = _randn(1, C, H, W, seed=23).requires_grad_(True)
    T = torch.zeros(1, 1, H, W)
    T[..., :3] = 1.0
    T[..., 1:3, 3] = 0.5  # a soft edge
    G = _call(check, guided_gram_matrix, X, T)
    check(isinstance(G, torch.Tensor), f"return a tensor, not a {type(G).__name__}")
    check.same(tuple(G.shape), (C, C), [
        ((H * W, H * W), "it has shape (H*W, H*W): the Gram matrix is F @ F.T, one row and column per channel"),
        ((1, C, C), "drop the batch dimension: return a (C, C) matrix"),
    ], f"for X of shape (1, {C}, {H}, {W}) the shape should be ({C}, {C}), not {tuple(G.shape)}")
    Y = X.detach()
    area = float(T.square().sum())
    want = losses.gram_matrix(Y * T) * (H * W / area)
    check.same(G, want, [
        (losses.gram_matrix(Y * T), f"it is {H * W / area:.3g} times too small, which is H*W / sum(T**2): "
                                    "rescale by H * W / (T ** 2).sum(), so that the region counts as if it "
                                    "filled the image"),
        (losses.gram_matrix(Y * T) * (H * W / float(T.sum())), "divide by the sum of T squared, not of T: the "
                                                               "guide multiplies both factors of F @ F.T"),
        (losses.gram_matrix(Y * T * T) * (H * W / area), "the guide is applied twice: multiply the features "
                                                         "by T once"),
        (losses.gram_matrix(Y) * float(T.mean()), "it scales the plain Gram matrix: multiply the features by T "
                                                  "first, position by position, so that only the region counts"),
        (losses.gram_matrix(Y), "it ignores the guide T: multiply the features by T before the Gram matrix"),
        (want * C, f"it is {C} times too large, which is C: use the series' Gram matrix, divided by C*H*W, "
                   "e.g. d2lstyle.gram_matrix(X * T)"),
    ], "the values differ from gram_matrix(T * X) * H * W / sum(T ** 2)")
    ones = _call(check, guided_gram_matrix, Y, torch.ones(1, 1, H, W))
    check.same(ones, losses.gram_matrix(Y), [], "with T = 1 everywhere it should be the plain Gram matrix, "
                                                "gram_matrix(X)")
    left = torch.zeros(1, 1, H, W)
    left[..., :2] = 1.0
    region = _call(check, guided_gram_matrix, Y, left)
    check.same(region, losses.gram_matrix(Y[..., :2]), [], "with T = 1 in the two left columns and 0 elsewhere "
                                                           "it should be the Gram matrix of those columns alone, "
                                                           "gram_matrix(X[..., :2])")
    _expect_gradients(check, G.sum(), into={"X": X})
    outside = (T == 0).expand_as(X)
    check(bool((X.grad[outside] == 0).all()), "gradient reaches features where T = 0: multiply the features by "
                                              "T before the product, so that the outside of the region cannot "
                                              "change the result")
    check.done()
