"""Why the content term of notebook 10's live plot shows no trend: does training move it, or do the crops?

    python benchmarks/painter_content_term.py            (notebook 10's settings: 800 steps, 96 px crops)

The painter is trained with notebook 10's settings (starry_night, the bundled training photos). At a few steps the
painter as it is then is scored on the same 16 batches of crops (those of steps 0 to 15), without changing it:
the spread over those batches is what the crops alone do to the term; the change of its median from step to step
is what training does. The section also gives the content term of the training history (one batch per step)
in five stretches, and the style term at the start and the end. Writes its section of results.md
(``painter-content-term``).
"""

import argparse
import statistics
import sys
from pathlib import Path

import torch

import d2lstyle
from d2lstyle import images, losses, painter
from d2lstyle.devices import fast_layout
from d2lstyle.painter.loss import batch_loss_terms, loss_recipe, painting_long_side
from d2lstyle.painter.photos import photo_batch, shrink_for_crops
from d2lstyle.vgg import FeatureExtractor

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import report  # noqa: E402
from common import finish_run, run_facts  # noqa: E402

FIXED_BATCHES = 16
SNAPSHOTS = (1, 10, 50, 200, 800)


def stretches(steps):
    """Five stretches of the history, (first, last) steps, 1-based: the first 50, then four quarters of the rest.

    >>> stretches(800)
    [(1, 50), (51, 238), (239, 425), (426, 612), (613, 800)]
    """
    first = min(50, steps)
    rest = steps - first
    bounds = [first + round(rest * k / 4) for k in range(5)]
    return [(1, first)] + [(bounds[k] + 1, bounds[k + 1]) for k in range(4) if bounds[k + 1] > bounds[k]]


def summary(values):
    return {"min": min(values), "median": statistics.median(values), "max": max(values)}


def run(args, argv):
    settings = d2lstyle.get_settings()
    vgg = settings.load_vgg()
    facts = run_facts("painter_content_term.py", argv, torch.device("cpu"), "float32")
    style_img = d2lstyle.load_image(d2lstyle.bundled_image("starry_night"))
    train = painter.PainterSettings(steps=args.steps, crop=args.crop, style_size=512, seed=settings.seed)
    photos = [shrink_for_crops(photo, train.crop, train.max_crop_scale) for photo in
              (images.load_image(path) for path in painter.training_photos())]
    extractor = FeatureExtractor(vgg, list(train.content_layers) + list(train.style_layers))
    content_extractor = FeatureExtractor(vgg, train.content_layers)
    with torch.no_grad():
        style_features = extractor(fast_layout(images.preprocess(style_img, painting_long_side(style_img.size,
                                                                                               train))))
        grams = {name: losses.gram_matrix(style_features[name]) for name in train.style_layers}
        sample = photo_batch(photos, train.crop, max(train.batch_size, 4), train.seed, train.steps,
                             train.max_crop_scale)  # the batch train_painter sets its weights with
        recipe = loss_recipe(train, grams, content_extractor(fast_layout(sample)))
        batches = [photo_batch(photos, train.crop, train.batch_size, train.seed, step, train.max_crop_scale)
                   for step in range(FIXED_BATCHES)]

    def content_terms(network):
        network.eval()
        with torch.no_grad():
            terms = [float(batch_loss_terms(y, extractor(fast_layout(y)), content_extractor(fast_layout(batch)),
                                            grams, recipe)["content"])
                     for batch, y in ((batch, network(fast_layout(batch))) for batch in batches)]
        network.train()
        return terms

    snapshots = {}

    def score(info):
        if info.step in SNAPSHOTS or info.step == info.steps:
            snapshots[info.step] = summary(content_terms(info.painter))
            print(f"painter_content_term: step {info.step}: {snapshots[info.step]}", file=sys.stderr, flush=True)

    result = painter.train_painter(style_img, photos, train, vgg, callbacks=[score], progress=False)
    history = result.history
    facts.update(steps=args.steps, crop=args.crop, snapshots={str(step): value for step, value in snapshots.items()},
                 stretches=[{"first": first, "last": last, **summary(history["content"][first - 1:last])}
                            for first, last in stretches(len(history["content"]))],
                 style_first=history["style"][0], style_last=statistics.median(history["style"][-100:]))
    return finish_run(facts)


def section(results):
    lines = [f"Notebook 10's painter (starry_night, {results['steps']} steps of {results['crop']} px crops) scored, "
             f"without changing it, on the same {FIXED_BATCHES} batches of crops at several steps: the weighted "
             "content term over those batches.", "",
             "| step | min | median | max |", "|---|---|---|---|"]
    lines += [f"| {step} | {value['min']:.2f} | {value['median']:.2f} | {value['max']:.2f} |"
              for step, value in sorted(results["snapshots"].items(), key=lambda item: int(item[0]))]
    lines += ["", "The training history's content term (one batch per step):", "",
              "| steps | min | median | max |", "|---|---|---|---|"]
    lines += [f"| {row['first']}-{row['last']} | {row['min']:.2f} | {row['median']:.2f} | {row['max']:.2f} |"
              for row in results["stretches"]]
    first, last = results["snapshots"]["1"], results["snapshots"][str(results["steps"])]
    lines += ["", f"- Training moved the median over the fixed batches from {first['median']:.2f} to "
                  f"{last['median']:.2f}; one painter's terms over the batches span {last['min']:.2f} to "
                  f"{last['max']:.2f} at the end: the crops move the term more than training does.",
              f"- The style term: {results['style_first']:.2f} at step 1, {results['style_last']:.2f} (median of "
              "the last 100 steps)."]
    return report.section("painter-content-term", "The painter's content term: crops or training "
                          "(`painter_content_term.py`)", results, "\n".join(lines))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=800, help="training steps (default 800, as notebook 10)")
    parser.add_argument("--crop", type=int, default=96, help="crop side in pixels (default 96, as notebook 10)")
    parser.add_argument("--out", default=str(HERE / "results.md"), help="the results file to update")
    parser.add_argument("--no-write", action="store_true", help="print the section, write nothing")
    args = parser.parse_args(argv)
    results = run(args, sys.argv[1:] if argv is None else argv)
    block = section(results)
    print(block)
    if not args.no_write:
        report.write_section(args.out, block)


if __name__ == "__main__":
    main()
