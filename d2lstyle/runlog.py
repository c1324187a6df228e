"""The books kept around an optimisation loop: the history, the progress bar, the callbacks, and why it stopped.

Both loops of the package keep the same books: :func:`d2lstyle.transfer.stylise`, which optimises the pixels
of one image, and :func:`d2lstyle.painter.train_painter`, which optimises the weights of a network. After each
step the loop hands the step's losses to :meth:`RunLog.record_step`, which

1. counts the step and appends a row to ``history`` (one list per column: "step", "seconds", the loop's own
   columns such as "lr", then each loss term of :data:`d2lstyle.objective.LOSS_TERMS`);
2. moves the progress bar on and shows the total loss.

Then :meth:`RunLog.ask_callbacks` shows the step to every callback (live plots, checkpoints); one that returns
True stops the run. A run ends with one of four ``status`` words:

- ``"finished"``: every step planned was taken;
- ``"stopped"``: a callback asked (:meth:`RunLog.ask_callbacks` raises :class:`StopRun`);
- ``"interrupted"``: Ctrl-C (the loop catches ``KeyboardInterrupt``);
- ``"diverged"``: the loss became NaN or infinite; the loop raises :class:`StopRun` with what to change,
  before the step is recorded, so the history holds finite numbers only.

A resumed run passes the history it had: the steps and the seconds go on from where they stopped.

>>> log = RunLog(steps=3, history=new_history(("lr",)), progress=False)
>>> for lr in (0.1, 0.05):
...     seconds = log.record_step({"content": 1.0, "style": 2.0, "tv": 0.0, "total": 3.0}, lr=lr)
>>> log.done, log.history["step"], log.history["lr"]
(2, [1, 2], [0.1, 0.05])
>>> log.stopped_by("interrupted by Ctrl-C")
'interrupted by Ctrl-C after 2 of 3 steps'
"""

import time

import torch

from .objective import LOSS_TERMS


def new_history(columns):
    """An empty history: one list per column: "step", "seconds", the loop's ``columns``, each loss term.

    >>> list(new_history(("scale", "lr")))
    ['step', 'seconds', 'scale', 'lr', 'content', 'style', 'tv', 'total']
    """
    return {key: [] for key in ("step", "seconds") + tuple(columns) + LOSS_TERMS}


class StopRun(Exception):
    """Raised inside a loop to end it: a callback asked (status "stopped"), or the loss diverged ("diverged")."""

    def __init__(self, status, message=""):
        super().__init__(message)
        self.status, self.message = status, message


class RunLog:
    """The books of one run of ``steps`` steps: ``history``, the step count ``done``, the callbacks, the
    progress bar (``progress=False``: none) titled ``title``.

    ``history`` is :func:`new_history`'s dict, or the history of a checkpoint to resume from.
    """

    def __init__(self, steps, history, callbacks=(), progress=True, title="running"):
        self.steps = steps
        self.history = history
        self.callbacks = list(callbacks)
        self.title = title
        self.done = history["step"][-1] if history["step"] else 0
        # a resumed run's clock goes on from the seconds its history ends with
        self.started = time.perf_counter() - (history["seconds"][-1] if history["seconds"] else 0.0)
        self.bar = progress_bar(steps, self.done, title) if progress else None

    def record_step(self, losses, **columns):
        """Note one step: ``losses`` (term -> float) and the loop's other columns (``lr=...``).
        Returns the seconds since the run started (a resumed run counts its earlier time too)."""
        self.done += 1
        seconds = time.perf_counter() - self.started
        for key, value in (("step", self.done), ("seconds", seconds), *columns.items()):
            self.history[key].append(value)
        for name in LOSS_TERMS:
            self.history[name].append(losses[name])
        if self.bar is not None:
            self.bar.update(1)
            self.bar.set_postfix(loss=f"{losses['total']:.4g}", refresh=False)
        return seconds

    def ask_callbacks(self, info):
        """Call every callback with ``info``; raise :class:`StopRun` ("stopped") if one returned True."""
        if any([callback(info) for callback in self.callbacks]):  # a list: every callback sees every step
            raise StopRun("stopped", self.stopped_by("stopped"))

    def stopped_by(self, cause):
        """The message of a run that ends early: ``"<cause> after <done> of <steps> steps"``."""
        return f"{cause} after {self.done} of {self.steps} steps"

    def describe(self, text):
        """Show ``text`` (what is being optimised now) after the title in front of the progress bar."""
        if self.bar is not None:
            self.bar.set_description(f"{self.title}, {text}")

    def close(self):
        """Close the progress bar (call it however the run ends)."""
        if self.bar is not None:
            self.bar.close()


def progress_bar(total, initial, title):
    """A tqdm bar of ``total`` steps, ``initial`` of them done (a resumed run starts part way)."""
    from tqdm.auto import tqdm

    return tqdm(total=total, initial=initial, desc=title, unit="step")


def device_of(module):
    """The device a module's parameters are on (the CPU for a module without parameters).

    >>> device_of(torch.nn.Linear(2, 2))
    device(type='cpu')
    """
    parameter = next(module.parameters(), None)
    return parameter.device if parameter is not None else torch.device("cpu")
