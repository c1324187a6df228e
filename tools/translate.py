"""The Chinese edition: translation catalogues kept in step with notebooks/, and the notebooks built from them.

    python tools/translate.py update     refresh zh/po/NAME.po from notebooks/NAME.ipynb (make zh runs both)
    python tools/translate.py build      write zh/notebooks/ and zh/exercises/ from notebooks/ and zh/po/
    python tools/translate.py status     how many entries of each catalogue are translated, stale or missing
    python tools/translate.py check [NAME ...]   every problem of the translations (all, or those named)
    python tools/translate.py messages   refresh d2lstyle/locale/zh_CN.po (the package's messages and figure text)

The English notebooks are the source. A catalogue (a gettext PO file, one per notebook) holds one entry per
piece of text a reader reads:

- each paragraph of a markdown cell (the text between blank lines; a fenced code block and a display-maths
  block are copied, not translated);
- each comment of a code cell: a run of whole-line comments as one entry, each comment after code as one.
  ``# BEGIN SOLUTION`` and ``# END SOLUTION`` stay as they are; a ``# HINT:`` comment keeps its marker, so that
  tools/make_exercises.py finds it in the Chinese notebook too.

An entry is keyed by its English text (``msgid``), and its ``#:`` line says where it occurs (notebook and cell
id). ``update`` adds new text untranslated, and when a paragraph of a cell changes it moves the old translation
to the new text marked **fuzzy** (stale) with the old English as ``#| msgid``: the translator compares, updates,
and removes the mark. Entries no longer used become obsolete (``#~``). ``build`` refuses a catalogue with
stale or missing entries unless ``--allow-untranslated`` (the English then stands in), writes each Chinese
notebook (the same cells, ids, metadata and code; only the text above and the placeholders of the student
version differ), and the student versions with tools/make_exercises.py. Links that leave notebooks/
(``../docs/...``) get one more ``../``, as zh/notebooks/ is one folder deeper. The output depends only on the
input: tests/test_translations.py checks that zh/ is what ``build`` writes today.
"""

import argparse
import ast
import csv
import difflib
import io
import re
import sys
import tokenize
import unicodedata
from pathlib import Path

import nbformat
import polib

sys.path.insert(0, str(Path(__file__).resolve().parent))
import make_exercises  # noqa: E402 - tools/make_exercises.py, next to this file

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "notebooks"
ZH = ROOT / "zh"
CATALOGUES = ZH / "po"
LANGUAGE = "zh_CN"
FENCE = re.compile(r"^\s*(```|~~~)")
KEPT_COMMENTS = {"# BEGIN SOLUTION", "# END SOLUTION"}
MACHINE_COMMENT = re.compile(r"#\s*(NBVAL_\w+|noqa\b.*|type:\s*ignore.*|pragma\b.*)$")  # read by tools: kept
HINT = "HINT:"
GLOSSARY = ZH / "glossary.tsv"
MESSAGES = ROOT / "d2lstyle" / "locale" / "zh_CN.po"
# The modules whose messages d2lstyle.i18n translates: the exercise checkers, the advice at the end of a run, the
# command-line tools' help and errors, and every error a user can meet (d2lstyle.errors translates them).
MESSAGE_MODULES = sorted((ROOT / "d2lstyle" / "exercises").glob("*.py")) + [
    ROOT / "d2lstyle" / name for name in (
        "diagnosis.py", "quality.py", "plotting.py", "settings.py", "command_line.py", "cli.py", "painter_cli.py",
        "numbers.py", "checkpoints.py", "colour.py", "controls.py", "devices.py", "losses.py", "masks.py",
        "networks.py", "recipes.py", "runlog.py", "tiles.py", "training.py", "transfer.py", "vgg.py", "video.py",
        "files.py", "images.py", "painter/model_file.py", "painter/training.py", "painter/photos.py",
        "painter/network.py", "painter/settings.py")]
# The modules whose figure text (titles, labels; not their other strings, such as colours) is translated.
FIGURE_MODULES = [ROOT / "d2lstyle" / "plotting.py"]
SIMILAR_ENOUGH = 0.5  # difflib ratio above which a changed paragraph inherits the old one's translation (fuzzy)
SIMILAR_OBSOLETE = 0.8  # ... the translation of an obsolete entry, which may come from anywhere in the file

# What the student versions say in Chinese (tools/make_exercises.py's English strings, translated here).
STUDENT_TEXT = {
    "answer": "在此作答",
    "code_answer": "# 在这里写这道题的代码；它显示了什么，写在下面的单元格里。",
    "generic_hint": "写出这一部分，然后删掉下面的 `raise` 这一行",
    "coding_label": r"（(?:编程|实验)）|\((?:编程|实验|Coding|Experiment)\)",
    "note": ("> **练习版**：由 `make zh` 根据 `{source}` 生成（要修改请改原文，不要改这份副本）。"
             "补全每个标有 `# TODO` 的单元格并删掉其中的 `raise NotImplementedError`，运行它，再运行它后面的"
             "检查单元格。在写着“在此作答”的地方写下你的回答；编程题的作答处前面有一个空的代码单元格，供你写代码。"
             "参考答案在 `{source}` 中。"),
}


