"""The pieces of make slides and make book that run no notebook and no browser (fast).

tools/run_notebooks.py: when a notebook must run again, how saved outputs are joined to the notebook as it is
now, what becomes of widgets in a static page, how a run's time reaches benchmarks/results.md.
tools/word_count.py: what counts as a word of the series. tools/make_book.py: the gallery page with and without pictures,
the student-version links. tools/make_slides.py: where reveal.js and MathJax come from.
"""

import importlib.util
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
import make_book  # noqa: E402
import make_slides  # noqa: E402
import run_notebooks  # noqa: E402
import word_count  # noqa: E402

SETTINGS = {"D2LSTYLE_NETWORK": "original", "D2LSTYLE_QUICK": "1", "D2LSTYLE_SEED": "0"}


def write(tmp_path, cells, name="01_x.ipynb"):
    path = tmp_path / name
    path.write_text(nbformat.writes(nbformat.v4.new_notebook(cells=cells)) + "\n")
    return path


def test_the_fingerprint_follows_code_tags_and_settings_but_not_other_metadata(tmp_path):
    cells = [nbformat.v4.new_markdown_cell("# T"), nbformat.v4.new_code_cell("x = 1")]
    path = write(tmp_path, cells)
    first = run_notebooks.fingerprint(path, SETTINGS)
    assert run_notebooks.fingerprint(path, SETTINGS) == first
    cells[1].metadata["slideshow"] = {"slide_type": "subslide"}
    assert run_notebooks.fingerprint(write(tmp_path, cells), SETTINGS) == first
    cells[1].metadata["tags"] = ["raises-exception"]
    assert run_notebooks.fingerprint(write(tmp_path, cells), SETTINGS) != first
    cells[1].metadata["tags"] = []
    assert run_notebooks.fingerprint(write(tmp_path, cells), SETTINGS) == first
    assert run_notebooks.fingerprint(path, dict(SETTINGS, D2LSTYLE_QUICK="0")) != first
    cells[1].source = "x = 2"
    assert run_notebooks.fingerprint(write(tmp_path, cells), SETTINGS) != first


def test_a_run_is_up_to_date_only_with_the_same_fingerprint(tmp_path):
    target = tmp_path / "ran.ipynb"
    assert not run_notebooks.is_up_to_date(target, "abc")
    notebook = nbformat.v4.new_notebook(metadata={"d2lstyle_run": {"fingerprint": "abc"}})
    target.write_text(nbformat.writes(notebook))
    assert run_notebooks.is_up_to_date(target, "abc") and not run_notebooks.is_up_to_date(target, "abd")
    target.write_text("{broken")
    assert not run_notebooks.is_up_to_date(target, "abc")


def test_saved_outputs_join_the_notebook_as_it_is_now_and_stale_runs_are_refused(tmp_path):
    now = [nbformat.v4.new_markdown_cell("# T", metadata={"slideshow": {"slide_type": "slide"}}),
           nbformat.v4.new_code_cell("print(1)", metadata={"slideshow": {"slide_type": "-"}})]
    path = write(tmp_path, now)
    ran = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# T"), nbformat.v4.new_code_cell("print(1)")],
                                   metadata={"d2lstyle_run": {"seconds": 1.0}})
    ran.cells[1].outputs = [nbformat.v4.new_output("stream", name="stdout", text="1\n")]
    ran.cells[1].execution_count = 1
    executed = tmp_path / "executed.ipynb"
    executed.write_text(nbformat.writes(ran))
    joined = run_notebooks.with_outputs(path, executed)
    assert joined.cells[1].outputs[0]["text"] == "1\n" and joined.cells[1].execution_count == 1
    assert joined.cells[1].metadata["slideshow"] == {"slide_type": "-"}  # today's metadata, not the run's
    assert joined.metadata["d2lstyle_run"] == {"seconds": 1.0}
    now[1].source = "print(2)"
    with pytest.raises(run_notebooks.NotebookFailed, match="01_x.ipynb: the run in .* is of other cells"):
        run_notebooks.with_outputs(write(tmp_path, now), executed)


def test_progress_bars_are_dropped_and_other_widgets_become_a_note():
    cell = nbformat.v4.new_code_cell("run()")
    view = {"model_id": "1", "version_major": 2, "version_minor": 0}
    cell.outputs = [
        nbformat.v4.new_output("display_data", data={run_notebooks.WIDGET_VIEW: view,
                                                     "text/plain": "style transfer:   0%|          | 0/20"}),
        nbformat.v4.new_output("display_data", data={run_notebooks.WIDGET_VIEW: view,
                                                     "text/plain": "VBox(children=(Button(),))"}),
        nbformat.v4.new_output("display_data", data={"image/png": "iVBOR", "text/plain": "<Figure>"}),
        nbformat.v4.new_output("stream", name="stdout", text="done\n")]
    notebook = nbformat.v4.new_notebook(cells=[cell])
    run_notebooks.drop_widget_views(notebook)
    assert [output.get("data", {}).get("text/plain") for output in cell.outputs] == [
        run_notebooks.WIDGET_NOTE, "<Figure>", None]
    assert cell.outputs[1]["data"]["image/png"] == "iVBOR"


