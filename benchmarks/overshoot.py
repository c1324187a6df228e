"""Does the default overshoot? Its loss over a run, on every pair of bundled photo and painting.

    python benchmarks/overshoot.py                      (256 px, max and average pooling, all 30 pairs)
    python benchmarks/overshoot.py --size 512 --pairs tubingen:starry_night,chelsea:the_scream

L-BFGS without a line search takes the step its curvature estimate asks for, whatever the loss does there: in some
runs its first full step sends the loss from about 1e7 to 1e24, after which it stalls or never recovers. For each
pair, pooling and variant of the optimiser this runs the default recipe (float32, on the CPU) and records the
rise (the largest loss after the first evaluation, over the first: 1 means it never rose), how many evaluations
lay above the start, and the quality of the result (``d2lstyle.quality``: style and content ratios, lower is
better). Writes its section of results.md (``overshoot``).
"""

import argparse
import statistics
import sys
import time
from pathlib import Path

import torch

import d2lstyle
from d2lstyle import quality

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import report  # noqa: E402
from common import finish_run, run_facts  # noqa: E402

PHOTOS = ("tubingen", "chelsea", "astronaut", "coffee", "rainier")
PAINTINGS = ("starry_night", "the_scream", "great_wave", "composition_vii", "shipwreck", "water_lilies")
# What each variant changes in the default recipe (Recipe.replace's keyword arguments).
VARIANTS = {
    "default": {},
    "no line search": {"line_search": None},
    "strong Wolfe": {"line_search": "strong_wolfe"},
}


def one_run(photo, painting, recipe, vgg):
    started = time.perf_counter()
    result = d2lstyle.stylise(photo, painting, recipe, vgg, progress=False, device="cpu")
    seconds = time.perf_counter() - started
    score = quality.measure(result.image, photo, painting)
    return {"rise": rise(result.history), "evaluations": len(result.history["total"]), "style": score.style,
            "content": score.content, "seconds": seconds, "status": result.status}


def rise(history):
    """The largest loss of each scale over that scale's first loss, the largest of those (1: it never rose).

    >>> rise({"total": [10.0, 9.0, 30.0, 4.0, 5.0, 2.0], "scale": [0.5, 0.5, 0.5, 1.0, 1.0, 1.0]})
    3.0
    """
    firsts, largest = {}, {}
    for value, scale in zip(history["total"], history["scale"]):
        firsts.setdefault(scale, value)
        largest[scale] = max(largest.get(scale, value), value)
    return max(largest[scale] / firsts[scale] for scale in firsts)


def run(args, argv):
    torch.manual_seed(0)
    settings = d2lstyle.get_settings(verbose=False)
    vgg = settings.load_vgg()
    facts = run_facts("overshoot.py", argv, torch.device("cpu"), "float32")
    pairs = ([tuple(pair.split(":")) for pair in args.pairs.split(",")] if args.pairs
             else [(photo, painting) for photo in PHOTOS for painting in PAINTINGS])
    rows = []
    for variant in args.variants.split(","):
        for pooling in args.poolings.split(","):
            recipe = d2lstyle.get_recipe("default").replace(image_size=args.size, pooling=pooling,
                                                            precision="float32", **VARIANTS[variant])
            if args.scales:
                recipe = recipe.replace(scales=tuple(float(scale) for scale in args.scales.split(",")))
            for photo_name, painting_name in pairs:
                photo = d2lstyle.load_image(d2lstyle.bundled_image(photo_name))
                painting = d2lstyle.load_image(d2lstyle.bundled_image(painting_name))
                row = {"variant": variant, "pooling": pooling, "photo": photo_name, "painting": painting_name,
                       **one_run(photo, painting, recipe, vgg)}
                print(f"overshoot: {row}", file=sys.stderr, flush=True)
                rows.append(row)
    facts.update(size=args.size, scales=args.scales, rows=rows)
    return finish_run(facts)


def section(results):
    rows = results["rows"]
    scales = f", coarse to fine at scales {results['scales']}" if results.get("scales") else ""
    lines = [f"The default recipe at {results['size']} px{scales}, float32, "
             f"{len({(r['photo'], r['painting']) for r in rows})} pairs of photo and painting, "
             f"{rows[0]['evaluations']} loss evaluations: the rise is the largest loss over the first (of each "
             "scale; 1: it never rose above its start); quality by `d2lstyle.quality` (lower is better).", "",
             "| variant | pooling | runs | largest rise | runs that rose above 2x | median style | worst style "
             "| median content | worst content | median seconds |", "|---|---|---|---|---|---|---|---|---|---|"]
    groups = {}
    for row in rows:
        groups.setdefault((row["variant"], row["pooling"]), []).append(row)
    for (variant, pooling), group in groups.items():
        lines.append(
            f"| {variant} | {pooling} | {len(group)} | {max(r['rise'] for r in group):.3g} | "
            f"{sum(r['rise'] > 2 for r in group)} | {statistics.median(r['style'] for r in group):.3f} | "
            f"{max(r['style'] for r in group):.3f} | {statistics.median(r['content'] for r in group):.3f} | "
            f"{max(r['content'] for r in group):.3f} | {statistics.median(r['seconds'] for r in group):.1f} |")
    if len(rows) <= 16:  # few runs: each one
        lines += ["", "| variant | pooling | photo | painting | rise | style | content | seconds |",
                  "|---|---|---|---|---|---|---|---|"]
        lines += [f"| {r['variant']} | {r['pooling']} | {r['photo']} | {r['painting']} | {r['rise']:.3g} | "
                  f"{r['style']:.3f} | {r['content']:.3f} | {r['seconds']:.0f} |" for r in rows]
    worst = max(rows, key=lambda row: row["rise"])
    lines += ["", f"- The largest rise: {worst['rise']:.3g} ({worst['variant']}, {worst['pooling']} pooling, "
                  f"{worst['photo']} / {worst['painting']}, style {worst['style']:.3f}, content "
                  f"{worst['content']:.3f})."]
    name = f"overshoot-{results['size']}" + ("-coarse-to-fine" if results.get("scales") else "")
    title = f"Does the default overshoot? {results['size']} px" + (", coarse to fine" if results.get("scales") else "")
    return report.section(name, f"{title} (`overshoot.py`)", results, "\n".join(lines))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=256, help="longer side in pixels (default 256)")
    parser.add_argument("--poolings", default="max,avg", help="comma-separated: max, avg (default both)")
    parser.add_argument("--variants", default=",".join(VARIANTS), help=f"comma-separated, of: {', '.join(VARIANTS)}")
    parser.add_argument("--scales", default="", help="coarse to fine: comma-separated scales ending at 1 "
                                                      "(default: the recipe's, one scale)")
    parser.add_argument("--pairs", default="", help="photo:painting,... (default: all 30 bundled pairs)")
    report.add_output_arguments(parser, HERE / "results.md")
    args = parser.parse_args(argv)
    report.publish(args, section(run(args, sys.argv[1:] if argv is None else argv)))


if __name__ == "__main__":
    main()
