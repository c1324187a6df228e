"""How fast is d2lstyle, and how fast does it reach a good picture?

    make bench          # everything (about 25 minutes on a quiet 2-core CPU)
    make bench-quick    # per-step cost at 128 and 256 px only (a few minutes)
    python benchmarks/bench.py --device cuda   # on a GPU

1. cost per step at 128, 256 and 512 px: d2lstyle's step (through
   ``stylise``, as a learner runs it) against the textbook baseline
   (:class:`common.TextbookBaseline`), interleaved in one process, with the
   machine's fp32 matrix-multiply GFLOP/s measured in the same run;
2. time to quality at 256 and 512 px: wall time until the loss at full size
   is at most what the d2l recipe reaches after its 500 steps, for the
   ``default`` recipe (d2l's Adam schedule with bfloat16 where the hardware
   has it), L-BFGS, and coarse to fine;
3. peak memory at 512 and 1024 px, each run in a fresh process.

The full run writes results.md, results.json and loss_vs_time.png next to this
file; the quick run writes nothing. The last line printed is always
``speedup_vs_baseline_256: X.XX``.
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
from d2lstyle import transfer  # noqa: E402
from d2lstyle.vgg import min_input_size  # noqa: E402

from common import (CONTENT, STYLE, TextbookBaseline, load_average, machine_description, matmul_gflops,  # noqa: E402
                    median, spread, step_flops, synchronize)

D2L_STEPS = 500
ADAM = "d2l recipe (Adam, float32): sets the target"
DEFAULT = "default recipe (d2l's Adam schedule, precision='auto')"


def say(*args):
    print(*args, flush=True)


# --- 1. cost per step ----------------------------------------------------------

def ours_step_times(content, style, recipe, vgg, device, steps):
    """Seconds of each step of a real ``stylise`` run, after its first.

    ``stylise`` records the wall time after every loss evaluation, so the
    differences are whole steps: optimiser update, forward, losses, backward
    and d2lstyle's bookkeeping (history, best image, callbacks).
    """
    # Many steps planned, so that precision="auto" stays in bfloat16 (its last tenth is float32);
    # a callback stops the run after the steps to time.
    planned = recipe.replace(steps=10 * (steps + 1))
    result = d2lstyle.stylise(content, style, planned, vgg, device=device, progress=False, memory_check=False,
                              callbacks=[lambda info: info.step > steps])
    seconds = result.history["seconds"]
    return [later - earlier for earlier, later in zip(seconds, seconds[1:])], result.history["total"][0]


def baseline_step_times(baseline, device, steps):
    times = []
    for _ in range(steps):
        start = time.perf_counter()
        baseline.step()
        synchronize(device)
        times.append(time.perf_counter() - start)
    return times


def bench_step(side, vgg, content, style, device, rounds, steps, variants=True):
    """Per-step seconds of d2lstyle and of the textbook baseline at one size."""
    recipe = d2lstyle.get_recipe("d2l").replace(image_size=side)
    content_shape, style_shape = transfer.working_shapes(recipe, content, style)
    content_x = d2lstyle.preprocess(content, content_shape).to(device)
    style_x = d2lstyle.preprocess(style, style_shape).to(device)
    baseline = TextbookBaseline(vgg, content_x, style_x)
    d2l_code = TextbookBaseline(vgg, content_x, style_x, recompute_targets=False)
    baseline_first_loss = float(baseline.loss().detach())

    contenders = {"d2lstyle": lambda: ours_step_times(content, style, recipe, vgg, device, steps)[0],
                  "textbook": lambda: baseline_step_times(baseline, device, steps)}
    if variants:  # the textbook with targets computed once, as d2l's own code does
        contenders["textbook, targets once (d2l's code)"] = lambda: baseline_step_times(d2l_code, device, steps)
    if transfer.fast_dtype(device) is not None:  # what the default recipe's precision="auto" adds
        bf16 = recipe.replace(precision="auto")
        contenders["d2lstyle, bfloat16 (default recipe)"] = (
            lambda: ours_step_times(content, style, bf16, vgg, device, steps)[0])
    if variants:  # what channels-last adds on top of the frozen, truncated network
        def contiguous():
            saved = transfer.CHANNELS_LAST_DEVICES
            transfer.CHANNELS_LAST_DEVICES = ()
            try:
                return ours_step_times(content, style, recipe, vgg, device, steps)[0]
            finally:
                transfer.CHANNELS_LAST_DEVICES = saved
        contenders["d2lstyle, NCHW layout"] = contiguous
    _, ours_first_loss = ours_step_times(content, style, recipe, vgg, device, 1)  # warm up, and check the loss
    for name, contender in contenders.items():  # warm up every kernel once
        contender()

    times = {name: [] for name in contenders}
    ratios = []
    yardstick = {"mm": [], "gemm_1x1": []}
    names = list(contenders)
    for round_ in range(rounds):
        order = names if round_ % 2 == 0 else names[::-1]  # alternate, so that drifts in load cancel
        per_round = {}
        for name in order:
            per_round[name] = contenders[name]()
            times[name] += per_round[name]
        ratios.append(median(per_round["textbook"]) / median(per_round["d2lstyle"]))
        for key, values in matmul_gflops(device, repeats=2).items():
            yardstick[key] += values
    flops = step_flops(content_shape, recipe.layers()[-1])
    row = {"side": side, "shape": list(content_shape), "gflop_per_step": flops / 1e9,
           "loss_check": {"d2lstyle": ours_first_loss, "textbook": baseline_first_loss},
           "speedup": median(ratios), "speedup_rounds": ratios,
           "matmul_gflops": {key: {"median": median(v), "best": max(v)} for key, v in yardstick.items()},
           "contenders": {}}
    for name, values in times.items():
        row["contenders"][name] = {
            "median_s": median(values), "best_s": min(values), "spread": spread(values), "n": len(values),
            "gflops_median": flops / median(values) / 1e9, "gflops_best": flops / min(values) / 1e9}
    return row


def print_step_row(row):
    best_gemm = max(row["matmul_gflops"][k]["best"] for k in row["matmul_gflops"])
    say(f"  {row['side']} px {tuple(row['shape'])}: {row['gflop_per_step']:.1f} GFLOP per step; "
        f"fp32 GEMM best {best_gemm:.0f} GFLOP/s (torch.mm {row['matmul_gflops']['mm']['best']:.0f}, "
        f"oneDNN/cuDNN 1x1 {row['matmul_gflops']['gemm_1x1']['best']:.0f})")
    for name, c in row["contenders"].items():
        say(f"    {name:26s} median {c['median_s'] * 1e3:8.1f} ms (best {c['best_s'] * 1e3:7.1f}, spread "
            f"{c['spread']:.0%}, n={c['n']}), {c['gflops_median']:6.0f} GFLOP/s median, "
            f"{c['gflops_best'] / row['matmul_gflops']['mm']['best']:5.0%} of torch.mm at best")
    ratios = row["speedup_rounds"]
    say(f"    speedup (median of per-round ratios): {row['speedup']:.2f} (rounds {min(ratios):.2f}..{max(ratios):.2f});"
        f" first-step loss d2lstyle {row['loss_check']['d2lstyle']:.6g}, textbook {row['loss_check']['textbook']:.6g}")


# --- 2. time to quality ---------------------------------------------------------

def time_to_reach(history, target):
    """Wall seconds (and evaluations) until the loss *at full size* first <= target."""
    for step, seconds, scale, total in zip(history["step"], history["seconds"], history["scale"], history["total"]):
        if scale == 1.0 and total <= target:
            return seconds, step
    return math.nan, math.nan


def stop_at(target):
    def callback(info):
        return info.scale == 1.0 and info.losses["total"] <= target
    return callback


def bench_quality(side, vgg, content, style, device, textbook_step_s, lbfgs_budget=150):
    """Runs at one size: the d2l recipe for its 500 steps sets the target loss."""
    d2l = d2lstyle.get_recipe("d2l").replace(image_size=side)
    say(f"  {side} px: d2l recipe, {D2L_STEPS} steps ...")
    reference = d2lstyle.stylise(content, style, d2l, vgg, device=device, progress=False)
    target = reference.final_loss
    runs = {ADAM: reference}
    default = d2lstyle.get_recipe("default").replace(image_size=side)
    say(f"  {side} px: {DEFAULT}, {default.steps} steps ...")
    runs[DEFAULT] = d2lstyle.stylise(content, style, default, vgg, device=device, progress=False)
    lbfgs = d2l.replace(optimizer="lbfgs", lr=1.0, lr_decay_every=0, lr_decay_factor=1.0,
                        line_search="strong_wolfe", lbfgs_history=20, steps=lbfgs_budget)
    candidates = {
        "L-BFGS, full size": lbfgs,
        "L-BFGS, coarse to fine (0.5, 1)": lbfgs.replace(scales=(0.5, 1.0)),
    }
    if side <= 256:
        candidates["Adam, coarse to fine (0.5, 1)"] = d2l.replace(scales=(0.5, 1.0))
    for name, recipe in candidates.items():
        say(f"  {side} px: {name} ...")
        runs[name] = d2lstyle.stylise(content, style, recipe, vgg, device=device, progress=False,
                                      callbacks=(stop_at(target),))
    result = {"side": side, "target_loss": target, "textbook_500_steps_s": D2L_STEPS * textbook_step_s,
              "runs": {}}
    d2l_seconds = reference.history["seconds"][-1]
    content_shape, _ = transfer.working_shapes(d2l, content, style)
    full = step_flops(content_shape, "conv5_1")
    min_side = min_input_size(d2l.layers())
    for name, run in runs.items():
        seconds, steps = time_to_reach(run.history, target)
        reached = seconds == seconds
        # evaluations to the target weighted by their FLOPs (a coarse one costs less): immune to load
        work = sum(step_flops(transfer.shape_at_scale(content_shape, scale, min_side), "conv5_1") / full
                   for scale in run.history["scale"][: steps if reached else 0])
        result["runs"][name] = {
            "optimizer": run.recipe.optimizer, "scales": list(run.recipe.scales),
            "lbfgs_history": run.recipe.lbfgs_history if run.recipe.optimizer == "lbfgs" else None,
            "seconds_to_target": seconds, "evaluations_to_target": steps,
            "total_seconds": run.history["seconds"][-1], "evaluations": len(run.history["step"]),
            "final_loss": run.final_loss, "speedup_vs_d2l": d2l_seconds / seconds if reached else 0.0,
            "speedup_vs_textbook": D2L_STEPS * textbook_step_s / seconds if reached else 0.0,
            "full_size_evaluations": work if reached else math.nan,
            "history": {key: run.history[key] for key in ("seconds", "scale", "total")},
        }
        r = result["runs"][name]
        say(f"    {name:34s} reaches {target:.5g} after {seconds:7.1f} s ({steps} evaluations); ran "
            f"{r['evaluations']} in {r['total_seconds']:.1f} s to {r['final_loss']:.5g}; "
            f"x{r['speedup_vs_d2l']:.2f} vs the d2l recipe in d2lstyle, x{r['speedup_vs_textbook']:.2f} vs textbook")
    return result


# --- 3. peak memory ----------------------------------------------------------------

def bench_memory(sides, lbfgs_history=10):
    rows = []
    probe = str(HERE / "memory_probe.py")
    for side in sides:
        cases = [
            ["--recipe", "default", "--steps", "4"],
            ["--recipe", "default", "--steps", str(lbfgs_history + 4), "--lbfgs-history", str(lbfgs_history)],
            ["--baseline", "--steps", "3"],
        ]
        for case in cases:
            say(f"  {side} px: {' '.join(case)} ...")
            output = subprocess.run([sys.executable, probe, "--side", str(side)] + case, check=True,
                                    capture_output=True, text=True).stdout
            row = json.loads(output.strip().splitlines()[-1])
            rows.append(row)
            label = row["recipe"] + (f" (L-BFGS, history {row['lbfgs_history']})" if row["optimizer"] == "lbfgs" else "")
            say(f"    {label}: peak {row['peak'] / 2**20:.0f} MiB, {row['increase'] / 2**20:.0f} MiB above the "
                f"process before the run; estimate {row['estimate'] / 2**20:.0f} MiB")
    return rows


# --- the report -----------------------------------------------------------------------

def write_report(results, path):
    lines = ["# Benchmark results", "",
             f"Measured by `{results.get('command', 'make bench')}` on {results['date']}: {results['machine']}.",
             f"Load average (1 min) before/after: {results['load_before']:.1f} / {results['load_after']:.1f} "
             f"on {results['cores']} cores; the run took {results['wall_minutes']:.1f} minutes.", "",
             "VGG-19 weights: **random** (seeded; pretrained weights cannot be downloaded where this was "
             "measured). Per-step timings do not depend on the weights' values; the time-to-quality figures "
             "depend on the loss landscape and may differ with pretrained weights.", "",
             f"Content `{CONTENT}`, style `{STYLE}`; the d2l recipe's objective throughout (relu4_4 content, "
             "relu1_1, relu2_1, relu3_1, relu4_1, conv5_1 style, weights 1, 1e4, 10). How it is measured: "
             "[README.md](README.md).", "",
             "## 1. Cost per step", "",
             "GFLOP/s counts the convolutions' forward and input-gradient FLOPs from the layer shapes. "
             "`of mm` compares the best step with the best fp32 matrix multiply (torch.mm) measured in the same "
             "run; `of 1x1` with the same product run as a 1x1 convolution through oneDNN (cuDNN on a GPU), "
             "which is faster on some CPUs. `textbook` is issue #5's baseline: VGG weights left trainable, "
             "the targets' features recomputed at every step, the stack run to conv5_1; `targets once` is "
             "the same with the targets computed once, as d2l's own code does. The bfloat16 row is the "
             "default recipe's `precision='auto'`, shown where the hardware computes bfloat16 natively.", "",
             "| size | variant | median ms/step | best | spread | GFLOP/s (median) | of mm | of 1x1 | speedup |",
             "|---|---|---|---|---|---|---|---|---|"]
    for row in results["step"]:
        mm_best = row["matmul_gflops"]["mm"]["best"]
        gemm_best = row["matmul_gflops"]["gemm_1x1"]["best"]
        for name, c in row["contenders"].items():
            speedup = (f"**{row['speedup']:.2f}x**" if name == "d2lstyle"
                       else f"{row['contenders']['textbook']['median_s'] / c['median_s']:.2f}x")
            lines.append(f"| {row['side']} px {row['shape'][0]}x{row['shape'][1]} | {name} | "
                         f"{c['median_s'] * 1e3:.0f} | {c['best_s'] * 1e3:.0f} | {c['spread']:.0%} | "
                         f"{c['gflops_median']:.0f} | {c['gflops_best'] / mm_best:.0%} | "
                         f"{c['gflops_best'] / gemm_best:.0%} | {speedup} |")
    lines += ["", "fp32 GEMM GFLOP/s in the same run (best / median): " + "; ".join(
        f"{row['side']} px round: torch.mm {row['matmul_gflops']['mm']['best']:.0f} / "
        f"{row['matmul_gflops']['mm']['median']:.0f}, 1x1 conv {row['matmul_gflops']['gemm_1x1']['best']:.0f} / "
        f"{row['matmul_gflops']['gemm_1x1']['median']:.0f}" for row in results["step"]) + ".",
        "`spread` is the interquartile range of the step times over their median; `speedup` is the median, over "
        "interleaved rounds, of the textbook baseline's median step time over d2lstyle's.", ""]
    if results.get("quality"):
        lines += ["## 2. Time to the d2l recipe's final loss", "",
                  "Target: the total loss the d2l recipe (Adam, lr 0.3 x0.8 every 50 steps) reaches after its "
                  "500 steps at the same size, in float32; the time is wall time until a loss at full size is at "
                  "or below it (coarse scales do not count). The textbook's time is 500 times the textbook "
                  "baseline's median step time from part 1. `full-size work` counts evaluations weighted by "
                  "their FLOPs (a half-size evaluation counts about a quarter).", "",
                  "| size | method | target loss | seconds to target | evaluations (full-size work) | final loss (evals) | vs d2l recipe in d2lstyle | vs textbook d2l |",
                  "|---|---|---|---|---|---|---|---|"]
        for q in results["quality"]:
            for name, r in q["runs"].items():
                if r["seconds_to_target"] == r["seconds_to_target"]:
                    reach = (f"{r['seconds_to_target']:.1f} | {r['evaluations_to_target']} "
                             f"({r['full_size_evaluations']:.0f}) ")
                else:
                    reach = f"not reached | not within {r['evaluations']} "
                reached = r["seconds_to_target"] == r["seconds_to_target"]  # NaN when not reached
                speedups = (f"{r['speedup_vs_d2l']:.2f}x | {r['speedup_vs_textbook']:.2f}x" if reached
                            else "n/a | n/a")
                lines.append(f"| {q['side']} px | {name} | {q['target_loss']:.5g} | {reach}| "
                             f"{r['final_loss']:.5g} ({r['evaluations']}) | {speedups} |")
            lines.append(f"| {q['side']} px | textbook d2l, 500 steps (extrapolated) | | "
                         f"{q['textbook_500_steps_s']:.0f} | 500 (500) | | | 1.00x |")
        lines += ["", "![loss against wall time](loss_vs_time.png)", ""]
    if results.get("memory"):
        lines += ["## 3. Peak memory (CPU, one fresh process each)", "",
                  "`peak` is the process's maximum resident set (ru_maxrss), including Python, torch and the "
                  "VGG-19 weights; `run` is the peak minus the resident memory just before the run; "
                  "`estimate` is `d2lstyle.transfer.estimate_memory_bytes`, which `stylise` checks against "
                  "the free memory before it starts.", "",
                  "| size | run | evaluations | peak MiB | run MiB | estimate MiB |", "|---|---|---|---|---|---|"]
        for m in results["memory"]:
            if m["recipe"] == "textbook":
                what, estimate = "textbook baseline (Adam)", "n/a"
            else:
                what = (f"{m['recipe']} (Adam)" if m["optimizer"] == "adam"
                        else f"{m['recipe']}'s objective, L-BFGS with history {m['lbfgs_history']}")
                estimate = f"{m['estimate'] / 2**20:.0f} ({m['estimate'] / m['increase']:.2f}x)"
            lines.append(f"| {m['side']} px {m['shape'][0]}x{m['shape'][1]} | {what} | {m['evaluations']} | "
                         f"{m['peak'] / 2**20:.0f} | {m['increase'] / 2**20:.0f} | {estimate} |")
        lines.append("")
    lines += ["## Goals (2-core CPU)", ""] + [f"- {line}" for line in results["goals"]] + [""]
    path.write_text("\n".join(lines))


def goals(results):
    lines = []
    row = next((r for r in results["step"] if r["side"] == 256), None)
    if row:
        mm_best = row["matmul_gflops"]["mm"]["best"]
        gemm_best = row["matmul_gflops"]["gemm_1x1"]["best"]
        ours = row["contenders"]["d2lstyle"]
        lines.append(f"per step at 256 px (float32): {row['speedup']:.2f}x the textbook baseline (goal >= 1.6x: "
                     f"{'met' if row['speedup'] >= 1.6 else 'NOT met'})")
        once = row["contenders"].get("textbook, targets once (d2l's code)")
        if once:
            lines.append(f"per step at 256 px against d2l's own code (targets computed once): "
                         f"{once['median_s'] / ours['median_s']:.2f}x")
        best_gemm = max(mm_best, gemm_best)
        lines.append(f"GFLOP/s at 256 px (float32, best step): {ours['gflops_best']:.0f} = "
                     f"{ours['gflops_best'] / best_gemm:.0%} of the faster of the two fp32 GEMMs measured "
                     f"({best_gemm:.0f}; torch.mm {mm_best:.0f}, a 1x1 convolution through oneDNN {gemm_best:.0f}) "
                     f"(goal >= 75%: {'met' if ours['gflops_best'] >= 0.75 * best_gemm else 'NOT met'})")
    for q in results.get("quality", []):
        r = q["runs"][DEFAULT]
        best_name, best = max(q["runs"].items(), key=lambda item: item[1]["speedup_vs_textbook"])
        lines.append(f"time to the d2l recipe's final loss at {q['side']} px with the default recipe: "
                     f"{r['speedup_vs_textbook']:.2f}x faster than the textbook's 500 steps, "
                     f"{r['speedup_vs_d2l']:.2f}x faster than the d2l recipe in d2lstyle "
                     f"(goal >= 3x: {'met' if r['speedup_vs_textbook'] >= 3 else 'NOT met'}); fastest method "
                     f"measured: {best_name}")
        if q["side"] == 512:
            lines.append(f"512 px result with the default recipe: {r['total_seconds']:.0f} s for all "
                         f"{r['evaluations']} steps, final loss {r['final_loss']:.5g} (d2l recipe: "
                         f"{q['target_loss']:.5g}) (goal <= 300 s: {'met' if r['total_seconds'] <= 300 else 'NOT met'})")
    return lines


def plot(results, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    quality = results["quality"]
    fig, axes = plt.subplots(len(quality), 2, figsize=(12, 4.8 * len(quality)), squeeze=False)
    for row, q in zip(axes, quality):
        for ax, x_label in zip(row, ("wall time (s)", "work: evaluations, each weighted by its scale squared")):
            for name, r in q["runs"].items():
                h = r["history"]
                work = [sum(scale**2 for scale in h["scale"][: i + 1]) for i in range(len(h["scale"]))]
                x = h["seconds"] if x_label.startswith("wall") else work
                full = [(a, t) for a, t, c in zip(x, h["total"], h["scale"]) if c == 1.0]
                line, = ax.plot([a for a, _ in full], [t for _, t in full], label=name)
                coarse = [(a, t) for a, t, c in zip(x, h["total"], h["scale"]) if c < 1.0]
                if coarse:
                    ax.plot([a for a, _ in coarse], [t for _, t in coarse], ":", color=line.get_color(),
                            label=f"{name}: coarse scale (smaller image, not comparable)")
            ax.axhline(q["target_loss"], color="grey", linestyle="--", label="d2l recipe's final loss")
            ax.set_yscale("log")
            ax.set_xlabel(x_label)
            ax.set_ylabel("total loss (d2l objective)")
            ax.set_title(f"{q['side']} px: loss against {x_label.split(':')[0].split(' (')[0]}")
            ax.legend(fontsize=7)
    fig.suptitle(f"{results['machine']}\nrandom VGG-19 weights; measured {results['date']}, load average "
                 f"{results['load_before']:.1f} to {results['load_after']:.1f}", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="per-step cost at 128 and 256 px only; writes nothing")
    parser.add_argument("--device", default="cpu", help="cpu (default) or cuda")
    parser.add_argument("--rounds", type=int, default=None, help="interleaved rounds per size")
    parser.add_argument("--out", default=str(HERE), help="where the full run writes its report")
    parser.add_argument("--parts", default="step,quality,memory", help="comma-separated subset to run")
    parser.add_argument("--step-sides", default=None, help="sizes for part 1 (default 128,256,512; quick: 128,256)")
    parser.add_argument("--quality-sides", default="256,512", help="sizes for part 2")
    parser.add_argument("--memory-sides", default="512,1024", help="sizes for part 3")
    parser.add_argument("--report-only", action="store_true",
                        help="rewrite results.md and the plot from results.json in --out, measuring nothing")
    args = parser.parse_args(argv)
    if args.report_only:
        out = Path(args.out)
        results = json.loads((out / "results.json").read_text())
        results["goals"] = goals(results)
        write_report(results, out / "results.md")
        if results["quality"]:
            plot(results, out / "loss_vs_time.png")
        say(f"wrote {out / 'results.md'}")
        return
    device = d2lstyle.pick_device(args.device)
    torch.manual_seed(0)
    started, load_before = time.perf_counter(), load_average()
    machine = machine_description(device)
    say(f"machine: {machine}")
    say("weights: random (seeded): timings do not depend on the weights; time to quality does")
    vgg = d2lstyle.load_vgg19("random").to(device)
    content = d2lstyle.load_image(d2lstyle.bundled_image(CONTENT))
    style = d2lstyle.load_image(d2lstyle.bundled_image(STYLE))
    parts = set(args.parts.split(","))
    results = {"machine": machine, "machine_short": f"{d2lstyle.__name__} on {args.device}, {_short(machine)}",
               "cores": __import__("os").cpu_count(), "device": str(device), "date": time.strftime("%Y-%m-%d %H:%M"),
               "step": [], "quality": [], "memory": [],
               "command": "python benchmarks/bench.py " + " ".join(sys.argv[1:] if argv is None else argv)}

    sides = (128, 256) if args.quick else (128, 256, 512)
    if args.step_sides:
        sides = tuple(int(side) for side in args.step_sides.split(","))
    say("1. cost per step (d2l's objective, Adam), interleaved with the textbook baseline")
    for side in sides:
        rounds = args.rounds or (5 if side < 512 else 4)
        steps = 3 if side < 512 else 2
        row = bench_step(side, vgg, content, style, device, rounds, steps, variants=not args.quick or side == 256)
        results["step"].append(row)
        print_step_row(row)
    textbook = {row["side"]: row["contenders"]["textbook"]["median_s"] for row in results["step"]}

    if not args.quick and "quality" in parts:
        say("2. time to the d2l recipe's final loss")
        for side in (int(side) for side in args.quality_sides.split(",")):
            results["quality"].append(bench_quality(side, vgg, content, style, device,
                                                        textbook.get(side, math.nan)))
    if not args.quick and "memory" in parts and device.type == "cpu":
        say("3. peak memory, each in a fresh process")
        results["memory"] = bench_memory(tuple(int(side) for side in args.memory_sides.split(",")))

    results["load_before"], results["load_after"] = load_before, load_average()
    results["wall_minutes"] = (time.perf_counter() - started) / 60
    results["goals"] = goals(results)
    say("goals:")
    for line in results["goals"]:
        say(f"  {line}")
    say(f"load average before/after: {results['load_before']:.1f} / {results['load_after']:.1f}; "
        f"{results['wall_minutes']:.1f} minutes")
    if not args.quick:
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        (out / "results.json").write_text(json.dumps(results, indent=1))
        write_report(results, out / "results.md")
        if results["quality"]:
            plot(results, out / "loss_vs_time.png")
        say(f"wrote {out / 'results.md'}")
    row = next((r for r in results["step"] if r["side"] == 256), results["step"][-1])
    say(f"speedup_vs_baseline_{row['side']}: {row['speedup']:.2f}")


def _short(machine):
    return machine.split(";")[0].replace("CPU ", "")


if __name__ == "__main__":
    main()
