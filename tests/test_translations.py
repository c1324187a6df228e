"""The Chinese edition (zh/) is complete, current and the same course as the English one.

tools/translate.py keeps one catalogue per notebook (zh/po/NAME.po, keyed by the English paragraph) and builds
zh/notebooks/ and zh/exercises/ from notebooks/ and the catalogues. These tests fail when an English paragraph
changed (its entry is missing or stale), when zh/ is not what the tool writes today (a hand edit, a forgotten
``make zh``), when a translation lost a link, a formula, a number or a piece of code, when a term strays from the
glossary, and when a Chinese notebook differs from its English source in anything but its text.

Why the Chinese notebooks need not all run in CI: their code cells are the English code (tested here, line by
line, comments aside), the English notebooks run in CI, and the translated comments are checked to leave
every cell valid Python. One Chinese notebook runs end to end (tests/test_notebooks_run.py) to show that
the edition as generated runs.

The Traditional Chinese edition (zh-TW/, d2lstyle/locale/zh_TW.po) is converted from the Simplified one by
tools/traditional.py (OpenCC): tested to be what the tool writes today, the same cells, grading and code, and
free of the common Simplified-only characters.
"""

import ast
import importlib.util
import re
from pathlib import Path

import nbformat
import polib
import pytest

ROOT = Path(__file__).resolve().parent.parent
SPEC = importlib.util.spec_from_file_location("translate", ROOT / "tools" / "translate.py")
translate = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(translate)
SPEC = importlib.util.spec_from_file_location("traditional", ROOT / "tools" / "traditional.py")
traditional = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(traditional)

NOTEBOOKS = sorted((ROOT / "notebooks").glob(translate.make_exercises.NOTEBOOK_PATTERN))


def catalogue(path):
    return translate.load_catalogue(translate.CATALOGUES / f"{path.stem}.po")


# --- the tool, on small notebooks ------------------------------------------------------------------------


def small_notebook(paragraph="The Gram matrix forgets *where*.", comment="# the photo"):
    cells = [
        nbformat.v4.new_markdown_cell(f"# Title\n\n{paragraph}\n\n$$G = F F^\\top$$\n\n```python\nx = 1\n```\n"
                                      "See [the docs](../docs/cli.md)."),
        nbformat.v4.new_code_cell(f"{comment}\nimport torch  # the tensors\nx = torch.zeros(1)\n"
                                  "def f():\n    # BEGIN SOLUTION\n    # HINT: return one\n    return 1\n"
                                  "    # END SOLUTION"),
    ]
    cells[1].metadata["nbgrader"] = {"grade": False, "grade_id": "f", "locked": False, "schema_version": 3,
                                     "solution": True, "task": False}
    for number, cell in enumerate(cells):
        cell["id"] = f"cell-{number}"
    return nbformat.v4.new_notebook(cells=cells)


def test_pieces_put_back_together_give_every_cell_of_the_series_unchanged():
    for path in NOTEBOOKS:
        for cell in nbformat.read(path, as_version=4).cells:
            if cell.cell_type in ("markdown", "code"):
                assert translate.translated_cell_source(cell, lambda text: text) == cell.source, (path.name, cell.id)


def test_the_texts_of_a_cell_are_its_paragraphs_and_comments_not_its_maths_code_or_markers():
    markdown, code = small_notebook().cells
    assert translate.texts_of_cell(markdown) == ["# Title", "The Gram matrix forgets *where*.",
                                                 "See [the docs](../docs/cli.md)."]
    assert translate.texts_of_cell(code) == ["the photo", "the tensors", "HINT: return one"]


def test_a_translation_replaces_text_and_comments_keeps_code_and_relinks():
    notebook = small_notebook()
    old = translate.updated_catalogue(notebook, "01_small.ipynb", None)
    chinese_of = {"# Title": "# 标题", "The Gram matrix forgets *where*.": "格拉姆矩阵忘记了*位置*。",
                  "See [the docs](../docs/cli.md).": "见[文档](../docs/cli.md)。", "the photo": "照片\n第二行",
                  "the tensors": "张量", "HINT: return one": "HINT: 返回 1"}
    for entry in old:
        entry.msgstr = chinese_of[entry.msgid]
    chinese = translate.translated_notebook(notebook, old, "01_small.ipynb")
    assert chinese.cells[0].source == ("# 标题\n\n格拉姆矩阵忘记了*位置*。\n\n$$G = F F^\\top$$\n\n```python\nx = 1\n```\n"
                                       "见[文档](../../docs/cli.md)。")
    assert chinese.cells[1].source.splitlines()[:3] == ["# 照片", "# 第二行", "import torch  # 张量"]
    assert "    # HINT: 返回 1" in chinese.cells[1].source and "    # BEGIN SOLUTION" in chinese.cells[1].source
    assert translate.code_without_comments(chinese.cells[1].source) == \
        translate.code_without_comments(notebook.cells[1].source)
    assert chinese.metadata["d2lstyle"] == {"language": "zh_CN", "source": "notebooks/01_small.ipynb"}
    assert notebook.cells[0].source.startswith("# Title")  # the input is not changed


