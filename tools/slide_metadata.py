"""Give every cell of the notebooks the slide metadata of a lecture, by rules read from their structure.

    python tools/slide_metadata.py [PATH ...]           write the metadata (default: notebooks/*.ipynb)
    python tools/slide_metadata.py --check [PATH ...]   say which notebooks differ from the rules; exit 1 if any

Jupyter's slide metadata, ``{"slideshow": {"slide_type": ...}}`` on each cell, is what both
``jupyter nbconvert --to slides`` (``make slides``) and RISE in JupyterLab read. The rules, in order (the first
that applies wins):

1. the first cell, the notebook's title, opens the title slide ("slide");
2. a written answer (a markdown cell tagged "answer", or an nbgrader solution) is left out ("skip"): model answers
   and "YOUR ANSWER HERE" are not for the lecture room;
3. a markdown cell that starts with a ``##`` heading opens a new slide; one that starts with ``###`` or deeper
   opens a subslide (below the slide, reached with the down arrow);
4. a markdown cell that is all quotation (``> ...``: the asides about the network in use, the exercise-version
   note) becomes speaker notes ("notes");
5. a code cell that draws a figure (it calls matplotlib, ``plotting.*`` or ``show_images``) gets a subslide of its
   own, and the cell after it opens the next subslide, so that a figure never shares its slide;
6. after the ``## Exercises`` heading, each question appears one at a time on the closing slide ("fragment");
7. any other cell goes on the current slide ("-"), unless the slide would then hold more than SLIDE_LINES lines
   (markdown counted at LINE_WIDTH characters a line, code a line per line), in which case it opens a subslide;
   a cell that is longer than that on its own gets a subslide to itself, scrolled when presented.

A notebook's cells can be given another type by OVERRIDES below (by cell id), where a rule gets one wrong.
The output depends only on the cells' sources, types, tags and ids, so ``--check`` (and
tests/test_slides.py) can tell whether a notebook carries the metadata the rules give it. ``make exercises``
applies the same rules to the student versions in exercises/.
"""

import argparse
import math
import re
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
SLIDE, SUBSLIDE, FRAGMENT, CONTINUE, SKIP, NOTES = "slide", "subslide", "fragment", "-", "skip", "notes"
SLIDE_TYPES = (SLIDE, SUBSLIDE, FRAGMENT, CONTINUE, SKIP, NOTES)
SLIDE_LINES = 22  # how many lines of text fit on a slide at the size `make slides` shows them
LINE_WIDTH = 90  # characters of markdown on one line of a slide
FIGURE_CALL = re.compile(r"\bplt\.(show|subplots|figure|imshow|plot)\b|\bplotting\.(?!png_bytes)\w+|"
                         r"\bshow_images\(|\.imshow\(")
EXERCISES_HEADING = re.compile(r"^##\s+(\d+(\.\d+)*\.?\s+)?Exercises\b", re.IGNORECASE)

# Per notebook, cell id -> slide type, for the few cells a rule gets wrong. Keep it short: prefer a better rule.
OVERRIDES = {}


def heading_level(cell):
    """The level of the heading the markdown cell starts with (2 for '## ...'), or 0."""
    match = re.match(r"(#{1,6})\s", cell.source.lstrip()) if cell.cell_type == "markdown" else None
    return len(match.group(1)) if match else 0


def is_answer(cell):
    return cell.cell_type == "markdown" and ("answer" in cell.get("metadata", {}).get("tags", [])
                                             or cell.get("metadata", {}).get("nbgrader", {}).get("solution", False))


def is_quotation(cell):
    lines = [line for line in cell.source.splitlines() if line.strip()]
    return cell.cell_type == "markdown" and bool(lines) and all(line.lstrip().startswith(">") for line in lines)


def draws_figure(cell):
    return cell.cell_type == "code" and bool(FIGURE_CALL.search(cell.source))


def lines_on_a_slide(cell):
    """How many lines the cell's source takes on a slide (its outputs are not known before it runs)."""
    if cell.cell_type == "code":
        return len(cell.source.splitlines())
    return sum(max(1, math.ceil(len(line) / LINE_WIDTH)) for line in cell.source.splitlines())


