"""The student notebooks in exercises/ are generated from notebooks/ and kept up to date.

tools/make_exercises.py (``make exercises``) turns each solution region into a TODO stub
and each written answer into "YOUR ANSWER HERE". These tests run it on small synthetic
notebooks, check that exercises/ matches what it generates from notebooks/ today, and
that the exercise cells of every notebook are well formed.
"""

import ast
import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from d2lstyle import exercises

ROOT = Path(__file__).resolve().parent.parent
SPEC = importlib.util.spec_from_file_location("make_exercises", ROOT / "tools" / "make_exercises.py")
make = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(make)

NOTEBOOKS = sorted((ROOT / "notebooks").glob(make.NOTEBOOK_PATTERN))
STUDENT_NOTEBOOKS = sorted((ROOT / "exercises").glob(make.NOTEBOOK_PATTERN))


# --- synthetic notebooks, written the way docs/lecturers.md ("adding an exercise") asks ------


def solution_cell(source, grade_id):
    return nbformat.v4.new_code_cell(source, metadata={"tags": ["solution"], "nbgrader": {
        "grade": False, "grade_id": grade_id, "locked": False, "schema_version": 3, "solution": True, "task": False}})


def check_cell(source, grade_id, points=2):
    return nbformat.v4.new_code_cell(source, metadata={"tags": ["check"], "nbgrader": {
        "grade": True, "grade_id": grade_id, "locked": True, "points": points, "schema_version": 3,
        "solution": False, "task": False}})


def answer_cell(text, grade_id):
    return nbformat.v4.new_markdown_cell(text, metadata={"tags": ["answer"], "nbgrader": {
        "grade": True, "grade_id": grade_id, "locked": False, "points": 1, "schema_version": 3,
        "solution": True, "task": False}})


SCHEDULE = '''def decayed_learning_rate(step, lr, every, factor):
    """lr * factor ** (step // every)."""
    # BEGIN SOLUTION
    # HINT: count the decays with integer division,
    # HINT: then raise factor to that power.
    decays = step // every
    return lr * factor ** decays
    # END SOLUTION'''

IMAGE_CLASS = '''class SynthesizedImage(nn.Module):
    def __init__(self, initial):
        super().__init__()
        # BEGIN SOLUTION
        self.weight = nn.Parameter(initial.clone())
        # END SOLUTION

    def forward(self):
        # BEGIN SOLUTION
        return self.weight
        # END SOLUTION'''


def first_notebook():
    cells = [
        nbformat.v4.new_markdown_cell("# First\n\nWhat you will learn."),
        nbformat.v4.new_code_cell("import d2lstyle", execution_count=1,
                                  outputs=[nbformat.v4.new_output("stream", text="hello\n")]),
        solution_cell(SCHEDULE, "decayed_learning_rate"),
        check_cell("d2lstyle.exercises.check_decayed_learning_rate(decayed_learning_rate)",
                   "check_decayed_learning_rate"),
        nbformat.v4.new_markdown_cell("Why does the rate decay?"),
        answer_cell("**Answer.** Large steps help early, small steps settle late.", "q_decay"),
    ]
    return nbformat.v4.new_notebook(cells=cells, metadata={"kernelspec": {"name": "python3", "display_name": "Python 3"}})


def second_notebook():
    cells = [
        nbformat.v4.new_code_cell("from torch import nn"),
        solution_cell(IMAGE_CLASS, "SynthesizedImage"),
        check_cell("d2lstyle.exercises.check_synthesized_image(SynthesizedImage)", "check_synthesized_image"),
        solution_cell("# BEGIN SOLUTION\nlayers = ['conv1_1']\n# END SOLUTION\nprint(layers)", "layers"),
    ]
    return nbformat.v4.new_notebook(cells=cells)


def write(notebook, path):
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, path)
    return path


@pytest.fixture
def course(tmp_path):
    """notebooks/ with two notebooks that hold exercises and one that holds none."""
    source = tmp_path / "notebooks"
    write(first_notebook(), source / "01_first.ipynb")
    write(second_notebook(), source / "02_second.ipynb")
    write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1 + 1")]), source / "03_plain.ipynb")
    return tmp_path


