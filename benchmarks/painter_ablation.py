"""Which of the painter's settings make it paint the photo: an ablation, one painter trained per variant.

    python benchmarks/painter_ablation.py                      (every variant: about 7 minutes each on 2 cores)
    python benchmarks/painter_ablation.py --variants johnson,content_relu4_2 --pictures sheets/

Each variant (:data:`VARIANTS`) is the notebook's full settings (``PainterSettings()``) with a few of them
changed. For each, one painter is trained on the default training photos for the painting ``STYLE`` (timed), and
then measured on the held-out photos of painter_bench.py (none of them seen in training), at 512 px:

- the quality ratios (``d2lstyle.quality.measure``: style, the result's relative Gram distance to the painting
  over the photo's; content, its relative relu4_2 distance to the photo over the painting's), each photo and
  their mean;
- two numbers for the hatch, the regular texture a painter may lay over everything: what it paints onto a flat
  grey photo (``painter.flat_photo``), measured by ``quality.texture``: its contrast, and how much of it is one
  regular pattern.

The rows are kept in painter_ablation.json (a variant run again replaces its row), and the table of all of them
is written into the ``painter-ablation`` section of benchmarks/results.md unless --no-write.
"""

import argparse
import json
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import torch

import d2lstyle
from d2lstyle import painter, quality

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import report  # noqa: E402
from common import STYLE, finish_run, load_average, run_facts  # noqa: E402
from painter_bench import SKY_BAND, contact_sheet, held_out_photos, sky  # noqa: E402

SIZE = 512
ROWS = HERE / "painter_ablation.json"

# What Johnson et al. did, as the painter's settings were before this ablation (content at relu2_2, style
# weight 10, TV weight 1, crops showing the photo's shorter side at 1 to 2 crop sizes, nearest-neighbour
# upsampling, reflection padding).
JOHNSON = {"content_layers": ("relu2_2",), "content_weight": 1.0, "style_weight": 10.0, "tv_weight": 1.0,
           "max_crop_scale": 2.0, "upsample": "nearest", "padding": "reflect"}

# name -> (what changes, the settings that differ from PainterSettings()). Each variant is complete on its own:
# the defaults can change without changing what a row measured.
VARIANTS = {
    "johnson": ("content relu2_2, beta 10, TV 1, crops 1-2x (the settings before)", JOHNSON),
    "johnson_tv0": ("no TV (TV weight 0)", {**JOHNSON, "tv_weight": 0.0}),
    "johnson_bilinear": ("bilinear upsampling in the decoder", {**JOHNSON, "upsample": "bilinear"}),
    "johnson_zeros": ("zero padding in every convolution", {**JOHNSON, "padding": "zeros"}),
    "johnson_crops4": ("crops showing the photo at 1-4x the crop size", {**JOHNSON, "max_crop_scale": 4.0}),
    "content_relu4_2": ("content at relu4_2 (the optimisation's layer)",
                        {**JOHNSON, "content_layers": ("relu4_2",)}),
    "relu4_2_beta1": ("content relu4_2, style weight 1", {**JOHNSON, "content_layers": ("relu4_2",),
                                                           "style_weight": 1.0}),
    "relu4_2_beta1_crops4": ("content relu4_2, style weight 1, crops 1-4x",
                             {**JOHNSON, "content_layers": ("relu4_2",), "style_weight": 1.0,
                              "max_crop_scale": 4.0}),
    "relu4_2_beta05_crops4": ("content relu4_2, style weight 0.5, crops 1-4x",
                              {**JOHNSON, "content_layers": ("relu4_2",), "style_weight": 0.5,
                               "max_crop_scale": 4.0}),
    "relu4_2_beta03_crops4": ("content relu4_2, style weight 0.3, crops 1-4x",
                              {**JOHNSON, "content_layers": ("relu4_2",), "style_weight": 0.3,
                               "max_crop_scale": 4.0}),
    "colour_relu1_1": ("content at relu1_1 too (the photo's colours), relu4_2, style weight 0.5, crops 1-4x",
                       {**JOHNSON, "content_layers": ("relu1_1", "relu4_2"), "style_weight": 0.5,
                        "max_crop_scale": 4.0}),
}


def say(message):
    print(f"painter_ablation: {message}", file=sys.stderr, flush=True)


