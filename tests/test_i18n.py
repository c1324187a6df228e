"""Messages in Chinese (d2lstyle.i18n): the language chosen, templates matched and filled, English kept where no
translation exists."""

import polib
import pytest

from d2lstyle import i18n


@pytest.fixture
def catalogue(tmp_path, monkeypatch):
    """d2lstyle.i18n reading a small catalogue written here."""
    po = polib.POFile()
    for msgid, msgstr, flags in [
        ("{0}: all {1} checks passed.", "{0}：{1} 项检查全部通过。", []),
        ("a tensor of shape {0}", "形状为 {0} 的张量", []),
        ("expected {0}, got {1}", "应为 {0}，实际得到 {1}", []),
        ("{0} calls {1}, which is not written yet", "{1} 还没有写完，而 {0} 调用了它", []),
        ("the picture was not resized", "图片没有缩放", []),
        ("a stale one", "过时的译文", ["fuzzy"]),
        ("{0}", "不该匹配一切", []),
    ]:
        po.append(polib.POEntry(msgid=msgid, msgstr=msgstr, flags=flags))
    path = tmp_path / "zh_CN.po"
    po.save(str(path))
    monkeypatch.setitem(i18n.CATALOGUES, "zh", path)
    i18n._templates.cache_clear()
    yield path
    i18n._templates.cache_clear()


def test_the_language_comes_from_d2lstyle_lang_then_the_locale():
    assert i18n.language({}) == "en"
    assert i18n.language({"LANG": "zh_CN.UTF-8"}) == "zh"
    assert i18n.language({"LANG": "zh_TW.UTF-8", "D2LSTYLE_LANG": "en"}) == "en"
    assert i18n.language({"LC_ALL": "zh_CN.UTF-8", "LANG": "en_GB.UTF-8"}) == "zh"
    assert i18n.language({"D2LSTYLE_LANG": "", "LANG": "de_DE.UTF-8"}) == "en"
    assert i18n.language({"LANG": "zh_TW.UTF-8"}) == i18n.language({"LC_ALL": "zh_HK.UTF-8"}) == "zh_TW"
    assert i18n.language({"D2LSTYLE_LANG": "zh-Hant"}) == i18n.language({"D2LSTYLE_LANG": "zh-TW"}) == "zh_TW"
    assert i18n.language({"D2LSTYLE_LANG": "zh-Hans"}) == i18n.language({"D2LSTYLE_LANG": "zh_SG"}) == "zh"


def test_a_template_is_filled_in_the_chinese_order_and_its_values_translated(catalogue):
    assert i18n.translate("gram_matrix: all 8 checks passed.", "zh") == "gram_matrix：8 项检查全部通过。"
    assert i18n.translate("style_loss calls gram_matrix, which is not written yet", "zh") == \
        "gram_matrix 还没有写完，而 style_loss 调用了它"
    assert i18n.translate("expected a tensor of shape (1, 3), got 2.5", "zh") == "应为 形状为 (1, 3) 的张量，实际得到 2.5"
    assert i18n.translate("the picture was not resized", "zh") == "图片没有缩放"


def test_english_stays_english_and_unknown_or_stale_messages_stay_as_written(catalogue, monkeypatch):
    assert i18n.translate("the picture was not resized", "en") == "the picture was not resized"
    assert i18n.translate("a stale one", "zh") == "a stale one"
    monkeypatch.setenv("D2LSTYLE_LANG", "zh")
    assert i18n.translate("the picture was not resized") == "图片没有缩放"
    # a template of placeholders only ({0}) would match any message: it is never used
    assert i18n.translate("something nobody wrote", "zh") == "something nobody wrote"


def test_figure_text_is_drawn_in_chinese_with_a_cjk_font_and_no_missing_glyphs(catalogue, monkeypatch, tmp_path):
    import warnings

    import matplotlib
    import matplotlib.pyplot as plt

    if i18n.cjk_font() is None:
        pytest.skip("no font with Chinese characters (the set-up installs Debian's fonts-noto-cjk)")
    monkeypatch.setitem(matplotlib.rcParams, "font.sans-serif", list(matplotlib.rcParams["font.sans-serif"]))
    monkeypatch.setitem(matplotlib.rcParams, "font.family", matplotlib.rcParams["font.family"])
    monkeypatch.setitem(matplotlib.rcParams, "axes.unicode_minus", matplotlib.rcParams["axes.unicode_minus"])
    monkeypatch.setattr(matplotlib.text.Text, "set_text", matplotlib.text.Text.set_text)  # undone afterwards
    assert i18n.chinese_figures() == i18n.cjk_font()
    fig, ax = plt.subplots()
    monkeypatch.setenv("D2LSTYLE_LANG", "zh")
    ax.set_title("the picture was not resized")
    ax.plot([0, 1], [-1, 1], label="a tensor of shape (3, 4)")
    legend = ax.legend()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fig.savefig(tmp_path / "chinese.png")
    assert ax.get_title() == "图片没有缩放" and legend.get_texts()[0].get_text() == "形状为 (3, 4) 的张量"
    ax.set_ylabel("expected 2, got 3")  # a template whose values are values: translated
    ax.set_xlabel("expected the cat, got 3")  # "the cat" would stay English in Chinese: left as written
    assert ax.get_ylabel() == "应为 2，实际得到 3" and ax.get_xlabel() == "expected the cat, got 3"
    assert not [str(warning.message) for warning in caught if "missing from" in str(warning.message)]
    monkeypatch.setenv("D2LSTYLE_LANG", "en")  # the same process in English: text stays as written
    ax.set_xlabel("the picture was not resized")
    assert ax.get_xlabel() == "the picture was not resized"
    plt.close(fig)