# --- the pieces of text of a notebook ---------------------------------------------------------------------


def markdown_pieces(source):
    """A markdown cell's source as a list of (text, translatable) pieces whose concatenation is the source.

    Paragraphs (runs of non-blank lines) are translatable unless they are a fenced code block or consist of
    display maths only ($$ ... $$); blank lines and fences are kept as they are.
    """
    pieces, paragraph, fence = [], [], []
    lines = source.splitlines(keepends=True)

    def end_paragraph():
        if paragraph:
            text = "".join(paragraph)
            body = text.rstrip("\n")
            pieces.append((body, is_prose(body)))
            if text != body:
                pieces.append((text[len(body):], False))
            paragraph.clear()

    for line in lines:
        if fence:
            fence.append(line)
            if FENCE.match(line):
                pieces.append(("".join(fence), False))
                fence.clear()
        elif FENCE.match(line):
            end_paragraph()
            fence.append(line)
        elif not line.strip():
            end_paragraph()
            pieces.append((line, False))
        else:
            paragraph.append(line)
    end_paragraph()
    if fence:
        pieces.append(("".join(fence), False))
    return merge_verbatim(pieces)


def is_prose(text):
    """Whether a paragraph or comment holds words to translate (not only maths, not only an HTML comment, not a
    comment that tools read, such as nbval's ``# NBVAL_CHECK_OUTPUT``)."""
    if MACHINE_COMMENT.fullmatch(text.strip()):
        return False
    words = re.sub(r"\$\$.*?\$\$|<!--.*?-->", "", text, flags=re.DOTALL)
    return bool(re.search(r"[A-Za-z]{2}", words))


def merge_verbatim(pieces):
    merged = []
    for text, translatable in pieces:
        if merged and not translatable and not merged[-1][1]:
            merged[-1] = (merged[-1][0] + text, False)
        else:
            merged.append((text, translatable))
    return merged


def comment_pieces(source):
    """A code cell's source as (text, kind) pieces whose concatenation is the source. kind is None for code
    (kept), "block" for a run of whole-line comments at one indentation (the text without "# ", lines joined
    by newlines) and "inline" for a comment after code; each comment piece is (indent_or_prefix, text)."""
    lines = source.splitlines(keepends=True)
    inline = inline_comments(source)
    pieces, index = [], 0
    while index < len(lines):
        line = lines[index]
        stripped = line.strip()
        if stripped.startswith("#") and stripped not in KEPT_COMMENTS and is_prose(stripped):
            indent = line[: len(line) - len(line.lstrip())]
            block = []
            while index < len(lines):
                candidate = lines[index]
                candidate_indent = candidate[: len(candidate) - len(candidate.lstrip())]
                text = candidate.strip()
                if (not text.startswith("#") or candidate_indent != indent or text in KEPT_COMMENTS
                        or (block and text.lstrip("# ").startswith(HINT))):
                    break
                block.append(text[1:].strip())
                index += 1
                if block[0].startswith(HINT):
                    break  # a hint line is its own entry (make_exercises reads it line by line)
            ending = "\n" if lines[index - 1].endswith("\n") else ""
            pieces.append(((indent, "\n".join(block), ending), "block"))
        elif index in inline:
            column = inline[index]
            comment = line[column:].rstrip("\n")
            pieces.append((line[:column], None))
            pieces.append(((comment[: len(comment) - len(comment.lstrip("# "))], comment.lstrip("# ")), "inline"))
            pieces.append((line[len(line.rstrip("\n")):], None))
            index += 1
        else:
            pieces.append((line, None))
            index += 1
    return pieces


def inline_comments(source):
    """line index -> column of each comment that follows code on its line (an empty dict for a cell Python's
    tokenizer cannot read, such as one with an IPython magic)."""
    found = {}
    try:
        for token in tokenize.generate_tokens(io.StringIO(source).readline):
            if token.type == tokenize.COMMENT and token.line[: token.start[1]].strip():
                if is_prose(token.string):
                    found[token.start[0] - 1] = token.start[1]
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return {}
    return found


def texts_of_cell(cell):
    """The English texts a cell's reader reads, in order."""
    if cell.cell_type == "markdown":
        return [text for text, translatable in markdown_pieces(cell.source) if translatable]
    if cell.cell_type == "code":
        return [piece[1] for piece, kind in comment_pieces(cell.source) if kind]
    return []


