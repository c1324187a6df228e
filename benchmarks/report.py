"""The one writer of benchmarks/results.md: a title, then named sections, each written by one script.

A section is its two markers and everything between them, and starts with the same header in every section:

    <!-- section: painter -->
    ## Painter network against the optimisation (`painter_bench.py`)

    - Command: `python benchmarks/painter_bench.py --train`
    - Date: 2026-12-02 05:45 (the run took 21.4 minutes)
    - Machine: CPU AMD EPYC (2 logical cores visible, torch threads 2); Python 3.11.7, torch 2.14.1, ...
    - Precision: float32; float32 path: matrix multiplies at torch's 'highest' precision (true float32)
    - Load average (1 min): 1.7 before, 2.0 after, on 2 logical cores

    ... what the script measured ...

    <!-- end section -->

A script builds its block with :func:`section` (from the run's facts, which ``common.run_facts`` gathers, and the
markdown of its tables) and hands it to :func:`write_section`, which puts it in place of the script's earlier
section, or at the end of the file if it has none; every byte outside that section stays as it was. A results.md
that has text but no markers (written before there were sections) is refused, not overwritten.

Text only: this module imports neither torch nor d2lstyle.
"""

import re
from pathlib import Path

TITLE = "# Benchmark results"
START = "<!-- section: {name} -->"
END = "<!-- end section -->"
MARKER = re.compile(r"^<!-- (?:section: ([a-z0-9_-]+)|end section) -->$", re.MULTILINE)
HEADER_FIELDS = ("Command", "Date", "Machine", "Precision", "Load average (1 min)")


class ResultsFormatError(ValueError):
    """results.md (or a block meant for it) is not made of well-formed sections."""


def header(run):
    """The header every section starts with, from a run's facts (the dict ``common.run_facts`` makes; results.json
    keeps it). A fact an older run did not record reads "not recorded".

    >>> print(header({"command": "python benchmarks/x.py", "date": "2026-12-02 05:45", "machine": "CPU X",
    ...               "cores": 2, "precision": "float32", "load_before": 1.2, "load_after": 2.06}))
    - Command: `python benchmarks/x.py`
    - Date: 2026-12-02 05:45
    - Machine: CPU X
    - Precision: float32; float32 path: not recorded
    - Load average (1 min): 1.2 before, 2.1 after, on 2 logical cores
    """
    minutes = run.get("wall_minutes")
    took = f" (the run took {minutes:.1f} minutes)" if minutes is not None else ""
    values = (f"`{run['command']}`", f"{run['date']}{took}", run["machine"],
              f"{run['precision']}; float32 path: {run.get('float32_path', 'not recorded')}",
              f"{run['load_before']:.1f} before, {run['load_after']:.1f} after, on {run['cores']} logical cores")
    return "\n".join(f"- {field}: {value}" for field, value in zip(HEADER_FIELDS, values))


def section(name, title, run, body):
    """The block for results.md: the markers around a heading, the header and ``body`` (markdown).

    >>> run = {"command": "c", "date": "d", "machine": "m", "cores": 1, "precision": "p",
    ...        "load_before": 0, "load_after": 0}
    >>> block = section("demo", "A demo", run, "| a |\\n|---|\\n| 1 |")
    >>> print(block.splitlines()[0], block.splitlines()[1], block.splitlines()[-1], sep="\\n")
    <!-- section: demo -->
    ## A demo
    <!-- end section -->
    """
    if not re.fullmatch(r"[a-z0-9_-]+", name):
        raise ValueError(f"a section's name is lower-case letters, digits, '-' and '_': {name!r}")
    return f"{START.format(name=name)}\n## {title}\n\n{header(run)}\n\n{body.strip(chr(10))}\n\n{END}\n"


def sections(text, where="results.md"):
    """{name: (start, end)} of each section in ``text``: the offsets from its start marker to just after the
    newline that ends its end marker.

    >>> text = "# T\\n\\n<!-- section: a -->\\nA\\n<!-- end section -->\\n"
    >>> sections(text)
    {'a': (5, 48)}
    >>> text[5:48] == text[5:]
    True
    """
    spans, start, name = {}, None, None
    for match in MARKER.finditer(text):
        if match.group(1):  # a start marker
            if name is not None:
                raise ResultsFormatError(f"{where}: section {name!r} has no end marker {END!r} before the next "
                                         f"section starts")
            if match.group(1) in spans:
                raise ResultsFormatError(f"{where}: section {match.group(1)!r} appears twice")
            start, name = match.start(), match.group(1)
        else:
            if name is None:
                raise ResultsFormatError(f"{where}: an end marker {END!r} without a section before it")
            end = match.end() + 1 if text[match.end():match.end() + 1] == "\n" else match.end()
            spans[name], name = (start, end), None
    if name is not None:
        raise ResultsFormatError(f"{where}: section {name!r} has no end marker {END!r}")
    return spans


def write_section(path, block):
    """Write ``block`` (made by :func:`section`) into the results file ``path``: in place of the section of the
    same name, or at the end; a missing or empty file is started with the title. Everything outside that section
    is left byte for byte. Refuses a file with text but no section markers: an old results.md, whose parts no
    script can tell apart; wrap each script's part in its markers once, by hand.
    """
    path = Path(path)
    spans = sections(block, "the new section")
    if len(spans) != 1 or list(spans.values())[0] != (0, len(block)):
        raise ResultsFormatError("write_section takes exactly one section, markers included (see report.section)")
    (name,) = spans
    old = path.read_text(encoding="utf-8") if path.exists() else ""
    if not old.strip():
        old = TITLE + "\n"
    existing = sections(old, str(path))
    if not existing and old.strip() != TITLE:
        raise ResultsFormatError(
            f"{path} has text but no section markers: it was written before results.md had sections. Put each "
            f"script's part between {START.format(name='<name>')} and {END} (the names: bench, painter, highres) "
            f"and run the script again; nothing was written.")
    if name in existing:
        start, end = existing[name]
        new = old[:start] + block + old[end:]
    else:
        new = old + ("" if old.endswith("\n") else "\n") + "\n" + block
    path.write_text(new, encoding="utf-8")


def add_output_arguments(parser, default):
    """The options every script that writes a section takes: ``--out`` (the results file, ``default``) and
    ``--no-write`` (print the section only); :func:`publish` reads them."""
    parser.add_argument("--out", default=str(default), help="the results file to update")
    parser.add_argument("--no-write", action="store_true", help="print the section, write nothing")


def publish(args, block):
    """Print ``block`` and, unless ``--no-write``, write it into ``args.out`` (:func:`write_section`)."""
    print(block)
    if not args.no_write:
        write_section(args.out, block)
