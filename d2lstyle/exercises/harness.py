"""The harness every checker runs in: one :class:`_Checks` per exercise, which counts the checks and
raises an AssertionError naming the likely mistake at the first failed one, and the helpers the checkers
share: comparing values (:func:`_same`), describing them (:func:`_show`), calling the learner's function
(:func:`_call`), seeded random tensors (:func:`_randn`) and what a loss must be (a one-number tensor whose
gradient reaches the right tensors).

>>> check = _Checks("example")
>>> check.same(torch.tensor([1.0, 2.0]), [1.0, 2.0])
>>> check.done()
example: all 1 checks passed.
"""

import numpy as np
import torch
from PIL import Image
from torch import nn

from ..i18n import translate


class _Checks:
    """Counts the checks of one exercise and raises AssertionError at the first failure."""

    def __init__(self, name):
        self.name = name
        self.count = 0

    def __call__(self, passed, message):
        """One check: fail with ``message`` unless ``passed``."""
        self.count += 1
        if not passed:
            self.fail(message)

    def same(self, got, want, mistakes=(), otherwise="", atol=1e-6):
        """One check that ``got`` equals ``want``; on failure, the message of the
        first known mistake whose value ``got`` equals, else ``otherwise``."""
        self.count += 1
        if _same(got, want, atol):
            return
        for wrong, message in mistakes:
            if _same(got, wrong, atol):
                self.fail(message)
        self.fail(otherwise or f"expected {_show(want)}, got {_show(got)}")

    def fail(self, message):
        raise AssertionError(f"{self.name}: {translate(message)}")

    def done(self):
        print(translate(f"{self.name}: all {self.count} checks passed."))


def _same(got, want, atol=1e-6):
    """True when ``got`` equals ``want``: exactly for shapes (tuples) and strings,
    to float precision for numbers, arrays and tensors of the same shape."""
    if isinstance(want, (tuple, str)):
        return isinstance(got, (tuple, list, str)) and tuple(got) == tuple(want)
    try:
        got = np.asarray(_plain(got), dtype=np.float64)
    except (TypeError, ValueError, RuntimeError):
        return False
    want = np.asarray(_plain(want), dtype=np.float64)
    return got.shape == want.shape and bool(np.allclose(got, want, rtol=1e-4, atol=atol))


def _plain(value):
    """A tensor without its autograd history (numbers and arrays as they are)."""
    return value.detach().cpu() if isinstance(value, torch.Tensor) else value


def _show(value):
    """A short text for a value in a message."""
    if isinstance(value, torch.Tensor) and value.numel() == 1:
        return f"{float(value.detach()):.4g}"
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, torch.Tensor) and value.numel() <= 9:
        return str(np.round(value.detach().cpu().double().numpy(), 4).tolist())
    if isinstance(value, torch.Tensor):
        return f"a tensor of shape {tuple(value.shape)}"
    if isinstance(value, Image.Image):
        return f"a {value.width}x{value.height} PIL image"
    if isinstance(value, nn.Module):
        return f"a {type(value).__name__} network"
    text = " ".join(repr(value).split())
    return text if len(text) < 60 else text[:57] + "..."


def _call(check, function, *args, hints=None):
    """Call the learner's function. An exception it raises becomes an
    AssertionError that says which call failed (or what ``hints`` says about an
    error whose text contains one of its keys); a function not written yet
    (a bare ``raise NotImplementedError``, the TODO's) raises NotImplementedError with a friendly message,
    which names the learner's other function where that one is the unfinished one."""
    try:
        return function(*args)
    except NotImplementedError as error:
        if error.args:  # a library's message (an operation torch lacks), not a learner's bare TODO
            called = ", ".join(translate(_show(arg)) for arg in args)
            raise AssertionError(translate(
                f"{check.name}: called with ({called}) it raised NotImplementedError: {error}")) from error
        unfinished = _raised_in(error, getattr(function, "__globals__", None))
        own = getattr(function, "__name__", check.name)
        if unfinished not in (own, None):  # e.g. style_loss calls the learner's gram_matrix, not written yet
            raise NotImplementedError(translate(
                f"{check.name}: {own} calls {unfinished}, which is not written yet. Finish {unfinished} first "
                f"(its exercise comes earlier), run its cell, then run this check again."
            )) from None
        raise NotImplementedError(translate(
            f"{check.name}: not written yet. Replace `raise NotImplementedError` with your code, "
            "run that cell, then run this check again."
        )) from None
    except AssertionError:
        raise
    except Exception as error:
        for fragment, message in (hints or {}).items():
            if fragment in str(error):
                raise AssertionError(f"{check.name}: {translate(message)}") from error
        called = ", ".join(translate(_show(arg)) for arg in args)
        raise AssertionError(translate(
            f"{check.name}: called with ({called}) it raised {type(error).__name__}: {error}"
        )) from error


def _raised_in(error, namespace):
    """The name of the function in which ``error`` was raised (the last frame of its traceback) if that function
    was written in ``namespace`` (the learner's notebook: the checked function's globals), else None."""
    frame = error.__traceback__
    if frame is None or namespace is None:
        return None
    while frame.tb_next is not None:
        frame = frame.tb_next
    return frame.tb_frame.f_code.co_name if frame.tb_frame.f_globals is namespace else None


def _randn(*shape, seed=0):
    """Standard normal values from a seeded generator (the global seed is not touched)."""
    return torch.randn(shape, generator=torch.Generator().manual_seed(seed))


def _expect_loss_tensor(check, loss):
    """A loss must be a one-number tensor that autograd can differentiate."""
    check(isinstance(loss, torch.Tensor),
          f"return the loss as a tensor, not a {type(loss).__name__}: .item() and float() cut it off "
          "from autograd, and the optimiser needs loss.backward()")
    check(loss.numel() == 1, f"return one number (a scalar tensor), not shape {tuple(loss.shape)}: reduce with .mean()")


def _expect_gradients(check, loss, into, not_into=()):
    """Back-propagate ``loss``: the gradient must reach each tensor of ``into``
    (name -> tensor) and none of ``not_into`` ((tensor, message) pairs)."""
    check(loss.requires_grad,
          f"no gradient reaches {', '.join(into)}: do not detach it or use torch.no_grad() here")
    loss.backward()
    for name, tensor in into.items():
        check(tensor.grad is not None and bool(tensor.grad.abs().sum() > 0),
              f"no gradient reaches {name}: do not detach it or use torch.no_grad() here")
    for tensor, message in not_into:
        check(tensor.grad is None or not bool(tensor.grad.abs().sum() > 0), message)