def translated_cell_source(cell, translate):
    """The cell's source with each text replaced by ``translate(text)``."""
    if cell.cell_type == "markdown":
        return "".join(translate(text) if translatable else text for text, translatable in markdown_pieces(cell.source))
    parts = []
    for piece, kind in comment_pieces(cell.source):
        if kind is None:
            parts.append(piece)
        elif kind == "block":
            indent, text, ending = piece
            parts.append("\n".join(f"{indent}# {line}".rstrip() for line in translate(text).split("\n")) + ending)
        else:
            prefix, text = piece
            parts.append(prefix + translate(text))
    return "".join(parts)


def code_without_comments(source):
    """A code cell's lines without comments and blank lines (``# BEGIN SOLUTION`` and ``# END SOLUTION`` kept):
    what must be the same in both editions. Comments are found by Python's tokenizer; in a cell it cannot read
    (an IPython magic), only whole-line comments are removed."""
    cuts = {}
    try:
        for token in tokenize.generate_tokens(io.StringIO(source).readline):
            if token.type == tokenize.COMMENT and token.string.strip() not in KEPT_COMMENTS:
                cuts[token.start[0] - 1] = token.start[1]
    except (tokenize.TokenError, IndentationError, SyntaxError):
        cuts = {number: len(line) - len(line.lstrip()) for number, line in enumerate(source.splitlines())
                if line.strip().startswith("#") and line.strip() not in KEPT_COMMENTS}
    lines = [line[: cuts.get(number, len(line))].rstrip() for number, line in enumerate(source.splitlines())]
    return [line for line in lines if line.strip()]


# --- catalogues ----------------------------------------------------------------------------------------------


def catalogue_path(notebook_path):
    return CATALOGUES / f"{Path(notebook_path).stem}.po"


def source_entries(notebook, name):
    """msgid -> list of occurrences (notebook, cell id) of every text of the notebook, in order."""
    entries = {}
    for cell in notebook.cells:
        for text in texts_of_cell(cell):
            entries.setdefault(text, [])
            occurrence = (name, cell.get("id", ""))
            if occurrence not in entries[text]:
                entries[text].append(occurrence)
    return entries


def new_catalogue(name):
    catalogue = polib.POFile(wrapwidth=0)
    catalogue.metadata = {
        "Project-Id-Version": f"d2lstyle {name}",
        "Language": LANGUAGE,
        "MIME-Version": "1.0",
        "Content-Type": "text/plain; charset=UTF-8",
        "Content-Transfer-Encoding": "8bit",
        "Plural-Forms": "nplurals=1; plural=0;",
    }
    return catalogue


def updated_catalogue(notebook, name, old):
    """The catalogue for ``notebook`` (name: its file name), keeping ``old``'s translations: an unchanged text
    keeps its translation (and its fuzzy mark); a changed one inherits, marked fuzzy, the translation of the most
    similar text that left the same cell; obsolete entries are kept as such."""
    return merged_catalogue(source_entries(notebook, name), old, new_catalogue(f"notebooks/{name}"),
                            group=lambda occurrence: ":".join(part for part in occurrence if part))


def merged_catalogue(current, old, catalogue, group, keep_obsolete=True):
    """``catalogue`` filled with the entries ``current`` (msgid -> occurrences), keeping ``old``'s translations;
    a new msgid inherits, marked fuzzy, the translation of the most similar msgid that left the same ``group`` of
    occurrences (a notebook's cell, a module), or else of the most similar obsolete entry. Entries that left are
    kept as obsolete (``#~``, with their flags) unless not ``keep_obsolete``."""
    old_entries = {entry.msgid: entry for entry in old if not entry.obsolete} if old is not None else {}
    gone = {msgid: entry for msgid, entry in old_entries.items() if msgid not in current and entry.msgstr}
    obsolete = {entry.msgid: entry for entry in old or [] if entry.obsolete and entry.msgstr}
    for msgid, occurrences in current.items():
        entry = polib.POEntry(msgid=msgid, msgstr="", occurrences=[(file, where) for file, where in occurrences])
        previous = old_entries.get(msgid)
        if previous is not None and previous.msgstr:
            entry.msgstr, entry.flags = previous.msgstr, list(previous.flags)
            entry.previous_msgid = previous.previous_msgid
        elif msgid in obsolete:  # the same text back again: its translation, stale or not, as it was
            earlier = obsolete.pop(msgid)
            entry.msgstr, entry.flags, entry.previous_msgid = earlier.msgstr, list(earlier.flags), earlier.previous_msgid
        else:  # new, or still untranslated: a translation of similar English that left may fit
            groups = {group(occurrence) for occurrence in occurrences}
            candidates = [(difflib.SequenceMatcher(None, msgid, candidate).ratio(), candidate)
                          for candidate, entry_gone in gone.items()
                          if groups & {group(occurrence) for occurrence in entry_gone.occurrences}]
            if candidates and max(candidates)[0] >= SIMILAR_ENOUGH:
                inherit(entry, max(candidates)[1], gone)
            else:
                earlier = [(difflib.SequenceMatcher(None, msgid, candidate).ratio(), candidate)
                           for candidate in obsolete]
                if earlier and max(earlier)[0] >= SIMILAR_OBSOLETE:
                    inherit(entry, max(earlier)[1], obsolete)
        catalogue.append(entry)
    if keep_obsolete:
        for msgid, entry in list(gone.items()) + [(msgid, entry) for msgid, entry in obsolete.items()
                                                   if msgid not in gone and msgid not in current]:
            catalogue.append(polib.POEntry(msgid=msgid, msgstr=entry.msgstr, obsolete=True, flags=list(entry.flags),
                                           previous_msgid=entry.previous_msgid))
    return catalogue