def test_a_changed_paragraph_becomes_stale_with_the_old_english_and_a_new_one_untranslated():
    old = translate.updated_catalogue(small_notebook(), "01_small.ipynb", None)
    for entry in old:
        entry.msgstr = "译文"
    old = polib.pofile(translate.catalogue_text(old), wrapwidth=0)  # as read from its file
    changed = small_notebook(paragraph="The Gram matrix forgets *where* things are.", comment="# a new comment")
    changed.cells.append(nbformat.v4.new_markdown_cell("A new paragraph."))
    new = translate.updated_catalogue(changed, "01_small.ipynb", old)
    by_id = {entry.msgid: entry for entry in new if not entry.obsolete}
    stale = by_id["The Gram matrix forgets *where* things are."]
    assert stale.flags == ["fuzzy"] and stale.msgstr == "译文"
    assert stale.previous_msgid == "The Gram matrix forgets *where*."
    assert by_id["A new paragraph."].msgstr == ""
    assert by_id["the tensors"].msgstr == "译文" and not by_id["the tensors"].flags
    problems = translate.problems(new)
    assert len(problems) == 3 and sum("stale" in problem for problem in problems) == 1
    obsolete = [entry.msgid for entry in new if entry.obsolete]
    assert obsolete == ["the photo"]  # too unlike "a new comment" to lend it its translation
    again = polib.pofile(translate.catalogue_text(new), wrapwidth=0)
    assert translate.catalogue_text(translate.updated_catalogue(changed, "01_small.ipynb", again)) == \
        translate.catalogue_text(new)


def test_build_refuses_stale_or_missing_translations_and_writes_nothing(tmp_path):
    source = tmp_path / "notebooks"
    source.mkdir()
    nbformat.write(small_notebook(), source / "01_small.ipynb")
    (tmp_path / "zh" / "po").mkdir(parents=True)
    with pytest.raises(ValueError, match="no catalogue"):
        translate.build(source_dir=source, target=tmp_path / "zh")
    assert not (tmp_path / "zh" / "notebooks").exists()
    translate.update(source_dir=source, catalogues=tmp_path / "zh" / "po")
    with pytest.raises(ValueError, match="not translated"):
        translate.build(source_dir=source, target=tmp_path / "zh")
    written = translate.build(allow_untranslated=True, source_dir=source, target=tmp_path / "zh")
    assert [path.relative_to(tmp_path).as_posix() for path in written] == ["zh/notebooks/01_small.ipynb",
                                                                          "zh/exercises/01_small.ipynb"]
    student = nbformat.read(tmp_path / "zh" / "exercises" / "01_small.ipynb", as_version=4)
    assert "练习版" in student.cells[1].source and "zh/notebooks/01_small.ipynb" in student.cells[1].source


# --- the committed catalogues and the Chinese edition -------------------------------------------------------


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.stem)
def test_the_catalogue_holds_every_text_of_its_notebook_translated_and_none_stale(path):
    notebook = nbformat.read(path, as_version=4)
    current = translate.catalogue_text(translate.updated_catalogue(notebook, path.name, catalogue(path)))
    on_disk = (translate.CATALOGUES / f"{path.stem}.po").read_text(encoding="utf-8")
    assert current == on_disk, (f"zh/po/{path.stem}.po is behind notebooks/{path.name}: run "
                                "`python tools/translate.py update`, then translate what it marks")
    problems = translate.problems(catalogue(path))
    assert not problems, f"{len(problems)} entries to translate in zh/po/{path.stem}.po:\n" + "\n".join(problems[:10])


