"""Generate the student notebooks in exercises/ from the solutions in notebooks/.

    python tools/make_exercises.py [SOURCE_DIR [TARGET_DIR]]     (or: make exercises)
    python tools/make_exercises.py --no-hints notebooks build/exercises-no-hints   (make exercises-no-hints)

Every notebooks/NN_name.ipynb (or NNb_name.ipynb, a notebook between NN and the next) that holds an exercise
becomes exercises/NN_name.ipynb, in which

- each solution region, the lines from ``# BEGIN SOLUTION`` to ``# END SOLUTION``, becomes
  ``# TODO: <hint>`` and ``raise NotImplementedError``, indented like the markers. The hint is the
  text of the ``# HINT: ...`` lines inside the region, or a generic one when there are none (with
  ``--no-hints``, always the generic one: a course that wants its students to find the way alone);
- each written answer (a markdown cell tagged "answer", or with nbgrader "solution": true)
  becomes "YOUR ANSWER HERE";
- the cells with a solution region and the check cells (tagged "check", or calling
  ``exercises.check_...``) get the tag "raises-exception": nbval then accepts the
  NotImplementedError they raise until the learner fills them in;
- outputs and execution counts are cleared; nbgrader metadata is kept; a note after the title
  says where the solutions are;
- every cell gets the slide metadata that tools/slide_metadata.py's rules give it (the same as in
  notebooks/, the note included), so that the student versions can be presented as slides too.

Notebooks without exercises get no student version, and student versions whose source is gone
are removed. The output depends only on the input (the same bytes every run). A notebook whose
exercise cells are malformed (unpaired markers, a solution cell without nbgrader metadata, ...)
is refused with a message naming the cell; ``problems(notebook)`` lists what is wrong.
"""

import re
import sys
from pathlib import Path

import nbformat

sys.path.insert(0, str(Path(__file__).resolve().parent))
import slide_metadata  # noqa: E402 - tools/slide_metadata.py, next to this file

BEGIN, END, HINT = "# BEGIN SOLUTION", "# END SOLUTION", "# HINT:"
GENERIC_HINT = "write this part, then delete the `raise` line below"
ANSWER_PLACEHOLDER = "YOUR ANSWER HERE"
EXPECTS_ERROR = "raises-exception"  # nbval's tag: the cell may raise
CHECK_CALL = re.compile(r"\bexercises\.check_\w+\s*\(")
NOTE_ID = "exercise-version-note"
NOTEBOOK_PATTERN = "[0-9][0-9]*_*.ipynb"  # 00_overview.ipynb, 00b_one_page.ipynb, 01_images.ipynb, ...


def tags(cell):
    return cell.get("metadata", {}).get("tags", [])


def nbgrader(cell):
    return cell.get("metadata", {}).get("nbgrader", {})


def is_check_cell(cell):
    return cell.cell_type == "code" and ("check" in tags(cell) or bool(CHECK_CALL.search(cell.source)))


def is_answer_cell(cell):
    return cell.cell_type == "markdown" and ("answer" in tags(cell) or nbgrader(cell).get("solution", False))


def solution_regions(source):
    """The (begin, end) line numbers of each solution region in a cell's source.

    Raises ValueError for a marker without its partner or one inside another region.
    """
    regions, begin = [], None
    for number, line in enumerate(source.splitlines()):
        marker = line.strip()
        if marker == BEGIN:
            if begin is not None:
                raise ValueError(f"line {number + 1}: '{BEGIN}' inside another solution region")
            begin = number
        elif marker == END:
            if begin is None:
                raise ValueError(f"line {number + 1}: '{END}' without a '{BEGIN}' before it")
            regions.append((begin, number))
            begin = None
        elif "BEGIN SOLUTION" in line or "END SOLUTION" in line:
            raise ValueError(f"line {number + 1}: write the marker exactly as '{BEGIN}' or '{END}' (one #)")
    if begin is not None:
        raise ValueError(f"line {begin + 1}: '{BEGIN}' without an '{END}' after it")
    return regions


def stub(lines, indent, hints=True):
    """What replaces one solution region: the TODO line(s) with the hint (the generic one without ``hints``),
    and the raise."""
    hints = [line.strip()[len(HINT):].strip() for line in lines if hints and line.strip().startswith(HINT)]
    hints = hints or [GENERIC_HINT]
    todo = [f"{indent}# TODO: {hints[0]}"] + [f"{indent}#       {hint}" for hint in hints[1:]]
    return todo + [f"{indent}raise NotImplementedError"]


def strip_solutions(source, hints=True):
    """The source with every solution region replaced by its stub."""
    lines = source.splitlines()
    result, start = [], 0
    for begin, end in solution_regions(source):
        indent = lines[begin][: len(lines[begin]) - len(lines[begin].lstrip())]
        result += lines[start:begin] + stub(lines[begin + 1 : end], indent, hints)
        start = end + 1
    return "\n".join(result + lines[start:]) + ("\n" if source.endswith("\n") else "")


