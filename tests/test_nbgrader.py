"""A lecturer using nbgrader can take notebooks/ as it is, through the whole cycle.

1. Copies the notebooks that hold exercises into a fresh course directory (source/<assignment>/)
   and runs ``nbgrader generate_assignment``: it must succeed, and the release version must hold
   no solution code and no model answer.
2. The whole cycle on a temporary course: ``generate_assignment`` and ``release_assignment`` of
   notebook 04, five simulated submissions placed where ``nbgrader collect`` puts them (all correct;
   all stubs; one wrong answer, whose student also blanked a locked check cell; one that crashes;
   one that loops forever), ``nbgrader autograde`` with a 30-second ``ExecutePreprocessor.timeout``,
   the scores per cell and student read from the gradebook, and ``nbgrader generate_feedback``,
   whose pages must name what the checker said.

nbgrader comes with the test extras. The tests run when nbgrader can be imported by this Python
(or, for the first, when D2LSTYLE_NBGRADER names an nbgrader executable, for example one in a
separate virtual environment); otherwise they are skipped, saying so.
"""

import importlib.util
import os
import re
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import nbformat
import pytest

pytestmark = pytest.mark.slow  # runs nbgrader in a subprocess

ROOT = Path(__file__).resolve().parent.parent
SPEC = importlib.util.spec_from_file_location("make_exercises", ROOT / "tools" / "make_exercises.py")
make = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(make)

ASSIGNMENT = "style_transfer"


def nbgrader_command():
    """The command that runs nbgrader here, or skip the test."""
    configured = os.environ.get("D2LSTYLE_NBGRADER")
    if configured:
        return [configured]
    if importlib.util.find_spec("nbgrader") is not None:
        return [sys.executable, "-m", "nbgrader"]
    pytest.skip("nbgrader is not installed in this environment: `pip install nbgrader` (0.9.6 installs cleanly "
                "next to jupyterlab 4), or set D2LSTYLE_NBGRADER to the nbgrader executable of another environment")


def nbgrader(command, course, *arguments, timeout=300, **variables):
    """Run ``nbgrader ARGUMENTS`` in ``course``; return its output, or fail the test showing it."""
    # nbgrader runs `alembic` from its own environment to set up the gradebook.
    environment = dict(os.environ, PATH=os.pathsep.join([str(Path(command[0]).parent), os.environ.get("PATH", "")]),
                       **variables)
    run = subprocess.run(command + list(arguments), cwd=course, env=environment, capture_output=True, text=True,
                         timeout=timeout)
    assert run.returncode == 0, f"nbgrader {' '.join(arguments)}:\n" + (run.stdout + run.stderr)[-3000:]
    return run.stdout + run.stderr


def notebooks_with_exercises():
    paths = [path for path in sorted((ROOT / "notebooks").glob(make.NOTEBOOK_PATTERN))
             if make.has_exercises(nbformat.read(path, as_version=4))]
    if not paths:
        pytest.skip("no notebook in notebooks/ holds an exercise yet")
    return paths


def solution_lines(cell):
    """The code lines inside the cell's solution regions that appear nowhere else in the cell."""
    lines = cell.source.splitlines()
    inside = set()
    for begin, end in make.solution_regions(cell.source):
        inside.update(range(begin + 1, end))
    outside = {lines[number].strip() for number in range(len(lines)) if number not in inside}
    return {lines[number].strip() for number in inside} - outside - {""}


def test_nbgrader_generate_assignment_strips_every_solution(tmp_path):
    command = nbgrader_command()
    paths = notebooks_with_exercises()
    course = tmp_path / "course"
    source = course / "source" / ASSIGNMENT
    source.mkdir(parents=True)
    for path in paths:
        shutil.copy(path, source / path.name)
    (course / "nbgrader_config.py").write_text(f"c = get_config()\nc.CourseDirectory.root = {str(course)!r}\n")
    # nbgrader runs `alembic` from its own environment to set up the gradebook.
    nbgrader(command, course, "generate_assignment", ASSIGNMENT, "--force")

    for path in paths:
        original = nbformat.read(path, as_version=4)
        released = nbformat.read(course / "release" / ASSIGNMENT / path.name, as_version=4)
        by_grade_id = {cell.metadata["nbgrader"]["grade_id"]: cell
                       for cell in released.cells if "grade_id" in cell.metadata.get("nbgrader", {})}
        for cell in original.cells:
            grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
            if cell.cell_type == "code" and make.solution_regions(cell.source):
                released_lines = {line.strip() for line in by_grade_id[grade_id].source.splitlines()}
                left = sorted(solution_lines(cell) & released_lines)
                assert not left, f"{path.name}, {grade_id}: solution lines left in the release: {left}"
                assert "raise NotImplementedError" in by_grade_id[grade_id].source
            elif make.is_answer_cell(cell):
                assert "**Answer.**" not in by_grade_id[grade_id].source, f"{path.name}, {grade_id}: answer left"
            elif make.is_check_cell(cell):
                assert by_grade_id[grade_id].source == cell.source


