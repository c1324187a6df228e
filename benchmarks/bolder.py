"""Ahead of pastiche's own picture? The default against pastiche's 120 iterations, and what each change contributes.

    python benchmarks/bolder.py                         (512 px, three pairs, the whole ablation on the first)
    python benchmarks/bolder.py --pairs tubingen:starry_night --variants default --no-write

The yardstick is pastiche 1.6.0 with its defaults (L-BFGS, one loss evaluation per iteration, pastiche's weights)
run for 120 iterations at 512 px: a clearly painted picture. For each pair this script runs pastiche, timed, with
the quality of its picture measured every few iterations (``d2lstyle.quality``: style and content ratios, lower is
better; the measuring is not timed), then each variant of the default recipe, measured the same way at its last
scale. A variant *catches up* when both of its ratios are at or below those of pastiche's 120-iteration picture;
the goal is to catch up in at most half of pastiche's time. The variants form a ladder (each adds one change to
the one before, as VARIANTS lists them), so that the table shows what each change contributes. Everything runs
on the CPU in float32, one run at a time, pastiche first on each pair. Writes its section of results.md
(``bolder``) and the pictures side by side (``--pictures``).
"""

import argparse
import sys
from pathlib import Path

import torch
from PIL import Image, ImageDraw, ImageFont

import d2lstyle
from d2lstyle import quality, transfer

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import report  # noqa: E402
from bench import QualityClock  # noqa: E402
from common import PasticheRun, finish_run, run_facts  # noqa: E402

PAIRS = "tubingen:starry_night,chelsea:water_lilies,rainier:great_wave"
PASTICHE_ITERATIONS = 120
# The ladder: each variant is the one before it with one more change (Recipe.replace's keyword arguments).
VARIANTS = {
    "photo start": {"init": "content", "balance_cap": 0.0},  # the default before benchmarks/bolder.py
    "recoloured start": {"init": "recoloured"},
    "balance cap (the default)": {"balance_cap": 0.3},  # beta lowered for pairs with a large q (balance.py)
    "coarse to fine": {"scales": (0.5, 1.0), "scale_steps": (1, 1), "steps": 100},
    "bolder balance": {"style_weight": 200.0},
}


def ladder(names):
    """The recipe changes of each named variant: its own and those of every variant above it in VARIANTS."""
    changes, ladder_ = {}, {}
    for name, change in VARIANTS.items():
        changes = {**changes, **change}
        ladder_[name] = changes
    return {name: ladder_[name] for name in names}


def caught_up(curve, target):
    """The first (seconds, evaluations) of ``curve`` (rows of seconds, evaluations, style, content) at which
    both ratios are at or below ``target``'s (style, content); None if never.

    >>> caught_up([(1.0, 5, 0.5, 0.3), (2.0, 10, 0.2, 0.5), (3.0, 15, 0.2, 0.4)], (0.25, 0.45))
    (3.0, 15)
    >>> caught_up([(1.0, 5, 0.5, 0.3)], (0.25, 0.45)) is None
    True
    """
    for seconds, evaluations, style, content in curve:
        if style <= target[0] and content <= target[1]:
            return seconds, evaluations
    return None


def run_pastiche(photo_name, painting_name, size, scorer, every):
    clock = QualityClock(scorer, every)  # started before pastiche reads its network and computes its targets
    run = PasticheRun(d2lstyle.bundled_image(photo_name), d2lstyle.bundled_image(painting_name), size)
    for iteration in range(1, PASTICHE_ITERATIONS + 1):
        run.evaluate()
        clock.record(iteration, run.image())
    return clock, run.image()


def run_recipe(photo, painting, recipe, vgg, scorer, every):
    clock = QualityClock(scorer, every)

    def callback(info):
        if info.scale == 1.0:
            clock.record(info.step, info.image)
        return False

    result = d2lstyle.stylise(photo, painting, recipe, vgg, device="cpu", progress=False, callbacks=[callback])
    if not clock.curve or clock.curve[-1][1] != len(result.history["total"]):  # the last evaluation, always
        clock.every = 1
        clock.record(len(result.history["total"]), result.image)
    return clock, result.image


