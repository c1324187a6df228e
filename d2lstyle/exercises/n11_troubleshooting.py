"""Check for the exercise of notebook 11 (reading a loss history: name the symptom from the numbers).
"""

from .. import diagnosis
from .harness import _Checks, _call

_ORDER = "Check in the order diverged, rose, overshot, stalled, still falling; the first that holds wins"
_NOT_THE_PEAK = "the loss ends below its start: 'rose' compares the last value with the first, not the peak"
_LAST_TENTH = ("it fell over the run but not over its last tenth: 'still falling' looks at the last tenth of the "
               "steps only (at least one step)")


def _geometric(first, factor, steps):
    return [first * factor ** step for step in range(steps)]


def check_symptom(symptom):
    """Check ``symptom(total)``: the first symptom of a total-loss history, one of "diverged", "rose",
    "overshot", "stalled", "still falling", "settled", with the thresholds of :mod:`d2lstyle.diagnosis`
    (:func:`d2lstyle.diagnosis.symptom` is the reference)."""
    check = _Checks("symptom")
    nan = float("nan")
    falling_to_the_end = _geometric(100.0, 0.9, 30)  # -27 % over the last 3 steps
    settled = _geometric(100.0, 0.8, 20) + [100.0 * 0.8 ** 19] * 10  # flat over the last tenth
    late_fall = settled[:27] + [settled[26] * 0.85] * 3  # -15 % over the last tenth, 0 % in the last step
    cases = [
        ([100.0, 60.0, nan, nan], "diverged", {
            "settled": "a history with NaN is not settled: NaN compares False with every number, so test "
                       "math.isfinite on every value first",
            "still falling": "a history with NaN is diverged: test math.isfinite on every value first"}),
        ([100.0, 60.0, float("inf")], "diverged", {
            "rose": "an infinite loss is diverged, not rose: test math.isfinite on every value first"}),
        ([100.0, 130.0, 160.0], "rose", {}),
        ([100.0, 3e6, 98.0], "overshot", {
            "stalled": "it jumped to 30,000 times its start, then stalled: the jump is the cause. " + _ORDER,
            "rose": _NOT_THE_PEAK}),
        ([100.0, 5e4, 98.0], "stalled", {
            "overshot": "the peak is 500 times the start, under OVERSHOOT_ABOVE (1000): compare the peak with the "
                        "first value times 1000"}),
        ([100.0, 99.0, 98.0, 97.5], "stalled", {}),
        ([100.0, 400.0, 50.0, 40.0, 39.9], "settled", {
            "rose": _NOT_THE_PEAK, "still falling": _LAST_TENTH}),
        (falling_to_the_end, "still falling", {
            "settled": "over the last tenth of the steps (3 of 30) it fell by 27 %: compare the last value with "
                       "total[-1 - tenth], tenth = max(1, len(total) // 10)"}),
        (late_fall, "still falling", {
            "settled": "it fell by 15 % over the last tenth (3 of 30 steps), though not in the very last step: "
                       "compare the last value with total[-1 - tenth], not with total[-2]"}),
        (settled, "settled", {
            "still falling": _LAST_TENTH}),
    ]
    for total, want, mistakes in cases:
        got = _call(check, symptom, list(total))
        if got not in diagnosis.SYMPTOMS:
            check.fail(f"return one of {', '.join(map(repr, diagnosis.SYMPTOMS))}, not {got!r}")
        shown = [round(value, 3) for value in total[:6]] + (["..."] if len(total) > 6 else [])
        check.same(got, want, list(mistakes.items()), f"for {shown} ({len(total)} steps) the symptom is {want!r}, "
                   f"not {got!r}. " + _ORDER)
    check.done()