def measure(net, style_img, photos):
    """What the table shows of a trained painter: the quality ratios on each photo (name -> PIL) and their
    means, and the texture (``quality.texture``) it paints onto a flat photo and into Tübingen's sky. Returns
    (the numbers, name -> painted picture, "flat" included)."""
    numbers, painted = {"photos": {}}, {}
    for photo_name, photo in photos.items():
        painted[photo_name] = painter.paint(net, photo, SIZE)
        score = quality.measure(painted[photo_name], photo, style_img)
        numbers["photos"][photo_name] = {"style": score.style, "content": score.content}
    numbers["style"] = float(np.mean([score["style"] for score in numbers["photos"].values()]))
    numbers["content"] = float(np.mean([score["content"] for score in numbers["photos"].values()]))
    painted["flat"] = painter.paint(net, painter.flat_photo(SIZE), SIZE)
    for where, picture in (("flat", painted["flat"]), ("sky", sky(painted["tubingen"]))):
        texture = quality.texture(picture)
        numbers[f"{where}_contrast"], numbers[f"{where}_regularity"] = texture.contrast, texture.regularity
    return numbers, painted


def run_variant(name, style_img, photos, vgg, pictures, steps=None):
    """Train the variant ``name`` (``steps``: fewer steps, for a smoke test) and measure it; returns its row."""
    summary, changes = VARIANTS[name]
    settings = painter.PainterSettings().replace(**changes, **({"steps": steps} if steps else {}))
    say(f"{name}: training ({summary})")
    loads = [load_average()]
    started = time.perf_counter()
    result = painter.train_painter(style_img, settings=settings, vgg=vgg, progress=False)
    seconds = time.perf_counter() - started
    loads.append(load_average())
    if result.status != "finished":
        raise SystemExit(f"{name}: training {result.status}: {result.message}")
    row = {"variant": name, "summary": summary, "settings": settings.as_dict(), "training_seconds": seconds,
           "date": time.strftime("%Y-%m-%d %H:%M"), "loads": loads, "photos": {}}
    measured, painted = measure(result.painter, style_img, photos)
    row.update(measured)
    say(f"{name}: style {row['style']:.3f}, content {row['content']:.3f}, flat {row['flat_contrast']:.1f} / "
        f"{row['flat_regularity']:.3f}, sky {row['sky_contrast']:.1f} / {row['sky_regularity']:.3f}, trained in "
        f"{seconds / 60:.1f} min")
    if pictures:
        folder = Path(pictures)
        folder.mkdir(parents=True, exist_ok=True)
        contact_sheet({**photos, "flat": painter.flat_photo(SIZE)},
                      {(photo, name): picture for photo, picture in painted.items()}).save(folder / f"{name}.png")
        painter.save_painter(folder / f"{name}.pt", result, style=f"{STYLE}.jpg")
    return row


