"""Checks for the exercises of notebook 06 (training): the synthesised image, the learning-rate
schedule, one Adam step and the closure L-BFGS calls.
"""

import torch
from torch import nn

from .. import training
from ..i18n import translate
from .harness import _Checks, _call, _expect_loss_tensor, _randn, _show


def check_synthesized_image(SynthesizedImage):
    """Check ``class SynthesizedImage(nn.Module)``: ``__init__(initial)`` stores
    a copy of the tensor as the module's only parameter, ``weight``;
    ``forward()`` returns it."""
    check = _Checks("SynthesizedImage")
    initial = _randn(1, 3, 4, 5, seed=7)
    saved = initial.clone()
    image = _call(check, SynthesizedImage, initial, hints={
        "before Module.__init__() call": "call super().__init__() first in __init__, before assigning self.weight",
    })
    check(isinstance(image, nn.Module), "SynthesizedImage must be a subclass of nn.Module: "
                                        "class SynthesizedImage(nn.Module)")
    weight = getattr(image, "weight", None)
    check(isinstance(weight, torch.Tensor), "store the image in self.weight")
    check(isinstance(weight, nn.Parameter), "self.weight is a plain tensor, not an nn.Parameter: wrap it, "
                                            "nn.Parameter(...), so that .parameters() and the optimiser see it")
    count = len(list(image.parameters()))
    check(count == 1, f"it has {count} parameters: the image must be the only one")
    check.same(weight, initial, [], "self.weight should start equal to `initial` (same shape and values)")
    with torch.no_grad():
        weight.add_(1.0)
    check(torch.equal(initial, saved), "self.weight shares its memory with `initial`, so optimising it would "
                                       "overwrite the content image: store a copy, nn.Parameter(initial.clone())")
    output = _call(check, image)
    check(isinstance(output, torch.Tensor) and output.requires_grad,
          "forward() should return self.weight itself, not a copy or a detached tensor")
    output.sum().backward()
    check(weight.grad is not None, "no gradient reaches self.weight through forward(): return self.weight itself")
    check.done()


