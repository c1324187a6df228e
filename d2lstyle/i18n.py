r"""Messages in the reader's language: English, Simplified Chinese (简体中文) or Traditional Chinese (繁體中文).

The language is ``D2LSTYLE_LANG`` (``zh``, ``zh_CN``, ``zh_TW``, ``en``, ...) when it is set, else the locale's
(``LC_ALL``, ``LC_MESSAGES``, ``LANG``: ``zh_CN.UTF-8`` chooses Simplified Chinese, ``zh_TW.UTF-8`` Traditional),
else English.

The messages a learner reads (the exercise checkers' diagnoses, the advice at the end of a run, the command-line
tools' help and errors, figure titles and labels) are written in English in the code and the notebooks.
:func:`translate` turns one into Chinese with the catalogue
``d2lstyle/locale/zh_CN.po``, whose entries are the English messages as *templates*: each ``{0}``, ``{1}``, ...
stands for a value the code fills in (an f-string's ``{...}``). A message matches a template when it reads the
same with some text in place of each placeholder; the Chinese template (``msgstr``) is then filled with those
texts, themselves translated where they are messages too. An English message the catalogue does not know
stays English. ``python tools/translate.py messages`` keeps the catalogue in step with the code, and
``python tools/traditional.py`` converts it into ``zh_TW.po``.

>>> translate("the loss became NaN or infinite: lower the learning rate or the loss weights", "en")
'the loss became NaN or infinite: lower the learning rate or the loss weights'
>>> translate("gram_matrix: all 4 checks passed.", "zh")
'gram_matrix: 4 项检查全部通过。'
>>> translate("gram_matrix: all 4 checks passed.", "zh_TW")
'gram_matrix: 4 項檢查全部通過。'
"""

import functools
import os
import re
from pathlib import Path

LOCALE = Path(__file__).resolve().parent / "locale"
CATALOGUES = {"zh": LOCALE / "zh_CN.po", "zh_TW": LOCALE / "zh_TW.po"}  # zh_TW: tools/traditional.py converts
TRADITIONAL_LOCALES = ("zh_tw", "zh_hk", "zh_mo", "zh_hant")
PLACEHOLDER = re.compile(r"\{(\d+)\}")
LONGEST = 2000  # characters: a longer text is left as it is (matching it against every template would be slow)
PLAIN_WORD = re.compile(r"(?<![\w.-])[a-z]{3,}(?![\w-])")  # "loss", "the": not relu5_1, VGG-19 or px


def language(environ=None):
    """``"zh"`` (Simplified Chinese), ``"zh_TW"`` (Traditional) or ``"en"``: ``D2LSTYLE_LANG`` if set, else the
    locale (``LC_ALL``, ``LC_MESSAGES``, ``LANG``). Taiwan's, Hong Kong's and Macao's locales and ``zh-Hant``
    choose Traditional characters.

    >>> language({"D2LSTYLE_LANG": "zh_CN"}), language({"LANG": "zh_CN.UTF-8"}), language({"LANG": "C.UTF-8"})
    ('zh', 'zh', 'en')
    >>> language({"LANG": "zh_TW.UTF-8"}), language({"D2LSTYLE_LANG": "zh-Hant"})
    ('zh_TW', 'zh_TW')
    """
    environ = os.environ if environ is None else environ
    for name in ("D2LSTYLE_LANG", "LC_ALL", "LC_MESSAGES", "LANG"):
        value = environ.get(name, "").lower().replace("-", "_")
        if value:
            if not value.startswith("zh"):
                return "en"
            return "zh_TW" if value.startswith(TRADITIONAL_LOCALES) else "zh"
    return "en"


@functools.lru_cache(maxsize=2)
def _templates(lang="zh"):
    """(exact message -> Chinese, [(regex of an English template, Chinese template, glued placeholders, list
    placeholders)], the templates with the most literal text first, so that the most specific one matches),
    from ``lang``'s catalogue."""
    import polib  # only when a Chinese message is wanted

    exact, patterns = {}, []
    for entry in polib.pofile(str(CATALOGUES[lang])):
        if entry.obsolete or not entry.msgstr or "fuzzy" in entry.flags:
            continue
        if PLACEHOLDER.search(entry.msgid):
            parts = PLACEHOLDER.split(entry.msgid)  # literal, number, literal, number, ...
            regex = "".join(re.escape(part) if index % 2 == 0 else f"(?P<p{part}>.*?)"
                            for index, part in enumerate(parts))
            literal = sum(len(part) for part in parts[::2])
            if not re.search(r"[A-Za-z]", "".join(parts[::2])):
                continue  # a template of placeholders only would match any message
            # A placeholder glued to the template's text ("--{0}-weight", "image{1}") holds part of a name or a
            # plural ending, not a message: its value is translated only when it holds a space (" (a folder)").
            glued = {parts[index] for index in range(1, len(parts), 2)
                     if re.search(r"[\w-]$", parts[index - 1]) or re.match(r"[\w-]", parts[index + 1])}
            # A list joined by "; " follows a colon or a semicolon ("...: {0}"): only there may a value hold one,
            # so that "{0} (was {1}, now {2})" cannot swallow the rest of a list.
            lists = {parts[index] for index in range(1, len(parts), 2)
                     if re.search(r"[:;] ", "".join(parts[:index:2]))}
            patterns.append((literal, re.compile(regex, re.DOTALL), entry.msgstr, glued, lists))
        else:
            exact[entry.msgid] = entry.msgstr
    patterns.sort(key=lambda item: -item[0])
    return exact, [pattern[1:] for pattern in patterns]