def hatch_figure(models, variants, photo, path, crop=160):
    """One row per variant (a model file ``models``/NAME.pt): Tübingen painted at 512 px, a ``crop``-pixel
    square of its sky shown pixel for pixel, and the same square of what it paints onto the flat photo, each
    with its ``quality.texture``. Written as a JPEG (quality 85) at ``path``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(len(variants), 3, figsize=(9.6, 2.7 * len(variants)),
                             gridspec_kw={"width_ratios": [4 / 3, 1, 1]}, squeeze=False)
    for row, name in zip(axes, variants):
        net = painter.load_painter(Path(models) / f"{name}.pt").painter
        painted = painter.paint(net, photo, SIZE)
        flat = painter.paint(net, painter.flat_photo(SIZE), SIZE)
        left = round(SKY_BAND[0] * painted.width)
        sky_square = painted.crop((left, 0, left + crop, crop))
        flat_square = flat.crop((0, 0, crop, crop))
        summary = textwrap.fill(VARIANTS[name][0], 50)
        panels = [(painted, f"{name}\n{summary}"), (sky_square, f"its sky, 1:1\n{quality.texture(sky(painted))}"),
                  (flat_square, f"a flat grey photo, 1:1\n{quality.texture(flat)}")]
        for ax, (picture, title) in zip(row, panels):
            ax.imshow(picture)
            ax.set_title(title, fontsize=8.5)
            ax.axis("off")
    fig.tight_layout()
    fig.savefig(path, dpi=90, pil_kwargs={"quality": 85})
    plt.close(fig)


def section(run, rows):
    """The ``painter-ablation`` section of results.md: one line per variant."""
    photos = list(next(iter(rows.values()))["photos"])
    lines = [f"Painting `{STYLE}`; each variant is one painter trained with the notebook's full settings but for "
             f"what its line changes, measured at {SIZE} px on photos it never saw ({', '.join(photos)}). Style "
             "and content: the quality ratios' means over those photos (lower is better; the goal is <= 0.30 "
             "and <= 0.60). Texture (`quality.texture`) of what the painter paints into Tübingen's sky (a band "
             "with nothing else in it; the photo's own sky scores about 1) and onto a flat grey photo "
             "(`painter.flat_photo`): the contrast (the standard deviation of its fine detail's grey levels, "
             "0-255) and the regularity (the share of that detail's energy in its 8 strongest Fourier "
             "frequencies: near 0 for noise, near 1 for one repeated hatch). The flat photo scores alike for "
             "every variant: instance normalisation scales its faint noise up to full contrast, whatever its "
             "strength, and the painter paints its strokes over it; the sky tells the variants apart. Training "
             "time is wall-clock; other processes share the machine. Each variant was trained by a run of its "
             f"own (`--variants NAME`), one at a time, from {min(row['date'] for row in rows.values())} to "
             f"{max(row['date'] for row in rows.values())}; the header names the last run (with --rescore, it "
             "measured every row again).", "",
             "| variant | what changes | style | content | " + " | ".join(f"{p} s/c" for p in photos) +
             " | sky contrast / regularity | flat contrast / regularity | training min |",
             "|---|---|---|---|" + "---|" * len(photos) + "---|---|---|"]
    for name in [name for name in VARIANTS if name in rows] + [name for name in rows if name not in VARIANTS]:
        row = rows[name]
        per_photo = " | ".join(f"{row['photos'][p]['style']:.2f} / {row['photos'][p]['content']:.2f}"
                               for p in photos)
        lines.append(f"| `{name}` | {row['summary']} | {row['style']:.3f} | {row['content']:.3f} | {per_photo} | "
                     f"{row['sky_contrast']:.1f} / {row['sky_regularity']:.3f} | "
                     f"{row['flat_contrast']:.1f} / {row['flat_regularity']:.3f} | "
                     f"{row['training_seconds'] / 60:.1f} |")
    return report.section("painter-ablation", "What makes the painter paint the photo (`painter_ablation.py`)",
                          run, "\n".join(lines))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--variants", default=",".join(VARIANTS),
                        help=f"comma-separated, of: {', '.join(VARIANTS)} (default: all)")
    parser.add_argument("--pictures", default=None, metavar="DIR",
                        help="write each variant's contact sheet and model file there")
    parser.add_argument("--out", default=str(HERE / "results.md"), help="the results file to update")
    parser.add_argument("--no-write", action="store_true", help="print the section, write nothing")
    parser.add_argument("--quick", action="store_true", help="a smoke test: 5 training steps; writes nothing")
    parser.add_argument("--figure", nargs=2, default=None, metavar=("DIR", "JPG"),
                        help="train nothing: draw the hatch figure from the model files in DIR (saved by a run with "
                             "--pictures DIR) for --variants, into JPG")
    parser.add_argument("--rescore", default=None, metavar="DIR",
                        help="train nothing: measure again the model files a run with --pictures DIR saved")
    args = parser.parse_args(argv)
    if args.quick:
        args.no_write = True
    names = [name.strip() for name in args.variants.split(",") if name.strip()]
    unknown = [name for name in names if name not in VARIANTS]
    if unknown or not names:
        parser.error(f"unknown variants: {', '.join(unknown) or '(none given)'}; choose from {', '.join(VARIANTS)}")
    if args.figure:
        tubingen = d2lstyle.load_image(d2lstyle.bundled_image("tubingen"))
        hatch_figure(args.figure[0], names, tubingen, args.figure[1])
        say(f"wrote {args.figure[1]}")
        return
    device = torch.device("cpu")
    run = run_facts("painter_ablation.py", sys.argv[1:] if argv is None else argv, device, "float32")
    vgg = d2lstyle.load_vgg19("original")
    style_img = d2lstyle.load_image(d2lstyle.bundled_image(STYLE))
    photos = held_out_photos()
    rows = json.loads(ROWS.read_text())["rows"] if ROWS.exists() else {}
    if args.rescore:
        names = [name for name in names if name in rows and (Path(args.rescore) / f"{name}.pt").exists()]
        for name in names:
            saved = painter.load_painter(Path(args.rescore) / f"{name}.pt")
            rows[name].update(measure(saved.painter, style_img, photos)[0], settings=saved.settings.as_dict())
            say(f"{name}: measured again")
        names = []
    for name in names:
        rows[name] = run_variant(name, style_img, photos, vgg, args.pictures, steps=5 if args.quick else None)
        if not args.no_write:
            ROWS.write_text(json.dumps({"run": run, "rows": rows}, indent=1) + "\n")
    block = section(finish_run(run), rows)
    print(block)
    if not args.no_write:
        ROWS.write_text(json.dumps({"run": run, "rows": rows}, indent=1) + "\n")
        report.write_section(args.out, block)
        say(f"wrote its section of {args.out} and {ROWS.name}")


if __name__ == "__main__":
    main()
