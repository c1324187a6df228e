"""Count the words a reader reads in the notebooks' markdown: the length of the series.

    python tools/word_count.py [PATH ...]          one line per notebook, then the total (default: notebooks/*.ipynb)
    python tools/word_count.py --max 24000         ... and exit 1 when the total is over 24,000

A word is a run of letters or digits (with ' . - inside it: "don't", "1e-2", "relu4_2" count once) in a markdown
cell, outside maths (``$...$`` and ``$$...$$``), outside HTML comments and outside the addresses of links and
pictures (``[text](address)`` counts its text only). Code cells are not counted: they are read as code.
"""

import argparse
import re
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
DISPLAY_MATHS = re.compile(r"\$\$.*?\$\$", re.DOTALL)
INLINE_MATHS = re.compile(r"(?<!\\)\$[^$\n]+?(?<!\\)\$")
COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
LINK_ADDRESS = re.compile(r"(\]\()[^)\s]*(\))")
WORD = re.compile(r"[^\W_](?:[\w'’.-]*[^\W_])?")


def words(markdown):
    """The number of words in one markdown text, maths, comments and link addresses left out.

    >>> words("The Gram matrix $G = F F^T$ of [layer relu1_1](02_features.ipynb#x) is $$\\sum_k F_{ik}$$ symmetric.")
    8
    """
    text = DISPLAY_MATHS.sub(" ", markdown)
    text = INLINE_MATHS.sub(" ", text)
    text = COMMENT.sub(" ", text)
    text = LINK_ADDRESS.sub(r"\1\2", text)
    return len(WORD.findall(text))


def notebook_words(path):
    """The words of every markdown cell of the notebook at ``path``."""
    notebook = nbformat.read(path, as_version=4)
    return sum(words(cell.source) for cell in notebook.cells if cell.cell_type == "markdown")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("paths", nargs="*", type=Path, help="notebooks (default: notebooks/*.ipynb)")
    parser.add_argument("--max", type=int, default=None, help="exit 1 when the total is over this many words")
    args = parser.parse_args(argv)
    paths = args.paths or sorted((ROOT / "notebooks").glob("*.ipynb"))
    total = 0
    for path in paths:
        count = notebook_words(path)
        total += count
        print(f"{count:7,d}  {path.name}")
    print(f"{total:7,d}  in all")
    if args.max is not None and total > args.max:
        print(f"over the limit of {args.max:,d} words by {total - args.max:,d}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
