"""High resolution by coarse to fine: time to the quality target at 1024 px, peak memory at 2048 px.

    make bench-highres                                    # both parts; writes its section of results.md
    python benchmarks/highres.py speed --side 1024        # time to the quality target only
    python benchmarks/highres.py memory --side 2048       # peak memory only (one fresh process per run)

Everything runs on the CPU in float32 (``precision="float32"``: no bfloat16, as on most laptops) with the
original VGG-19 on the bundled Tübingen / Starry Night pair, through ``d2lstyle.stylise`` with a recipe whose
``scales`` optimise at a quarter, half and the full size in turn (Gatys et al. 2017's coarse to fine), each
scale starting from the last result upsampled.

**speed**: the quality (``d2lstyle.quality``: style ratio <= 0.45 and content ratio <= 0.5) is measured every
``--every`` evaluations at the full size; the time until it is first met is the wall time of the run without
the time spent measuring, and the CPU time of the process over the same span (on a busy machine the wall time
grows with the other work, while the CPU time grows much less; both are reported, with the load average).

**memory**: each variant runs in a fresh process (``ru_maxrss`` only grows, and freed memory is not always
given back), which samples its resident memory every 2 ms during ``stylise`` and reports the highest value
seen, the resident memory before the run, and d2lstyle's estimate for the largest scale
(:func:`d2lstyle.devices.estimate_memory_bytes`, which ``stylise`` checks against the free memory before it
starts). The run is a real coarse-to-fine run to 2048 px, with few steps at the full size (the peak comes at
the first step of the largest scale, when its activations and the optimiser's state first exist together).

The last lines printed are its section for results.md; ``--write`` (or ``--append``, its older name) writes it
there (``report.py``: in place of its earlier section, leaving the rest of the file as it is).
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import torch  # noqa: E402

import d2lstyle  # noqa: E402
from d2lstyle import devices, quality, transfer  # noqa: E402

import report  # noqa: E402
from common import PeakSampler, finish_run, load_average, load_pair, rss_bytes, run_facts  # noqa: E402

FIVE = {f"relu{block}": 1.0 for block in ("1_1", "2_1", "3_1", "4_1", "5_1")}


def say(*args):
    print(*args, flush=True)


def variants(side):
    """name -> the recipe measured, at long side ``side``, in float32."""
    default = d2lstyle.get_recipe("default").replace(image_size=side, precision="float32")
    # The objective the lead's tuning points to: content relu4_2, style relu1_1 ... relu5_1, L-BFGS.
    lbfgs = default.replace(content_layers={"relu4_2": 1.0}, style_layers=dict(FIVE), content_weight=0.01,
                            style_weight=10.0, tv_weight=0.0, optimizer="lbfgs", lr=1.0, lr_decay_every=0,
                            line_search="strong_wolfe", lbfgs_history=10)
    return {
        "default-c2f": default.replace(scales=(0.25, 0.5, 1.0), scale_steps=(300, 150, 100), steps=550),
        "lbfgs-c2f": lbfgs.replace(scales=(0.25, 0.5, 1.0), scale_steps=(200, 100, 100), steps=400),
    }


DESCRIPTIONS = {"default-c2f": "the default recipe (d2l's objective, Adam), coarse to fine",
                "lbfgs-c2f": "L-BFGS (history 10), content relu4_2, style relu1_1 ... relu5_1, coarse to fine"}


# --- speed: time to the quality target at the full size -------------------------------------------------


def cpu_seconds():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def time_to_quality(name, recipe, content, style, vgg, every, budget_s):
    """Run ``recipe``; returns a dict with the quality curve at the full size and when the target was met."""
    shape, _ = transfer.working_shapes(recipe, content, style)
    scorer = quality.Scorer(content, style, shape)
    measuring = {"wall": 0.0, "cpu": 0.0}
    started_wall, started_cpu = time.perf_counter(), cpu_seconds()
    curve, reached = [], None

    def clock():
        return (time.perf_counter() - started_wall - measuring["wall"], cpu_seconds() - started_cpu - measuring["cpu"])

    def callback(info):
        nonlocal reached
        wall, cpu = clock()
        if info.scale == 1.0 and (info.step % every == 0 or info.step == info.steps):
            before_wall, before_cpu = time.perf_counter(), cpu_seconds()
            score = scorer(info.image)
            measuring["wall"] += time.perf_counter() - before_wall
            measuring["cpu"] += cpu_seconds() - before_cpu
            curve.append({"step": info.step, "wall": wall, "cpu": cpu, "style": score.style, "content": score.content})
            say(f"    step {info.step}: {wall:.0f} s wall, {cpu:.0f} s CPU, {score}")
            if reached is None and score.meets_target():
                reached = curve[-1]
                return True
        return wall > budget_s  # give up: the target was not met within the budget

    load_before = load_average()
    result = d2lstyle.stylise(content, style, recipe, vgg, device="cpu", progress=False, callbacks=[callback])
    wall, cpu = clock()
    return {"name": name, "shape": list(shape), "scales": list(recipe.scales),
            "schedule": transfer.scale_schedule(recipe), "curve": curve, "reached": reached,
            "evaluations": len(result.history["step"]), "wall": wall, "cpu": cpu,
            "load_before": load_before, "load_after": load_average(), "image": result.image}


# --- memory: a fresh process per run -------------------------------------------------------------------------


def probe(recipe_name, side, full_steps):
    """(Run in a fresh process.) One coarse-to-fine run to ``side`` px; prints its memory as one JSON line."""
    recipe = variants(side)[recipe_name]
    shares = recipe.scale_steps[:-1] + (full_steps,)  # the coarse scales as they are, few steps at the full size
    recipe = recipe.replace(scale_steps=shares, steps=sum(shares))
    content, style = load_pair()
    vgg = d2lstyle.load_vgg19("original")
    shape, _ = transfer.working_shapes(recipe, content, style)
    estimate = devices.estimate_memory_bytes(shape, recipe)
    before = rss_bytes()
    sampler = PeakSampler()
    sampler.start()
    started = time.perf_counter()
    # (memory_check=False: the point is to measure what the estimate only predicts)
    result = d2lstyle.stylise(content, style, recipe, vgg, device="cpu", progress=False, memory_check=False)
    seconds = time.perf_counter() - started
    peak = sampler.stop()
    out = HERE / "highres-pictures"
    out.mkdir(exist_ok=True)
    d2lstyle.save_image(result.image, out / f"{side}-{recipe.optimizer}.png")
    print(json.dumps({"name": recipe_name, "side": side, "shape": shape, "schedule": transfer.scale_schedule(recipe),
                      "rss_before": before, "peak": peak, "ru_maxrss": resource.getrusage(
                          resource.RUSAGE_SELF).ru_maxrss * 1024, "estimate": estimate, "seconds": seconds,
                      "status": result.status}))


def measure_memory(names, side, full_steps):
    results = []
    for name in names:
        say(f"  memory at {side} px: {name} ...")
        load_before = load_average()
        done = subprocess.run([sys.executable, __file__, "probe", "--recipe", name, "--side", str(side),
                               "--full-steps", str(full_steps)], capture_output=True, text=True,
                              env=dict(os.environ, PYTHONPATH=str(HERE.parent)))
        if done.returncode != 0:
            raise SystemExit(f"the probe failed: {done.stderr}")
        row = json.loads(done.stdout.strip().splitlines()[-1])
        row.update(load_before=load_before, load_after=load_average())
        say(f"    peak {row['peak'] / 2**30:.2f} GiB (before the run {row['rss_before'] / 2**30:.2f} GiB), "
            f"estimate {row['estimate'] / 2**30:.2f} GiB, {row['seconds']:.0f} s")
        results.append(row)
    return results


# --- the report -------------------------------------------------------------------------------------------------


def describe_schedule(schedule, shape):
    parts, first = [], 0
    for scale, last in schedule:
        side = max(transfer.shape_at_scale(shape, scale, 16))
        parts.append(f"{last - first} at {side} px")
        first = last
    return ", ".join(parts)


def section(speed, memory, run):
    """This script's section of results.md (report.py): the header, then the tables of the parts that ran."""
    lines = ["CPU only, the original VGG-19, Tübingen / Starry Night. Each scale starts from the last result "
             "upsampled; `steps` are loss evaluations.", ""]
    if speed:
        lines += ["Time to the quality target (style ratio <= 0.45, content ratio <= 0.5, measured at the full "
                  "size every few evaluations; the time spent measuring is not counted). `CPU` is the process's "
                  "CPU time over the same span: on a busy machine the wall time grows with the other work.", "",
                  "| size | recipe (steps per scale) | target met at | wall s | CPU s | load before / after | "
                  "last quality measured |", "|---|---|---|---|---|---|---|"]
        for row in speed:
            met, last = row["reached"], (row["curve"][-1] if row["curve"] else None)
            when_met = f"step {met['step']}" if met else f"not met in {row['evaluations']} steps"
            wall = f"{met['wall']:.0f}" if met else f"{row['wall']:.0f} (all)"
            cpu = f"{met['cpu']:.0f}" if met else f"{row['cpu']:.0f} (all)"
            measured = f"style {last['style']:.3f}, content {last['content']:.3f}" if last else "n/a"
            lines.append(f"| {max(row['shape'])} px {row['shape'][0]}x{row['shape'][1]} | {DESCRIPTIONS[row['name']]} "
                         f"({describe_schedule(row['schedule'], row['shape'])}) | {when_met} | {wall} | {cpu} | "
                         f"{row['load_before']:.1f} / {row['load_after']:.1f} | {measured} |")
        lines.append("")
    if memory:
        lines += ["Peak memory, one fresh process per run: `peak` is the highest resident memory sampled every "
                  "2 ms (Python, torch and the network included), `run` the peak minus the resident memory "
                  "before the run, `estimate` d2lstyle's estimate for the largest scale.", "",
                  "| size | recipe (steps per scale) | peak GiB | run GiB | estimate GiB | wall s | load before / "
                  "after |", "|---|---|---|---|---|---|---|"]
        for row in memory:
            lines.append(
                f"| {row['side']} px {row['shape'][0]}x{row['shape'][1]} | {DESCRIPTIONS[row['name']]} "
                f"({describe_schedule(row['schedule'], row['shape'])}) | {row['peak'] / 2**30:.2f} | "
                f"{(row['peak'] - row['rss_before']) / 2**30:.2f} | {row['estimate'] / 2**30:.2f} | "
                f"{row['seconds']:.0f} | {row['load_before']:.1f} / {row['load_after']:.1f} |")
    return report.section("highres", "High resolution: coarse to fine (`highres.py`)", run, "\n".join(lines))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("part", choices=["all", "speed", "memory", "probe"], nargs="?", default="all")
    parser.add_argument("--side", type=int, default=None, help="long side (speed: 1024, memory: 2048)")
    parser.add_argument("--recipes", default="", help="comma-separated variant names (default: all)")
    parser.add_argument("--recipe", default="", help="(probe) the variant to run")
    parser.add_argument("--every", type=int, default=10, help="measure the quality every this many evaluations")
    parser.add_argument("--budget", type=float, default=1800, help="give up a speed run after this many seconds")
    parser.add_argument("--full-steps", type=int, default=5, help="(memory) steps at the full size")
    parser.add_argument("--write", "--append", dest="write", action="store_true",
                        help="write its section into results.md (in place of its earlier one)")
    args = parser.parse_args()
    if args.part == "probe":
        probe(args.recipe, args.side, args.full_steps)
        return
    torch.set_num_threads(min(2, os.cpu_count() or 1))
    run = run_facts("highres.py", sys.argv[1:], torch.device("cpu"), "float32 (precision=\"float32\": no bfloat16)")
    content, style = load_pair()
    speed, memory = [], []
    if args.part in ("all", "speed"):
        side = args.side or 1024
        table = variants(side)
        names = args.recipes.split(",") if args.recipes else list(table)
        vgg = d2lstyle.load_vgg19("original")
        for name in names:
            say(f"  speed at {side} px: {name} (load average {load_average():.1f}) ...")
            row = time_to_quality(name, table[name], content, style, vgg, args.every, args.budget)
            out = HERE / "highres-pictures"
            out.mkdir(exist_ok=True)
            d2lstyle.save_image(row.pop("image"), out / f"{side}-{table[name].optimizer}.png")
            speed.append(row)
    if args.part in ("all", "memory"):
        side = args.side if args.part == "memory" and args.side else 2048
        names = args.recipes.split(",") if args.recipes else list(variants(side))
        memory = measure_memory(names, side, args.full_steps)
    finish_run(run)
    block = section(speed, memory, run)
    say("")
    say(block)
    with open(HERE / "highres.json", "a") as file:
        file.write(json.dumps({"run": run, "speed": speed, "memory": memory}) + "\n")
    if args.write:
        report.write_section(HERE / "results.md", block)


if __name__ == "__main__":
    main()
