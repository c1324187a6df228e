"""Render the gallery: bundled photographs painted in the style of bundled paintings.

    make gallery                       # every photo with every painting (30 runs), 512 px, the default recipe
    python tools/make_gallery.py       # the six pairs below
    python tools/make_gallery.py --pairs tubingen:starry_night --size 256 --out /tmp/gallery

Each result is written as ``<out>/<photo>--<painting>.jpg`` (JPEG, at most 150 KB), and
``<out>/CREDITS.md`` lists every picture with the licence it inherits from its photograph (a result is an
adaptation of the photo: one made from a CC BY-SA photo is CC BY-SA) and the command that made it. With more than
one pair, ``<out>/contact_sheet.jpg`` shows them all (at most 400 KB): the photos down the left, the paintings along
the top, each result with its quality (``d2lstyle.quality``: style ratio, content ratio), in red where it misses
the goal (style ratio <= 0.25 and content ratio <= 0.55). ``--results`` writes the table into benchmarks/results.md.
"""

import argparse
import io
import shlex
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

sys.path.insert(0, str(ROOT / "benchmarks"))

import torch  # noqa: E402
from PIL import Image, ImageDraw, ImageFont  # noqa: E402

import d2lstyle  # noqa: E402
from d2lstyle import quality  # noqa: E402

PAIRS = ("tubingen:starry_night", "rainier:great_wave", "chelsea:the_scream", "coffee:composition_vii",
         "astronaut:water_lilies", "tubingen:shipwreck")
MAX_BYTES = 150_000
SHEET_BYTES = 400_000
# Every result of the default recipe should reach both (issue 25): a painting, with the photo still in it.
GOAL_STYLE, GOAL_CONTENT = 0.25, 0.55
TILE = (180, 135)  # width, height of a picture on the contact sheet
CAPTION = 18  # pixels of text under each result

# The licence each result inherits from its photograph (images/CREDITS.md has the photographs' details).
PHOTO_LICENCES = {
    "tubingen": "CC BY 3.0: adapted from \"Tübingen Neckarfront\" by Andreas Praefcke (Wikimedia Commons), "
                "https://creativecommons.org/licenses/by/3.0/",
    "rainier": "CC BY-SA 4.0: adapted from the Mount Rainier photo by the authors of Dive into Deep Learning "
               "(d2l.ai), https://creativecommons.org/licenses/by-sa/4.0/ (ShareAlike: this picture is CC BY-SA 4.0 too)",
    "chelsea": "CC0: from the photo of Chelsea the cat by Stefan van der Walt (scikit-image sample data)",
    "coffee": "CC0: from the coffee photo by Rachel Michetti (scikit-image sample data)",
    "astronaut": "Public domain: from NASA's portrait of Eileen Collins (scikit-image sample data); no NASA "
                 "endorsement implied",
}


def save_jpeg(image, path, max_bytes=MAX_BYTES):
    """Write ``image`` as a JPEG of at most ``max_bytes``, at the best quality that fits."""
    for jpeg_quality in (92, 88, 84, 80, 75, 70, 60, 50):
        buffer = io.BytesIO()
        image.save(buffer, format="JPEG", quality=jpeg_quality, optimize=True)
        if buffer.tell() <= max_bytes:
            path.write_bytes(buffer.getvalue())
            return jpeg_quality, buffer.tell()
    raise ValueError(f"{path.name}: no JPEG quality fits in {max_bytes} bytes")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pairs", default=",".join(PAIRS), help="comma-separated photo:painting names")
    parser.add_argument("--all", action="store_true", help="every bundled photo with every bundled painting")
    parser.add_argument("--size", type=int, default=512, help="long side in pixels (default 512)")
    parser.add_argument("--preset", default="default")
    parser.add_argument("--out", default=str(ROOT / "gallery"))
    parser.add_argument("--results", default="", help="write the table into this results.md (section 'gallery')")
    args = parser.parse_args(argv)
    if args.all:
        pairs = [(p.stem, s.stem) for p in d2lstyle.bundled_images("content") for s in d2lstyle.bundled_images("style")]
    else:
        pairs = [tuple(pair.split(":")) for pair in args.pairs.split(",")]
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    settings = d2lstyle.get_settings(verbose=False)
    vgg = settings.load_vgg()
    if args.results:
        from common import finish_run, run_facts

        arguments = sys.argv[1:] if argv is None else argv
        facts = run_facts("make_gallery.py", arguments, torch.device(str(settings.device)), "float32")
        facts["command"] = " ".join(["python", "tools/make_gallery.py"] + [shlex.quote(arg) for arg in arguments])
    rows, pictures = [], {}
    for photo_name, painting_name in pairs:
        photo = d2lstyle.load_image(d2lstyle.bundled_image(photo_name))
        painting = d2lstyle.load_image(d2lstyle.bundled_image(painting_name))
        recipe, _ = settings.cap_recipe(d2lstyle.get_recipe(args.preset).replace(image_size=args.size))
        started = time.perf_counter()
        result = d2lstyle.stylise(photo, painting, recipe, vgg, seed=settings.seed, progress=False)
        seconds = time.perf_counter() - started
        score = quality.measure(result.image, photo, painting)
        path = out / f"{photo_name}--{painting_name}.jpg"
        jpeg_quality, size = save_jpeg(result.pil(), path)
        print(f"{path.name}: {result.pil().size[0]}x{result.pil().size[1]}, {len(result.history['step'])} evaluations, "
              f"{seconds:.0f} s, {score}; JPEG quality {jpeg_quality}, {size / 1000:.0f} kB", flush=True)
        rows.append((path.name, photo_name, painting_name, len(result.history["step"]), seconds, score))
        pictures[photo_name, painting_name] = (result.pil(), score)
    write_credits(out, rows, args, vgg.description)
    if len(rows) > 1:
        jpeg_quality, size = save_jpeg(contact_sheet(pictures), out / "contact_sheet.jpg", SHEET_BYTES)
        print(f"contact_sheet.jpg: JPEG quality {jpeg_quality}, {size / 1000:.0f} kB", flush=True)
    missed = [row for row in rows if not meets_goal(row[5])]
    print(f"{len(rows) - len(missed)} of {len(rows)} results reach style <= {GOAL_STYLE} and content <= "
          f"{GOAL_CONTENT}" + (": missed by " + ", ".join(row[0] for row in missed) if missed else ""))
    if args.results:
        import report

        facts = finish_run(facts)
        report.write_section(args.results, report.section(
            "gallery", "Every pair paints? The gallery (`tools/make_gallery.py`)", facts, gallery_table(rows, args)))