def inherit(entry, source_msgid, entries):
    """Give ``entry`` the translation of ``entries[source_msgid]`` (removed from ``entries``), marked fuzzy with
    the English it was written for: the source's own earlier English when the source was stale already, so that
    a second change before the translator comes shows the whole change."""
    source = entries.pop(source_msgid)
    entry.msgstr, entry.flags = source.msgstr, ["fuzzy"]
    entry.previous_msgid = source.previous_msgid if "fuzzy" in source.flags and source.previous_msgid else source_msgid


def catalogue_text(catalogue):
    return str(catalogue).rstrip("\n") + "\n"


def problems(catalogue):
    """The stale (fuzzy) and untranslated entries of a catalogue, as messages."""
    found = []
    for entry in catalogue:
        if entry.obsolete:
            continue
        where = ", ".join(f"{file} cell {cell_id}" for file, cell_id in entry.occurrences[:2])
        first_line = entry.msgid.splitlines()[0][:70]
        if "fuzzy" in entry.flags:
            found.append(f"stale (the English changed; update the translation, then remove the fuzzy mark): "
                         f"{where}: {first_line!r}")
        elif not entry.msgstr:
            found.append(f"not translated: {where}: {first_line!r}")
    return found


def spans(text):
    """What a translation must keep of its English: link targets, inline code, maths, HTML tags, and numbers
    written in digits (a translation may add numbers, where Chinese writes digits for English words)."""
    maths = [" ".join(formula.split()) for formula in re.findall(r"\$\$.*?\$\$|\$[^$]+\$", text, flags=re.DOTALL)]
    code = [" ".join(span.split()) for span in re.findall(r"`[^`]+`", text)]
    links = re.findall(r"\]\(([^)\s]+)\)", text)
    html = re.findall(r"<[a-z/][^>]*>", text)
    plain = re.sub(r"\$\$.*?\$\$|\$[^$]+\$|`[^`]+`|\]\([^)]*\)|<[^>]*>|\{\d+\}", " ", text, flags=re.DOTALL)
    numbers = [number_value(digits, unit) for digits, unit in re.findall(
        r"(?<![A-Za-z0-9_.])(\d[\d,]*(?:\.\d+)?)(?:\s*(million|billion|thousand|万|亿)(?![A-Za-z]))?", plain)]
    return {"maths": sorted(maths), "code": sorted(set(code)), "links": sorted(set(links)), "html": sorted(html),
            "numbers": sorted(set(numbers))}


SCALE = {"": 1, "thousand": 1e3, "million": 1e6, "billion": 1e9, "万": 1e4, "亿": 1e8}


def number_value(digits, unit=""):
    """A number as written, in one form: "1,600" and "1600" are "1600"; "20 million" and "2000 万" are "20000000".

    >>> number_value("1,600"), number_value("20", "million"), number_value("2000", "万"), number_value("0.50")
    ('1600', '20000000', '20000000', '0.5')
    """
    return f"{float(digits.replace(',', '')) * SCALE[unit]:.12g}"


def emphasis_problems(text):
    """Bold markers that CommonMark will not read as bold: a ``**`` that opens before punctuation (such as
    《 or “) after a letter or character, or closes after punctuation (such as ： or 。) before one. Chinese
    text meets this often; move the marker past the punctuation ("**答**：" rather than "**答：**后")."""
    plain = re.sub(r"\$\$.*?\$\$|\$[^$\n]+\$|`[^`\n]+`", "x", text, flags=re.DOTALL)
    found = []
    for number, match in enumerate(re.finditer(r"\*\*", plain)):
        before = plain[match.start() - 1] if match.start() > 0 else " "
        after = plain[match.end()] if match.end() < len(plain) else " "
        opening = number % 2 == 0
        inner, outer = (after, before) if opening else (before, after)
        if is_punctuation(inner) and not (outer.isspace() or is_punctuation(outer)):
            found.append(f"the bold marker at {plain[max(0, match.start() - 6):match.end() + 6]!r} is not read as "
                         f"bold ({'opens before' if opening else 'closes after'} punctuation next to a character): "
                         "move it past the punctuation")
    return found