# --- the whole cycle: release, submissions, autograde, scores, feedback -------------------------------------

CYCLE_NOTEBOOK = "04_style_loss.ipynb"
TIMEOUT = 30  # seconds a cell may run under autograde (nbgrader's default); the endless loop is cut there
STUB = re.compile(r"^( *)# YOUR CODE HERE\n\1raise NotImplementedError\(\)$", re.MULTILINE)


def graded_part(notebook):
    """The notebook cut down to what autograding runs: the title, the cells that only import or print the
    settings, every cell with nbgrader metadata, and the question before each written answer. The demonstrations
    (figures, texture synthesis) are left out: they use the reference implementation, not the student's code, and
    nbval runs them; without them each autograde takes seconds instead of minutes."""
    def only_imports(cell):
        lines = [line.split("#")[0].strip() for line in cell.source.splitlines()]
        return all(not line or line.startswith(("import ", "from ")) or "get_settings(" in line for line in lines)

    cells = notebook.cells
    kept = [index for index, cell in enumerate(cells) if index == 0 or "nbgrader" in cell.metadata
            or (cell.cell_type == "code" and only_imports(cell))]
    kept += [index - 1 for index in kept if make.is_answer_cell(cells[index]) and index > 0]
    part = nbformat.from_dict(notebook)
    part.cells = [part.cells[index] for index in sorted(set(kept))]
    return part


def solution_body(notebook, grade_id):
    """The lines between '# BEGIN SOLUTION' and '# END SOLUTION' of the solution cell ``grade_id`` (hints out)."""
    cell = next(cell for cell in notebook.cells if cell.metadata.get("nbgrader", {}).get("grade_id") == grade_id)
    lines = cell.source.splitlines()
    (begin, end), = make.solution_regions(cell.source)
    return [line for line in lines[begin + 1:end] if not line.strip().startswith(make.HINT)]


def fill(released, grade_id, body):
    """A copy of the released notebook whose solution cell ``grade_id`` has ``body`` (lines) instead of the stub."""
    submission = nbformat.from_dict(released)
    cell = next(cell for cell in submission.cells if cell.metadata.get("nbgrader", {}).get("grade_id") == grade_id)
    assert STUB.search(cell.source), f"no nbgrader stub in {grade_id}: {cell.source}"
    lines = textwrap.dedent("\n".join(body)).splitlines()
    cell.source = STUB.sub(lambda match: "\n".join(match.group(1) + line for line in lines), cell.source)
    return submission


def submissions(released, solutions):
    """The five students' notebooks, made from the released one the way students would edit it."""
    gram = solutions["gram_matrix"]
    correct = fill(fill(released, "gram_matrix", gram), "style_loss", solutions["style_loss"])
    for cell in correct.cells:
        if make.is_answer_cell(cell):
            cell.source = "It keeps which channels are active together, not where."
    wrong = fill(fill(released, "gram_matrix", gram), "style_loss",
                 ["return (gram_matrix(Y_hat) - gram_Y.detach()).square().sum()"])  # the sum, not the mean
    for cell in wrong.cells:  # and the check cell emptied: autograde must put the locked cell back
        if cell.metadata.get("nbgrader", {}).get("grade_id") == "check_style_loss":
            cell.source = "pass  # no check, no failure"
    crash = fill(fill(released, "gram_matrix", gram), "style_loss",
                 ["return (gram_matirx(Y_hat) - gram_Y.detach()).square().mean()"])  # a misspelt name
    loop = fill(fill(released, "gram_matrix", gram), "style_loss", ["while True:", "    pass"])
    return {"correct": correct, "stubs": nbformat.from_dict(released), "wrong": wrong, "crash": crash, "loop": loop}


# points each student's check cells must get (2 each when passed); the written answers wait for a person
EXPECTED = {"correct": (2, 2), "stubs": (0, 0), "wrong": (2, 0), "crash": (2, 0), "loop": (2, 0)}
# what each one's feedback must say about check_style_loss
FEEDBACK = {"stubs": "NotImplementedError", "wrong": "it sums over the C x C entries",
            "crash": "gram_matirx", "loop": "CellTimeoutError"}