def slide_types(notebook, overrides=None):
    """The slide type of each cell of ``notebook``, by the rules of this module's docstring.

    >>> cells = [nbformat.v4.new_markdown_cell("# Title"), nbformat.v4.new_code_cell("x = 1"),
    ...          nbformat.v4.new_markdown_cell("## Part 1"), nbformat.v4.new_code_cell("plt.show()"),
    ...          nbformat.v4.new_markdown_cell("What the figure shows."),
    ...          nbformat.v4.new_markdown_cell("## Exercises"), nbformat.v4.new_markdown_cell("**1.** Why?"),
    ...          nbformat.v4.new_markdown_cell("**Answer.** Because.", metadata={"tags": ["answer"]})]
    >>> slide_types(nbformat.v4.new_notebook(cells=cells))
    ['slide', '-', 'slide', 'subslide', 'subslide', 'slide', 'fragment', 'skip']
    """
    overrides = overrides or {}
    types, used, after_figure, in_exercises = [], 0, False, False
    for index, cell in enumerate(notebook.cells):
        level = heading_level(cell)
        if index == 0:
            kind = SLIDE
        elif is_answer(cell):
            kind = SKIP
        elif level == 2:
            kind = SLIDE
            in_exercises = bool(EXERCISES_HEADING.match(cell.source.lstrip()))
        elif level >= 3:
            kind = SUBSLIDE
        elif is_quotation(cell):
            kind = NOTES
        elif draws_figure(cell) or after_figure:
            kind = SUBSLIDE
        elif in_exercises:
            kind = FRAGMENT if used + lines_on_a_slide(cell) <= SLIDE_LINES else SUBSLIDE
        else:
            kind = CONTINUE if used + lines_on_a_slide(cell) <= SLIDE_LINES else SUBSLIDE
        kind = overrides.get(cell.get("id"), kind)
        if kind in (SLIDE, SUBSLIDE):
            used = lines_on_a_slide(cell)
        elif kind in (CONTINUE, FRAGMENT):
            used += lines_on_a_slide(cell)
        if kind not in (SKIP, NOTES):
            after_figure = draws_figure(cell)
        types.append(kind)
    return types


def with_slide_metadata(notebook, name=None):
    """A copy of ``notebook`` whose cells carry the slide types of ``slide_types`` (and OVERRIDES[name])."""
    overrides = OVERRIDES.get(name, {})
    known = {cell.get("id") for cell in notebook.cells}
    stale = sorted(set(overrides) - known)
    if stale:
        raise ValueError(f"{name}: OVERRIDES name cells that are not in the notebook: {', '.join(stale)}")
    result = nbformat.from_dict(notebook)  # a deep copy
    for cell, kind in zip(result.cells, slide_types(result, overrides)):
        cell.metadata["slideshow"] = {"slide_type": kind}
    return result


def written(notebook):
    """The notebook as the repository stores it (nbformat's layout and a final newline)."""
    return nbformat.writes(notebook) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("paths", nargs="*", type=Path, help="notebooks (default: notebooks/*.ipynb)")
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if a notebook differs")
    args = parser.parse_args(argv)
    paths = args.paths or sorted((ROOT / "notebooks").glob("[0-9][0-9]*.ipynb"))
    differ = []
    for path in paths:
        try:
            before = path.read_text(encoding="utf-8")
            after = written(with_slide_metadata(nbformat.reads(before, as_version=4), path.name))
        except (OSError, ValueError, nbformat.reader.NotJSONError) as error:
            print(f"slide_metadata: {path}: {error}", file=sys.stderr)
            return 1
        if after != before:
            differ.append(path)
            if not args.check:
                path.write_text(after, encoding="utf-8")
    if args.check:
        for path in differ:
            print(f"slide_metadata: {path} does not carry the slide metadata of the rules: "
                  "run `python tools/slide_metadata.py` (and `make exercises`)", file=sys.stderr)
        return 1 if differ else 0
    print(f"slide_metadata: {len(differ)} of {len(paths)} notebook(s) changed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
