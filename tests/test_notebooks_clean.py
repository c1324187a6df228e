"""The committed notebooks are valid, small and diffable: no outputs, no execution counts,
numbered in reading order, each saying which weights it runs with, each listed in the README.

A notebook between two of the series carries a letter after its number (00b_one_page.ipynb
comes between 00_overview.ipynb and 01_images.ipynb)."""

import re
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
SERIES = sorted((ROOT / "notebooks").glob("*.ipynb"))
STUDENT_VERSIONS = sorted((ROOT / "exercises").glob("*.ipynb"))
REQUIRED = ["00", "01", "02", "03", "04", "05", "06", "07"]
ONE_PAGE = ROOT / "notebooks" / "00b_one_page.ipynb"  # the whole method without the package: no settings, no exercises


def test_the_series_is_complete_and_numbered_in_order():
    assert all(re.fullmatch(r"\d\d[a-z]?_[a-z0-9_]+\.ipynb", path.name) for path in SERIES)
    numbers = [path.name[:2] for path in SERIES if path.name[2] == "_"]
    assert numbers[: len(REQUIRED)] == REQUIRED
    assert numbers == [f"{i:02d}" for i in range(len(numbers))]
    between = [path.name[:2] for path in SERIES if path.name[2] != "_"]
    assert set(between) <= set(numbers), "a lettered notebook (00b) comes after the notebook of its number (00)"


def test_the_readme_lists_every_notebook_in_its_series_table():
    readme = (ROOT / "README.md").read_text()
    missing = [path.stem for path in SERIES if f"| `{path.stem}` |" not in readme]
    assert not missing, f"README.md's series table has no row for {', '.join(missing)}"


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


@pytest.mark.parametrize("path", [path for path in SERIES if path != ONE_PAGE], ids=lambda p: p.name)
def test_each_notebook_announces_its_settings_and_ends_with_a_summary(path):
    notebook = nbformat.read(path, as_version=4)
    code = "\n".join(cell.source for cell in notebook.cells if cell.cell_type == "code")
    markdown = "\n".join(cell.source for cell in notebook.cells if cell.cell_type == "markdown")
    assert "get_settings(" in code, "the notebook must print which weights and mode it runs with"
    assert re.search(r"^#+ .*What you will learn", markdown, re.MULTILINE | re.IGNORECASE)
    assert re.search(r"^#+ .*Summary", markdown, re.MULTILINE)
    assert re.search(r"^#+ .*Exercises", markdown, re.MULTILINE)


def test_the_one_page_notebook_is_short_needs_no_package_and_points_into_the_series():
    notebook = nbformat.read(ONE_PAGE, as_version=4)
    code = "\n".join(cell.source for cell in notebook.cells if cell.cell_type == "code")
    markdown = "\n".join(cell.source for cell in notebook.cells if cell.cell_type == "markdown")
    lines = [line for line in code.splitlines() if line.strip() and not line.strip().startswith("#")]
    assert len(lines) <= 90, f"{len(lines)} lines of code: the page should stay about 80 lines"
    used = set(re.findall(r"\bd2lstyle(?:\.\w+)+", code))
    assert used <= {"d2lstyle.networks.original_state_dict", "d2lstyle.bundled_image"}, (
        f"only the network's parameters and the images' file names may come from d2lstyle, not {used}")
    assert "from d2lstyle" not in code
    assert 'os.environ.get("D2LSTYLE_QUICK"' in code, "quick mode is read without the package"
    assert "103.939, 116.779, 123.68" in markdown, "the original VGG-19's input convention is written out"
    assert re.search(r"^#+ .*What you will learn", markdown, re.MULTILINE)
    table = markdown[markdown.index("Where the series deepens"):]
    for path in SERIES:
        if path.name[2] == "_" and path.name[:2] != "00":
            title = path.stem[3:].replace("_", " ")
            assert re.search(rf"\*\*{path.name[:2]} {title}", table, re.IGNORECASE), f"no row for {path.name}"
