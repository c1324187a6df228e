"""tools/make_gallery.py: the contact sheet, the goal each result is held to, the results.md table, and a real
(tiny, random-network) run that writes the pictures, the sheet, the credits and the section."""

import sys
from pathlib import Path

from PIL import Image

import d2lstyle
from d2lstyle.quality import Quality

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
import make_gallery  # noqa: E402


def reddish(pixel):
    red, green, blue = pixel
    return red > 150 and green < 100 and blue < 100


def caption_pixels(sheet, column, row):
    width, height = make_gallery.TILE
    top = row * (height + make_gallery.CAPTION) + height
    box = (column * width, top, (column + 1) * width, top + make_gallery.CAPTION)
    crop = sheet.crop(box)
    return [crop.getpixel((x, y)) for y in range(crop.height) for x in range(crop.width)]


def test_the_goal_is_both_ratios_at_or_below_the_limits():
    assert make_gallery.meets_goal(Quality(0.25, 0.55))
    assert not make_gallery.meets_goal(Quality(0.26, 0.3))
    assert not make_gallery.meets_goal(Quality(0.1, 0.56))


def test_the_contact_sheet_puts_paintings_on_top_photos_on_the_left_and_misses_in_red():
    blue, orange = Image.new("RGB", (64, 48), (0, 0, 255)), Image.new("RGB", (48, 64), (255, 160, 0))
    pictures = {("tubingen", "starry_night"): (blue, Quality(0.1, 0.4)),
                ("chelsea", "starry_night"): (orange, Quality(0.4, 0.4)),
                ("chelsea", "the_scream"): (blue, Quality(0.2, 0.5))}
    sheet = make_gallery.contact_sheet(pictures)
    width, height = make_gallery.TILE
    assert sheet.size == (3 * width, 3 * (height + make_gallery.CAPTION))
    assert sheet.getpixel((width + width // 2, (height + make_gallery.CAPTION) + height // 2)) == (0, 0, 255)
    assert sheet.getpixel((width + width // 2, 2 * (height + make_gallery.CAPTION) + height // 2)) == (255, 160, 0)
    # tubingen with the_scream was not painted: that cell stays white
    assert sheet.getpixel((2 * width + width // 2, (height + make_gallery.CAPTION) + height // 2)) == (255, 255, 255)
    assert not any(map(reddish, caption_pixels(sheet, 1, 1)))  # met: black text
    assert any(map(reddish, caption_pixels(sheet, 1, 2)))  # missed: red text
    assert any(pixel != (255, 255, 255) for pixel in caption_pixels(sheet, 1, 1))  # the text is drawn


def test_the_table_counts_the_misses_and_names_them():
    rows = [("a--x.jpg", "a", "x", 60, 90.0, Quality(0.2, 0.5)), ("b--x.jpg", "b", "x", 60, 100.0, Quality(0.3, 0.5))]

    class Arguments:
        preset, size = "default", 512

    table = make_gallery.gallery_table(rows, Arguments)
    assert "- 1 of 2 results reach the goal; missed by b--x.jpg." in table
    assert "| a | x | 60 | 90 | 0.200 | 0.500 | met |" in table
    assert "| b | x | 60 | 100 | 0.300 | 0.500 | NOT met |" in table
    assert "Worst style ratio 0.300, worst content ratio 0.500" in table


def test_a_small_gallery_writes_pictures_sheet_credits_and_its_section(tmp_path, monkeypatch):
    monkeypatch.setenv("D2LSTYLE_NETWORK", "random")
    results = tmp_path / "results.md"
    results.write_text("# Benchmark results\n")
    make_gallery.main(["--pairs", "tubingen:starry_night,chelsea:starry_night", "--size", "48", "--out",
                       str(tmp_path / "gallery"), "--results", str(results)])
    out = tmp_path / "gallery"
    assert {path.name for path in out.iterdir()} == {"tubingen--starry_night.jpg", "chelsea--starry_night.jpg",
                                                     "contact_sheet.jpg", "CREDITS.md"}
    assert (out / "contact_sheet.jpg").stat().st_size <= make_gallery.SHEET_BYTES
    assert max(d2lstyle.load_image(out / "chelsea--starry_night.jpg").size) == 48
    text = results.read_text()
    assert "<!-- section: gallery -->" in text and "python tools/make_gallery.py --pairs" in text
    assert text.count("| starry_night | ") == 2  # one row per picture (quick mode caps the evaluations)
    assert "contact_sheet.jpg" in (out / "CREDITS.md").read_text()
