"""Build the website of the series: every notebook with its outputs, a gallery, the student versions, search.

    python tools/make_book.py [--quick] [--lang zh] [--out DIR] [NAME ...]   (or: make book [QUICK=1] [LANG=zh])

1. Runs the notebooks (tools/run_notebooks.py): the original VGG-19 unless D2LSTYLE_NETWORK says otherwise,
   at the full settings, or in quick mode with --quick; a notebook that has not changed is not run again.
2. Stages the sources in build/book-src/{full,quick}: book/ (Sphinx's conf.py, the home page), the executed
   notebooks, each with a line after its title that links its student version, exercises/ (downloads), the
   gallery (gallery/*.jpg and gallery/CREDITS.md; a page that says how to make it when there is none), the
   reference pages (docs/*.md, the benchmarks' README.md and results.md, images/CREDITS.md, at the same paths as
   in the repository, so that their links between each other work on GitHub and in the site alike; a link to a
   repository file that the site does not hold becomes its text), and MathJax (from jupyter-server-mathjax) in
   _static/.
3. Runs Sphinx with myst-nb (``sphinx-build -W``: a warning fails the build) into DIR, by default build/book
   (build/book-quick with --quick). Open DIR/index.html in a browser; it needs no server and no internet.

NAMEs (e.g. 00_overview) build a site of those notebooks only, for a quick look at a page being written.

``--lang zh`` builds the Chinese site from zh/notebooks and zh/exercises, the notebooks run with D2LSTYLE_LANG=zh
(Chinese figure text) into build/executed/{full,quick}-zh, staged in build/book-src/{full,quick}-zh, with
book/index.zh.md as its home page and Sphinx in zh_CN (the search needs jieba), into build/book-zh
(build/book-quick-zh); the reference pages stay English.
"""

import argparse
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
BOOK = ROOT / "book"
GALLERY = ROOT / "gallery"
EXERCISES = ROOT / "exercises"
# The Chinese site (--lang zh): the notebooks and student versions of zh/, its own home page, Chinese captions
# and Sphinx in Chinese (language zh_CN: its search splits Chinese words with jieba); the reference pages stay
# English.
FOLDERS = {"en": (ROOT / "notebooks", EXERCISES), "zh": (ROOT / "zh" / "notebooks", ROOT / "zh" / "exercises")}
HOME_PAGES = {"en": BOOK / "index.md", "zh": BOOK / "index.zh.md"}
SPHINX_SETTINGS = {"en": [], "zh": ["-D", "language=zh_CN", "-D", "project=一步一步学神经风格迁移",
                               "-D", "html_title=一步一步学神经风格迁移"]}
TEXT = {
    "en": {
        "student": ("*Student version:* {{download}}`exercises/{name} <../exercises/{name}>`, the same notebook "
                    "with a `# TODO` cell for each exercise and \"YOUR ANSWER HERE\" for each written answer. This "
                    "page shows the solutions in place."),
        "no student": "*This notebook has no exercises, so there is no student version of it.*",
        "gallery": "Gallery",
        "no gallery": ("There is no gallery in this copy of the series yet. `make gallery` paints the bundled "
                       "photographs in the styles of the bundled paintings into `gallery/` (with the original "
                       "VGG-19, at 512 px: several minutes a picture on a CPU); `make book` then shows them here."),
        "gallery text": ("The bundled photographs painted in the styles of the bundled paintings by `make gallery`, "
                         "with the original VGG-19. Each picture keeps the licence of its photograph: see the "
                         "[credits](gallery/CREDITS.md)."),
        "caption": "{photo} in the style of {painting}",
        "versions": "Student versions",
        "versions text": ("The notebooks as a learner gets them (`exercises/` in the repository, made from "
                          "`notebooks/` by `make exercises`): each solution is a `# TODO` cell that raises "
                          "`NotImplementedError`, followed by a check cell that says whether your function is right "
                          "and, if not, the likely mistake. Download one, or open the folder with "
                          "`make lab DIR=exercises`."),
        "table": "| notebook | student version |", "no exercises": "(no exercises)",
    },
    "zh": {
        "student": ("*学生版*：{{download}}`exercises/{name} <../exercises/{name}>`，即同一本笔记本，每道编程题是一个 "
                    "`# TODO` 单元格，每道问答题写着“在此作答”。本页给出的是参考答案。"),
        "no student": "*这本笔记本没有练习，所以没有学生版。*",
        "gallery": "画廊",
        "no gallery": ("这份副本还没有画廊。`make gallery` 会把自带的照片按自带画作的风格画到 `gallery/` 中（用原版 "
                       "VGG-19，512 像素：在 CPU 上每张几分钟）；之后 `make book LANG=zh` 就会在这里显示它们。"),
        "gallery text": ("`make gallery` 用原版 VGG-19 按自带画作的风格画出的自带照片。每张图都沿用其照片的许可："
                         "见[来源](gallery/CREDITS.md)（英文）。"),
        "caption": "按{painting}的风格画的{photo}",
        "versions": "学生版",
        "versions text": ("学习者拿到的笔记本（仓库中的 `zh/exercises/`，由 `make zh` 根据 `zh/notebooks/` 生成）："
                          "每个答案都换成了一个会引发 `NotImplementedError` 的 `# TODO` 单元格，后面的检查单元格会"
                          "告诉你函数是否正确，不正确时最可能错在哪里。可以下载单本，也可以用 "
                          "`make lab DIR=exercises LANG=zh` 打开整个文件夹。"),
        "table": "| 笔记本 | 学生版 |", "no exercises": "（没有练习）",
    },
}
# Chinese names of the bundled pictures, for the gallery's captions.
PICTURE_NAMES_ZH = {"tubingen": "图宾根", "rainier": "雷尼尔山", "astronaut": "宇航员", "chelsea": "猫 Chelsea",
                    "coffee": "咖啡", "starry_night": "《星夜》", "great_wave": "《神奈川冲浪里》",
                    "the_scream": "《呐喊》", "shipwreck": "《沉船》", "composition_vii": "《构图第七号》",
                    "water_lilies": "《睡莲》"}
