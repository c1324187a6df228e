"""Write reveal.js slides of the series, with outputs made by running the notebooks, that work offline.

    python tools/make_slides.py [--quick] [--lang zh] [--out DIR] [NAME ...]   (or: make slides [QUICK=1] [LANG=zh])

Runs the notebooks first (tools/run_notebooks.py: the original VGG-19 unless D2LSTYLE_NETWORK says otherwise;
a notebook that has not changed is not run again), then converts each into DIR/NN_name.slides.html with
``jupyter nbconvert --to slides``'s exporter and the template in slides/template/, and writes DIR/index.html,
a list of the decks. DIR defaults to build/slides (build/slides-quick with --quick). With --lang zh the decks
are those of the Chinese edition, zh/notebooks, run with D2LSTYLE_LANG=zh (Chinese figure text), into
build/slides-zh (build/slides-quick-zh).

Which cell goes on which slide is the cells' slide metadata (tools/slide_metadata.py). Nothing is loaded
from the internet when a deck is shown: reveal.js (from the sphinx-revealjs package) and MathJax 2 (from
jupyter-server-mathjax) are copied into DIR/reveal.js and DIR/mathjax, and the figures are inside the HTML.
Open a deck in any browser: arrows (or space) move on, Esc shows all slides, S opens the speaker notes.
"""

import argparse
import html
import importlib.util
import shutil
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = ROOT / "slides"
MATHJAX_CONFIG = "TeX-AMS-MML_HTMLorMML-full,Safe"

sys.path.insert(0, str(Path(__file__).resolve().parent))
import run_notebooks  # noqa: E402 - tools/run_notebooks.py, next to this file


class MissingPackage(Exception):
    """A package that holds files the slides need is not installed."""


def package_folder(module, *parts):
    """The folder ``parts`` inside the installed package ``module``, or MissingPackage saying how to install it."""
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        name = module.replace("_", "-")
        raise MissingPackage(f"the package {name} is not installed: pip install -e '.[course]' (or: make slides)")
    return Path(next(iter(spec.submodule_search_locations)), *parts)


def reveal_js_folder():
    """reveal.js (dist/ and plugin/), as the sphinx-revealjs package ships it."""
    return package_folder("sphinx_revealjs", "_static", "revealjs")


def mathjax_folder():
    """MathJax 2.7, as the jupyter-server-mathjax package ships it."""
    return package_folder("jupyter_server_mathjax", "static")


def copy_assets(out):
    """Copy reveal.js and MathJax into ``out`` (once: an existing copy is kept)."""
    for source, name in ((reveal_js_folder(), "reveal.js"), (mathjax_folder(), "mathjax")):
        if not (out / name).is_dir():
            shutil.copytree(source, out / name, ignore=shutil.ignore_patterns("*.map", "css", "test", "examples"))


def exporter():
    from nbconvert import SlidesExporter

    return SlidesExporter(template_name="template", extra_template_basedirs=[str(TEMPLATES)],
                          reveal_url_prefix="reveal.js", mathjax_url=f"mathjax/MathJax.js?config={MATHJAX_CONFIG}",
                          reveal_theme="white", reveal_transition="none", reveal_number="c/t",
                          exclude_input_prompt=True, exclude_output_prompt=True)


def convert(path, executed, out):
    """Write the deck of the notebook at ``path``, with the outputs saved in ``executed``, into ``out``."""
    notebook = run_notebooks.with_outputs(path, executed)
    body, _ = exporter().from_notebook_node(notebook, resources={"metadata": {"name": path.stem}})
    target = out / f"{path.stem}.slides.html"
    target.write_text(body, encoding="utf-8")
    return target


def title_of(notebook_path):
    notebook = nbformat.read(notebook_path, as_version=4)
    first = notebook.cells[0].source.splitlines()[0] if notebook.cells else notebook_path.stem
    return first.lstrip("# ").strip()


INDEX_TEXT = {
    "en": ("en", "d2lstyle: slides", "Neural style transfer, step by step: slides",
           "One deck per notebook ({mode} settings). Arrows or space move on, Esc shows every slide, S opens the "
           "speaker notes. Made by <code>make slides</code> from the notebooks in <code>notebooks/</code>."),
    "zh": ("zh-CN", "d2lstyle：幻灯片", "一步一步学神经风格迁移：幻灯片",
           "每本笔记本一套幻灯片（{mode}设置）。方向键或空格键翻页，Esc 显示全部幻灯片，S 打开演讲者备注。由 "
           "<code>make slides LANG=zh</code> 根据 <code>zh/notebooks/</code> 中的笔记本生成。"),
}
MODE_NAMES = {"en": {"quick": "quick", "full": "full"}, "zh": {"quick": "快速", "full": "完整"}}


def write_index(decks, out, mode, language="en"):
    lang, title, heading, text = INDEX_TEXT[language]
    items = "\n".join(f'  <li><a href="{deck.name}">{html.escape(title_of(source))}</a></li>'
                      for deck, source in decks)
    (out / "index.html").write_text(f"""<!DOCTYPE html>
<html lang="{lang}"><head><meta charset="utf-8"><title>{title}</title></head>
<body style="font-family: sans-serif; max-width: 50em; margin: 2em auto">
<h1>{heading}</h1>
<p>{text.format(mode=MODE_NAMES[language][mode])}</p>
<ul>
{items}
</ul>
</body></html>
""", encoding="utf-8")


def make_slides(paths, out, quick, log=print, language="en"):
    """Run the notebooks at ``paths`` (where needed; with ``language="zh"``, those of zh/notebooks with Chinese
    messages and figure text) and write their decks and an index into ``out``."""
    mode = "quick" if quick else "full"
    executed = ROOT / "build" / "executed" / (mode if language == "en" else f"{mode}-{language}")
    run_notebooks.run(paths, executed, quick, log=log, language=language)
    out.mkdir(parents=True, exist_ok=True)
    copy_assets(out)
    decks = [(convert(path, executed / path.name, out), path) for path in paths]
    write_index(decks, out, mode, language)
    log(f"make_slides: wrote {len(decks)} deck(s) to {out}; open {out / 'index.html'}")
    return [deck for deck, _ in decks]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("names", nargs="*", help="notebooks (default: all), e.g. 00_overview")
    parser.add_argument("--quick", action="store_true", help="quick mode: small pictures, few steps (minutes)")
    parser.add_argument("--out", help="folder for the decks (default build/slides or build/slides-quick; "
                                      "with --lang zh, build/slides-zh or build/slides-quick-zh)")
    parser.add_argument("--lang", choices=["en", "zh"], default="en",
                        help="zh: the Chinese edition (zh/notebooks), with Chinese figure text")
    args = parser.parse_args(argv)
    folder = "slides-quick" if args.quick else "slides"
    out = Path(args.out) if args.out else ROOT / "build" / (folder if args.lang == "en" else f"{folder}-zh")
    source = run_notebooks.NOTEBOOKS if args.lang == "en" else ROOT / "zh" / "notebooks"
    try:
        make_slides(run_notebooks.select(args.names, source), out, args.quick, language=args.lang)
    except (MissingPackage, run_notebooks.NotebookFailed) as error:
        print(f"make_slides: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
