"""The advice read from a loss history (d2lstyle.diagnosis), on histories written by hand."""

import re

from d2lstyle.diagnosis import advice


def history(content, style, tv=None):
    tv = tv or [0.0] * len(content)
    return {"content": content, "style": style, "tv": tv, "total": [c + s + t for c, s, t in zip(content, style, tv)]}


def test_a_small_style_weight_from_the_photo_is_little_style_not_a_lost_photo():
    # x starts at p: content 0, and a tiny beta lets the style term fall by 2 % only; the style term is still
    # 98.6 % of the (small) total, which must not be read as "the style dominates".
    lines = advice(history([0.0, 30.0, 60.0], [4500.0, 4450.0, 4410.0]))
    assert any("fell by only 2%: little of the painting's style" in line for line in lines), lines
    assert not any("photo may be lost" in line for line in lines), lines


def test_a_style_term_that_rose_says_so_and_not_that_it_fell_by_a_negative_amount():
    # From the default's recoloured start with a tiny beta, the optimiser walks back towards the photo's colours:
    # the content term falls from its start and the style term rises by 16 %.
    lines = advice(history([500.0, 200.0, 50.0], [1000.0, 1100.0, 1160.0]))
    assert any("the style term rose by 16%: the picture moved away from the painting's style" in line
               for line in lines), lines
    assert not any("fell by only" in line for line in lines), lines


def test_a_style_term_that_fell_a_lot_and_dominates_means_the_photo_may_be_lost():
    lines = advice(history([0.0, 1.0, 2.0], [1000.0, 400.0, 200.0]))
    assert any("style term is 99% of the loss" in line and "lower the style weight" in line for line in lines)
    assert not any("little of the painting's style" in line for line in lines), lines


def test_a_rising_loss_says_lower_the_learning_rate_and_nothing_else():
    lines = advice(history([0.0, 10.0, 1e6], [100.0, 1e3, 1e9]))
    assert lines == ["the total loss rose from 100 to 1e+09 in 3 steps: the steps overshoot; lower the learning "
                     "rate (or use L-BFGS)"]


def test_a_heavy_tv_term_and_a_healthy_run():
    assert any("total-variation term is 60%" in line
               for line in advice(history([0.0, 5.0, 10.0], [100.0, 60.0, 30.0], [0.0, 40.0, 60.0])))
    assert advice(history([0.0, 5.0, 10.0], [100.0, 60.0, 30.0])) == []


def test_an_early_overshoot_and_a_stall_point_to_a_line_search_not_to_a_higher_learning_rate():
    # The shape of notebook 09's average-pooling run with the default recipe before it had a line search (256 px):
    # the third evaluation jumped from 9.4e5 to 2.8e15, and 60 evaluations lowered the loss by 1.8 %.
    total = [9.42e5, 9.42e5, 2.76e15] + [9.42e5 - 300 * k for k in range(57)]
    lines = advice({"total": total, "content": [0.0] + [1.0] * 59, "style": total, "tv": [0.0] * 60})
    assert len(lines) == 1, lines
    assert "jumped to 2.76e+15 (3e+09 times its start) at step 3" in lines[0], lines
    assert "fell by only 1.8% in 60 steps" in lines[0] and "line_search=\"strong_wolfe\"" in lines[0], lines
    assert "raise the learning rate" not in lines[0] and "raise the style weight" not in lines[0]


def test_an_early_overshoot_that_recovers_is_not_a_symptom():
    # L-BFGS's first full step often overshoots (notebook 00); a run that then paints is healthy
    lines = advice(history([0.0, 1e6, 20.0, 30.0], [100.0, 1e9, 60.0, 40.0]))
    assert not any("overshot" in line for line in lines), lines


def test_a_diverged_run_returns_its_message():
    assert advice({"total": [1.0]}, "diverged", "rolled back") == ["rolled back"]


def test_every_line_of_advice_reads_in_chinese_with_its_numbers(monkeypatch):
    histories = [history([0.0, 30.0, 60.0], [4500.0, 4450.0, 4410.0]), history([0.0, 1.0, 2.0], [1000.0, 400.0, 200.0]),
                 history([0.0, 10.0, 1e6], [100.0, 1e3, 1e9]),
                 history([0.0, 5.0, 10.0], [100.0, 60.0, 30.0], [0.0, 40.0, 60.0]),
                 {"total": [9.42e5, 9.42e5, 2.76e15] + [9.42e5 - 300 * k for k in range(57)],
                  "content": [0.0] + [1.0] * 59, "style": [9.42e5] * 60, "tv": [0.0] * 60},
                 history([100.0 - k for k in range(30)], [1000.0 * 0.9 ** k for k in range(30)])]
    english = [advice(h) for h in histories]
    monkeypatch.setenv("D2LSTYLE_LANG", "zh")
    chinese = [advice(h) for h in histories]
    assert sum(len(lines) for lines in english) >= 6
    for english_lines, chinese_lines in zip(english, chinese):
        assert len(chinese_lines) == len(english_lines)
        for english_line, chinese_line in zip(english_lines, chinese_lines):
            assert re.search(r"[\u4e00-\u9fff]", chinese_line), chinese_line
            numbers = re.findall(r"\d+(?:\.\d+)?(?:e[+-]\d+)?%?", english_line)
            assert all(number in chinese_line for number in numbers), (english_line, chinese_line)
