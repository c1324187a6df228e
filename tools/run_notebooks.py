"""Run the notebooks of the series and keep their outputs, for the slides and the website.

    python tools/run_notebooks.py [--quick] [--out DIR] [NAME ...]

Each notebooks/NN_name.ipynb (or each NAME given, e.g. ``00_overview``) runs top to bottom in a fresh
kernel, in a temporary folder (so that the files a notebook saves land nowhere in the repository), with
D2LSTYLE_NETWORK=original unless that variable is set, and D2LSTYLE_QUICK=1 with --quick. The notebook
with its outputs is written to DIR/NN_name.ipynb (default: build/executed/full, or build/executed/quick).

A notebook runs again only when its cells, the package or the settings have changed since its last run: the
written notebook carries a fingerprint of all three (metadata "d2lstyle_run", with the run's seconds). A change
of metadata only (slide types, say) runs nothing: ``with_outputs`` puts the saved outputs into the notebook as it
is now. Widgets cannot work on a static page: progress bars are left out of the saved outputs, and any other
widget is replaced by a one-line note.

A cell that raises stops the run with the notebook's name and the error, except in cells tagged
"raises-exception" (nbval's tag, which nbclient honours too).

After a run at the full settings, each notebook's row of the section "How long each notebook takes to run" of
benchmarks/results.md is replaced by the new measurement (``--no-report``: not); the notebooks' run-time lines
point there, so that no time is written by hand. Rows of notebooks that did not run stay as they were.
"""

import argparse
import datetime
import hashlib
import json
import os
import re
import resource
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
RESULTS = ROOT / "benchmarks" / "results.md"
REPORT_SECTION = "notebooks"
REPORT_TITLE = "How long each notebook takes to run"
REPORT_COLUMNS = ("notebook", "seconds at the full settings", "processor seconds", "date", "machine",
                  "load average (1 min) before, after")
# Seconds one cell may run: generous, since the full settings paint 512 px pictures on a CPU.
CELL_TIMEOUT = {"full": 7200, "quick": 1800}
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_NOTE = "(an interactive widget: it appears when the notebook runs in JupyterLab)"
PROGRESS_BAR = re.compile(r"\d+%\|.*\|")


class NotebookFailed(Exception):
    """A cell of a notebook raised (and was not tagged raises-exception) or ran past its time."""


def settings_for(quick, language="en"):
    """The D2LSTYLE_* variables a run uses: the original VGG-19 unless D2LSTYLE_NETWORK says otherwise, and the
    language of the checkers' messages and figure text (``"zh"`` for the Chinese edition, zh/notebooks)."""
    settings = {"D2LSTYLE_NETWORK": os.environ.get("D2LSTYLE_NETWORK", "original"),
                "D2LSTYLE_QUICK": "1" if quick else "0",
                "D2LSTYLE_SEED": os.environ.get("D2LSTYLE_SEED", "0")}
    settings["D2LSTYLE_LANG"] = "zh" if language == "zh" else "en"
    return settings


def fingerprint(path, settings):
    """A hash of what the notebook's run depends on: its cells (type, source, tags), every file of the package
    and the settings."""
    cells = [(cell.cell_type, cell.source, cell.metadata.get("tags", []))
             for cell in nbformat.read(path, as_version=4).cells]
    digest = hashlib.sha256(json.dumps(cells).encode())
    for module in sorted((ROOT / "d2lstyle").rglob("*.py")):
        digest.update(module.relative_to(ROOT).as_posix().encode() + module.read_bytes())
    digest.update(json.dumps(settings, sort_keys=True).encode())
    return digest.hexdigest()


def is_up_to_date(target, expected):
    if not target.is_file():
        return False
    try:
        run = nbformat.read(target, as_version=4).metadata.get("d2lstyle_run", {})
    except Exception:  # noqa: BLE001 - an unreadable old output is simply run again
        return False
    return run.get("fingerprint") == expected


