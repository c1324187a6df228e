"""What a run's loss history says went wrong, and what to change.

Some symptoms of a poor picture can be read off the history of the loss terms
without looking at the picture (notebook 11, the troubleshooting guide, shows
each with a run):

- the loss became NaN or infinite: the run diverged (``status == "diverged"``);
- the total loss rose over the run: the steps overshoot (too high a learning rate);
- it jumped far above its start early on and then hardly moved: one step overshot and the optimiser never
  recovered (L-BFGS without a line search can do this: notebook 09, section 7);
- the total loss hardly moved: the learning rate is too small, or the steps too few;
- it was still falling fast at the end: more steps would still change the picture;
- the style term hardly fell: little of the painting's style got in (from the
  photo, a small style weight leaves x close to p: the style term is then most
  of a small loss, which does not mean the style dominates);
- one weighted term is almost all of the loss at the end: that term dominates
  (style, after falling a lot: the photo may be lost; content: little style;
  TV: a blurred picture).

:func:`advice` returns one line per symptom found; :func:`d2lstyle.stylise`
prints them at the end of a run with a progress bar, and the command-line tool
always does.

>>> history = {"total": [100.0, 99.5, 99.2], "content": [0.0, 20.0, 40.0], "style": [100.0, 79.5, 59.2],
...            "tv": [0.0, 0.0, 0.0]}
>>> for line in advice(history):
...     print(line)
the total loss fell by only 0.8% in 3 steps: raise the learning rate or run more steps
"""

import math

from .i18n import translate

# Thresholds for the symptoms (fractions).
STALLED_BELOW = 0.05  # total loss fell by less than this over the run
STILL_FALLING_ABOVE = 0.05  # ... or by more than this over the last tenth of the run
DOMINANT_ABOVE = 0.98  # one term's share of the total at the end
LITTLE_STYLE_ABOVE = 0.8  # the style term at the end, as a fraction of its first value
STYLE_FELL_BELOW = 0.5  # ... at most this for a dominant style term to mean the photo may be lost
TV_HEAVY_ABOVE = 0.5  # the TV term's share at the end
OVERSHOOT_ABOVE = 1e3  # a total loss this many times its first value: a step overshot


SYMPTOMS = ("diverged", "rose", "overshot", "stalled", "still falling", "settled")


def symptom(total):
    """The first symptom read from a run's total-loss history ``total`` (one number per step, at least 3), one
    of :data:`SYMPTOMS`, checked in this order (the first that holds wins), with the thresholds above:

    - "diverged": a value is NaN or infinite;
    - "rose": the last value is above the first;
    - "overshot": it fell by less than STALLED_BELOW over the run, and peaked above OVERSHOOT_ABOVE times its first;
    - "stalled": it fell by less than STALLED_BELOW over the run;
    - "still falling": it fell by more than STILL_FALLING_ABOVE over the last tenth of the steps (at least one);
    - "settled": none of these.

    With fell = 1 - last / first and recent = 1 - last / total[-1 - tenth], tenth = max(1, len(total) // 10).
    :func:`advice` reads the same symptoms (and more) from the loss terms and says what to change.

    >>> symptom([10.0, 9.9, 9.8])          # fell by 2 %
    'stalled'
    >>> symptom([10.0, 2e5, 9.7])          # a jump to 20,000 times its start, then a stall
    'overshot'
    >>> symptom([10.0, 6.0, 4.0, 3.0])     # the last tenth (one step) still fell by 25 %
    'still falling'
    >>> symptom([10.0, 4.0, 3.0, 2.99])
    'settled'
    """
    if not all(math.isfinite(value) for value in total):
        return "diverged"
    first, last = total[0], total[-1]
    if last > first:
        return "rose"
    fell = 1 - last / first
    if fell < STALLED_BELOW:
        return "overshot" if max(total) > OVERSHOOT_ABOVE * first else "stalled"
    tenth = max(1, len(total) // 10)
    if 1 - last / total[-1 - tenth] > STILL_FALLING_ABOVE:
        return "still falling"
    return "settled"


def advice(history, status="finished", message=""):
    """Lines of advice read from a run's ``history`` (as in a TransferResult); empty when nothing stands out.
    In Chinese where :func:`d2lstyle.i18n.language` says so."""
    return [translate(line) for line in _advice_in_english(history, status, message)]


def _advice_in_english(history, status, message):
    lines = []
    if status == "diverged":
        return [message or "the loss became NaN or infinite: lower the learning rate or the loss weights"]
    total = history.get("total", [])
    if len(total) < 3 or total[0] <= 0:
        return lines
    steps = len(total)
    if total[-1] > total[0]:
        return [f"the total loss rose from {total[0]:.3g} to {total[-1]:.3g} in {steps} steps: the steps overshoot; "
                "lower the learning rate (or use L-BFGS)"]
    fell = 1 - total[-1] / total[0]
    peak = max(total)
    if fell < STALLED_BELOW and peak > OVERSHOOT_ABOVE * total[0]:
        # the root cause: the stall and the little style that follow need no advice of their own
        return [f"the loss jumped to {peak:.3g} ({peak / total[0]:.0e} times its start) at step "
                f"{total.index(peak) + 1} and then fell by only {fell:.1%} in {steps} steps: a step overshot and "
                "the optimiser did not recover; with L-BFGS use a line search (line_search=\"strong_wolfe\"), "
                "with Adam lower the learning rate"]
    if fell < STALLED_BELOW:
        lines.append(f"the total loss fell by only {fell:.1%} in {steps} steps: raise the learning rate or run more "
                     "steps")
    tenth = max(1, steps // 10)
    recent = 1 - total[-1] / total[-1 - tenth] if total[-1 - tenth] > 0 else 0.0
    if steps >= 20 and recent > STILL_FALLING_ABOVE:
        lines.append(f"the loss was still falling at the end ({recent:.0%} in the last {tenth} steps): more steps "
                     "would still change the picture")
    style = history.get("style") or [0.0]
    style_kept = style[-1] / style[0] if style[0] > 0 else 0.0
    if style_kept > 1 and any(history.get("content", [])):  # the start had more style (init="recoloured")
        lines.append(f"the style term rose by {style_kept - 1:.0%}: the picture moved away from the painting's style; "
                     "raise the style weight beta")
    elif style_kept > LITTLE_STYLE_ABOVE and any(history.get("content", [])):
        lines.append(f"the style term fell by only {1 - style_kept:.0%}: little of the painting's style gets in; "
                     "raise the style weight beta")
    shares = {name: history[name][-1] / total[-1] for name in ("content", "style", "tv") if history.get(name)}
    if (shares.get("style", 0) > DOMINANT_ABOVE and style_kept <= STYLE_FELL_BELOW
            and history["content"][-1] > 0):
        lines.append(f"the style term is {shares['style']:.0%} of the loss at the end: the photo may be lost; lower "
                     "the style weight beta (or raise the content weight alpha)")
    if shares.get("content", 0) > DOMINANT_ABOVE and history["style"][-1] > 0:
        lines.append(f"the content term is {shares['content']:.0%} of the loss at the end: little of the painting's "
                     "style gets in; raise the style weight beta")
    if shares.get("tv", 0) > TV_HEAVY_ABOVE:
        lines.append(f"the total-variation term is {shares['tv']:.0%} of the loss at the end: expect a blurred, "
                     "flat picture; lower the TV weight gamma")
    return lines
