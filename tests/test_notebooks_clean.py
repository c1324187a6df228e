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


# --- the numbers the text quotes are the numbers the code runs ----------------------------------------------------

# "40 evaluations", "800 steps", "at 96 and 160 px", "at 1,200 pixels": a count of steps, or the size an image is
# run at (a size in pixels without "at" may be a measured one, such as a receptive field).
COUNT = r"(?<![\w.$^/])(\d[\d,]*)(?:\s*(?:and|or|to|,)\s*(\d[\d,]*))?\s*"
QUOTED = re.compile(COUNT + r"(?:L-BFGS |Adam |loss |more |optimisation |training )?(?:evaluations?|steps?|iterations?)\b"
                    r"|\bat " + COUNT.replace("(\\d", "(?P<size>\\d", 1) + r"(?:px|pixels)\b")
# Numbers a notebook may quote without its section's code setting them, each with the reason.
QUOTED_ELSEWHERE = {
    "02_features": {1200: "an exercise's question: the strokes of a picture painted at 1200 pixels"},
    "06_training": {320: "the PyTorch tutorial's 300 steps, counted in closure calls",
                    25: "a suggestion to the reader: compare after 25, 50 and 200 evaluations",
                    50: "the same suggestion; and the window of the plateau callback in an exercise's answer",
                    200: "the same suggestion; and a budget in an exercise's answer"},
    "07_recipes": {6000: "the loss-design article's code: 300 calls of L-BFGS's step, each up to max_iter = 20"},
    "09_controls": {192: "coarse to fine's first scale: a quarter of the 768 px run",
                    2048: "an exercise about a picture larger than any the notebook paints"},
    "11_troubleshooting": {128: "the reference run's size, set in section 1's first cell",
                           30: "the reference run's evaluations, set in section 1's first cell",
                           256: "advice: find the weights at 128 to 256 pixels"},
    "10_fast_style_transfer": {192: "the ablation's crops showed the photo at up to twice the 96 px crop "
                                    "(benchmarks/painter_ablation.py)",
                               40000: "Johnson et al.'s training: 40,000 steps on COCO"},
}


def quoted_counts(markdown):
    """(number, phrase) for each count of steps or size in pixels that ``markdown`` quotes outside its maths."""
    text = re.sub(r"\$\$.*?\$\$|\$[^$\n]*\$", " ", markdown, flags=re.DOTALL)
    for match in QUOTED.finditer(text):
        for number in match.groups():
            if number:
                yield int(number.replace(",", "")), " ".join(match.group(0).split())


def set_elsewhere():
    """Numbers that the package sets, which any notebook may quote: quick mode's caps, every preset's steps and
    image size, the painter's defaults."""
    import d2lstyle
    from d2lstyle import painter, settings

    numbers = {settings.QUICK_MAX_SIDE, settings.QUICK_MAX_STEPS}
    for recipe in d2lstyle.PRESETS.values():
        numbers.add(recipe.steps)
        numbers.update([recipe.image_size] if isinstance(recipe.image_size, int) else recipe.image_size)
    defaults = painter.PainterSettings()
    numbers.update([defaults.steps, defaults.crop, defaults.style_size])
    return numbers


def sections(notebook):
    """The notebook's cells cut at each section's heading cell (a markdown cell that starts with # or ##)."""
    parts = [[]]
    for cell in notebook.cells:
        if cell.cell_type == "markdown" and re.match(r"##? ", cell.source.lstrip()) and parts[-1]:
            parts.append([])
        parts[-1].append(cell)
    return parts


def test_quoted_counts_are_read_from_prose_not_maths():
    text = "Run 40 evaluations at 96 and 160 px; $x_{50 steps}$ is maths; at 1,200 pixels; it sees 68 pixels."
    assert list(quoted_counts(text)) == [(40, "40 evaluations"), (96, "at 96 and 160 px"), (160, "at 96 and 160 px"),
                                         (1200, "at 1,200 pixels")]


@pytest.mark.parametrize("path", SERIES, ids=lambda p: p.name)
def test_the_steps_and_sizes_the_text_quotes_are_those_its_code_runs(path):
    """A count of evaluations or steps, or a size in pixels, quoted in a section's markdown must appear as a number
    in that section's code (or be one the package sets, or be listed in QUOTED_ELSEWHERE with its reason):
    prose that says 50 evaluations above code that runs 40 fails here."""
    notebook = nbformat.read(path, as_version=4)
    allowed = set_elsewhere() | set(QUOTED_ELSEWHERE.get(path.stem, {}))
    wrong = []
    for section in sections(notebook):
        code = "\n".join(cell.source for cell in section if cell.cell_type == "code")
        in_code = {int(number.replace("_", "")) for number in re.findall(r"(?<![\w.])(\d[\d_]*)(?![\w.])", code)}
        for cell in section:
            if cell.cell_type == "markdown":
                wrong += [f"{cell.get('id')}: {phrase!r}" for number, phrase in quoted_counts(cell.source)
                          if number not in in_code | allowed]
    assert not wrong, f"{path.name} quotes numbers its code does not run: {'; '.join(wrong)}"


WORD_LIMIT = 24_000  # issue 23: the series at about half its former 42,000 words


def test_the_series_stays_within_its_word_limit():
    """Words of markdown outside maths in notebooks/ (tools/word_count.py): a new paragraph pays for itself."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("word_count", ROOT / "tools" / "word_count.py")
    word_count = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(word_count)
    counts = {path.name: word_count.notebook_words(path) for path in SERIES}
    assert sum(counts.values()) <= WORD_LIMIT, (
        f"{sum(counts.values()):,d} words of markdown, over the limit of {WORD_LIMIT:,d}: {counts}")