def translate(message, lang=None, values_are_values=False, _depth=0):
    """``message`` in the language ``lang`` (default: :func:`language`); unchanged when English is wanted or the
    catalogue has no template for it. With ``values_are_values`` (figure text, which may be anyone's), a template
    matches only when no placeholder takes an English word that stays English: "step {0}" translates "step 3",
    not "step 3: loss 2.1".

    A message no template matches is translated in pieces: the parts of a list joined by "; " (a hint added
    after "; ", the differences of two runs), and what stands in parentheses.

    >>> translate("step 3: loss 2.1", "zh", values_are_values=True)
    'step 3: loss 2.1'
    >>> translate("the content term is missing; the layer before it; not a message", "zh")
    '缺少内容项；它的前一层；not a message'
    >>> translate(" (the layer before it)", "zh")
    '（它的前一层）'
    """
    lang = lang or language()
    if lang not in CATALOGUES or not message or _depth > 3 or len(message) > LONGEST:
        return message
    exact, patterns = _templates(lang)
    if message in exact:
        return exact[message]
    for regex, chinese, glued, lists in patterns:
        match = regex.fullmatch(message)
        if match and all(name[1:] in lists or "; " not in value for name, value in match.groupdict().items()):
            values = {name[1:]: (value, value if name[1:] in glued and " " not in value
                                 else translate(value, lang, values_are_values, _depth + 1))
                      for name, value in match.groupdict().items()}
            if values_are_values and any(english == chinese_value and PLAIN_WORD.search(english)
                                         for english, chinese_value in values.values()):
                continue
            return PLACEHOLDER.sub(lambda number: values[number.group(1)][1], chinese)
    return message if values_are_values else _translate_pieces(message, lang, _depth)


def _translate_pieces(message, lang, depth):
    """``message`` translated piece by piece (:func:`translate`), or unchanged when no piece changes."""
    pieces = message.split("; ")
    if len(pieces) > 1:
        translated = [translate(piece, lang, _depth=depth + 1) for piece in pieces]
        return "；".join(translated) if translated != pieces else message
    bracketed = re.fullmatch(r"\s*\((.+)\)\s*", message, flags=re.DOTALL)
    if bracketed:
        inside = translate(bracketed.group(1), lang, _depth=depth + 1)
        return f"（{inside}）" if inside != bracketed.group(1) else message
    return message


# Fonts with Chinese characters, most wanted first: Debian's fonts-noto-cjk (the set-up installs it), then those
# of other systems. matplotlib's default, DejaVu Sans, has none: a Chinese title would show empty boxes.
CJK_FONTS = ("Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "Noto Sans CJK JP", "WenQuanYi Zen Hei",
             "WenQuanYi Micro Hei", "Microsoft YaHei", "SimHei", "PingFang SC", "Heiti SC")
# Traditional characters (zh_TW) with Taiwan's glyph shapes first, where installed (fonts-noto-cjk has them).
CJK_FONTS_TRADITIONAL = ("Noto Sans CJK TC", "Noto Sans TC", "Source Han Sans TC", "PingFang TC", "Microsoft JhengHei")
FONT_FOLDERS = ("/usr/share/fonts", "/usr/local/share/fonts", "~/.local/share/fonts", "~/.fonts",
                "/System/Library/Fonts", "/Library/Fonts", "C:/Windows/Fonts")


@functools.lru_cache(maxsize=2)
def cjk_font(lang="zh"):
    """The name of an installed font with Chinese characters that matplotlib can use (for ``lang`` "zh_TW", one
    with Taiwan's glyph shapes where there is one), or None.

    A font installed after matplotlib built its font list (as the set-up installs fonts-noto-cjk) is added.
    """
    from matplotlib import font_manager

    def known():
        names = {font.name for font in font_manager.fontManager.ttflist}
        wanted = (CJK_FONTS_TRADITIONAL if lang == "zh_TW" else ()) + CJK_FONTS
        return next((name for name in wanted if name in names), None)

    if known() is None:
        for folder in FONT_FOLDERS:
            for path in sorted(Path(folder).expanduser().rglob("*")) if Path(folder).expanduser().is_dir() else ():
                if path.suffix.lower() in (".ttf", ".otf", ".ttc") and re.search(
                        r"CJK|[ST]C\b|WenQuanYi|wqy|YaHei|msyh|SimHei|PingFang|Heiti", path.name, flags=re.IGNORECASE):
                    try:
                        font_manager.fontManager.addfont(str(path))
                    except (OSError, RuntimeError, ValueError):
                        continue  # a font matplotlib cannot read
    return known()


def chinese_figures():
    """Figure text in Chinese from now on in this Python process, while :func:`language` says Chinese:
    matplotlib draws with a CJK font (and an ASCII minus sign, which every font has), and every text a figure
    shows passes through :func:`translate` as it is set (titles, labels, legends; numbers and unknown text stay
    as they are). Returns the font's name, or None when no CJK font is installed (then nothing changes and the
    text stays English: install Debian's fonts-noto-cjk). :func:`d2lstyle.get_settings` calls it when
    :func:`language` is Chinese."""
    import matplotlib
    from matplotlib import text

    font = cjk_font(language())
    if font is None:
        return None
    matplotlib.rcParams["font.sans-serif"] = [font] + [name for name in matplotlib.rcParams["font.sans-serif"]
                                                       if name != font]
    matplotlib.rcParams["font.family"] = "sans-serif"
    matplotlib.rcParams["axes.unicode_minus"] = False
    if not getattr(text.Text.set_text, "translates", False):
        english_set_text = text.Text.set_text

        def set_text(self, s):
            return english_set_text(self, translate(s, values_are_values=True) if isinstance(s, str) else s)

        set_text.translates = True
        text.Text.set_text = set_text
    return font