def test_zh_is_what_the_tool_writes_today(tmp_path):
    (tmp_path / "zh").mkdir()
    (tmp_path / "zh" / "po").symlink_to(translate.CATALOGUES)
    written = translate.build(allow_untranslated=True, target=tmp_path / "zh")
    for path in written:
        relative = path.relative_to(tmp_path)
        committed = ROOT / relative
        assert committed.exists(), f"{relative} is missing: run `make zh`"
        assert committed.read_bytes() == path.read_bytes(), f"{relative} differs from what `make zh` writes"
    for folder in ("notebooks", "exercises"):
        extra = {p.name for p in (ROOT / "zh" / folder).glob("*.ipynb")} - {p.name for p in written
                                                                           if p.parent.name == folder}
        assert not extra, f"zh/{folder} holds notebooks with no English source: {sorted(extra)}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.stem)
def test_a_chinese_notebook_is_its_english_one_in_all_but_text(path):
    english = nbformat.read(path, as_version=4)
    chinese = nbformat.read(ROOT / "zh" / "notebooks" / path.name, as_version=4)
    assert [cell.get("id") for cell in chinese.cells] == [cell.get("id") for cell in english.cells]
    assert {key: value for key, value in chinese.metadata.items() if key != "d2lstyle"} == english.metadata
    for before, after in zip(english.cells, chinese.cells):
        assert after.cell_type == before.cell_type and after.metadata == before.metadata  # nbgrader, slides
        if before.cell_type == "code":
            assert translate.code_without_comments(after.source) == translate.code_without_comments(before.source)
            try:
                ast.parse(before.source)
            except SyntaxError:
                continue  # an IPython magic: nothing to compare
            ast.parse(after.source)  # a translated comment never breaks the code


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.stem)
def test_translations_keep_links_code_maths_numbers_markers_and_glossary_terms_in_simplified_characters(path):
    found = translate.check([path.stem])
    assert not found, f"{len(found)} problems:\n" + "\n".join(found[:15])


def test_the_checks_of_a_translation_find_each_kind_of_mistake():
    terms = translate.glossary()
    assert len(terms) >= 20 and len({english for english, _ in terms}) == len(terms)
    assert all(re.search(r"[\u4e00-\u9fff]", chinese) for _, chinese in terms)
    english_term = translate.english_term
    assert english_term("Gram matrix").search("two Gram matrices") and english_term("synthesised image").search(
        "the synthesized images") and english_term("style loss").search("two style losses")
    assert not english_term("style loss").search("a stylish loss")

    def problems(msgid, msgstr):
        return translate.translation_problems(polib.POEntry(msgid=msgid, msgstr=msgstr), terms)

    msgid = "## 2. The Gram matrix $G^l$ of `features` is [here](04_style_loss.ipynb): 1,600 numbers."
    right = "## 2. `features` 的格拉姆矩阵 $G^l$ 见[这里](04_style_loss.ipynb)：共 1600 个数。"
    assert problems(msgid, right) == []
    assert problems(msgid, right.replace("$G^l$", "G")) == ["maths: missing ['$G^l$'], added []"]
    assert problems(msgid, right.replace("04_style", "03_style"))[0].startswith("links:")
    assert problems(msgid, right.replace("`features`", "features"))[0].startswith("code:")
    assert problems(msgid, right.replace("1600", "一千六百"))[0].startswith("numbers:")
    assert problems(msgid, right.replace("## 2.", "### 2.")) == ["a heading of level 2 stays one"]
    assert problems(msgid, right.replace("格拉姆矩阵", "Gram 矩阵")) == ["'Gram matrix' is '格拉姆矩阵' (zh/glossary.tsv)"]
    assert problems(msgid, right.replace("这里", "這里"))[0].startswith("Traditional characters ['這']")
    assert problems("HINT: count the decays", "数一数衰减了几次")[0].startswith("a hint keeps its marker")


@pytest.mark.slow
def test_a_chinese_notebook_runs_and_its_checkers_answer_in_chinese(tmp_path):
    """One Chinese notebook runs in quick mode as CI runs the English ones, with D2LSTYLE_LANG=zh, as
    `make lab LANG=zh` starts JupyterLab: the checks it calls answer in Chinese. (Its code is the English
    notebook's, which tests/test_notebooks_run.py runs; one is enough to show the generated edition runs.)"""
    spec = importlib.util.spec_from_file_location("run_notebooks", ROOT / "tools" / "run_notebooks.py")
    run_notebooks = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(run_notebooks)
    settings = run_notebooks.settings_for(True, "zh")
    target = tmp_path / "01_images.ipynb"
    run_notebooks.execute(ROOT / "zh" / "notebooks" / "01_images.ipynb", target, settings,
                          run_notebooks.CELL_TIMEOUT["quick"])
    ran = nbformat.read(target, as_version=4)
    outputs = [output for cell in ran.cells if cell.cell_type == "code" for output in cell.outputs]
    assert not [output for output in outputs if output.output_type == "error"]
    printed = "".join(output.get("text", "") for output in outputs if output.output_type == "stream")
    passed = [line for line in printed.splitlines() if line.startswith(("resize_to_long_side", "preprocess",
                                                                          "postprocess"))]
    assert len(passed) == 3 and all(re.search(r"[\u4e00-\u9fff]", line) for line in passed), passed