def is_punctuation(character):
    return unicodedata.category(character)[0] in "PS"


def glossary(path=GLOSSARY):
    """The glossary's (English, Chinese) terms."""
    with open(path, encoding="utf-8") as file:
        return [(row["english"], row["chinese"]) for row in csv.DictReader(file, delimiter="\t")]


def english_term(term):
    """A regex for a glossary term in English prose: either spelling (-ise/-ize), a plural, any case."""
    words = [re.escape(word).replace("is", "i[sz]") if word.endswith(("isation", "ised")) else re.escape(word)
             for word in term.split()]
    last = words[-1]
    if last.endswith("x"):
        last = last[:-1] + "(?:x|ces)"
    elif last.endswith("y"):
        last = last[:-1] + "(?:y|ies)"
    else:
        last += "(?:e?s)?"
    return re.compile(r"\b" + r"[\s-]+".join(words[:-1] + [last]) + r"\b", re.IGNORECASE)


# Characters that exist only in Traditional Chinese, among the commonest; each has a Simplified form
# (们 这 个 为 与 图 数 学 层 据 损 开 关 体 实 点 线 计 经 网 络 设 区 对 应 变 测 试 页 参 义 输 处 将 会 从 时 来 后 说 还 过 两 样
# 种 历 权 练 习).
TRADITIONAL_ONLY = set("們這個為與圖數學層據損開關體實點線計經網絡設區對應變測試頁參義輸處將會從時來後說還過兩樣種歷權練習")


def translation_problems(entry, terms):
    """What is wrong with one translated entry: lost links, code, maths, HTML or numbers, a heading or hint
    marker lost, a glossary term (``terms``: (English, Chinese) pairs) not used, Traditional characters."""
    found = []
    english, chinese = spans(entry.msgid), spans(entry.msgstr)
    for kind in english:
        missing = sorted(set(english[kind]) - set(chinese[kind]))
        added = sorted(set(chinese[kind]) - set(english[kind])) if kind != "numbers" else []
        if missing or added or (kind in ("maths", "html") and english[kind] != chinese[kind] and not added):
            found.append(f"{kind}: missing {missing}, added {added}" if missing or added
                         else f"{kind}: each must appear as often as in the English")
    if re.match(r"#+ ", entry.msgid):
        level = len(entry.msgid) - len(entry.msgid.lstrip("#"))
        if not entry.msgstr.startswith("#" * level + " ") or entry.msgstr.startswith("#" * (level + 1)):
            found.append(f"a heading of level {level} stays one")
    found += emphasis_problems(entry.msgstr)
    printf = sorted(re.findall(r"%\(\w+\)s|%%", entry.msgid))  # argparse's help: %(default)s
    if printf and (sorted(re.findall(r"%\(\w+\)s|%%", entry.msgstr)) != printf
                   or re.search(r"%(?!\(\w+\)s|%)", entry.msgstr)):
        found.append(f"argparse's {printf} appear as in the English, and a lone % is written %%")
    # A placeholder glued to the end of an English word ("input{2}") is a plural ending: Chinese may leave it out.
    english, chinese = (re.sub(r"\$\$.*?\$\$|\$[^$]+\$|`[^`]+`", " ", text, flags=re.DOTALL)  # not maths' {1}
                        for text in (entry.msgid, entry.msgstr))
    endings = set(re.findall(r"[a-z]{3,}(\{\d+\})", english))
    placeholders = sorted(set(re.findall(r"\{\d+\}", english)) - endings)
    used = re.findall(r"\{\d+\}", chinese)
    if sorted(set(used) - endings) != placeholders or len(used) != len(set(used)):
        found.append(f"each placeholder {placeholders} appears once in the translation, as in the English"
                     + (f" ({sorted(endings)}, plural endings, may be left out)" if endings else ""))
    if entry.msgid.startswith(HINT) and not entry.msgstr.startswith(HINT + " "):
        found.append(f"a hint keeps its marker '{HINT} '")
    # Not code, links, maths, options, a quoted value ('luminance') or a path; nor a title's Title Case words.
    prose = re.sub(r"`[^`\n]+`|\]\([^)]*\)|\$[^$]*\$|--[\w-]+|'[\w./-]+'|\S*/\S*", " ", entry.msgid)
    for term, chinese_term in terms:
        used = [match.group() for match in english_term(term).finditer(prose)]
        if any(" " not in words or not words.istitle() for words in used) and chinese_term not in entry.msgstr:
            found.append(f"{term!r} is {chinese_term!r} (zh/glossary.tsv)")
    traditional = sorted(set(entry.msgstr) & TRADITIONAL_ONLY)
    if traditional:
        found.append(f"Traditional characters {traditional}: write Simplified")
    return found