def student(notebook, name="01_first.ipynb"):
    return make.student_version(notebook, name)


# --- the generator ------------------------------------------------------------------------


def test_a_solution_region_becomes_a_todo_with_its_hint():
    cell = student(first_notebook()).cells[3]
    assert cell.source == '''def decayed_learning_rate(step, lr, every, factor):
    """lr * factor ** (step // every)."""
    # TODO: count the decays with integer division,
    #       then raise factor to that power.
    raise NotImplementedError'''


def test_without_hints_every_todo_gets_the_generic_one_and_exercises_is_refused(tmp_path, capsys):
    cell = make.student_version(first_notebook(), "01_first.ipynb", hints=False).cells[3]
    assert cell.source == f'''def decayed_learning_rate(step, lr, every, factor):
    """lr * factor ** (step // every)."""
    # TODO: {make.GENERIC_HINT}
    raise NotImplementedError'''
    assert make.main(["--no-hints", str(ROOT / "notebooks"), str(ROOT / "exercises")]) == 2
    assert "give a TARGET_DIR" in capsys.readouterr().err
    source = tmp_path / "notebooks"
    source.mkdir()
    nbformat.write(first_notebook(), source / "01_first.ipynb")
    assert make.main(["--no-hints", str(source), str(tmp_path / "course")]) == 0
    written = nbformat.read(tmp_path / "course" / "01_first.ipynb", as_version=4)
    assert "# HINT" not in str(written) and "count the decays" not in str(written)


def test_regions_without_hints_get_a_generic_one_at_their_own_indentation():
    cells = student(second_notebook(), "02_second.ipynb").cells
    assert cells[2].source == f'''class SynthesizedImage(nn.Module):
    def __init__(self, initial):
        super().__init__()
        # TODO: {make.GENERIC_HINT}
        raise NotImplementedError

    def forward(self):
        # TODO: {make.GENERIC_HINT}
        raise NotImplementedError'''
    assert cells[4].source == f"# TODO: {make.GENERIC_HINT}\nraise NotImplementedError\nprint(layers)"
    for cell in cells:
        if cell.cell_type == "code":
            ast.parse(cell.source)


def test_answers_are_blanked_and_questions_kept():
    cells = student(first_notebook()).cells
    assert cells[5].source == "Why does the rate decay?"
    assert cells[6].source == "YOUR ANSWER HERE"
    assert "Answer." not in nbformat.writes(student(first_notebook()))


def test_a_coding_answer_gets_an_empty_code_cell_before_it_and_a_written_one_does_not():
    notebook = first_notebook()
    notebook.cells.append(nbformat.v4.new_markdown_cell("**2.** Print the rate at step 10."))
    notebook.cells.append(answer_cell("**Answer.**\n```python\nprint(decayed_learning_rate(10, 1, 5, 0.5))\n```\n"
                                      "It prints 0.25.", "q_print_rate"))
    cells = student(notebook).cells
    assert [cell.cell_type for cell in cells[-5:]] == ["markdown", "markdown", "markdown", "code", "markdown"]
    code, answer = cells[-2], cells[-1]
    assert code.source == make.CODE_ANSWER_PLACEHOLDER and answer.source == make.ANSWER_PLACEHOLDER
    assert "nbgrader" not in code.metadata and code.id == f"{notebook.cells[-1].id}-code"
    assert answer.metadata["nbgrader"]["grade_id"] == "q_print_rate"
    assert "decayed_learning_rate(10" not in nbformat.writes(student(notebook))
    ast.parse(code.source)


def test_an_experiment_gets_a_code_cell_even_when_its_model_answer_holds_no_code():
    notebook = first_notebook()
    notebook.cells[4].source = "**2.** (Experiment) Run it with a rate ten times larger. What happens?"
    cells = student(notebook).cells
    assert [cell.cell_type for cell in cells[-3:]] == ["markdown", "code", "markdown"]
    assert cells[-2].source == make.CODE_ANSWER_PLACEHOLDER