def check_decayed_learning_rate(decayed_learning_rate):
    """Check ``decayed_learning_rate(step, lr, every, factor)``: the float
    lr * factor ** (step // every), with steps counted from 0."""
    check = _Checks("decayed_learning_rate")
    lr, every, factor = 0.3, 50, 0.8
    steps = (0, 1, 30, 49, 50, 51, 99, 100, 260)  # 30: rounding step / every would already decay here
    rates = [_call(check, decayed_learning_rate, step, lr, every, factor) for step in steps]
    wrong = [rate for rate in rates if isinstance(rate, bool) or not isinstance(rate, (int, float))]
    check(not wrong, f"return a Python float, not a {type(wrong[0]).__name__}" if wrong else "")

    def schedule(exponent):
        return [lr * factor ** exponent(step) for step in steps]

    check.same(rates, schedule(lambda step: step // every), [
        (schedule(lambda step: (step + 1) // every), "it decays one step too early: steps count from 0, "
                                                     "so steps 0 to 49 use lr itself. Use step // every"),
        (schedule(lambda step: (step - 1) // every), "it decays one step too late: steps count from 0. "
                                                     "Use step // every"),
        (schedule(lambda step: step // every + 1), "step 0 should use lr itself: the first decay comes "
                                                   "after `every` steps. Use factor ** (step // every)"),
        (schedule(lambda step: step / every), "it decays smoothly: use integer division, step // every, "
                                              "so that the rate drops in stairs"),
        (schedule(lambda step: round(step / every)), "it rounds step / every to the nearest integer, so the "
                                                     "rate drops halfway through each period (at step 30 of 50): "
                                                     "use floor division, step // every"),
        (schedule(lambda step: -(-step // every)), "it rounds step / every up (math.ceil), so the rate drops "
                                                   "right after step 0: use floor division, step // every"),
        (schedule(lambda step: step), "it decays at every step: raise factor to the number of decays, step // every"),
        (schedule(lambda step: step % every), "it uses step % every (the remainder): use step // every"),
        ([lr * factor * (step // every) for step in steps], "it multiplies by factor * (step // every): raise "
                                                            "factor to that power, factor ** (step // every)"),
    ], f"for lr={lr}, every={every}, factor={factor} the rates at steps {steps} should be "
       f"{[round(rate, 5) for rate in schedule(lambda step: step // every)]}")
    other = _call(check, decayed_learning_rate, 25, 1.0, 10, 0.5)
    check.same(other, 0.25, [], f"decayed_learning_rate(25, 1.0, 10, 0.5) should be 1.0 * 0.5 ** 2 = 0.25, "
                                f"not {_show(other)}")
    check.done()


class _Probe:
    """A tiny optimisation problem that records what a training step does: an
    image (a SynthesizedImage of 12 numbers), the loss sum((x - target)^2),
    and an optimiser whose step() and calls to the loss are counted. It starts
    with a stale gradient left in the image, as after an earlier step."""

    STALE = 5.0

    def __init__(self, name, optimizer_class, run_step=True, **options):
        self.name = name
        self.target = _randn(1, 3, 2, 2, seed=8)
        self.start = _randn(1, 3, 2, 2, seed=9)
        self.synthesized = training.SynthesizedImage(self.start)
        self.synthesized.weight.grad = torch.full_like(self.start, self.STALE)
        self.optimizer = optimizer_class(self.synthesized.parameters(), **options)
        self.losses, self.steps, self.grad_at_step = 0, 0, None
        real_step = self.optimizer.step

        def counted_step(*args, **kwargs):
            self.steps += 1
            grad = self.synthesized.weight.grad
            self.grad_at_step = None if grad is None else grad.clone()
            return real_step(*args, **kwargs) if run_step else None

        self.optimizer.step = counted_step

    def loss_fn(self, image):
        if isinstance(image, nn.Module):
            raise AssertionError(translate(f"{self.name}: pass the image, synthesized(), to loss_fn, not the module "
                                             "itself"))
        self.losses += 1
        return ((image - self.target) ** 2).sum()

    def start_loss(self):
        return float(((self.start - self.target) ** 2).sum())

    def fresh_gradient(self):
        return 2 * (self.start - self.target)

    def gradient_mistakes(self, where):
        """The two typical ways a gradient goes wrong, as (value, message) pairs."""
        return [
            (self.fresh_gradient() + self.STALE, f"the gradients accumulate: what was left from the previous step "
                                                 f"was added to the new gradient. Call optimizer.zero_grad() {where}"),
            (torch.zeros_like(self.start), "the gradient was zero: call optimizer.zero_grad() before loss.backward(), "
                                           "not after it"),
        ]


def check_training_step(training_step):
    """Check ``training_step(synthesized, optimizer, loss_fn)``: zero the
    gradients, compute loss_fn(synthesized()), back-propagate, call
    optimizer.step() once, and return the loss as a Python float."""
    check = _Checks("training_step")
    probe = _Probe(check.name, torch.optim.SGD, lr=0.1)
    value = _call(check, training_step, probe.synthesized, probe.optimizer, probe.loss_fn)
    check(probe.losses >= 1, "call loss_fn(synthesized()) to compute the loss")
    check(probe.steps >= 1, "it never calls optimizer.step(), so the image never changes")
    check(probe.steps == 1, f"it calls optimizer.step() {probe.steps} times: once per training step")
    check(probe.grad_at_step is not None, "there was no gradient when optimizer.step() ran: call loss.backward() "
                                          "before optimizer.step(), and zero_grad() before backward(), not after")
    check.same(probe.grad_at_step, probe.fresh_gradient(), probe.gradient_mistakes("before loss.backward()"),
               "the gradient at optimizer.step() is not the gradient of loss_fn(synthesized())")
    check(not isinstance(value, torch.Tensor), "return loss.item(), a Python float, not the tensor: a list of "
                                               "loss tensors keeps every step's graph in memory")
    check(isinstance(value, float), f"return the loss as a Python float (loss.item()), not a {type(value).__name__}")
    check.same(value, probe.start_loss(), [], f"it returned {_show(value)}, but the loss before the step was "
                                              f"{_show(probe.start_loss())}: return the loss you computed")
    again = _call(check, training_step, probe.synthesized, probe.optimizer, probe.loss_fn)
    check(again < value, "a second training step did not lower the loss")
    check.done()


def check_make_closure(make_closure):
    """Check ``make_closure(synthesized, optimizer, loss_fn)``: it returns a
    function (the closure) that zeroes the gradients, computes
    loss_fn(synthesized()), calls backward and returns the loss tensor,
    without calling optimizer.step() (L-BFGS calls the closure from step())."""
    check = _Checks("make_closure")
    probe = _Probe(check.name, torch.optim.LBFGS, run_step=False, lr=1)
    closure = _call(check, make_closure, probe.synthesized, probe.optimizer, probe.loss_fn)
    check(not isinstance(closure, torch.Tensor), "it returned a tensor: return the function itself, "
                                                 "`return closure` without parentheses")
    check(callable(closure), f"return the closure (a function), not a {type(closure).__name__}")
    check(probe.losses == 0 and probe.steps == 0, "make_closure should only define the closure and return it; "
                                                  "the optimiser calls it (it already computed the loss or stepped)")
    loss = _call(check, closure)
    check(probe.steps == 0, "the closure calls optimizer.step(): L-BFGS calls the closure from inside step(), "
                            "so the closure must only compute the loss and its gradient")
    check(probe.losses == 1, f"the closure called loss_fn {probe.losses} times: call loss_fn(synthesized()) once")
    _expect_loss_tensor(check, loss)
    check.same(loss, probe.start_loss(), [], f"the closure returned {_show(loss)}, but the loss is "
                                             f"{_show(probe.start_loss())}: return loss_fn(synthesized())")
    gradient = probe.synthesized.weight.grad
    check(gradient is not None, "there is no gradient after calling the closure: call loss.backward() inside it")
    check.same(gradient, probe.fresh_gradient(), probe.gradient_mistakes("at the start of the closure"),
               "the gradient after the closure is not the gradient of loss_fn(synthesized())")
    run = _Probe(check.name, torch.optim.LBFGS, lr=1, max_iter=10)
    run.optimizer.step(_call(check, make_closure, run.synthesized, run.optimizer, run.loss_fn))
    final = float(run.loss_fn(run.synthesized.weight.detach()))
    check(final < run.start_loss() / 10, "L-BFGS with this closure did not reduce the loss")
    check.done()