# The reference section: repository files staged at their own paths (book/index.md lists the pages).
REFERENCE = ["docs/*.md", "benchmarks/README.md", "benchmarks/results.md", "benchmarks/*.png", "images/CREDITS.md"]
LINK = re.compile(r"(!?)\[([^\]]*)\]\(([^)\s]+)\)")

sys.path.insert(0, str(Path(__file__).resolve().parent))
import make_slides  # noqa: E402 - tools/make_slides.py: finds the MathJax copy
import run_notebooks  # noqa: E402 - tools/run_notebooks.py


class BuildFailed(Exception):
    """Sphinx stopped, or warned (which -W turns into a failure)."""


def links_cell(name, language="en"):
    """The markdown cell put after a notebook's title on its page: where its student version is."""
    if (FOLDERS[language][1] / name).is_file():
        text = TEXT[language]["student"].format(name=name)
    else:
        text = TEXT[language]["no student"]
    cell = nbformat.v4.new_markdown_cell(text)
    cell.pop("id", None)
    return cell


def stage_notebook(path, executed, target, language="en"):
    """Write the notebook at ``path`` with its outputs (saved in ``executed``) and its links to ``target``."""
    notebook = run_notebooks.with_outputs(path, executed)
    if language != "en":  # zh/notebooks is one folder deeper than the site's notebooks/: links lose a ../
        for cell in notebook.cells:
            if cell.cell_type == "markdown":
                cell.source = re.sub(r'(\]\(|src=")\.\./\.\./', r"\1../", cell.source)
    at = 1 if notebook.cells and notebook.cells[0].cell_type == "markdown" else 0
    cell = links_cell(path.name, language)
    if notebook.nbformat_minor >= 5:
        cell["id"] = "student-version-link"
    notebook.cells.insert(at, cell)
    target.write_text(nbformat.writes(notebook), encoding="utf-8")


def gallery_page(pictures, language="en"):
    """The text of gallery.md for the pictures in gallery/ (a page saying how to make them when there are none)."""
    text = TEXT[language]
    lines = [f"# {text['gallery']}", ""]
    if not pictures:
        return "\n".join(lines + [text["no gallery"], ""])
    lines += [text["gallery text"], ""]
    for picture in pictures:
        photo, _, painting = picture.stem.partition("--")
        if language == "zh":
            photo, painting = PICTURE_NAMES_ZH.get(photo, photo), PICTURE_NAMES_ZH.get(painting, painting)
        caption = (text["caption"].format(photo=photo.replace("_", " "), painting=painting.replace("_", " "))
                   if painting else picture.stem)
        lines += [f"```{{figure}} gallery/{picture.name}", f":alt: {caption}", ":width: 100%", "", caption, "```", ""]
    lines += ["```{toctree}", ":hidden:", "", "gallery/CREDITS", "```", ""]
    return "\n".join(lines)


def student_versions_page(names, language="en"):
    text = TEXT[language]
    lines = [f"# {text['versions']}", "", text["versions text"], "", text["table"], "|---|---|"]
    for name in names:
        page = f"[{Path(name).stem}](notebooks/{Path(name).stem}.ipynb)"
        if (FOLDERS[language][1] / name).is_file():
            lines.append(f"| {page} | {{download}}`{name} <exercises/{name}>` |")
        else:
            lines.append(f"| {page} | {text['no exercises']} |")
    return "\n".join(lines + [""])


def site_links(text, page, source):
    """The markdown ``text`` of ``page`` (a file in the staged ``source``) with each relative link to something
    that is not a page of the site (a folder, a Python file, a notebook left out of a partial build, a student
    version) turned into its text, which names the repository file; on GitHub the link opens it."""
    def rewrite(match):
        image, label, target = match.groups()
        if image or re.match(r"[A-Za-z][A-Za-z0-9+.-]*:|#", target):
            return match.group(0)
        path = (page.parent / target.split("#", 1)[0]).resolve()
        is_page = (path.suffix in (".md", ".ipynb") and path.is_file() and path.is_relative_to(source.resolve())
                   and not path.is_relative_to((source / "exercises").resolve()))
        return match.group(0) if is_page else label
    lines, fenced = [], False
    for line in text.splitlines(keepends=True):
        if line.lstrip().startswith("```"):
            fenced = not fenced
        lines.append(line if fenced else LINK.sub(rewrite, line))
    return "".join(lines)