def test_outputs_are_cleared_and_nbgrader_metadata_kept():
    original, cells = first_notebook(), student(first_notebook()).cells
    assert all(cell.outputs == [] and cell.execution_count is None for cell in cells if cell.cell_type == "code")
    for before, after in zip(original.cells[1:], cells[2:]):
        assert before.metadata.get("nbgrader") == after.metadata.get("nbgrader")


def test_solution_and_check_cells_may_raise_under_nbval_and_others_may_not():
    cells = student(first_notebook()).cells
    expecting = [index for index, cell in enumerate(cells) if "raises-exception" in cell.metadata.get("tags", [])]
    assert expecting == [3, 4]
    assert cells[3].metadata["tags"] == ["solution", "raises-exception"]


def test_a_note_after_the_title_says_where_the_solutions_are():
    cells = student(first_notebook()).cells
    assert cells[0].source.startswith("# First")
    assert cells[1].id == make.NOTE_ID and "notebooks/01_first.ipynb" in cells[1].source


def test_make_exercises_writes_only_notebooks_with_exercises_and_removes_stale_ones(course):
    target = course / "exercises"
    write(first_notebook(), target / "05_removed.ipynb")
    (target / "README.md").write_text("kept")
    before = {path.name: path.read_bytes() for path in (course / "notebooks").iterdir()}
    written = make.make_exercises(course / "notebooks", target)
    assert [path.name for path in written] == ["01_first.ipynb", "02_second.ipynb"]
    assert sorted(path.name for path in target.iterdir()) == ["01_first.ipynb", "02_second.ipynb", "README.md"]
    assert before == {path.name: path.read_bytes() for path in (course / "notebooks").iterdir()}
    nbformat.validate(nbformat.read(target / "01_first.ipynb", as_version=4))


def test_a_notebook_between_two_of_the_series_is_treated_like_them(tmp_path):
    write(first_notebook(), tmp_path / "notebooks" / "00b_between.ipynb")
    written = make.make_exercises(tmp_path / "notebooks", tmp_path / "exercises")
    assert [path.name for path in written] == ["00b_between.ipynb"]


def test_make_exercises_gives_the_same_bytes_every_run(course):
    make.make_exercises(course / "notebooks", course / "one")
    make.make_exercises(course / "notebooks", course / "two")
    for path in (course / "one").iterdir():
        assert path.read_bytes() == (course / "two" / path.name).read_bytes()


MALFORMED = [
    (solution_cell("# BEGIN SOLUTION\nx = 1", "a"), "without an '# END SOLUTION'"),
    (solution_cell("x = 1\n# END SOLUTION", "a"), "without a '# BEGIN SOLUTION'"),
    (solution_cell("# BEGIN SOLUTION\n# BEGIN SOLUTION\n# END SOLUTION", "a"), "inside another"),
    (solution_cell("### BEGIN SOLUTION\nx = 1\n### END SOLUTION", "a"), "exactly"),
    (nbformat.v4.new_code_cell("# BEGIN SOLUTION\nx = 1\n# END SOLUTION"), "no nbgrader metadata"),
    (solution_cell("x = 1", "a"), "without '# BEGIN SOLUTION'"),
    (nbformat.v4.new_code_cell("d2lstyle.exercises.check_tv_loss(tv_loss)"), "a check cell needs"),
    (nbformat.v4.new_markdown_cell("**Answer.** 42", metadata={"tags": ["answer"]}), "an answer cell needs"),
]


@pytest.mark.parametrize("cell, phrase", MALFORMED, ids=[phrase for _, phrase in MALFORMED])
def test_malformed_exercise_cells_are_refused_naming_the_cell(cell, phrase, tmp_path):
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# Title"), cell])
    assert any(phrase in problem and problem.startswith("cell 1") for problem in make.problems(notebook))
    write(notebook, tmp_path / "notebooks" / "01_bad.ipynb")
    with pytest.raises(ValueError, match="01_bad.ipynb: cell 1"):
        make.make_exercises(tmp_path / "notebooks", tmp_path / "exercises")