def test_notebooks_are_chosen_by_name_and_an_unknown_name_is_refused():
    assert [path.name for path in run_notebooks.select(["01_images", "00_overview.ipynb"])] == [
        "01_images.ipynb", "00_overview.ipynb"]
    assert run_notebooks.select([]) == sorted((ROOT / "notebooks").glob("[0-9][0-9]*.ipynb"))
    with pytest.raises(SystemExit, match="no notebook 99_nothing in notebooks/"):
        run_notebooks.select(["99_nothing"])


RUN = {"seconds": 501.04, "cpu_seconds": 960.4, "date": "2026-12-07 14:02", "machine": "AMD EPYC, 2 cores",
       "loads": [0.44, 2.05]}


def test_a_full_run_rewrites_its_own_row_of_results_md_and_nothing_else(tmp_path):
    results = tmp_path / "results.md"
    other = "<!-- section: bench -->\n## Bench\n\nkept byte for byte \u00e9\n\n<!-- end section -->\n"
    results.write_text("# Measured results\n\n" + other, encoding="utf-8")
    run_notebooks.write_report({"06_training": run_notebooks.report_row("06_training", RUN)}, results)
    run_notebooks.write_report({"01_images": run_notebooks.report_row("01_images", dict(RUN, seconds=30.4))},
                               results)
    later = dict(RUN, seconds=420.6, date="2026-12-08 09:00")
    run_notebooks.write_report({"06_training": run_notebooks.report_row("06_training", later)}, results)
    text = results.read_text(encoding="utf-8")
    assert text.startswith("# Measured results\n\n" + other)
    rows = [line for line in text.splitlines() if line.startswith("| `")]
    assert rows == ["| `01_images` | 30 | 960 | 2026-12-07 14:02 | AMD EPYC, 2 cores | 0.4, 2.0 |",
                    "| `06_training` | 421 | 960 | 2026-12-08 09:00 | AMD EPYC, 2 cores | 0.4, 2.0 |"]
    assert "## How long each notebook takes to run" in text and text.count("<!-- section: notebooks -->") == 1


def test_the_machine_is_named_with_its_cores():
    assert run_notebooks.machine().endswith(" cores")


@pytest.mark.parametrize("markdown, count", [
    ("Two words", 2),
    ("The Gram matrix $G = F F^\\top$ is symmetric", 5),  # inline maths is not read as words
    ("$$\nL = \\alpha L_c + \\beta L_s\n$$\nthen done", 2),  # nor display maths
    ("see [notebook 02](02_features.ipynb#the-relu-trap) and ![a figure](../images/x.png)", 6),
    ("relu4_2, 1e-2, don't, 3.5 and x-ray", 6),  # one word each
    ("<!-- a note to editors -->kept", 1),
    ("# Heading\n\n- a *list* item, `code` too", 6),
])
def test_words_are_counted_outside_maths_comments_and_link_addresses(markdown, count):
    assert word_count.words(markdown) == count


def test_the_word_count_skips_code_cells_and_the_limit_fails_the_command(tmp_path, capsys):
    cells = [nbformat.v4.new_markdown_cell("one two three"), nbformat.v4.new_code_cell("a = b + c  # four five"),
             nbformat.v4.new_markdown_cell("four")]
    path = write(tmp_path, cells)
    assert word_count.notebook_words(path) == 4
    assert word_count.main([str(path), "--max", "4"]) == 0
    assert word_count.main([str(path), "--max", "3"]) == 1
    assert "over the limit of 3 words by 1" in capsys.readouterr().err


def test_without_pictures_the_gallery_page_says_how_to_make_them():
    page = make_book.gallery_page([])
    assert page.startswith("# Gallery") and "make gallery" in page and "{figure}" not in page


def test_the_gallery_page_shows_every_picture_with_its_pair_and_links_the_credits():
    page = make_book.gallery_page([Path("gallery/tubingen--starry_night.jpg"), Path("gallery/rainier--great_wave.jpg")])
    assert page.count("```{figure}") == 2
    assert "```{figure} gallery/tubingen--starry_night.jpg" in page
    assert "tubingen in the style of starry night" in page and "rainier in the style of great wave" in page
    assert "gallery/CREDITS" in page


def test_pages_link_the_student_version_where_there_is_one():
    with_exercises = make_book.links_cell("04_style_loss.ipynb").source
    assert "{download}`exercises/04_style_loss.ipynb <../exercises/04_style_loss.ipynb>`" in with_exercises
    assert "no student version" in make_book.links_cell("99_none.ipynb").source
    table = make_book.student_versions_page(["04_style_loss.ipynb", "99_none.ipynb"])
    assert "{download}`04_style_loss.ipynb <exercises/04_style_loss.ipynb>`" in table
    assert "| [99_none](notebooks/99_none.ipynb) | (no exercises) |" in table


def test_reveal_js_and_mathjax_come_from_installed_packages_or_a_clear_message(monkeypatch):
    if importlib.util.find_spec("sphinx_revealjs") and importlib.util.find_spec("jupyter_server_mathjax"):
        assert (make_slides.reveal_js_folder() / "dist" / "reveal.js").is_file()
        assert (make_slides.reveal_js_folder() / "plugin" / "notes" / "notes.js").is_file()
        assert (make_slides.mathjax_folder() / "MathJax.js").is_file()
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    message = r"sphinx-revealjs is not installed: pip install -e '\.\[course\]'"
    with pytest.raises(make_slides.MissingPackage, match=message):
        make_slides.reveal_js_folder()
