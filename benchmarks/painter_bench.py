"""The painter against the optimisation: time and quality on the same photo, side by side.

    python benchmarks/painter_bench.py --train            (make bench-painter; about 20 minutes on 2 cores)
    python benchmarks/painter_bench.py --model starry.pt  (a painter trained before: the training is not timed)

1. Training (with --train): a painter for the style with the notebook's full
   settings (``PainterSettings()``, the defaults), timed: wall time and the
   process's CPU time, with the load average of the machine before, during
   and after (other processes slow it down).
2. Stylising the held-out photo (never seen in training) at 512 px:
   - the painter: the median of ``--runs`` forward passes (after one warm-up);
   - the optimisation: ``d2lstyle.stylise`` with the default recipe on the same
     photo, the median of ``--optimise-runs`` whole runs (each takes minutes).
3. Quality of both results with the quality measure (the original VGG-19):
   the style ratio (the result's relative Gram distance to the painting over
   relu1_1 ... relu5_1, divided by the photo's) and the content ratio (its
   relative relu4_2 distance to the photo, divided by the painting's); both < 1
   is the direction test.

It writes its numbers into its own section of benchmarks/results.md (``report.py``:
the rest of the file is left as it is) unless --no-write.
"""

import argparse
import json
import sys
import time
from pathlib import Path

import d2lstyle
from d2lstyle import painter, quality

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import report  # noqa: E402
from common import (STYLE, add_device_argument, finish_run, load_average, median, network_precision,  # noqa: E402
                    run_facts, synchronize, timings)

SIZE = 512
GOAL_TRAINING_MINUTES = 15
GOAL_PAINT_SECONDS = 0.5


def say(message):
    print(f"painter_bench: {message}", file=sys.stderr, flush=True)


def train(style_img, vgg, device, model_path):
    """Train with the notebook's full settings; returns (SavedPainter-like result, numbers)."""
    settings = painter.PainterSettings()
    loads = [load_average()]

    def note_load(info):
        if info.step % 50 == 0:
            loads.append(load_average())
        return False

    say(f"training: {settings.steps} steps of {settings.batch_size} crops of {settings.crop} px")
    synchronize(device)
    wall, cpu = time.perf_counter(), time.process_time()
    result = painter.train_painter(style_img, None, settings, vgg, device=device, callbacks=[note_load])
    synchronize(device)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    loads.append(load_average())
    if result.status != "finished":
        raise SystemExit(f"training did not finish: {result.message}")
    if model_path:
        painter.save_painter(model_path, result, style=f"{STYLE}.jpg")
    numbers = {"seconds": wall, "cpu_seconds": cpu, "loads": loads, "steps": settings.steps,
               "settings": settings.as_dict(), "final_loss": result.final_loss}
    return result.painter, settings, numbers


def run(args, argv):
    global SIZE
    if args.quick:  # a smoke test of this script: tiny sizes, the optimisation capped at 20 steps
        SIZE = 64
    device = d2lstyle.pick_device(args.device)
    precision = (f"the painter in float32; the optimisation's VGG-19 in {network_precision(device)} (the default "
                 "recipe's precision='auto')")
    results = run_facts("painter_bench.py", argv, device, precision)
    results.update(photo=painter.HELD_OUT_PHOTO, style=STYLE, size=SIZE)
    vgg = d2lstyle.load_vgg19("original").to(device)
    style_img = d2lstyle.load_image(d2lstyle.bundled_image(STYLE))
    photo = d2lstyle.load_image(d2lstyle.bundled_image(painter.HELD_OUT_PHOTO))

    if args.train:
        net, settings, results["training"] = train(style_img, vgg, device, args.model)
        say(f"trained in {results['training']['seconds'] / 60:.1f} min")
    else:
        saved = painter.load_painter(args.model, device=device)
        net, settings = saved.painter, saved.settings
        results["steps_done"] = saved.steps_done
    net = net.to(device).eval()
    results["settings"] = settings.as_dict()
    results.setdefault("steps_done", settings.steps)

    painted = painter.paint(net, photo, SIZE)  # warm-up (and the picture)
    results["paint_timings"] = timings(lambda: painter.paint(net, photo, SIZE), device, args.runs)
    results["paint_seconds"] = median(results["paint_timings"])
    say(f"painter: {results['paint_seconds']:.3f} s median of {args.runs}")
    results["paint_quality"] = _ratios(quality.measure(painted, photo, style_img))

    optimised = []

    recipe = d2lstyle.get_recipe("default")
    if args.quick:
        recipe = recipe.replace(steps=20, image_size=SIZE)

    def optimise():
        result = d2lstyle.stylise(photo, style_img, recipe, vgg, device=device, progress=False)
        optimised.append(result)

    results["optimise_timings"] = timings(optimise, device, args.optimise_runs)
    results["optimise_seconds"] = median(results["optimise_timings"])
    say(f"optimisation: {results['optimise_seconds']:.0f} s median of {args.optimise_runs}")
    optimised_img = optimised[-1].pil()
    results["optimise_quality"] = _ratios(quality.measure(optimised_img, photo, style_img))
    results["optimise_steps"] = len(optimised[-1].history["step"])
    finish_run(results)
    if args.pictures:
        folder = Path(args.pictures)
        folder.mkdir(parents=True, exist_ok=True)
        painted.save(folder / "painter.png")
        optimised_img.save(folder / "optimised.png")
        say(f"pictures in {folder}")
    return results