def test_a_grade_id_used_twice_is_refused():
    notebook = nbformat.v4.new_notebook(cells=[solution_cell(SCHEDULE, "same"), check_cell("pass", "same")])
    assert make.problems(notebook) == ["cells [0, 1]: the nbgrader grade_id 'same' is used more than once"]


@pytest.mark.slow
def test_a_student_notebook_runs_under_nbval_past_its_todo(tmp_path):
    """nbval --nbval-lax accepts the NotImplementedError of a TODO's check cell and runs on.

    The last cell proves that the check cell really raised and that later cells still run.
    """
    cells = [
        nbformat.v4.new_markdown_cell("# Runs"),
        solution_cell("def add(a, b):\n    # BEGIN SOLUTION\n    return a + b\n    # END SOLUTION", "add"),
        check_cell("assert add(1, 2) == 3", "check_add"),
        nbformat.v4.new_code_cell("import sys\nassert sys.last_type is NotImplementedError\nprint('ran on')"),
    ]
    write(nbformat.v4.new_notebook(cells=cells), tmp_path / "notebooks" / "01_runs.ipynb")
    make.make_exercises(tmp_path / "notebooks", tmp_path / "exercises")
    run = subprocess.run([sys.executable, "-m", "pytest", "--nbval-lax", "--nbval-current-env", "-p", "no:cacheprovider",
                          "-q", "exercises/01_runs.ipynb"], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr


# --- the real notebooks and exercises/ -------------------------------------------------------


def test_exercises_folder_is_up_to_date(tmp_path):
    make.make_exercises(ROOT / "notebooks", tmp_path)
    expected = {path.name: path.read_bytes() for path in tmp_path.glob("*.ipynb")}
    committed = {path.name: path.read_bytes() for path in STUDENT_NOTEBOOKS}
    assert sorted(committed) == sorted(expected), "exercises/ is out of date: run `make exercises` and commit it"
    stale = [name for name in expected if expected[name] != committed[name]]
    assert not stale, f"exercises/ is out of date ({', '.join(stale)}): run `make exercises` and commit it"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[path.name for path in NOTEBOOKS])
def test_exercise_cells_are_well_formed(path):
    notebook = nbformat.read(path, as_version=4)
    assert make.problems(notebook) == []
    for index, cell in enumerate(notebook.cells):
        if make.is_check_cell(cell):
            called = re.findall(r"\bexercises\.(check_\w+)\s*\(", cell.source)
            assert called, f"cell {index}: a check cell that calls no d2lstyle.exercises.check_..."
            missing = [name for name in called if not hasattr(exercises, name)]
            assert not missing, f"cell {index}: d2lstyle.exercises has no {', '.join(missing)}"


@pytest.mark.parametrize("path", STUDENT_NOTEBOOKS, ids=[path.name for path in STUDENT_NOTEBOOKS])
def test_student_code_cells_are_valid_python(path):
    for index, cell in enumerate(nbformat.read(path, as_version=4).cells):
        if cell.cell_type == "code":
            code = "\n".join(line for line in cell.source.splitlines() if not line.lstrip().startswith(("%", "!")))
            try:
                ast.parse(code)
            except SyntaxError as error:
                pytest.fail(f"{path.name}, cell {index}: {error}")


def test_every_checker_is_used_by_a_notebook():
    expected = [f"{number:02d}" for number in range(1, 7)]
    written = {path.name[:2] for path in NOTEBOOKS}
    if not set(expected) <= written:
        pytest.skip(f"notebooks {', '.join(sorted(set(expected) - written))} are not written yet")
    used = set(re.findall(r"\bexercises\.(check_\w+)\s*\(", " ".join(path.read_text() for path in NOTEBOOKS)))
    checkers = {name for name in dir(exercises) if name.startswith("check_")}
    assert checkers <= used, f"no notebook calls {', '.join(sorted(checkers - used))}"
