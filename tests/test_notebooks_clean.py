"""The committed notebooks are valid, small and diffable: no outputs, no execution counts,
numbered in reading order, each saying which weights it runs with."""

import re
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
SERIES = sorted((ROOT / "notebooks").glob("*.ipynb"))
STUDENT_VERSIONS = sorted((ROOT / "exercises").glob("*.ipynb"))
REQUIRED = ["00", "01", "02", "03", "04", "05", "06", "07"]


def test_the_series_is_complete_and_numbered_in_order():
    numbers = [path.name[:2] for path in SERIES]
    assert numbers[: len(REQUIRED)] == REQUIRED
    assert numbers == [f"{i:02d}" for i in range(len(numbers))]
    assert all(re.fullmatch(r"\d\d_[a-z0-9_]+\.ipynb", path.name) for path in SERIES)


@pytest.mark.parametrize("path", SERIES + STUDENT_VERSIONS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_committed_without_outputs_and_valid(path):
    notebook = nbformat.read(path, as_version=4)
    nbformat.validate(notebook)
    assert notebook.nbformat == 4
    assert notebook.metadata.get("kernelspec", {}).get("name") == "python3"
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type == "code":
            assert cell.outputs == [], f"cell {index} has outputs"
            assert cell.execution_count is None, f"cell {index} has an execution count"


@pytest.mark.parametrize("path", SERIES, ids=lambda p: p.name)
def test_each_notebook_announces_its_settings_and_ends_with_a_summary(path):
    notebook = nbformat.read(path, as_version=4)
    code = "\n".join(cell.source for cell in notebook.cells if cell.cell_type == "code")
    markdown = "\n".join(cell.source for cell in notebook.cells if cell.cell_type == "markdown")
    assert "get_settings(" in code, "the notebook must print which weights and mode it runs with"
    assert re.search(r"^#+ .*What you will learn", markdown, re.MULTILINE | re.IGNORECASE)
    assert re.search(r"^#+ .*Summary", markdown, re.MULTILINE)
    assert re.search(r"^#+ .*Exercises", markdown, re.MULTILINE)