def test_the_package_messages_catalogue_is_current_and_complete(tmp_path):
    copy = tmp_path / "zh_CN.po"
    copy.write_bytes(translate.MESSAGES.read_bytes())
    assert not translate.update_messages(copy), ("d2lstyle/locale/zh_CN.po is behind the checkers' messages: run "
                                                 "`python tools/translate.py messages`, then translate what it marks")
    found = translate.check(["messages"])
    assert not found, f"{len(found)} problems:\n" + "\n".join(found[:15])


def test_the_chinese_readme_links_both_ways_lists_every_notebook_and_its_links_resolve():
    english, chinese = (ROOT / "README.md").read_text(), (ROOT / "README.zh-CN.md").read_text()
    assert "](README.zh-CN.md)" in "\n".join(english.splitlines()[:4])
    assert "](README.md)" in "\n".join(chinese.splitlines()[:4])
    missing = [path.stem for path in NOTEBOOKS if f"| `{path.stem}` |" not in chinese]
    assert not missing, f"README.zh-CN.md's table has no row for {missing}"
    for target in re.findall(r'\]\(([^)#\s]+)\)|src="([^"]+)"', chinese):
        target = next(part for part in target if part)
        assert (ROOT / target).exists(), f"README.zh-CN.md links {target}, which does not exist"


def test_a_text_that_comes_back_gets_its_translation_back_and_an_unlike_one_does_not():
    notebook = small_notebook()
    first = translate.updated_catalogue(notebook, "01_small.ipynb", None)
    for entry in first:
        entry.msgstr = "译文"
    notebook.cells[1].source = "x = 1"  # its comments go: obsolete, translations kept
    gone = polib.pofile(translate.catalogue_text(translate.updated_catalogue(notebook, "01_small.ipynb", first)),
                        wrapwidth=0)
    assert sorted(entry.msgid for entry in gone if entry.obsolete) == ["HINT: return one", "the photo",
                                                                       "the tensors"]
    back = translate.updated_catalogue(small_notebook(comment="# a different note"), "01_small.ipynb", gone)
    by_id = {entry.msgid: entry for entry in back if not entry.obsolete}
    assert by_id["the tensors"].msgstr == "译文" and by_id["the tensors"].flags == []  # exactly as before
    assert by_id["a different note"].msgstr == ""  # not like any obsolete entry
    assert [entry.msgid for entry in back if entry.obsolete] == ["the photo"]


@pytest.mark.parametrize("path", sorted((ROOT / "exercises").glob("*.ipynb")), ids=lambda path: path.stem)
def test_a_chinese_student_version_has_the_english_ones_cells_and_grading(path):
    """Cell for cell, including the empty code cells of coding questions (which the Chinese labels (编程) and
    (实验) must bring about as (Coding) and (Experiment) do), so that a Chinese course grades the same way."""
    english = nbformat.read(path, as_version=4)
    chinese = nbformat.read(ROOT / "zh" / "exercises" / path.name, as_version=4)
    assert [(cell.get("id"), cell.cell_type, cell.metadata.get("nbgrader")) for cell in chinese.cells] == \
        [(cell.get("id"), cell.cell_type, cell.metadata.get("nbgrader")) for cell in english.cells]


def test_a_second_change_shows_the_whole_change_and_a_stale_entry_that_comes_back_is_still_stale():
    def update(notebook, old):
        return polib.pofile(translate.catalogue_text(translate.updated_catalogue(notebook, "01_small.ipynb", old)),
                            wrapwidth=0)

    first = "The Gram matrix forgets *where*."
    catalogue = update(small_notebook(paragraph=first), None)
    for entry in catalogue:
        entry.msgstr = "译文"
    once = "The Gram matrix forgets *where* things are."
    twice = "The Gram matrix forgets *where* the things are."
    catalogue = update(small_notebook(paragraph=twice), update(small_notebook(paragraph=once), catalogue))
    entry = next(entry for entry in catalogue if entry.msgid == twice)
    assert entry.flags == ["fuzzy"] and entry.previous_msgid == first  # not `once`: the Chinese is for `first`
    without = small_notebook(paragraph=twice)
    without.cells[0].source = "# Title"
    gone = update(without, catalogue)
    assert [(entry.msgid, entry.flags) for entry in gone if entry.obsolete and entry.msgid == twice] == \
        [(twice, ["fuzzy"])]
    back = update(small_notebook(paragraph=twice), gone)
    entry = next(entry for entry in back if entry.msgid == twice and not entry.obsolete)
    assert entry.msgstr == "译文" and entry.flags == ["fuzzy"]  # still to be checked by a translator


