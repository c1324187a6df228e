"""A lecturer using nbgrader can take notebooks/ as it is.

Copies the notebooks that hold exercises into a fresh course directory
(source/<assignment>/) and runs ``nbgrader generate_assignment``: it must succeed,
and the release version must hold no solution code and no model answer.

nbgrader is not a dependency of d2lstyle. The test runs when nbgrader can be imported
by this Python, or when D2LSTYLE_NBGRADER names an nbgrader executable (for example
one in a separate virtual environment); otherwise it is skipped, saying so.
"""

import importlib.util
import os
import shutil
import subprocess
import sys
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
    environment = dict(os.environ, PATH=os.pathsep.join([str(Path(command[0]).parent), os.environ.get("PATH", "")]))
    run = subprocess.run(command + ["generate_assignment", ASSIGNMENT, "--force"], cwd=course, env=environment,
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, (run.stdout + run.stderr)[-3000:]

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