def row_of(name, clock, target):
    seconds, evaluations, style, content = clock.curve[-1]
    return {"variant": name, "seconds": seconds, "evaluations": evaluations, "style": style, "content": content,
            "caught_up": caught_up(clock.curve, target) if target else None, "curve": clock.curve}


def run(args, argv):
    torch.manual_seed(0)
    torch.set_num_threads(torch.get_num_threads())
    vgg = d2lstyle.load_vgg19("original")
    facts = run_facts("bolder.py", argv, torch.device("cpu"), "float32")
    pairs = [tuple(pair.split(":")) for pair in args.pairs.split(",")]
    variants = args.variants.split(",")
    pictures = {}
    results = []
    for number, (photo_name, painting_name) in enumerate(pairs):
        photo = d2lstyle.load_image(d2lstyle.bundled_image(photo_name))
        painting = d2lstyle.load_image(d2lstyle.bundled_image(painting_name))
        base = d2lstyle.get_recipe("default").replace(image_size=args.size, precision="float32")
        shape, _ = transfer.working_shapes(base, photo, painting)
        scorer = quality.Scorer(photo, painting, shape)
        if args.target:  # a quick trial against ratios measured before
            target = tuple(float(value) for value in args.target.split(","))
            rows = [{"variant": "given target", "seconds": args.target_seconds, "evaluations": PASTICHE_ITERATIONS,
                     "style": target[0], "content": target[1], "caught_up": None, "curve": []}]
        else:
            clock, image = run_pastiche(photo_name, painting_name, args.size, scorer, args.every)
            rows = [row_of("pastiche 1.6.0", clock, None)]
            target = (rows[0]["style"], rows[0]["content"])
            pictures[(photo_name, painting_name, "pastiche 1.6.0")] = image
        peer = rows[0]
        print(f"bolder: {photo_name}/{painting_name} {peer['variant']}: {peer['seconds']:.0f} s, style "
              f"{peer['style']:.3f}, content {peer['content']:.3f}", file=sys.stderr, flush=True)
        for name, changes in ladder(variants if number == 0 else args.others.split(",")).items():
            clock, image = run_recipe(photo, painting, base.replace(**changes), vgg, scorer, args.every)
            rows.append(row_of(name, clock, target))
            rows[-1]["changes"] = {key: list(value) if isinstance(value, tuple) else value
                                   for key, value in changes.items()}
            pictures[(photo_name, painting_name, name)] = image
            print(f"bolder: {photo_name}/{painting_name} {name}: {rows[-1]['seconds']:.0f} s, style "
                  f"{rows[-1]['style']:.3f}, content {rows[-1]['content']:.3f}, caught up at "
                  f"{rows[-1]['caught_up']}", file=sys.stderr, flush=True)
        results.append({"photo": photo_name, "painting": painting_name, "rows": rows})
    if args.pictures:
        save_sheet(pictures, args.pictures)
    facts.update(size=args.size, every=args.every, pairs=results)
    return finish_run(facts)


def save_sheet(pictures, path):
    """The pictures side by side: one row per pair (pastiche's first), each picture 256 px wide, under a row of
    the first pair's contenders' names."""
    rows, names = {}, []
    for (photo, painting, name), image in pictures.items():
        rows.setdefault((photo, painting), []).append(d2lstyle.images.postprocess(image))
        if len(rows) == 1:
            names.append(name)
    width = 256
    tiles = [[tile.resize((width, round(tile.height * width / tile.width))) for tile in row] for row in rows.values()]
    sheet = with_header(stack(tiles, width), names, width)
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    sheet.save(path, quality=85)