def test_a_plural_ending_may_be_left_out_of_a_translation_but_no_other_placeholder():
    def problems(msgid, msgstr):
        return translate.translation_problems(polib.POEntry(msgid=msgid, msgstr=msgstr), [])

    assert problems("wrote {0} ({1} input{2} in {3} s)", "已写出 {0}：{1} 个输入，用时 {3} 秒") == []
    assert problems("wrote {0} ({1} input{2} in {3} s)", "已写出 {0}：{1} 个输入{2}，用时 {3} 秒") == []
    assert problems("wrote {0} ({1} input{2} in {3} s)", "已写出 {0}：{1} 个输入，用时秒")[0].startswith("each placeholder")
    assert problems("not {0}x{1}", "而不是 {0}")[0].startswith("each placeholder")  # x{1} is a number, not an ending


# --- the Traditional Chinese edition (tools/traditional.py) -----------------------------------------------------

# Common characters whose Traditional form differs (们 -> 們, ...): none may be left in zh-TW/.
SIMPLIFIED_ONLY = set("们这个为与图数学层据损开关体实点线计经网络设区对应变测试页参义输处将会从时来后说还过两样种历权练习")
assert not SIMPLIFIED_ONLY & translate.TRADITIONAL_ONLY


def test_zh_tw_is_what_the_tool_writes_today(tmp_path):
    pytest.importorskip("opencc", reason="the test extra installs OpenCC (pip install -e .[test])")
    written = traditional.build(target=tmp_path)
    assert {path.relative_to(tmp_path) for path in written} == {path.relative_to(ROOT / "zh") for folder
                                                                in traditional.FOLDERS
                                                                for path in (ROOT / "zh" / folder).glob("*.ipynb")}
    for path in written:
        committed = ROOT / "zh-TW" / path.relative_to(tmp_path)
        assert committed.exists() and committed.read_bytes() == path.read_bytes(), \
            f"{committed.relative_to(ROOT)} differs from what `make zh` writes"
    extra = {path.relative_to(ROOT / "zh-TW") for path in (ROOT / "zh-TW").rglob("*.ipynb")} - \
        {path.relative_to(tmp_path) for path in written}
    assert not extra, f"zh-TW holds notebooks with no Simplified source: {sorted(map(str, extra))}"
    catalogue = tmp_path / "zh_TW.po"
    assert traditional.build_messages(target=catalogue)
    assert catalogue.read_bytes() == traditional.MESSAGES_TRADITIONAL.read_bytes(), \
        "d2lstyle/locale/zh_TW.po differs from what `make zh` writes"


@pytest.mark.parametrize("path", sorted((ROOT / "zh").glob("*/*.ipynb")),
                         ids=lambda path: path.parent.name + "/" + path.stem)
def test_a_traditional_notebook_is_the_simplified_one_in_traditional_characters(path):
    simplified = nbformat.read(path, as_version=4)
    converted = nbformat.read(ROOT / "zh-TW" / path.parent.name / path.name, as_version=4)
    assert converted.metadata["d2lstyle"]["language"] == "zh_TW"
    assert {key: value for key, value in converted.metadata.items() if key != "d2lstyle"} == \
        {key: value for key, value in simplified.metadata.items() if key != "d2lstyle"}
    assert [(cell.get("id"), cell.cell_type, cell.metadata) for cell in converted.cells] == \
        [(cell.get("id"), cell.cell_type, cell.metadata) for cell in simplified.cells]  # nbgrader, slides
    chinese_characters = 0
    for before, after in zip(simplified.cells, converted.cells):
        if before.cell_type == "code":
            assert translate.code_without_comments(after.source) == translate.code_without_comments(before.source)
        left = sorted(set(after.source) & SIMPLIFIED_ONLY)
        assert not left, f"cell {after.get('id')}: Simplified characters {left}"
        assert re.findall(r"\]\([^)]*\)", after.source) == re.findall(r"\]\([^)]*\)", before.source)  # links
        chinese_characters += len(re.findall(r"[\u4e00-\u9fff]", after.source))
    assert chinese_characters > 100  # Chinese text, not an English notebook