def execute(path, target, settings, timeout):
    """Run the notebook at ``path`` with ``settings`` and write it, with outputs, to ``target``.

    Returns the seconds the run took and the processor seconds its kernel used. Raises CellExecutionError or
    CellTimeoutError when a cell fails.
    """
    notebook = nbformat.read(path, as_version=4)
    environment = {**settings, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    saved = {name: os.environ.get(name) for name in environment}
    os.environ.update(environment)  # the kernel inherits this process's environment
    try:
        with tempfile.TemporaryDirectory(prefix="d2lstyle-run-") as folder:
            # widget state is left out: the pages and slides are static, and the explorer needs a kernel
            client = NotebookClient(notebook, timeout=timeout, kernel_name="python3", store_widget_state=False,
                                    resources={"metadata": {"path": folder}})
            started, cpu_before = time.perf_counter(), processor_seconds_of_children()
            load_before = os.getloadavg()[0]
            client.execute()  # starts the kernel, runs every cell, shuts the kernel down and waits for it
            seconds, cpu = time.perf_counter() - started, processor_seconds_of_children() - cpu_before
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
    drop_widget_views(notebook)
    notebook.metadata["d2lstyle_run"] = {"fingerprint": fingerprint(path, settings), "seconds": round(seconds, 1),
                                         "cpu_seconds": round(cpu, 1), "settings": settings,
                                         "date": datetime.datetime.now().strftime("%Y-%m-%d %H:%M"),
                                         "machine": machine(), "loads": [load_before, os.getloadavg()[0]]}
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".partial")
    partial.write_text(nbformat.writes(notebook) + "\n", encoding="utf-8")
    partial.replace(target)  # never a half-written notebook under the real name
    return seconds, cpu


def machine():
    """The processor's name and the number of cores this process may use, e.g. "AMD EPYC, 2 cores"."""
    name = "an unknown processor"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                name = " ".join(line.split(":", 1)[1].split())
                break
    except OSError:
        pass
    return f"{name}, {len(os.sched_getaffinity(0)) if hasattr(os, 'sched_getaffinity') else os.cpu_count()} cores"


def report_row(name, run):
    """The row of the report's table for the notebook ``name`` from its run's metadata (``d2lstyle_run``).

    >>> report_row("06_training", {"seconds": 501.04, "cpu_seconds": 960.0, "date": "2026-12-07 14:02",
    ...                            "machine": "AMD EPYC, 2 cores", "loads": [0.4, 2.01]})
    '| `06_training` | 501 | 960 | 2026-12-07 14:02 | AMD EPYC, 2 cores | 0.4, 2.0 |'
    """
    loads = ", ".join(f"{load:.1f}" for load in run["loads"])
    return (f"| `{name}` | {run['seconds']:.0f} | {run['cpu_seconds']:.0f} | {run['date']} | {run['machine']} | "
            f"{loads} |")


def report(rows, earlier=""):
    """The section of results.md: a row per notebook, ``rows`` ({name: row}) replacing the rows of
    ``earlier`` (the section as it was) for those notebooks, the others kept, in the notebooks' order.

    >>> old = report({"01_images": "| `01_images` | 30 | 40 | d | m | 0.1, 0.2 |"})
    >>> new = report({"00_overview": "| `00_overview` | 99 | 150 | d | m | 0.0, 1.0 |"}, old)
    >>> [line.split(" | ")[1] for line in new.splitlines() if line.startswith("| `")]
    ['99', '30']
    """
    kept = {}
    for line in earlier.splitlines():
        if line.startswith("| `"):
            kept[line.split("`")[1]] = line
    kept.update(rows)
    body = [f"<!-- section: {REPORT_SECTION} -->", f"## {REPORT_TITLE}", "",
            "- Command: `python tools/run_notebooks.py [NAME ...]` (each notebook in a fresh kernel at the full "
            "settings, with the original VGG-19; it rewrites its own row)",
            "- Date: each row's own, the notebook's latest run at the full settings",
            "- Machine: each row's own; other processes may share it",
            "- Precision: each notebook's own, float32 except where a run uses Adam with `precision='auto'`, which "
            "runs VGG-19 in bfloat16 on a processor with native bfloat16 (AVX-512 BF16, as on the AMD EPYC of the "
            "rows of 7 Dec 2026); float32 path: matrix multiplies at torch's 'highest' precision",
            "- Load average (1 min): each row's own, before and after its run", "",
            "Quick mode, which CI runs, takes a fraction of each time.", "",
            "| " + " | ".join(REPORT_COLUMNS) + " |", "|" + "---|" * len(REPORT_COLUMNS)]
    body += [kept[name] for name in sorted(kept)]
    return "\n".join(body + ["", "<!-- end section -->", ""])


