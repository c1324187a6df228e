"""The Traditional Chinese edition (繁體中文, Taiwan's usage), converted from the Simplified one.

    python tools/traditional.py      (or: make zh, which runs it after tools/translate.py)

Writes zh-TW/notebooks/ and zh-TW/exercises/ from zh/notebooks/ and zh/exercises/, and
d2lstyle/locale/zh_TW.po from d2lstyle/locale/zh_CN.po, by OpenCC's phrase-level conversion for Taiwan
(configuration ``s2twp``: characters, then Taiwan's words, e.g. 图像 -> 影像, 文件 -> 檔案, 默认 -> 預設), with
a few terms kept as this series means them (:data:`TERMS`) and Taiwan's quotation marks 「」 in the prose.
Nothing is translated twice: the Simplified catalogues stay the only translation, so an English change that makes
a Simplified entry stale is fixed once, and this tool carries it over. Only the text changes: ids, metadata,
grading and code are the Simplified (and so the English) edition's; code is ASCII, which OpenCC leaves alone.
tests/test_translations.py checks that zh-TW/ is what this tool writes today and holds no Simplified character.
"""

import functools
import re
import sys
from pathlib import Path

import nbformat
import polib

ROOT = Path(__file__).resolve().parent.parent
SIMPLIFIED = ROOT / "zh"
TRADITIONAL = ROOT / "zh-TW"
MESSAGES = ROOT / "d2lstyle" / "locale" / "zh_CN.po"
MESSAGES_TRADITIONAL = ROOT / "d2lstyle" / "locale" / "zh_TW.po"
FOLDERS = ("notebooks", "exercises")
LANGUAGE = "zh_TW"
TAIWAN_QUOTES = str.maketrans("“”", "「」")  # Taiwan quotes with corner brackets (OpenCC keeps “”); prose only
# Terms OpenCC's Taiwan phrases get wrong for this series, and what they are in Taiwan's technical writing:
# 激活 (an activation) is not 啟用 (to enable), 质量 here is quality (品質), not mass (質量).
TERMS = {"激活": "激活", "质量": "品質", "实例归一化": "實例歸一化", "上采样": "上取樣", "下采样": "下取樣"}


@functools.lru_cache(maxsize=1)
def converter():
    try:
        import opencc
    except ImportError:
        raise ImportError("tools/traditional.py needs OpenCC: pip install opencc (in the test extra: "
                          "pip install -e .[test])") from None
    return opencc.OpenCC("s2twp")


def to_traditional(text):
    """``text`` in Traditional characters and Taiwan's words (:data:`TERMS` as this series needs them);
    everything that is not Chinese unchanged.

    >>> to_traditional("格拉姆矩阵的图像：默认 512 像素 (`--size`)，激活值的质量")
    '格拉姆矩陣的影像：預設 512 畫素 (`--size`)，激活值的品質'
    """
    kept = []  # each term becomes a private-use character OpenCC leaves alone, then its Taiwan form

    def keep(match):
        kept.append(TERMS[match.group()])
        return chr(0xE000 + len(kept) - 1)

    protected = re.sub("|".join(sorted(TERMS, key=len, reverse=True)), keep, text)
    return re.sub("[\uE000-\uF8FF]", lambda match: kept[ord(match.group()) - 0xE000], converter().convert(protected))


def traditional_notebook(notebook):
    """A copy of a Simplified notebook with every cell's text converted (and Taiwan's quotation marks in its
    prose) and its language set to zh_TW."""
    converted = nbformat.from_dict(notebook)  # a deep copy
    for cell in converted.cells:
        cell.source = to_traditional(cell.source)
        if cell.cell_type == "markdown":
            cell.source = cell.source.translate(TAIWAN_QUOTES)
    converted.metadata["d2lstyle"] = {**converted.metadata.get("d2lstyle", {}), "language": LANGUAGE}
    return converted


def build(source=SIMPLIFIED, target=TRADITIONAL):
    """Write target/notebooks/ and target/exercises/ from source's; return the paths written."""
    written = []
    for folder in FOLDERS:
        names = set()
        for path in sorted((Path(source) / folder).glob("*.ipynb")):
            out = Path(target) / folder / path.name
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text(nbformat.writes(traditional_notebook(nbformat.read(path, as_version=4))) + "\n",
                           encoding="utf-8")
            written.append(out)
            names.add(path.name)
        for stale in sorted((Path(target) / folder).glob("*.ipynb")):
            if stale.name not in names:
                stale.unlink()
    return written


def traditional_catalogue_text(simplified_text):
    """The message catalogue in Traditional Chinese: each msgstr converted, the English msgids as they are."""
    catalogue = polib.pofile(simplified_text)
    catalogue.metadata["Language"] = LANGUAGE
    for entry in catalogue:
        entry.msgstr = to_traditional(entry.msgstr)
    return str(catalogue).rstrip("\n") + "\n"  # as tools/translate.py writes zh_CN.po


def build_messages(source=MESSAGES, target=MESSAGES_TRADITIONAL):
    """Write the Traditional message catalogue; True when it changed."""
    text = traditional_catalogue_text(Path(source).read_text(encoding="utf-8"))
    if Path(target).exists() and Path(target).read_text(encoding="utf-8") == text:
        return False
    Path(target).write_text(text, encoding="utf-8")
    return True


def main():
    try:
        converter()
    except ImportError as error:
        print(error, file=sys.stderr)
        return 1
    written = build()
    changed = build_messages()
    print(f"traditional: wrote {len(written)} notebook(s) to {TRADITIONAL.relative_to(ROOT)}; "
          f"{MESSAGES_TRADITIONAL.relative_to(ROOT)} {'changed' if changed else 'unchanged'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
