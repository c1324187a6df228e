"""d2lstyle.numbers: the one rule for a number a user sets, checked on the values that break each part of it;
and every place that sets numbers (recipes, controls, painter settings, both command-line tools) follows it."""

import argparse
import math

import pytest

import d2lstyle
from d2lstyle import command_line, numbers, painter
from d2lstyle.controls import Controls
from d2lstyle.errors import PainterError, RecipeError


@pytest.mark.parametrize("value, bounds, should_be", [
    (0.0, {"at_least": 0}, None),
    (-1e-12, {"at_least": 0}, "a finite number >= 0"),
    (0, {"above": 0}, "a finite number > 0"),
    (1e-300, {"above": 0}, None),
    (math.inf, {}, "a finite number"),
    (math.nan, {"at_least": 0}, "a finite number >= 0"),
    (True, {}, "a finite number"),
    ("3", {}, "a finite number"),
    (None, {"at_least": 0}, "a finite number >= 0"),
    (3, {"at_least": 1, "whole": True}, None),
    (3.0, {"at_least": 1, "whole": True}, "a whole number >= 1"),
    (0, {"at_least": 1, "whole": True}, "a whole number >= 1"),
    (False, {"at_least": 0, "whole": True}, "a whole number >= 0"),
    (2, {"at_least": 0.5, "above": 1.5}, None),
    (1.5, {"at_least": 0.5, "above": 1.5}, "a finite number >= 0.5 > 1.5"),
])
def test_the_rule(value, bounds, should_be):
    assert numbers.expected(value, **bounds) == should_be


@pytest.mark.parametrize("check", [
    lambda value: d2lstyle.get_recipe("d2l").replace(lr=value),
    lambda value: Controls(style_scale=value),
    lambda value: painter.validate_settings(painter.PainterSettings(lr=value)),
])
@pytest.mark.parametrize("value", [0, -1.0, math.nan, math.inf, True])
def test_every_setting_of_a_positive_number_refuses_the_same_values(check, value):
    with pytest.raises((RecipeError, PainterError), match=r"must be a finite number > 0, not "):
        check(value)


@pytest.mark.parametrize("text, message", [
    ("0", "expected a finite number > 0, got '0'"),
    ("-2", "expected a finite number > 0, got '-2'"),
    ("inf", "expected a finite number, got 'inf'"),
    ("nan", "expected a finite number, got 'nan'"),
    ("fast", "expected a number such as 1e4, got 'fast'"),
])
def test_a_positive_option_refuses_the_same_values_with_the_reason(text, message):
    with pytest.raises(argparse.ArgumentTypeError, match=message):
        command_line.positive_float(text)


def test_whole_number_options():
    assert command_line.positive_int("7") == 7
    for text, message in (("0", "expected a whole number >= 1, got 0"), ("1.5", "expected a whole number, got")):
        with pytest.raises(argparse.ArgumentTypeError, match=message):
            command_line.positive_int(text)
    with pytest.raises(argparse.ArgumentTypeError, match="expected a seed from 0"):
        command_line.seed_number("-1")


def test_both_tools_end_a_problem_the_same_way(capsys):
    def fails(args):
        raise RecipeError("no such preset 'x'")

    def interrupted(args):
        raise KeyboardInterrupt

    assert command_line.run_tool("tool", fails, None, interrupted="stopped") == command_line.EXIT_ERROR
    assert capsys.readouterr().err == "tool: error: no such preset 'x'\n"
    assert command_line.run_tool("tool", interrupted, None, interrupted="stopped") == command_line.EXIT_INTERRUPTED
    assert capsys.readouterr().err == "tool: stopped\n"
    assert command_line.run_tool("tool", lambda args: 0, None, interrupted="stopped") == 0