def problems(notebook):
    """What is wrong with a notebook's exercise cells, as a list of messages (empty when fine)."""
    found, grade_ids = [], {}
    for index, cell in enumerate(notebook.cells):
        where = f"cell {index}"
        meta = nbgrader(cell)
        if meta.get("grade_id"):
            grade_ids.setdefault(meta["grade_id"], []).append(index)
        if cell.cell_type == "code":
            try:
                regions = solution_regions(cell.source)
            except ValueError as error:
                found.append(f"{where}: {error}")
                continue
            if regions and not (meta.get("solution") and meta.get("grade_id")):
                found.append(f"{where}: has a solution region but no nbgrader metadata "
                             "(\"solution\": true and a \"grade_id\")")
            if meta.get("solution") and not regions:
                found.append(f"{where}: an nbgrader solution cell without '{BEGIN}' / '{END}' lines")
            if is_check_cell(cell) and not (meta.get("grade") and meta.get("points") and meta.get("locked")):
                found.append(f"{where}: a check cell needs nbgrader \"grade\": true, \"locked\": true and \"points\"")
        elif is_answer_cell(cell) and not (meta.get("solution") and meta.get("grade") and meta.get("points")):
            found.append(f"{where}: an answer cell needs nbgrader \"solution\": true, \"grade\": true and \"points\"")
    for grade_id, cells in grade_ids.items():
        if len(cells) > 1:
            found.append(f"cells {cells}: the nbgrader grade_id {grade_id!r} is used more than once")
    return found


def has_exercises(notebook):
    return any(is_answer_cell(cell) or (cell.cell_type == "code" and "BEGIN SOLUTION" in cell.source)
               for cell in notebook.cells)


def note_cell(source_name, with_id):
    cell = nbformat.v4.new_markdown_cell(
        f"> **Exercise version** of `notebooks/{source_name}`, generated by `make exercises` (edit the "
        "original, not this copy). Fill in each cell marked `# TODO` and delete its `raise NotImplementedError`, "
        "run it, then run the check cell after it. Write your answers where it says YOUR ANSWER HERE. "
        f"The solutions are in `notebooks/{source_name}`."
    )
    cell.pop("id", None)  # a random one: replaced by a fixed id where the format has ids (nbformat 4.5+)
    if with_id:
        cell["id"] = NOTE_ID
    return cell


def refuse_problems(notebook, source_name):
    """Raise ValueError listing the notebook's problems, if it has any."""
    found = problems(notebook)
    if found:
        raise ValueError(f"{source_name}: " + "; ".join(found))


def student_version(notebook, source_name, hints=True):
    """The student version of a solution notebook (a new notebook; the input is not changed)."""
    refuse_problems(notebook, source_name)
    student = nbformat.from_dict(notebook)  # a deep copy
    for cell in student.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
            has_solution = bool(solution_regions(cell.source))
            if has_solution:
                cell.source = strip_solutions(cell.source, hints)
            if (has_solution or is_check_cell(cell)) and EXPECTS_ERROR not in tags(cell):
                cell.metadata["tags"] = tags(cell) + [EXPECTS_ERROR]
        elif is_answer_cell(cell):
            cell.source = ANSWER_PLACEHOLDER
    first_is_title = bool(student.cells) and student.cells[0].cell_type == "markdown"
    student.cells.insert(1 if first_is_title else 0, note_cell(source_name, student.nbformat_minor >= 5))
    return slide_metadata.with_slide_metadata(student, source_name)


def make_exercises(source_dir, target_dir, hints=True):
    """Write the student version of every notebook of ``source_dir`` with exercises into
    ``target_dir``, remove stale ones there, and return the paths written."""
    source_dir, target_dir = Path(source_dir), Path(target_dir)
    written = []
    for path in sorted(source_dir.glob(NOTEBOOK_PATTERN)):
        notebook = nbformat.read(path, as_version=4)
        refuse_problems(notebook, path.name)
        if not has_exercises(notebook):
            continue
        target = target_dir / path.name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(nbformat.writes(student_version(notebook, path.name, hints)) + "\n", encoding="utf-8")
        written.append(target)
    for stale in sorted(target_dir.glob(NOTEBOOK_PATTERN)):
        if stale not in written:
            stale.unlink()
    return written


def main(argv):
    root = Path(__file__).resolve().parent.parent
    hints = "--no-hints" not in argv
    argv = [arg for arg in argv if arg != "--no-hints"]
    source = Path(argv[0]) if argv else root / "notebooks"
    target = Path(argv[1]) if len(argv) > 1 else root / "exercises"
    if not hints and target.resolve() == (root / "exercises").resolve():
        print("make_exercises: --no-hints writes a course's copy, not exercises/ (the committed versions keep "
              "their hints): give a TARGET_DIR, e.g. build/exercises-no-hints", file=sys.stderr)
        return 2
    try:
        written = make_exercises(source, target, hints)
    except ValueError as error:
        print(f"make_exercises: {error}", file=sys.stderr)
        return 1
    print(f"make_exercises: wrote {len(written)} student notebook(s) to {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
