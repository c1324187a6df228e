"""Render the gallery: bundled photographs painted in the style of bundled paintings.

    make gallery                       # the pairs below, at 512 px, with the default recipe
    python tools/make_gallery.py --all # every photo with every painting (30 runs)
    python tools/make_gallery.py --pairs tubingen:starry_night --size 256 --out /tmp/gallery

Each result is written as ``<out>/<photo>--<painting>.jpg`` (JPEG, at most 150 KB), and
``<out>/CREDITS.md`` lists every picture with the licence it inherits from its photograph (a result is an
adaptation of the photo: one made from a CC BY-SA photo is CC BY-SA) and the command that made it.
"""

import argparse
import io
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import d2lstyle  # noqa: E402
from d2lstyle import quality  # noqa: E402

PAIRS = ("tubingen:starry_night", "rainier:great_wave", "chelsea:the_scream", "coffee:composition_vii",
         "astronaut:water_lilies", "tubingen:shipwreck")
MAX_BYTES = 150_000

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
    args = parser.parse_args(argv)
    if args.all:
        pairs = [(p.stem, s.stem) for p in d2lstyle.bundled_images("content") for s in d2lstyle.bundled_images("style")]
    else:
        pairs = [tuple(pair.split(":")) for pair in args.pairs.split(",")]
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    settings = d2lstyle.get_settings(verbose=False)
    vgg = settings.load_vgg()
    rows = []
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
    write_credits(out, rows, args, vgg.description)


def write_credits(out, rows, args, network):
    lines = ["# Gallery: credits and licences", "",
             f"Made with `python tools/make_gallery.py --size {args.size} --preset {args.preset}` (`make gallery`), "
             f"network: {network}, on {time.strftime('%Y-%m-%d')}. Each picture is an adaptation of its photograph "
             "and carries the photograph's licence; the paintings are in the public domain (images/CREDITS.md).", "",
             "| picture | photograph (licence of the picture) | painting | evaluations | seconds | quality |",
             "|---|---|---|---|---|---|"]
    for name, photo, painting, evaluations, seconds, score in rows:
        lines.append(f"| `{name}` | {PHOTO_LICENCES.get(photo, photo)} | {painting} | {evaluations} | {seconds:.0f} | "
                     f"{score} |")
    lines += ["", "Quality: `d2lstyle.quality` (style ratio, content ratio; lower is better for both). Seconds on the "
              "machine that made them, as busy as it was.", ""]
    (out / "CREDITS.md").write_text("\n".join(lines))


if __name__ == "__main__":
    main()