def check(names=None, catalogues=CATALOGUES):
    """Every problem of the catalogues (all, or those of the notebooks ``names``; "messages" is the package's
    catalogue, d2lstyle/locale/zh_CN.po), as messages."""
    terms, found = glossary(), []
    known = {path.stem for path in Path(catalogues).glob("*.po")} | {"messages"}
    unknown = sorted(set(names or ()) - known)
    if unknown:
        return [f"no catalogue for {', '.join(unknown)} (there are: {', '.join(sorted(known))})"]
    for path in sorted(Path(catalogues).glob("*.po")) + [MESSAGES]:
        if names and path.stem not in names and not (path == MESSAGES and "messages" in names):
            continue
        if path == MESSAGES and catalogues != CATALOGUES:
            continue
        catalogue = load_catalogue(path)
        found += [f"{path.name}: {problem}" for problem in problems(catalogue)]
        for entry in catalogue:
            if entry.obsolete or not entry.msgstr or "fuzzy" in entry.flags:
                continue
            found += [f"{path.name}: {entry.msgid[:60]!r}: {problem}"
                      for problem in translation_problems(entry, terms)]
    return found


def load_catalogue(path):
    return polib.pofile(str(path), wrapwidth=0) if Path(path).exists() else None


# --- the package's messages ----------------------------------------------------------------------------------


def message_templates(source):
    """The messages in a module's source, as templates: every string and f-string that is not a docstring, a
    dict key or compared with something (``"..." in str(error)``) and holds at least two words (or is in a
    tuple named in :data:`WORD_LISTS`), with ``{0}``, ``{1}``, ... for an f-string's values; a + joining a
    string with anything makes one template, the other operand a placeholder. Returns (template, line) pairs in
    source order (d2lstyle.i18n reads them)."""
    tree = ast.parse(source)
    skipped = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                skipped.add(id(first.value))
        if isinstance(node, ast.Dict):
            skipped.update(id(key) for key in node.keys if key is not None)
        if isinstance(node, ast.Compare):  # "invalid hash value" in str(error): matched against English text
            skipped.update(id(operand) for operand in [node.left, *node.comparators])
    listed = set()  # the strings of a list of single words to translate (command_line.ARGPARSE_HEADINGS)
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and any(getattr(target, "id", None) in WORD_LISTS for target in node.targets):
            listed.update(id(item) for item in ast.walk(node.value))
    found, inside = [], set()
    for node in ast.walk(tree):
        if id(node) in skipped or id(node) in inside:
            continue
        text = template_of(node, values_joined=True)
        if text is None:
            continue
        inside.update(id(part) for part in string_parts(node))
        if is_message(text) or id(node) in listed:
            found.append((text, node.lineno))
    return sorted(found, key=lambda item: item[1])


def is_message(text):
    """Whether a string reads as a message: two words or more, or one word of four letters or more next to a
    value ("error: {0}"); not an identifier, a file name or a colour ("photo_batch", "#e8e8e8").

    >>> [is_message(text) for text in ("not written yet", "error: {0}", "photo_batch", "#e8e8e8", "{0}.pt")]
    [True, True, False, False, False]
    """
    words = [token for token in text.split() if re.search(r"[A-Za-z]{2}", token)
             and not re.fullmatch(r"\{\d+\}\W*", token)]
    has_value = bool(re.search(r"\{\d+\}", text))
    return len(words) >= 2 or (has_value and any(re.fullmatch(r"[A-Za-z]{4,}:?", word) for word in words))


# Names of tuples whose strings are messages even when one word ("usage:", "options").
WORD_LISTS = {"ARGPARSE_HEADINGS"}
# Calls whose text shows in a figure: their positional arguments are figure text (titles, labels, legends).
FIGURE_CALLS = {"show_images", "set_title", "set_xlabel", "set_ylabel", "suptitle", "title", "xlabel", "ylabel",
                "legend", "text", "annotate", "set_yticklabels", "set_xticklabels"}
# Keyword arguments that are figure text in any call (ax.plot(..., label="content"), show_images(suptitle=...)).
FIGURE_KEYWORDS = {"label", "title", "suptitle", "xlabel", "ylabel", "titles"}


