"""Every notebook of the series runs top to bottom, once per test run, and what it showed is kept.

Each notebooks/NN_name.ipynb runs in a fresh kernel through tools/run_notebooks.py (nbclient), with the
settings make test gives it (the original VGG-19, quick mode). A cell that raises fails the test, naming the
notebook and showing the cell and its traceback, except a cell tagged ``raises-exception`` (nbval's tag,
which nbclient honours too). This is what ``pytest --nbval-lax notebooks/`` proves, and it runs the same
kernels; the difference is that the executed notebook is written to build/executed/quick (or full), where the
website and the slides (tests/test_site.py, make book, make slides) take their outputs instead of running
every notebook again. The student versions in exercises/ have their own TODO cells and run under nbval
(pyproject.toml's testpaths).
"""

import os
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
import run_notebooks  # noqa: E402

QUICK = os.environ.get("D2LSTYLE_QUICK", "0") == "1"
OUT = ROOT / "build" / "executed" / ("quick" if QUICK else "full")

pytestmark = pytest.mark.slow


def errors_in(path):
    """The error outputs of the executed notebook at ``path`` in cells not tagged raises-exception."""
    notebook = nbformat.read(path, as_version=4)
    return [output["ename"] for cell in notebook.cells if cell.cell_type == "code"
            and "raises-exception" not in cell.metadata.get("tags", [])
            for output in cell.outputs if output.output_type == "error"]


@pytest.mark.parametrize("path", run_notebooks.select([]), ids=lambda path: path.stem)
def test_the_notebook_runs_to_the_end(path):
    try:
        times = run_notebooks.run([path], OUT, QUICK, force=True, log=lambda message: None)
    except run_notebooks.NotebookFailed as error:
        pytest.fail(str(error), pytrace=False)
    target = OUT / path.name
    assert times[path.name] is not None and target.is_file()
    assert run_notebooks.is_up_to_date(target, run_notebooks.fingerprint(path, run_notebooks.settings_for(QUICK)))
    assert errors_in(target) == []
    ran = nbformat.read(target, as_version=4)
    code_cells = [cell for cell in ran.cells if cell.cell_type == "code"]
    assert all(cell.execution_count is not None for cell in code_cells)  # no cell was left out
