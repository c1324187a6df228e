"""The one rule for a number a user sets, wherever it is set: a recipe, the controls, a painter's settings or an
option of the command-line tools.

A number must be finite (an infinite or NaN weight only shows up as a NaN loss once the run has started), a real
int or float (``True`` is no weight), whole where it counts something, and within its bound. :func:`expected`
applies the rule and says in words what the number should be; each caller puts that into its own sentence
("recipe setting lr must be ..., not ...", "expected ..., got ...").

>>> expected(0.5, above=0) is None
True
>>> expected(0, above=0)
'a finite number > 0'
>>> expected(1.5, at_least=1, whole=True)
'a whole number >= 1'
>>> expected(float("nan"), at_least=0)
'a finite number >= 0'
"""

import math


def is_number(value):
    """True for a finite int or float; False for a bool, NaN, infinity or anything else.

    >>> [is_number(v) for v in (3, 0.5, True, float("inf"), "1")]
    [True, True, False, False, False]
    """
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def expected(value, *, at_least=None, above=None, whole=False):
    """None when ``value`` keeps the rule, else what it should be, in words: ``"a whole number >= 1"``.

    ``at_least`` is an inclusive lower bound, ``above`` an exclusive one; ``whole`` asks for an int. Each phrase
    is written whole, so that :mod:`d2lstyle.i18n` can translate it.
    """
    ok = isinstance(value, int) and not isinstance(value, bool) if whole else is_number(value)
    if at_least is not None:
        ok = ok and value >= at_least
    if above is not None:
        ok = ok and value > above
    if ok:
        return None
    if at_least is not None and above is not None:
        return (f"a whole number >= {at_least:g} > {above:g}" if whole
                else f"a finite number >= {at_least:g} > {above:g}")
    if at_least is not None:
        return f"a whole number >= {at_least:g}" if whole else f"a finite number >= {at_least:g}"
    if above is not None:
        return f"a whole number > {above:g}" if whole else f"a finite number > {above:g}"
    return "a whole number" if whole else "a finite number"
