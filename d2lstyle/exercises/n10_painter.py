"""Checks for the exercises of notebook 10 (the painter, fast style transfer): instance
normalisation, the residual block, the cosine learning-rate schedule and conditional instance
normalisation.
"""

import torch
from torch import nn

from .harness import _Checks, _call, _randn, _show


def _instance_stats(X, dims, unbiased=False):
    """Mean and variance of X over ``dims`` (kept, for broadcasting)."""
    return X.mean(dim=dims, keepdim=True), X.var(dim=dims, keepdim=True, unbiased=unbiased)


def check_instance_norm(instance_norm):
    """Check ``instance_norm(X, eps)``: each channel of each image of X
    (N, C, H, W) normalised over its own H x W positions,
    (X - mean) / sqrt(var + eps), with the biased variance (divided by H*W)."""
    check = _Checks("instance_norm")
    # two images, three channels, each with its own mean and scale, so that every wrong set of axes shows
    X = (_randn(2, 3, 4, 5, seed=11) * torch.tensor([1.0, 3.0, 0.5]).view(1, 3, 1, 1)
         + torch.tensor([[0.0, 2.0, -1.0], [5.0, 0.0, 1.0]]).view(2, 3, 1, 1))
    eps = 0.5  # large, so that where eps goes shows
    Y = _call(check, instance_norm, X, eps, hints={
        "must match the size": "the mean and variance lost their H and W axes, so they do not line up with X: "
                               "compute them with keepdim=True",
    })
    check(isinstance(Y, torch.Tensor), f"return a tensor, not a {type(Y).__name__}")
    check.same(tuple(Y.shape), tuple(X.shape), [], f"the result should have X's shape {tuple(X.shape)}, "
                                                   f"not {tuple(Y.shape)}")

    def normalised(dims, unbiased=False, where="inside"):
        mean, variance = _instance_stats(X, dims, unbiased)
        if where == "outside":
            return (X - mean) / (variance.sqrt() + eps)
        if where == "none":
            return (X - mean) / variance.sqrt()
        if where == "variance":
            return (X - mean) / (variance + eps)
        if where == "no mean":
            return X / torch.sqrt(variance + eps)
        return (X - mean) / torch.sqrt(variance + eps)

    check.same(Y, normalised((2, 3)), [
        (normalised((2, 3), unbiased=True), "it uses the unbiased variance (divided by H*W - 1), which is what "
                                            "X.var() and X.std() compute by default: pass unbiased=False "
                                            "(or correction=0), the variance divided by H*W"),
        (normalised((0, 2, 3)), "it averages over the batch too (axes 0, 2, 3): that is batch normalisation. "
                                "Instance normalisation averages over H and W only (dim=(2, 3))"),
        (normalised((0, 2, 3), unbiased=True), "it averages over the batch too (axes 0, 2, 3): that is batch "
                                               "normalisation. Average over H and W only (dim=(2, 3))"),
        (normalised((1, 2, 3)), "it averages over the channels too (axes 1, 2, 3): that is layer normalisation. "
                                "Each channel gets its own mean and variance: dim=(2, 3)"),
        (normalised((0, 1, 2, 3)), "it uses one mean and variance for the whole tensor: compute them per image "
                                   "and channel, over dim=(2, 3)"),
        (normalised((2, 3), where="outside"), "eps is added to the standard deviation: add it to the variance, "
                                              "inside the square root, sqrt(var + eps)"),
        (normalised((2, 3), where="none"), "eps is missing: divide by sqrt(var + eps)"),
        (normalised((2, 3), where="variance"), "it divides by the variance: divide by its square root, "
                                               "sqrt(var + eps)"),
        (normalised((2, 3), where="no mean"), "it does not subtract the mean"),
    ], "the values differ from (X - mean) / sqrt(var + eps) with the mean and variance of each image's "
       "channel over H and W")
    constant = torch.full((1, 2, 3, 3), 7.0)
    flat = _call(check, instance_norm, constant, 1e-5)
    check(bool(torch.isfinite(flat).all()) and float(flat.abs().max()) < 1e-3,
          "a constant channel should become 0, not NaN: eps keeps the division finite")
    X_grad = X.clone().requires_grad_(True)
    weights = _randn(2, 3, 4, 5, seed=12)
    (_call(check, instance_norm, X_grad, eps) * weights).sum().backward()
    X_ref = X.clone().requires_grad_(True)
    (_reference_instance_norm(X_ref, eps) * weights).sum().backward()
    check(X_grad.grad is not None, "no gradient reaches X: do not detach it")
    check.same(X_grad.grad, X_ref.grad, [], "the gradient is wrong although the values are right: do not "
                                            "detach the mean or the variance, the gradient flows through them")
    check.done()


def _reference_instance_norm(X, eps):
    mean = X.mean(dim=(2, 3), keepdim=True)
    variance = (X - mean).square().mean(dim=(2, 3), keepdim=True)
    return (X - mean) / torch.sqrt(variance + eps)