def template_of(node, values_joined=False):
    """A string node's text with {0}, {1}, ... for an f-string's values (strings joined with + are one; with
    ``values_joined``, a string joined with + to anything else, which becomes a placeholder), or None for a node
    that is not a string."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        parts, number = [], 0
        for value in node.values:
            if isinstance(value, ast.Constant):
                parts.append(value.value)
            else:
                parts.append(f"{{{number}}}")
                number += 1
        return "".join(parts)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = template_of(node.left, values_joined), template_of(node.right, values_joined)
        if values_joined and (left is None) != (right is None):
            left, right = ("{0}" if left is None else left), ("{0}" if right is None else right)
        if left is not None and right is not None:
            return left + renumbered(right, len(re.findall(r"\{\d+\}", left)))
    return None


def string_parts(node):
    """The nodes a template was made of: the strings, not an operand joined with + that became a placeholder
    (whose own strings, such as the two branches of ``"a" if x else "b"``, are messages of their own)."""
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return [part for side in (node.left, node.right) if template_of(side, True) is not None
                for part in string_parts(side)] + [node]
    return list(ast.walk(node))


def renumbered(template, offset):
    return re.sub(r"\{(\d+)\}", lambda match: f"{{{int(match.group(1)) + offset}}}", template)


def figure_templates(source):
    """The figure text in a module's or cell's source: the strings in the arguments of FIGURE_CALLS and in
    FIGURE_KEYWORDS of any call (not those of calls nested inside them, such as a file name), as templates.
    Returns (template, line) pairs; [] for a source Python cannot parse (an IPython magic)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    found = []

    def strings(node):
        """The string templates in ``node``, not looking into calls or at a dict's keys (names to look up)."""
        text = template_of(node)
        if text is not None:
            return [(text, node.lineno)]
        if isinstance(node, ast.Call):
            return []
        children = node.values if isinstance(node, ast.Dict) else ast.iter_child_nodes(node)
        return [item for child in children for item in strings(child)]

    arguments = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            arguments += list(node.args) if name in FIGURE_CALLS else []
            arguments += [keyword.value for keyword in node.keywords if keyword.arg in FIGURE_KEYWORDS]
    # names whose value becomes figure text (ax.set_title(title)): the strings they are given in an assignment or
    # take from a for loop's list (for ax, title in [(..., "a, pixels shuffled")]) are figure text too
    named = {child.id for argument in arguments for child in ast.walk(argument) if isinstance(child, ast.Name)}
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and named & {target.id for target in node.targets
                                                    if isinstance(target, ast.Name)}:
            arguments.append(node.value)
        elif isinstance(node, (ast.For, ast.comprehension)) and named & {
                child.id for child in ast.walk(node.target) if isinstance(child, ast.Name)}:
            arguments.append(node.iter)
    for argument in arguments:
        found += [(text, line) for text, line in strings(argument)
                  if re.search(r"[A-Za-z]{2}", text) and not re.fullmatch(r"[\w.-]*[_.][\w.-]*", text)]
    return sorted(set(found), key=lambda item: (item[1], item[0]))


def message_entries(modules=None, notebooks=None, figure_modules=None):
    """msgid -> occurrences of every message of the modules (module, line), and of the figure text of the
    figure modules and of the notebooks' code cells (notebook, cell id)."""
    entries = {}
    sources = [(path, message_templates) for path in (modules if modules is not None else MESSAGE_MODULES)]
    sources += [(path, figure_templates) for path in (figure_modules if figure_modules is not None
                                                        else FIGURE_MODULES)]
    for path, templates in sources:
        relative = Path(path).relative_to(ROOT).as_posix()
        for text, line in templates(Path(path).read_text(encoding="utf-8")):
            if (relative, "") not in entries.setdefault(text, []):  # the file, not the line: moving code
                entries[text].append((relative, ""))                 # changes no entry
    for path in notebooks if notebooks is not None else sorted(SOURCE.glob(make_exercises.NOTEBOOK_PATTERN)):
        for cell in nbformat.read(path, as_version=4).cells:
            if cell.cell_type == "code":
                for text, _ in figure_templates(cell.source):
                    occurrence = (f"{Path(path).name}:{cell.get('id', '')}", "")
                    if occurrence not in entries.setdefault(text, []):
                        entries[text].append(occurrence)
    return entries


def update_messages(path=MESSAGES, modules=None):
    """Refresh the package's message catalogue from its modules; True when it changed."""
    old = load_catalogue(path)
    text = catalogue_text(merged_catalogue(message_entries(modules), old, new_catalogue("messages"),
                                           group=lambda occurrence: occurrence[0], keep_obsolete=False))
    if Path(path).exists() and Path(path).read_text(encoding="utf-8") == text:
        return False
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(text, encoding="utf-8")
    return True


# --- the Chinese notebooks --------------------------------------------------------------------------------


def relink(text):
    """Links that leave notebooks/ get one more ../ (zh/notebooks/ is one folder deeper)."""
    return re.sub(r'(\]\(|src=")\.\./', r"\1../../", text)


def translated_notebook(notebook, catalogue, name, allow_untranslated=False):
    """The Chinese notebook of notebooks/``name``: every text replaced by its translation (the English where
    there is none and ``allow_untranslated``); code, ids, metadata and outputs (none) unchanged, and the
    notebook's metadata says its language and source."""
    translations = {entry.msgid: entry.msgstr for entry in catalogue or [] if not entry.obsolete
                    and entry.msgstr and "fuzzy" not in entry.flags}

    def translate(text):
        if text in translations:
            return translations[text]
        if allow_untranslated:
            return text
        raise KeyError(text)

    chinese = nbformat.from_dict(notebook)  # a deep copy
    for cell in chinese.cells:
        if cell.cell_type in ("markdown", "code"):
            cell.source = translated_cell_source(cell, translate)
            if cell.cell_type == "markdown":
                cell.source = relink(cell.source)
    chinese.metadata["d2lstyle"] = {"language": LANGUAGE, "source": f"notebooks/{name}"}
    return chinese