def _ratios(score):
    """A :class:`d2lstyle.quality.Quality` as the dict results.json keeps."""
    return {"style": score.style, "content": score.content}


def passes(quality):
    return "yes" if quality["style"] < 1 and quality["content"] < 1 else "no"


def section(results):
    """This script's section of results.md (report.py): the header, then the numbers."""
    settings = results["settings"]
    lines = [f"Painting `{results['style']}`, photo `{results['photo']}` (held out of training), "
             f"{results['size']} px, the original VGG-19 for the losses and the quality measure. The painter: "
             f"channels {tuple(settings['channels'])}, {settings['residual_blocks']} residual blocks, trained "
             f"{results['steps_done']} of {settings['steps']} steps of {settings['batch_size']} crops of "
             f"{settings['crop']} px. The times are wall-clock; other processes share the machine.", ""]
    if "training" in results:
        training = results["training"]
        minutes = training["seconds"] / 60
        met = "met" if minutes <= GOAL_TRAINING_MINUTES else "NOT met"
        lines.append(f"**Training** with the notebook's full settings: {minutes:.1f} min wall "
                     f"(goal <= {GOAL_TRAINING_MINUTES} min: {met}), {training['cpu_seconds'] / 60:.1f} min of "
                     f"process CPU time, load average during training "
                     f"{min(training['loads']):.1f} to {max(training['loads']):.1f}; final loss "
                     f"{training['final_loss']:.4g}.")
        lines.append("")
    paint_s, optimise_s = results["paint_seconds"], results["optimise_seconds"]
    lines += [
        "| method | median seconds | runs | speed vs optimisation | style ratio | content ratio | direction test |",
        "|---|---|---|---|---|---|---|",
        f"| painter (one forward pass) | {paint_s:.3f} | {len(results['paint_timings'])} | "
        f"**{optimise_s / paint_s:.0f}x** | {results['paint_quality']['style']:.3f} | "
        f"{results['paint_quality']['content']:.3f} | {passes(results['paint_quality'])} |",
        f"| optimisation, `stylise` default recipe ({results['optimise_steps']} steps) | {optimise_s:.1f} | "
        f"{len(results['optimise_timings'])} | 1x | {results['optimise_quality']['style']:.3f} | "
        f"{results['optimise_quality']['content']:.3f} | {passes(results['optimise_quality'])} |",
        "",
        f"Goal: 512 px in at most {GOAL_PAINT_SECONDS} s ({results['size']} px measured): "
        f"{'met' if paint_s <= GOAL_PAINT_SECONDS else 'NOT met'} ({paint_s:.3f} s; all runs: "
        f"{', '.join(f'{t:.3f}' for t in results['paint_timings'])}). Style ratio: the result's relative Gram "
        "distance to the painting (relu1_1 ... relu5_1) over the photo's; content ratio: its relative relu4_2 "
        "distance to the photo over the painting's; lower is better for both.",
    ]
    title = "Painter network against the optimisation (`painter_bench.py`)"
    return report.section("painter", title, results, "\n".join(lines))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--train", action="store_true", help="train a painter with the full settings (timed)")
    parser.add_argument("--model", default=None, help="the model file to use (without --train) or to write")
    add_device_argument(parser)
    parser.add_argument("--runs", type=int, default=7, help="painter runs (median; default 7)")
    parser.add_argument("--optimise-runs", type=int, default=1,
                        help="whole optimisation runs (median; default 1: each takes minutes)")
    parser.add_argument("--pictures", default=None, metavar="DIR", help="save both results there as PNGs")
    parser.add_argument("--out", default=str(HERE / "results.md"), help="the results file to update")
    parser.add_argument("--no-write", action="store_true", help="print the section, write nothing")
    parser.add_argument("--json", default=None, help="also write the raw numbers to this file")
    parser.add_argument("--quick", action="store_true",
                        help="a smoke test of this script (64 px, 20 optimisation steps, --model needed); writes "
                             "nothing")
    args = parser.parse_args(argv)
    if not args.train and not args.model:
        parser.error("give --train, or --model with a trained painter")
    if args.quick:
        args.no_write, args.train, args.runs = True, False, min(args.runs, 3)
        if not args.model:
            parser.error("--quick needs --model")
    results = run(args, sys.argv[1:] if argv is None else argv)
    block = section(results)
    print(block)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))
    if not args.no_write:
        report.write_section(args.out, block)
        say(f"wrote its section of {args.out}")


if __name__ == "__main__":
    main()