def check_residual_block(ResidualBlock):
    """Check ``ResidualBlock(channels)``'s ``forward(x)``: x + norm2(conv2(relu(norm1(conv1(x))))),
    with the layers its ``__init__`` defines, and no ReLU after the sum."""
    from .. import painter

    check = _Checks("ResidualBlock")
    channels = 3
    block = _call(check, ResidualBlock, channels)
    check(isinstance(block, nn.Module), "ResidualBlock must be a subclass of nn.Module")
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(13)
        reference = painter.ResidualBlock(channels)
        with torch.no_grad():
            for norm in (reference.norm1, reference.norm2):
                norm.weight.uniform_(0.5, 2.0)
                norm.bias.uniform_(-1.0, 1.0)
    names = ("conv1", "norm1", "conv2", "norm2")
    missing = [name for name in names if not isinstance(getattr(block, name, None), nn.Module)]
    check(not missing, f"it has no layer {', '.join(missing)}: keep the layers __init__ defines "
                       "(conv1, norm1, conv2, norm2) and write forward only")
    try:
        block.load_state_dict(reference.state_dict())
    except RuntimeError as error:
        check.fail(f"its layers do not match the reference's (conv1, norm1, conv2, norm2 for {channels} channels): "
                   f"{str(error).splitlines()[0]}")
    x = _randn(2, channels, 6, 7, seed=14)
    x_before = x.clone()
    y = _call(check, block, x)
    check(isinstance(y, torch.Tensor), f"forward should return a tensor, not a {type(y).__name__}")
    check(torch.equal(x, x_before), "it changed its input x in place (x += ... or a ReLU with inplace=True on x): "
                                    "return x + correction, a new tensor")
    check.same(tuple(y.shape), tuple(x.shape), [], f"the output should have the input's shape {tuple(x.shape)}, "
                                                   f"not {tuple(y.shape)}")
    r = reference
    with torch.no_grad():
        inner = r.norm1(r.conv1(x))
        correction = r.norm2(r.conv2(torch.relu(inner)))
        want = x + correction
        mistakes = [
            (correction, "the skip connection is missing: return x + F(x), not F(x) alone"),
            (torch.relu(want), "a ReLU after the sum: return x + F(x) as it is, so the block can also lower values"),
            (x + torch.relu(correction), "a ReLU at the end of F: F ends with norm2, then x is added"),
            (x + r.norm2(r.conv2(inner)), "the ReLU between the two convolutions is missing: "
                                          "F(x) = norm2(conv2(relu(norm1(conv1(x)))))"),
            (x + r.norm2(r.conv2(r.norm1(torch.relu(r.conv1(x))))), "the ReLU comes before norm1: normalise first, "
                                                                   "then the ReLU"),
            (inner + correction, "it adds norm1(conv1(x)) instead of x itself: the skip carries the block's input"),
            (x + r.conv2(torch.relu(r.norm1(r.conv1(x)))), "norm2 is missing after conv2"),
            (x + r.norm2(r.conv2(torch.relu(r.conv1(x)))), "norm1 is missing after conv1"),
            (2 * x + correction, "x is added twice"),
        ]
    check.same(y, want, mistakes, "the output differs from x + norm2(conv2(relu(norm1(conv1(x))))) with the "
                                  "block's own layers")
    block.zero_grad()
    _call(check, block, x).square().sum().backward()
    grads = [name for name in names if getattr(block, name).weight.grad is None]
    check(not grads, f"no gradient reaches {', '.join(grads)}: use the layers in forward, without torch.no_grad()")
    check.done()


