"""Build the website of the series: every notebook with its outputs, a gallery, the student versions, search.

    python tools/make_book.py [--quick] [--out DIR] [NAME ...]     (or: make book [QUICK=1])

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
# The reference section: repository files staged at their own paths (book/index.md lists the pages).
REFERENCE = ["docs/*.md", "benchmarks/README.md", "benchmarks/results.md", "benchmarks/*.png", "images/CREDITS.md"]
LINK = re.compile(r"(!?)\[([^\]]*)\]\(([^)\s]+)\)")

sys.path.insert(0, str(Path(__file__).resolve().parent))
import make_slides  # noqa: E402 - tools/make_slides.py: finds the MathJax copy
import run_notebooks  # noqa: E402 - tools/run_notebooks.py


class BuildFailed(Exception):
    """Sphinx stopped, or warned (which -W turns into a failure)."""


def links_cell(name):
    """The markdown cell put after a notebook's title on its page: where its student version is."""
    if (EXERCISES / name).is_file():
        text = (f"*Student version:* {{download}}`exercises/{name} <../exercises/{name}>`, the same notebook "
                "with a `# TODO` cell for each exercise and \"YOUR ANSWER HERE\" for each written answer. This page "
                "shows the solutions in place.")
    else:
        text = "*This notebook has no exercises, so there is no student version of it.*"
    cell = nbformat.v4.new_markdown_cell(text)
    cell.pop("id", None)
    return cell


def stage_notebook(path, executed, target):
    """Write the notebook at ``path`` with its outputs (saved in ``executed``) and its links to ``target``."""
    notebook = run_notebooks.with_outputs(path, executed)
    at = 1 if notebook.cells and notebook.cells[0].cell_type == "markdown" else 0
    cell = links_cell(path.name)
    if notebook.nbformat_minor >= 5:
        cell["id"] = "student-version-link"
    notebook.cells.insert(at, cell)
    target.write_text(nbformat.writes(notebook), encoding="utf-8")


def gallery_page(pictures):
    """The text of gallery.md for the pictures in gallery/ (a page saying how to make them when there are none)."""
    lines = ["# Gallery", ""]
    if not pictures:
        return "\n".join(lines + [
            "There is no gallery in this copy of the series yet. `make gallery` paints the bundled photographs in "
            "the styles of the bundled paintings into `gallery/` (with the original VGG-19, at 512 px: several "
            "minutes a picture on a CPU); `make book` then shows them here.", ""])
    lines += ["The bundled photographs painted in the styles of the bundled paintings by `make gallery`, with the "
              "original VGG-19. Each picture keeps the licence of its photograph: see the "
              "[credits](gallery/CREDITS.md).", ""]
    for picture in pictures:
        photo, _, painting = picture.stem.partition("--")
        caption = (f"{photo.replace('_', ' ')} in the style of {painting.replace('_', ' ')}" if painting
                   else picture.stem)
        lines += [f"```{{figure}} gallery/{picture.name}", f":alt: {caption}", ":width: 100%", "", caption, "```", ""]
    lines += ["```{toctree}", ":hidden:", "", "gallery/CREDITS", "```", ""]
    return "\n".join(lines)


def student_versions_page(names):
    lines = ["# Student versions", "",
             "The notebooks as a learner gets them (`exercises/` in the repository, made from `notebooks/` by "
             "`make exercises`): each solution is a `# TODO` cell that raises `NotImplementedError`, followed by a "
             "check cell that says whether your function is right and, if not, the likely mistake. Download one, "
             "or open the folder with `make lab DIR=exercises`.", "",
             "| notebook | student version |", "|---|---|"]
    for name in names:
        page = f"[{Path(name).stem}](notebooks/{Path(name).stem}.ipynb)"
        if (EXERCISES / name).is_file():
            lines.append(f"| {page} | {{download}}`{name} <exercises/{name}>` |")
        else:
            lines.append(f"| {page} | (no exercises) |")
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


def stage(executed_dir, paths, source):
    """Lay out the Sphinx sources for ``paths`` (executed into ``executed_dir``) in ``source``."""
    if source.exists():
        shutil.rmtree(source)
    shutil.copytree(BOOK, source, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(make_slides.mathjax_folder(), source / "_static" / "mathjax")
    (source / "notebooks").mkdir()
    for path in paths:
        stage_notebook(path, executed_dir / path.name, source / "notebooks" / path.name)
    (source / "exercises").mkdir()
    for path in sorted(EXERCISES.glob("*.ipynb")):
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
    (source / "gallery.md").write_text(gallery_page(pictures), encoding="utf-8")
    (source / "student_versions.md").write_text(student_versions_page([path.name for path in paths]),
                                                encoding="utf-8")
    stage_reference(source)


def sphinx(source, out, doctrees, log=print):
    """Run sphinx-build -W on ``source`` into ``out``; raise BuildFailed with its messages if it warns or fails."""
    command = [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html", "-d", str(doctrees),
               str(source), str(out)]
    run = subprocess.run(command, capture_output=True, text=True)
    messages = (run.stdout + run.stderr).strip()
    if run.returncode != 0 or "WARNING" in messages:
        raise BuildFailed(f"sphinx-build failed (status {run.returncode}):\n{messages}")
    if messages:
        log(messages)


def make_book(quick, out, names=(), log=print):
    """Run the notebooks (all, or those named) where needed, stage the sources and build the site into ``out``;
    return the path of its index.html."""
    mode = "quick" if quick else "full"
    paths = run_notebooks.select(list(names))
    executed = ROOT / "build" / "executed" / mode
    run_notebooks.run(paths, executed, quick, log=log)
    source = ROOT / "build" / "book-src" / mode
    stage(executed, paths, source)
    sphinx(source, out, ROOT / "build" / "book-doctrees" / mode, log=log)
    log(f"make_book: wrote the site to {out}; open {out / 'index.html'}")
    return out / "index.html"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("names", nargs="*", help="notebooks (default: all), e.g. 00_overview")
    parser.add_argument("--quick", action="store_true", help="quick mode: small pictures, few steps (minutes)")
    parser.add_argument("--out", help="folder for the site (default build/book or build/book-quick)")
    args = parser.parse_args(argv)
    out = Path(args.out) if args.out else ROOT / "build" / ("book-quick" if args.quick else "book")
    try:
        make_book(args.quick, out, args.names)
    except (make_slides.MissingPackage, run_notebooks.NotebookFailed, BuildFailed) as error:
        print(f"make_book: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