def with_header(sheet, names, width, height=22):
    """``sheet`` under a white strip naming its columns, ``width`` pixels each."""
    framed = Image.new("RGB", (sheet.width, sheet.height + height), "white")
    framed.paste(sheet, (0, height))
    draw = ImageDraw.Draw(framed)
    for column, name in enumerate(names):
        draw.text((column * width + width // 2, height // 2), name, fill="black",
                  font=ImageFont.load_default(size=14), anchor="mm")
    return framed


def stack(tiles, width):
    """Rows of tiles, each row as high as its tallest tile."""
    height = sum(max(tile.height for tile in row) for row in tiles)
    sheet = Image.new("RGB", (width * max(len(row) for row in tiles), height), "white")
    top = 0
    for row in tiles:
        for column, tile in enumerate(row):
            sheet.paste(tile, (column * width, top))
        top += max(tile.height for tile in row)
    return sheet


def section(results):
    lines = [f"At {results['size']} px, float32, on the CPU. Pastiche: {PASTICHE_ITERATIONS} iterations with its "
             "defaults. Quality by `d2lstyle.quality` at the result's size (lower is better), measured every "
             f"{results['every']} evaluations at the last scale, not timed. *Caught up*: both ratios at or below "
             "pastiche's final ones; the goal is half of pastiche's time or less. Each variant adds its changes to "
             "the default recipe (`changes`); the pictures, one row per pair in the tables' order: "
             "[bolder.jpg](bolder.jpg).", ""]
    for pair in results["pairs"]:  # the goal, for the default
        peer = pair["rows"][0]
        for row in pair["rows"]:
            if row["variant"].endswith("(the default)"):
                reached = row["caught_up"]
                verdict = (f"caught up after {reached[0]:.0f} s ({reached[1]} evaluations), "
                           f"{reached[0] / peer['seconds']:.2f} of pastiche's {peer['seconds']:.0f} s: "
                           f"{'met' if reached[0] <= peer['seconds'] / 2 else 'NOT met'}" if reached else
                           "never caught up: NOT met")
                lines.append(f"- {pair['photo']} / {pair['painting']}: the default {verdict}; its last picture "
                             f"style {row['style']:.3f}, content {row['content']:.3f} after {row['seconds']:.0f} s "
                             f"(pastiche's {peer['style']:.3f}, {peer['content']:.3f}).")
    lines.append("")
    for pair in results["pairs"]:
        peer = pair["rows"][0]
        lines += [f"### {pair['photo']} / {pair['painting']}", "",
                  "| contender | changes | evaluations | seconds | style | content | caught up (s, evaluations) "
                  "| of pastiche's time |", "|---|---|---|---|---|---|---|---|"]
        for row in pair["rows"]:
            changes = ", ".join(f"{key}={value}" for key, value in row.get("changes", {}).items()) or "-"
            reached = row["caught_up"]
            caught = f"{reached[0]:.0f} s, {reached[1]}" if reached else ("-" if row is peer else "no")
            share = f"{reached[0] / peer['seconds']:.2f}" if reached else "-"
            lines.append(
                f"| {row['variant']} | {changes if row is not peer else 'its defaults'} | {row['evaluations']} | "
                f"{row['seconds']:.0f} | {row['style']:.3f} | {row['content']:.3f} | "
                f"{caught} | {share} |")
        lines.append("")
    return report.section("bolder", "Ahead of pastiche's 120-iteration picture? (`bolder.py`)", results,
                          "\n".join(lines))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=512, help="longer side in pixels (default 512)")
    parser.add_argument("--pairs", default=PAIRS, help=f"photo:painting,... (default {PAIRS})")
    parser.add_argument("--variants", default=",".join(VARIANTS),
                        help="the variants run on the first pair (default: the whole ladder)")
    parser.add_argument("--others", default=",".join(list(VARIANTS)[:4]),
                        help="the variants run on the other pairs (default: the first four)")
    parser.add_argument("--every", type=int, default=5, help="measure the quality every this many evaluations")
    parser.add_argument("--target", default="", help="style,content: compare with these ratios instead of "
                                                      "running pastiche (a quick trial; writes nothing)")
    parser.add_argument("--target-seconds", type=float, default=240.0, help="pastiche's time with --target")
    parser.add_argument("--pictures", default="", help="save the pictures side by side in this file (JPEG)")
    report.add_output_arguments(parser, HERE / "results.md")
    args = parser.parse_args(argv)
    args.no_write = args.no_write or bool(args.target)
    report.publish(args, section(run(args, sys.argv[1:] if argv is None else argv)))


if __name__ == "__main__":
    main()