def check_cosine_learning_rate(cosine_learning_rate):
    """Check ``cosine_learning_rate(step, steps, lr)``: the float
    lr / 2 * (1 + cos(pi * step / steps)), from lr at step 0 to 0 at step = steps."""
    import math

    check = _Checks("cosine_learning_rate")
    lr, steps = 0.01, 200
    points = (0, 1, 50, 100, 150, 199, 200)
    rates = [_call(check, cosine_learning_rate, step, steps, lr) for step in points]
    wrong = [rate for rate in rates if isinstance(rate, bool) or not isinstance(rate, (int, float))]
    check(not wrong, f"return a Python float (math.cos works on floats), not a {type(wrong[0]).__name__}"
          if wrong else "")

    def schedule(rate):
        return [rate(step) for step in points]

    want = schedule(lambda t: lr / 2 * (1 + math.cos(math.pi * t / steps)))
    check.same(rates, want, [
        (schedule(lambda t: lr * (1 + math.cos(math.pi * t / steps))), "it starts at 2 * lr: the factor 1/2 is "
                                                                      "missing, lr / 2 * (1 + cos(...))"),
        (schedule(lambda t: lr / 2 * (1 + math.cos(t / steps))), "pi is missing: the angle goes from 0 to pi, "
                                                                 "math.pi * step / steps"),
        (schedule(lambda t: lr / 2 * (1 + math.cos(2 * math.pi * t / steps))),
         "it completes a whole period and comes back up to lr at the end: the angle goes from 0 to pi only"),
        (schedule(lambda t: lr / 2 * (1 - math.cos(math.pi * t / steps))), "it rises from 0 to lr: use "
                                                                           "1 + cos(...), not 1 - cos(...)"),
        (schedule(lambda t: lr * math.cos(math.pi * t / steps)), "it goes negative in the second half: "
                                                                 "use lr / 2 * (1 + cos(...))"),
        (schedule(lambda t: lr / 2 * (1 + math.cos(math.pi * (t // steps)))), "step // steps is 0 until the end: "
                                                                                "use step / steps"),
        (schedule(lambda t: lr / 2 * (1 + math.cos(math.radians(math.pi * t / steps)))),
         "the angle is converted from degrees: math.cos takes radians, math.cos(math.pi * step / steps)"),
    ], f"for lr={lr} and steps={steps} the rates at steps {points} should be {[round(r, 6) for r in want]}")
    other = _call(check, cosine_learning_rate, 30, 120, 1.0)
    check.same(other, 0.5 * (1 + math.cos(math.pi / 4)), [],
               f"cosine_learning_rate(30, 120, 1.0) should be (1 + cos(pi / 4)) / 2 = 0.8536, not {_show(other)}")
    check.done()


def check_conditional_instance_norm(conditional_instance_norm):
    """Check ``conditional_instance_norm(X, scales, shifts, mix)``: X (N, C, H, W) instance-normalised
    (eps 1e-5), then each channel c scaled by sum_s mix[s] * scales[s, c] and shifted by
    sum_s mix[s] * shifts[s, c], for ``scales`` and ``shifts`` of shape (S, C) and ``mix`` of shape (S,)."""
    check = _Checks("conditional_instance_norm")
    X = (_randn(2, 3, 4, 5, seed=21) * torch.tensor([1.0, 3.0, 0.5]).view(1, 3, 1, 1)
         + torch.tensor([[0.0, 2.0, -1.0], [5.0, 0.0, 1.0]]).view(2, 3, 1, 1))
    scales = torch.tensor([[1.0, 2.0, 0.5], [3.0, -1.0, 2.0], [0.5, 0.5, 4.0], [2.0, 1.0, 1.0]])  # S=4, C=3
    shifts = torch.tensor([[0.0, 1.0, -2.0], [4.0, 0.0, 1.0], [-1.0, 3.0, 0.0], [2.0, -3.0, 5.0]])
    mix = torch.tensor([0.1, 0.6, 0.0, 0.3])
    normalised = _reference_instance_norm(X, 1e-5)

    def blended(scale, shift):
        return normalised * scale.view(1, 3, 1, 1) + shift.view(1, 3, 1, 1)

    Y = _call(check, conditional_instance_norm, X, scales, shifts, mix, hints={
        "must match the size": "the blended scale and shift have C numbers each: mix @ scales is (C,); reshape "
                               "them to (1, C, 1, 1) (or [:, None, None]) so that they line up with X's channels",
        "mat1 and mat2": "mix has S numbers and scales is (S, C): mix @ scales, not scales @ mix",
        "size mismatch": "mix has S numbers and scales is (S, C): mix @ scales, not scales @ mix",
    })
    check(isinstance(Y, torch.Tensor), f"return a tensor, not a {type(Y).__name__}")
    check.same(tuple(Y.shape), tuple(X.shape), [], f"the result should have X's shape {tuple(X.shape)}, "
                                                   f"not {tuple(Y.shape)}")
    check.same(Y, blended(mix @ scales, mix @ shifts), [
        (X * (mix @ scales).view(1, 3, 1, 1) + (mix @ shifts).view(1, 3, 1, 1),
         "X is not normalised first: apply instance_norm(X), then the blended scale and shift"),
        (blended(scales[mix.argmax()], shifts[mix.argmax()]),
         "it uses the scale and shift of the painting with the largest weight only: blend them all, mix @ scales"),
        (blended(scales.mean(dim=0), shifts.mean(dim=0)),
         "it averages the paintings equally: weight each by mix, mix @ scales"),
        (blended(mix @ shifts, mix @ scales), "the scale and the shift are swapped: the scale multiplies, the "
                                              "shift is added"),
        (blended(mix @ scales, torch.zeros(3)), "the shift is missing: add mix @ shifts"),
        (blended(torch.ones(3), mix @ shifts), "the scale is missing: multiply by mix @ scales"),
    ], "the values differ from instance_norm(X) * (mix @ scales) + (mix @ shifts), per channel")
    one_hot = torch.eye(4)[2]
    Y2 = _call(check, conditional_instance_norm, X, scales, shifts, one_hot)
    check.same(Y2, blended(scales[2], shifts[2]), [],
               "with mix one-hot on painting 2, the result should be instance_norm(X) * scales[2] + shifts[2]")
    scales_grad = scales.clone().requires_grad_(True)
    weights = _randn(2, 3, 4, 5, seed=22)
    out = _call(check, conditional_instance_norm, X, scales_grad, shifts, mix)
    check(out.requires_grad, "no gradient reaches the scales: do not detach them (training learns them)")
    (out * weights).sum().backward()
    check(scales_grad.grad is not None, "no gradient reaches the scales: do not detach them (training learns them)")
    check(bool(scales_grad.grad[2].abs().sum() == 0),
          "painting 2, whose weight is 0, gets a gradient: only the paintings in the blend should")
    check.done()
