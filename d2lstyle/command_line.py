"""What the two command-line tools (``d2lstyle`` and ``d2lstyle-painter``) share: their exit statuses, the
types of their numeric options and the shape of their ``main()``.

An option type reads the text argparse hands it and refuses, with the reason, a number that cannot work
(:mod:`d2lstyle.numbers` holds the rule); argparse turns that into a usage error, exit status 2.
:func:`run_tool` runs a tool's work and turns every problem a user can cause into one line on standard error
and a non-zero exit status, never a traceback.

>>> positive_int("3")
3
>>> non_negative_float("-1")
Traceback (most recent call last):
...
argparse.ArgumentTypeError: expected a finite number >= 0, got '-1' (0 switches the term off)
"""

import argparse
import re
import sys
import textwrap
import unicodedata

import torch

from . import numbers
from .errors import D2lStyleError
from .i18n import translate

EXIT_ERROR = 1
EXIT_INTERRUPTED = 130  # the shell's convention for "ended by Ctrl-C" (128 + SIGINT)


# --- option types: each refuses what cannot work, with the reason --------------------


def _whole(text):
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None


def positive_int(text):
    value = _whole(text)
    should_be = numbers.expected(value, at_least=1, whole=True)
    if should_be:
        raise argparse.ArgumentTypeError(f"expected {should_be}, got {value}")
    return value


def seed_number(text):
    value = _whole(text)
    if not 0 <= value < 2**63:
        raise argparse.ArgumentTypeError(f"expected a seed from 0 to 2**63 - 1, got {value}")
    return value


def _finite_float(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number such as 1e4, got {text!r}") from None
    if not numbers.is_number(value):
        raise argparse.ArgumentTypeError(f"expected a finite number, got {text!r}: a run with it could only "
                                         "end in NaN")
    return value


def non_negative_float(text):
    value = _finite_float(text)
    should_be = numbers.expected(value, at_least=0)
    if should_be:
        raise argparse.ArgumentTypeError(f"expected {should_be}, got {text!r} (0 switches the term off)")
    return value


def positive_float(text):
    value = _finite_float(text)
    should_be = numbers.expected(value, above=0)
    if should_be:
        raise argparse.ArgumentTypeError(f"expected {should_be}, got {text!r}")
    return value


# --- the parser and main() ----------------------------------------------------------------------------


class HelpInLanguage(argparse.HelpFormatter):
    """``--help`` in the reader's language (:mod:`d2lstyle.i18n`): each option's help, the description, the epilog
    and argparse's own headings ("usage:", "options") pass through :func:`~d2lstyle.i18n.translate`, and Chinese
    lines are wrapped by the columns they take on a terminal (:func:`wrap_columns`)."""

    def _get_help_string(self, action):
        return translate(action.help) if action.help else action.help

    def _format_text(self, text):
        return super()._format_text(translate(text) if text else text)

    def add_usage(self, usage, actions, groups, prefix=None):
        super().add_usage(usage, actions, groups, translate("usage:") + " " if prefix is None else prefix)

    def start_section(self, heading):
        super().start_section(translate(heading) if heading else heading)

    def _split_lines(self, text, width):
        return wrap_columns(self._whitespace_matcher.sub(" ", text).strip(), width)

    def _fill_text(self, text, width, indent):
        text = self._whitespace_matcher.sub(" ", text).strip()
        return "\n".join(indent + line for line in wrap_columns(text, width - len(indent)))


ARGPARSE_HEADINGS = ("usage:", "positional arguments", "options", "show this help message and exit")
NO_LINE_START = set("，。、；：？！）》」』”’")  # Chinese punctuation that stays at the end of the line before
NO_LINE_END = set("（《「『“‘")  # ... and that goes to the start of the next line


def columns(text):
    """How many terminal columns ``text`` takes: two for a wide character (Chinese), one for any other.

    >>> columns("VGG-19 网络")
    11
    """
    return sum(2 if unicodedata.east_asian_width(character) in "WF" else 1 for character in text)


def wrap_columns(text, width):
    """``text`` in lines of at most ``width`` terminal columns (:func:`columns`), broken at spaces and between
    two Chinese characters, never inside an English word, before Chinese closing punctuation (which takes the
    character before it to the next line) or after an opening bracket. Text without
    wide characters is wrapped as argparse wraps it (:func:`textwrap.wrap`).

    >>> wrap_columns("结果写到哪里（.png 或 .jpg）；不能是输入文件", 20)
    ['结果写到哪里（.png', '或 .jpg）；不能是输', '入文件']
    """
    if columns(text) == len(text):
        return textwrap.wrap(text, width)
    lines, line = [], ""
    for token in re.findall(r"[^\s\u2e80-\uffef]+|\s+|.", text):  # an English word, spaces or one wide character
        if token.isspace():
            if line:
                line += " "
            continue
        if line and columns(line + token) > width:
            carried = ""  # closing punctuation takes the character before it to the new line
            if token in NO_LINE_START and len(line) > 1 and columns(line[-1]) == 2 and not line[-2].isspace():
                line, carried = line[:-1], line[-1]
            if line[-1:] in NO_LINE_END and len(line) > 1:  # an opening bracket goes with what it opens
                line, carried = line[:-1], line[-1] + carried
            lines.append(line.rstrip())
            line = carried
        line += token
    return lines + [line.rstrip()] if line else lines


# argparse's own messages as templates ({0}, {1}: what argparse fills in), so that tools/translate.py finds them
# and d2lstyle.i18n can translate a usage error.
ARGPARSE_MESSAGES = ("the following arguments are required: {0}", "unrecognized arguments: {0}",
                     "invalid choice: {0} (choose from {1})", "expected one argument", "expected at least one argument")


class ArgumentParser(argparse.ArgumentParser):
    """argparse's parser with :class:`HelpInLanguage`, whose usage errors (a bad option value, a missing argument)
    are translated."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("formatter_class", HelpInLanguage)
        super().__init__(*args, **kwargs)

    def error(self, message):
        """As argparse's: the usage, then the error, on standard error, and exit status 2."""
        option = re.fullmatch(r"argument (\S+): (.*)", message, flags=re.DOTALL)  # argparse's form
        if option:
            message = f"argument {option.group(1)}: {translate(option.group(2))}"
        self.print_usage(sys.stderr)
        self.exit(2, translate(f"{self.prog}: error: {translate(message)}") + "\n")


def say(tool, message):
    """Print ``message`` on standard error, after the tool's name (in the reader's language where the catalogue
    has it)."""
    print(f"{tool}: {translate(message)}", file=sys.stderr)


def run_tool(tool, work, args, interrupted):
    """``work(args)``'s exit status, or EXIT_ERROR after one line for a problem the user can fix (a
    D2lStyleError, an unavailable device, no memory), or EXIT_INTERRUPTED after the line ``interrupted``
    when Ctrl-C comes before the work has anything to save (the work handles it from then on)."""
    try:
        return work(args)
    except D2lStyleError as error:
        say(tool, f"error: {error}")
    except ValueError as error:  # e.g. an unavailable --device
        say(tool, f"error: {error}")
    except (MemoryError, getattr(torch, "OutOfMemoryError", MemoryError)):
        say(tool, "error: ran out of memory; try a smaller --size")
    except KeyboardInterrupt:
        say(tool, interrupted)
        return EXIT_INTERRUPTED
    return EXIT_ERROR