def test_the_whole_nbgrader_cycle_grades_and_gives_feedback(tmp_path, monkeypatch):
    if importlib.util.find_spec("nbgrader") is None:
        pytest.skip("nbgrader is not installed in this environment (pip install -e '.[test]')")
    from nbgrader.api import Gradebook

    command = [sys.executable, "-m", "nbgrader"]
    # the gradebook runs `alembic`, from this environment, also when opened here
    monkeypatch.setenv("PATH", os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]))

    started = time.perf_counter()
    course, exchange = tmp_path / "course", tmp_path / "exchange"
    (course / "source" / ASSIGNMENT).mkdir(parents=True)
    original = nbformat.read(ROOT / "notebooks" / CYCLE_NOTEBOOK, as_version=4)
    part = graded_part(original)
    nbformat.write(part, course / "source" / ASSIGNMENT / CYCLE_NOTEBOOK)
    (course / "nbgrader_config.py").write_text(
        "c = get_config()\n"
        f"c.CourseDirectory.root = {str(course)!r}\n"
        "c.CourseDirectory.course_id = 'd2lstyle'\n"
        f"c.Exchange.root = {str(exchange)!r}\n"
        f"c.ExecutePreprocessor.timeout = {TIMEOUT}\n")
    # The kernels import this checkout's d2lstyle; the random network and quick mode: no picture is made here.
    variables = {"PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
                 "D2LSTYLE_NETWORK": "random", "D2LSTYLE_QUICK": "1"}

    nbgrader(command, course, "generate_assignment", ASSIGNMENT, **variables)
    nbgrader(command, course, "release_assignment", ASSIGNMENT, **variables)
    released = nbformat.read(exchange / "d2lstyle" / "outbound" / ASSIGNMENT / CYCLE_NOTEBOOK, as_version=4)

    solutions = {grade_id: solution_body(original, grade_id) for grade_id in ("gram_matrix", "style_loss")}
    for student, notebook in submissions(released, solutions).items():
        folder = course / "submitted" / student / ASSIGNMENT  # where `nbgrader collect` puts a submission
        folder.mkdir(parents=True)
        nbformat.write(notebook, folder / CYCLE_NOTEBOOK)
        (folder / "timestamp.txt").write_text("2025-01-01 12:00:00.000000 UTC")

    nbgrader(command, course, "autograde", ASSIGNMENT, timeout=600, **variables)

    answers = [cell.metadata["nbgrader"]["grade_id"] for cell in part.cells if make.is_answer_cell(cell)]
    assert answers, "notebook 04 has written questions"
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        for student, (gram_points, style_points) in EXPECTED.items():
            grades = {grade.name: grade for grade in
                      gradebook.find_submission_notebook(Path(CYCLE_NOTEBOOK).stem, ASSIGNMENT, student).grades}
            scores = (grades["check_gram_matrix"].score, grades["check_style_loss"].score)
            assert scores == (gram_points, style_points), f"{student}: {scores}"
            assert grades["check_gram_matrix"].max_score == grades["check_style_loss"].max_score == 2
            for grade_id in answers:  # a written answer waits for a person (unless left blank)
                assert grades[grade_id].needs_manual_grade == (student == "correct"), (student, grade_id)

    def autograded_check(student):
        notebook = nbformat.read(course / "autograded" / student / ASSIGNMENT / CYCLE_NOTEBOOK, as_version=4)
        return next(cell for cell in notebook.cells
                    if cell.metadata.get("nbgrader", {}).get("grade_id") == "check_style_loss")

    assert autograded_check("wrong").source == "d2lstyle.exercises.check_style_loss(style_loss)", \
        "autograde did not put back the locked check cell the student emptied"
    errors = [output for output in autograded_check("loop").outputs if output.output_type == "error"]
    # nbgrader interrupts the kernel (KeyboardInterrupt) when the timeout has passed, and records it
    assert "CellTimeoutError" in [error.ename for error in errors], "the endless loop was not cut by the timeout"

    nbgrader(command, course, "generate_feedback", ASSIGNMENT, **variables)
    for student in EXPECTED:
        page = (course / "feedback" / student / ASSIGNMENT / CYCLE_NOTEBOOK.replace(".ipynb", ".html")).read_text()
        total = sum(EXPECTED[student])
        assert re.search(rf"Score: {total}(\.0)? / \d", page), f"{student}: no score {total} in the feedback"
        if student in FEEDBACK:
            assert FEEDBACK[student] in page, f"{student}: the feedback does not say {FEEDBACK[student]!r}"
        else:
            assert "style_loss: all" in page and "checks passed" in page
    print(f"the nbgrader cycle took {time.perf_counter() - started:.0f} s")