def test_the_command_line_tools_answer_a_usage_error_and_help_in_chinese(monkeypatch, capsys):
    from d2lstyle import cli

    monkeypatch.setenv("D2LSTYLE_LANG", "zh")
    with pytest.raises(SystemExit) as stopped:
        cli.main(["photo.jpg", "painting.jpg", "-o", "out.png", "--style-weight", "-1"])
    error = capsys.readouterr().err.strip().splitlines()[-1]
    assert stopped.value.code == 2 and error.startswith("d2lstyle: 错误: 参数 --style-weight: ") and "'-1'" in error
    with pytest.raises(SystemExit):
        cli.main(["--help"])
    assert "要重画的照片" in capsys.readouterr().out
    monkeypatch.setenv("D2LSTYLE_LANG", "en")
    with pytest.raises(SystemExit):
        cli.main(["photo.jpg"])
    assert "error: the following arguments are required: STYLE, -o/--output" in capsys.readouterr().err


def test_chinese_help_fits_the_terminal_and_argparse_headings_are_translated(monkeypatch, capsys):
    from d2lstyle import cli
    from d2lstyle.command_line import columns

    monkeypatch.setenv("D2LSTYLE_LANG", "zh")
    monkeypatch.setenv("COLUMNS", "100")  # argparse wraps to COLUMNS - 2
    with pytest.raises(SystemExit):
        cli.main(["--help"])
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("用法： d2lstyle") and "选项:" in lines and "位置参数:" in lines  # argparse adds the ":"
    too_wide = [line for line in lines if columns(line) > 98]
    assert not too_wide, too_wide[:3]


def test_wrapping_counts_two_columns_for_a_chinese_character_and_keeps_words_and_punctuation():
    from d2lstyle.command_line import columns, wrap_columns

    assert columns("ab 中文，") == 9  # a, b, space: 1 each; 中, 文, ，: 2 each
    assert wrap_columns("这是 --style-weight 的值，不是步数", 12) == ["这是", "--style-weight", "的值，不是步", "数"]
    assert wrap_columns("plain English text is wrapped at spaces", 12) == ["plain", "English text", "is wrapped",
                                                                          "at spaces"]


@pytest.mark.parametrize("lang, expected", [("zh", "没有这个文件"), ("zh_TW", "沒有這個檔案"), ("en", "no such file")])
def test_an_error_the_user_causes_is_in_the_readers_language(lang, expected, monkeypatch, capsys, tmp_path):
    from d2lstyle import cli, load_image
    from d2lstyle.errors import ImageError

    monkeypatch.setenv("D2LSTYLE_LANG", lang)
    missing = tmp_path / "photo.jpg"
    with pytest.raises(ImageError) as raised:
        load_image(missing)
    assert str(raised.value) == f"{missing}: {expected}"  # in a notebook's traceback too
    assert cli.main([str(missing), str(missing), "-o", str(tmp_path / "out.png")]) != 0
    assert f"{missing}: {expected}" in capsys.readouterr().err
    assert not (tmp_path / "out.png").exists()


def test_a_list_of_differences_is_translated_item_by_item_and_no_template_swallows_the_rest():
    """'{0} (was {1}, now {2})' must not take "20); pooling (was 'max'..." as its {2}: a value holds a '; ' list
    only after a colon or a semicolon of its template."""
    message = ("the checkpoint is from another run than this one: steps (was 500, now 20); pooling (was 'max', now "
               "'avg'); the photo (another picture); resume with the same options and files, or leave out --resume "
               "to start afresh")
    chinese = i18n.translate(message, "zh")
    assert "steps（原为 500，现为 20）；pooling（原为 'max'，现为 'avg'）；照片（换了一张）；" in chinese
    assert chinese.count("（") == chinese.count("）") == 3 and "was" not in chinese and "now" not in chinese
    weights = "x.pth: not VGG-19 weights: missing 0.weight, 0.bias; unexpected fc.weight"
    assert i18n.translate(weights, "zh") == "x.pth: 不是 VGG-19 的权重：缺少 0.weight, 0.bias；多出 fc.weight"