def write_report(rows, path=RESULTS):
    """Put the rows of the notebooks that ran into their section of results.md (``report``); every byte
    outside the section stays as it was, and a new section goes at the end."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import report as results_file  # benchmarks/report.py: the one writer of results.md

    text = path.read_text(encoding="utf-8") if path.exists() else ""
    where = results_file.sections(text).get(REPORT_SECTION)
    earlier = text[where[0]:where[1]] if where else ""
    results_file.write_section(path, report(rows, earlier))


def processor_seconds_of_children():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def drop_widget_views(notebook):
    """Replace the ipywidgets views in the outputs, which a static page or slide cannot show without a kernel.

    A progress bar (tqdm's, whose text is its state when it was first shown: 0 %) is dropped; any other widget
    (the explorer's panel) becomes the line WIDGET_NOTE.
    """
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        kept = []
        for output in cell.outputs:
            data = output.get("data", {})
            if WIDGET_VIEW in data:
                if PROGRESS_BAR.search(data.get("text/plain", "")):
                    continue
                output["data"] = {"text/plain": WIDGET_NOTE}
            kept.append(output)
        cell.outputs = kept


def with_outputs(path, executed):
    """The notebook at ``path`` as it is now, with the outputs of its run saved in ``executed``.

    Raises NotebookFailed if the cells of the two differ (the run is out of date: run it again).
    """
    notebook = nbformat.read(path, as_version=4)
    ran = nbformat.read(executed, as_version=4)
    if [(cell.cell_type, cell.source) for cell in notebook.cells] != [(cell.cell_type, cell.source)
                                                                      for cell in ran.cells]:
        raise NotebookFailed(f"{path.name}: the run in {executed} is of other cells than the notebook's now")
    for cell, ran_cell in zip(notebook.cells, ran.cells):
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = ran_cell.outputs, ran_cell.execution_count
    notebook.metadata["d2lstyle_run"] = ran.metadata.get("d2lstyle_run", {})
    return notebook


def select(names, folder=NOTEBOOKS):
    """The notebooks to run: all of ``folder`` (notebooks/, or zh/notebooks for the Chinese edition), or those
    named (with or without .ipynb)."""
    every = sorted(Path(folder).glob("[0-9][0-9]*.ipynb"))
    if not names:
        return every
    by_name = {path.stem: path for path in every}
    unknown = [name for name in names if name.removesuffix(".ipynb") not in by_name]
    if unknown:
        raise SystemExit(f"run_notebooks: no notebook {', '.join(unknown)} in {Path(folder).name}/ "
                         f"(there are: {', '.join(by_name)})")
    return [by_name[name.removesuffix(".ipynb")] for name in names]


def run(paths, out, quick, force=False, log=print, language="en"):
    """Run each notebook whose output in ``out`` is missing or stale; return {name: seconds or None}."""
    settings = settings_for(quick, language)
    mode = "quick" if quick else "full"
    times = {}
    for path in paths:
        target = out / path.name
        if not force and is_up_to_date(target, fingerprint(path, settings)):
            log(f"run_notebooks: {path.name}: up to date in {out}")
            times[path.name] = None
            continue
        log(f"run_notebooks: {path.name}: running ({mode} settings, network {settings['D2LSTYLE_NETWORK']}) ...")
        try:
            seconds, cpu = execute(path, target, settings, CELL_TIMEOUT[mode])
        except (CellExecutionError, CellTimeoutError) as error:
            raise NotebookFailed(f"{path.name}: a cell failed:\n{error}") from None
        log(f"run_notebooks: {path.name}: {seconds:.0f} s ({cpu:.0f} s of processor time)")
        times[path.name] = seconds
    return times


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("names", nargs="*", help="notebooks to run (default: all), e.g. 00_overview")
    parser.add_argument("--quick", action="store_true", help="quick mode: 64 px pictures, at most 20 steps")
    parser.add_argument("--out", help="folder for the executed notebooks (default build/executed/full or quick)")
    parser.add_argument("--force", action="store_true", help="run even the notebooks that are up to date")
    parser.add_argument("--no-report", dest="report", action="store_false",
                        help="leave benchmarks/results.md as it is (by default a full run rewrites its row)")
    args = parser.parse_args(argv)
    out = Path(args.out) if args.out else ROOT / "build" / "executed" / ("quick" if args.quick else "full")
    try:
        times = run(select(args.names), out, args.quick, force=args.force)
    except NotebookFailed as error:
        print(f"run_notebooks: {error}", file=sys.stderr)
        return 1
    ran = [seconds for seconds in times.values() if seconds is not None]
    if ran and args.report and not args.quick and args.out is None:
        rows = {Path(name).stem: report_row(Path(name).stem, nbformat.read(out / name, as_version=4).metadata[
            "d2lstyle_run"]) for name, seconds in times.items() if seconds is not None}
        write_report(rows)
        print(f"run_notebooks: the run time of {', '.join(rows)} written to {RESULTS.relative_to(ROOT)}")
    if ran:
        print(f"run_notebooks: ran {len(ran)} notebook(s) in {sum(ran):.0f} s; outputs in {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