def build(allow_untranslated=False, source_dir=SOURCE, target=ZH):
    """Write target/notebooks/ and target/exercises/; return the paths written. Raises ValueError naming every
    stale or untranslated entry (unless ``allow_untranslated``)."""
    notebooks_dir, exercises_dir = target / "notebooks", target / "exercises"
    found, chinese_notebooks = [], {}
    for path in sorted(Path(source_dir).glob(make_exercises.NOTEBOOK_PATTERN)):
        notebook = nbformat.read(path, as_version=4)
        catalogue = load_catalogue(target / "po" / f"{path.stem}.po")
        expected = source_entries(notebook, path.name)
        if catalogue is None:
            found.append(f"{path.name}: no catalogue zh/po/{path.stem}.po (run: python tools/translate.py update)")
        else:
            known = {entry.msgid for entry in catalogue if not entry.obsolete}
            missing = [text for text in expected if text not in known]
            if missing:
                found.append(f"{path.name}: {len(missing)} text(s) not in its catalogue (run: python "
                             f"tools/translate.py update), the first: {missing[0][:70]!r}")
            found += [f"{path.name}: {problem}" for problem in problems(catalogue)]
        chinese_notebooks[path.name] = (notebook, catalogue)
    if found and not allow_untranslated:
        raise ValueError("\n".join(found))
    written = [write_notebook(translated_notebook(notebook, catalogue, name, allow_untranslated=True),
                              notebooks_dir / name)
               for name, (notebook, catalogue) in chinese_notebooks.items()]
    written += make_exercises.make_exercises(notebooks_dir, exercises_dir, text=STUDENT_TEXT,
                                             source_label="zh/notebooks")
    for stale in sorted(notebooks_dir.glob(make_exercises.NOTEBOOK_PATTERN)):
        if stale.name not in chinese_notebooks:
            stale.unlink()
    return written


def write_notebook(notebook, path):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(nbformat.writes(notebook) + "\n", encoding="utf-8")
    return path


def update(source_dir=SOURCE, catalogues=CATALOGUES):
    """Refresh every catalogue from its notebook; return the paths changed."""
    changed = []
    for path in sorted(Path(source_dir).glob(make_exercises.NOTEBOOK_PATTERN)):
        notebook = nbformat.read(path, as_version=4)
        target = Path(catalogues) / f"{path.stem}.po"
        old = load_catalogue(target)
        text = catalogue_text(updated_catalogue(notebook, path.name, old))
        if not target.exists() or target.read_text(encoding="utf-8") != text:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
            changed.append(target)
    return changed


def status(source_dir=SOURCE, catalogues=CATALOGUES):
    rows = []
    for path in sorted(Path(source_dir).glob(make_exercises.NOTEBOOK_PATTERN)):
        catalogue = load_catalogue(Path(catalogues) / f"{path.stem}.po")
        entries = [entry for entry in catalogue or [] if not entry.obsolete]
        stale = sum("fuzzy" in entry.flags for entry in entries)
        done = sum(bool(entry.msgstr) and "fuzzy" not in entry.flags for entry in entries)
        rows.append(f"{path.stem:28} {done:4} translated {stale:4} stale {len(entries) - done - stale:4} missing")
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["update", "build", "status", "check", "messages"])
    parser.add_argument("names", nargs="*", help="check: the notebooks whose catalogues to check (e.g. 06_training)")
    parser.add_argument("--allow-untranslated", action="store_true",
                        help="build even with stale or missing translations (the English stands in)")
    args = parser.parse_args(argv)
    if args.command == "update":
        changed = update()
        print(f"translate: {len(changed)} catalogue(s) changed in {CATALOGUES.relative_to(ROOT)}")
        return 0
    if args.command == "messages":
        changed = update_messages()
        print(f"translate: {MESSAGES.relative_to(ROOT)} {'changed' if changed else 'unchanged'}")
        return 0
    if args.command == "check":
        found = check(args.names)
        print("\n".join(found) if found else "translate: no problems found")
        return 1 if found else 0
    if args.command == "status":
        print("\n".join(status()))
        return 0
    try:
        written = build(args.allow_untranslated)
    except ValueError as error:
        print(f"translate: the catalogues are not complete; nothing written:\n{error}", file=sys.stderr)
        return 1
    print(f"translate: wrote {len(written)} notebook(s) to {ZH.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