def stage_reference(source):
    """Copy the reference pages (REFERENCE) into ``source`` at their repository paths, then fix their links."""
    pages = []
    for pattern in REFERENCE:
        for path in sorted(ROOT.glob(pattern)):
            target = source / path.relative_to(ROOT)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(path, target)
            if target.suffix == ".md":
                pages.append(target)
    for page in pages:
        page.write_text(site_links(page.read_text(encoding="utf-8"), page, source), encoding="utf-8")


def stage(executed_dir, paths, source, language="en"):
    """Lay out the Sphinx sources for ``paths`` (executed into ``executed_dir``) in ``source``."""
    if source.exists():
        shutil.rmtree(source)
    shutil.copytree(BOOK, source, ignore=shutil.ignore_patterns("__pycache__", "index*.md"))
    shutil.copy(HOME_PAGES[language], source / "index.md")
    shutil.copytree(make_slides.mathjax_folder(), source / "_static" / "mathjax")
    (source / "notebooks").mkdir()
    for path in paths:
        stage_notebook(path, executed_dir / path.name, source / "notebooks" / path.name, language)
    (source / "exercises").mkdir()
    for path in sorted(FOLDERS[language][1].glob("*.ipynb")):
        shutil.copy(path, source / "exercises" / path.name)
    pictures = sorted(GALLERY.glob("*.jpg")) if GALLERY.is_dir() else []
    if pictures:
        (source / "gallery").mkdir()
        for picture in pictures:
            shutil.copy(picture, source / "gallery" / picture.name)
        credits = GALLERY / "CREDITS.md"
        credits_text = credits.read_text(encoding="utf-8") if credits.is_file() else (
            "# Gallery: credits\n\nNo gallery/CREDITS.md in this copy: each picture keeps the licence of its "
            "photograph (images/CREDITS.md).\n")
        (source / "gallery" / "CREDITS.md").write_text(credits_text, encoding="utf-8")
    (source / "gallery.md").write_text(gallery_page(pictures, language), encoding="utf-8")
    (source / "student_versions.md").write_text(student_versions_page([path.name for path in paths], language),
                                                encoding="utf-8")
    stage_reference(source)
    for page in sorted((source / "notebooks").glob("*.ipynb")):  # a link to a notebook left out becomes its text
        notebook = nbformat.read(page, as_version=4)
        for cell in notebook.cells:
            if cell.cell_type == "markdown":
                cell.source = site_links(cell.source, page, source)
        page.write_text(nbformat.writes(notebook), encoding="utf-8")


def sphinx(source, out, doctrees, log=print, language="en"):
    """Run sphinx-build -W on ``source`` into ``out``; raise BuildFailed with its messages if it warns or fails."""
    command = [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html", "-d", str(doctrees),
               *SPHINX_SETTINGS[language], str(source), str(out)]
    run = subprocess.run(command, capture_output=True, text=True)
    messages = (run.stdout + run.stderr).strip()
    if run.returncode != 0 or "WARNING" in messages:
        raise BuildFailed(f"sphinx-build failed (status {run.returncode}):\n{messages}")
    if messages:
        log(messages)


def make_book(quick, out, names=(), log=print, language="en"):
    """Run the notebooks (all, or those named) where needed, stage the sources and build the site into ``out``;
    return the path of its index.html. ``language="zh"``: the Chinese site, from zh/."""
    mode = "quick" if quick else "full"
    folder = mode if language == "en" else f"{mode}-{language}"
    paths = run_notebooks.select(list(names), FOLDERS[language][0])
    executed = ROOT / "build" / "executed" / folder
    run_notebooks.run(paths, executed, quick, log=log, language=language)
    source = ROOT / "build" / "book-src" / folder
    stage(executed, paths, source, language)
    sphinx(source, out, ROOT / "build" / "book-doctrees" / folder, log=log, language=language)
    log(f"make_book: wrote the site to {out}; open {out / 'index.html'}")
    return out / "index.html"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("names", nargs="*", help="notebooks (default: all), e.g. 00_overview")
    parser.add_argument("--quick", action="store_true", help="quick mode: small pictures, few steps (minutes)")
    parser.add_argument("--out", help="folder for the site (default build/book or build/book-quick; with "
                                      "--lang zh, build/book-zh or build/book-quick-zh)")
    parser.add_argument("--lang", choices=["en", "zh"], default="en",
                        help="zh: the Chinese site, from zh/notebooks and zh/exercises")
    args = parser.parse_args(argv)
    folder = "book-quick" if args.quick else "book"
    out = Path(args.out) if args.out else ROOT / "build" / (folder if args.lang == "en" else f"{folder}-zh")
    try:
        make_book(args.quick, out, args.names, language=args.lang)
    except (make_slides.MissingPackage, run_notebooks.NotebookFailed, BuildFailed) as error:
        print(f"make_book: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