def meets_goal(score):
    return score.style <= GOAL_STYLE and score.content <= GOAL_CONTENT


def gallery_table(rows, args):
    """The results.md body: one row per picture, and how many reach the goal."""
    missed = [row for row in rows if not meets_goal(row[5])]
    lines = [f"The `{args.preset}` recipe at {args.size} px, each photo with each painting; quality by "
             f"`d2lstyle.quality` (lower is better). Goal: style ratio <= {GOAL_STYLE} and content ratio <= "
             f"{GOAL_CONTENT} for every result. Contact sheet: "
             "[gallery/contact_sheet.jpg](../gallery/contact_sheet.jpg).",
             "", f"- {len(rows) - len(missed)} of {len(rows)} results reach the goal"
             + (f"; missed by {', '.join(row[0] for row in missed)}" if missed else "") + ".",
             f"- Worst style ratio {max(row[5].style for row in rows):.3f}, worst content ratio "
             f"{max(row[5].content for row in rows):.3f}; median seconds per picture "
             f"{sorted(row[4] for row in rows)[len(rows) // 2]:.0f}.", "",
             "| photo | painting | evaluations | seconds | style | content | goal |", "|---|---|---|---|---|---|---|"]
    lines += [f"| {photo} | {painting} | {evaluations} | {seconds:.0f} | {score.style:.3f} | {score.content:.3f} | "
              f"{'met' if meets_goal(score) else 'NOT met'} |"
              for _, photo, painting, evaluations, seconds, score in rows]
    return "\n".join(lines)


def contact_sheet(pictures):
    """All results on one image: the photos down the left, the paintings along the top, each result with its
    style and content ratios underneath (red where it misses the goal)."""
    photos = list(dict.fromkeys(photo for photo, _ in pictures))
    paintings = list(dict.fromkeys(painting for _, painting in pictures))
    width, height = TILE
    row_height = height + CAPTION
    sheet = Image.new("RGB", (width * (len(paintings) + 1), row_height * (len(photos) + 1)), "white")
    draw = ImageDraw.Draw(sheet)
    font = ImageFont.load_default(size=13)

    def place(image, column, row, caption="", colour="black"):
        tile = image.copy()
        tile.thumbnail(TILE, Image.Resampling.LANCZOS)
        left, top = column * width + (width - tile.width) // 2, row * row_height + (height - tile.height) // 2
        sheet.paste(tile, (left, top))
        draw.text((column * width + width // 2, row * row_height + height + 2), caption, fill=colour, font=font,
                  anchor="ma")

    for column, painting in enumerate(paintings, 1):
        place(d2lstyle.load_image(d2lstyle.bundled_image(painting)), column, 0, painting.replace("_", " "))
    for row, photo in enumerate(photos, 1):
        place(d2lstyle.load_image(d2lstyle.bundled_image(photo)), 0, row, photo)
        for column, painting in enumerate(paintings, 1):
            if (photo, painting) in pictures:
                image, score = pictures[photo, painting]
                place(image, column, row, f"style {score.style:.2f}, content {score.content:.2f}",
                      "black" if meets_goal(score) else "red")
    return sheet


def write_credits(out, rows, args, network):
    lines = ["# Gallery: credits and licences", "",
             f"Made with `python tools/make_gallery.py --size {args.size} --preset {args.preset}"
             f"{' --all' if args.all else ''}` (`make gallery`), "
             f"network: {network}, on {time.strftime('%Y-%m-%d')}. Each picture is an adaptation of its photograph "
             "and carries the photograph's licence; the paintings are in the public domain (images/CREDITS.md).", "",
             "| picture | photograph (licence of the picture) | painting | evaluations | seconds | quality |",
             "|---|---|---|---|---|---|"]
    for name, photo, painting, evaluations, seconds, score in rows:
        lines.append(f"| `{name}` | {PHOTO_LICENCES.get(photo, photo)} | {painting} | {evaluations} | {seconds:.0f} | "
                     f"{score} |")
    lines += ["", "Quality: `d2lstyle.quality` (style ratio, content ratio; lower is better for both). Seconds on the "
              "machine that made them, as busy as it was.", ""]
    if len(rows) > 1:
        lines += ["`contact_sheet.jpg` shows every picture above next to the photographs and the paintings; as it "
                  "contains them, it carries all their licences: CC BY-SA 4.0 where a CC BY-SA photograph is among "
                  "them, with the attributions above. The repository keeps the contact sheet and "
                  "`tubingen--starry_night.jpg`; `make gallery` writes the others.", ""]
    (out / "CREDITS.md").write_text("\n".join(lines))


if __name__ == "__main__":
    main()
