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
