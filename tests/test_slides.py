"""Every notebook carries the slide metadata of a lecture, given by tools/slide_metadata.py's rules.

The rules are tested on small synthetic notebooks; then every notebook in notebooks/ and exercises/ must carry
exactly the metadata the tool gives it (as tests/test_exercises_generated.py does for exercises/), so that
``make slides`` and RISE show the same decks the rules describe.
"""

import importlib.util
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
SPEC = importlib.util.spec_from_file_location("slide_metadata", ROOT / "tools" / "slide_metadata.py")
slides = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(slides)

NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]*.ipynb"))
STUDENT_NOTEBOOKS = sorted((ROOT / "exercises").glob("[0-9][0-9]*.ipynb"))


def md(source, **metadata):
    return nbformat.v4.new_markdown_cell(source, metadata=metadata)


def code(source, **metadata):
    return nbformat.v4.new_code_cell(source, metadata=metadata)


def types_of(*cells):
    return slides.slide_types(nbformat.v4.new_notebook(cells=list(cells)))


def test_title_opens_the_deck_and_level_two_headings_open_slides():
    assert types_of(md("# Title\n\nIntro."), code("x = 1"), md("## One"), md("Text."), md("## Two")) == \
        ["slide", "-", "slide", "-", "slide"]


def test_deeper_headings_open_subslides():
    assert types_of(md("# T"), md("## Part"), md("### Detail"), md("#### Finer")) == \
        ["slide", "slide", "subslide", "subslide"]


def test_a_figure_gets_a_subslide_of_its_own():
    cells = [md("# T"), md("## Part"), code("fig, ax = plt.subplots()"), md("What it shows."), code("y = 2"),
             code("plotting.show_images([x])"), code("plotting.show_images([y])"), md("## Next")]
    assert types_of(*cells) == ["slide", "slide", "subslide", "subslide", "-", "subslide", "subslide", "slide"]


def test_code_that_draws_nothing_is_no_figure():
    for source in ["x = plotting_area + 1", "png = plotting.png_bytes(image)", "y = 3"]:
        assert not slides.draws_figure(code(source)), source
    for source in ["plt.show()", "fig = plotting.pipeline_diagram()", "ax.imshow(x)", "d2lstyle.show_images([x])"]:
        assert slides.draws_figure(code(source)), source


def test_answers_are_skipped_and_quoted_asides_are_speaker_notes():
    answer = md("**Answer.** 42", tags=["answer"])
    nbgrader_answer = md("YOUR ANSWER HERE", nbgrader={"solution": True, "grade": True, "points": 1})
    aside = md("> **About the weights.** Random ones\n> mean nothing.")
    half_quoted = md("> A quotation,\n\nand a comment on it.")
    assert types_of(md("# T"), answer, nbgrader_answer, aside, half_quoted) == ["slide", "skip", "skip", "notes", "-"]


def test_exercises_close_the_deck_one_question_at_a_time():
    cells = [md("# T"), md("## Summary\n\n* a"), md("## Exercises"), md("**1.** Why?"),
             md("**Answer.** Because.", tags=["answer"]), md("**2.** How?")]
    assert types_of(*cells) == ["slide", "slide", "slide", "fragment", "skip", "fragment"]
    assert types_of(md("# T"), md("## 7. Exercises"), md("**1.** Why?"))[-1] == "fragment"


def test_a_full_slide_continues_on_a_subslide():
    """22 lines fit: 1 + 10 + 11 do; the next line does not, and starts a subslide, which counts afresh."""
    ten, eleven = "\n".join(["line"] * 10), "\n".join(["y = 1"] * 11)
    assert types_of(md("## Part"), md(ten), code(eleven), md("one more"), md(ten)) == \
        ["slide", "-", "-", "subslide", "-"]


def test_long_markdown_lines_count_as_several_slide_lines():
    paragraph = md("word " * 100)  # 500 characters: 6 lines of 90
    assert slides.lines_on_a_slide(paragraph) == 6
    assert slides.lines_on_a_slide(code("a = 1\nb = 2")) == 2
    assert types_of(md("# T"), *[md("word " * 100) for _ in range(4)]) == ["slide", "-", "-", "-", "subslide"]


def test_overrides_change_a_cell_by_id_and_stale_ones_are_refused(monkeypatch):
    notebook = nbformat.v4.new_notebook(cells=[md("# T"), md("Text.")])
    notebook.cells[1].id = "the-text"
    monkeypatch.setitem(slides.OVERRIDES, "01_x.ipynb", {"the-text": "skip"})
    assert [cell.metadata["slideshow"]["slide_type"]
            for cell in slides.with_slide_metadata(notebook, "01_x.ipynb").cells] == ["slide", "skip"]
    monkeypatch.setitem(slides.OVERRIDES, "01_x.ipynb", {"gone": "skip"})
    with pytest.raises(ValueError, match="01_x.ipynb: OVERRIDES name cells that are not in the notebook: gone"):
        slides.with_slide_metadata(notebook, "01_x.ipynb")


def test_the_tool_writes_then_check_passes_and_the_input_is_otherwise_unchanged(tmp_path, capsys):
    notebook = nbformat.v4.new_notebook(cells=[md("# T", tags=["keep"]), code("plt.show()")])
    path = tmp_path / "01_x.ipynb"
    path.write_text(nbformat.writes(notebook) + "\n")
    assert slides.main(["--check", str(path)]) == 1
    assert "does not carry the slide metadata" in capsys.readouterr().err
    assert slides.main([str(path)]) == 0
    assert slides.main(["--check", str(path)]) == 0
    written = nbformat.read(path, as_version=4)
    assert [cell.metadata for cell in written.cells] == [
        {"tags": ["keep"], "slideshow": {"slide_type": "slide"}}, {"slideshow": {"slide_type": "subslide"}}]
    assert [cell.source for cell in written.cells] == ["# T", "plt.show()"]


def test_an_unreadable_notebook_is_refused_with_its_name(tmp_path, capsys):
    path = tmp_path / "01_broken.ipynb"
    path.write_text("{not json")
    assert slides.main(["--check", str(path)]) == 1
    assert "01_broken.ipynb" in capsys.readouterr().err


@pytest.mark.parametrize("path", NOTEBOOKS + STUDENT_NOTEBOOKS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_notebook_carries_the_slide_metadata_of_the_rules(path):
    before = path.read_text(encoding="utf-8")
    after = slides.written(slides.with_slide_metadata(nbformat.reads(before, as_version=4), path.name))
    assert after == before, (f"{path.parent.name}/{path.name} lacks the slide metadata of the rules: run "
                             "`python tools/slide_metadata.py` and `make exercises`, and commit both folders")


@pytest.mark.parametrize("path", [path for path in NOTEBOOKS if path.name != "00b_one_page.ipynb"],
                         ids=lambda p: p.name)
def test_every_deck_has_a_title_slide_sections_and_a_closing_exercises_slide(path):
    """(The one-page notebook has no exercises: it ends with its map into the series.)"""
    notebook = nbformat.read(path, as_version=4)
    types = [cell.metadata["slideshow"]["slide_type"] for cell in notebook.cells]
    assert types[0] == "slide" and set(types) <= set(slides.SLIDE_TYPES)
    assert types.count("slide") >= 3
    last_slide = max(index for index, kind in enumerate(types) if kind == "slide")
    assert slides.EXERCISES_HEADING.match(notebook.cells[last_slide].source)
