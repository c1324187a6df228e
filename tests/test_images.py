"""Loading any image file, resizing without distortion, the ImageNet normalisation and safe saving."""

import io
import os
import stat
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image, ImageFile

import d2lstyle
from d2lstyle import files, images
from d2lstyle.errors import ImageError

# --- loading every mode as RGB ------------------------------------------------


def pixels(img):
    """The pixels of a PIL image, row by row, as tuples."""
    return [tuple(p) for p in np.asarray(img).reshape(-1, len(img.getbands())).tolist()]


def saved(tmp_path, img, name, **options):
    path = tmp_path / name
    img.save(path, **options)
    return path


def test_rgba_is_composited_over_white(tmp_path):
    img = Image.new("RGBA", (4, 2), (255, 0, 0, 255))
    img.putpixel((0, 0), (0, 0, 255, 0))  # fully transparent blue
    img.putpixel((1, 0), (0, 0, 0, 128))  # half-transparent black
    loaded = d2lstyle.load_image(saved(tmp_path, img, "a.png"))
    assert loaded.mode == "RGB"
    assert loaded.getpixel((0, 0)) == (255, 255, 255)
    assert loaded.getpixel((1, 0)) == pytest.approx((127, 127, 127), abs=1)
    assert loaded.getpixel((2, 0)) == (255, 0, 0)


def test_greyscale_with_alpha_and_palette_with_transparency(tmp_path):
    la = Image.new("LA", (2, 1), (10, 0))
    la.putpixel((1, 0), (10, 255))
    assert pixels(d2lstyle.load_image(saved(tmp_path, la, "la.png"))) == [(255, 255, 255), (10, 10, 10)]

    palette = Image.new("P", (2, 1))
    palette.putpalette([0, 0, 0, 200, 100, 50] + [0] * 762)
    palette.putpixel((1, 0), 1)
    path = saved(tmp_path, palette, "p.png", transparency=0)
    assert pixels(d2lstyle.load_image(path)) == [(255, 255, 255), (200, 100, 50)]


@pytest.mark.parametrize("mode", ["L", "1", "P", "CMYK"])
def test_other_modes_become_rgb(tmp_path, mode):
    img = Image.new("RGB", (6, 4), (255, 255, 255)).convert(mode)
    suffix = "jpg" if mode == "CMYK" else "png"
    loaded = d2lstyle.load_image(saved(tmp_path, img, f"x.{suffix}"))
    assert loaded.mode == "RGB" and loaded.size == (6, 4)
    assert all(value >= 250 for pixel in pixels(loaded) for value in pixel)


def test_sixteen_bit_greyscale_is_scaled_not_clipped(tmp_path):
    values = np.array([[0, 257 * 100, 65535]], dtype=np.uint16)
    img = Image.fromarray(values)
    assert img.mode.startswith("I")
    loaded = d2lstyle.load_image(saved(tmp_path, img, "deep.png"))
    assert [pixel[0] for pixel in pixels(loaded)] == [0, 100, 255]


def test_exif_rotation_is_applied(tmp_path):
    img = Image.new("RGB", (40, 20), (0, 0, 0))
    img.paste((255, 255, 255), (0, 0, 20, 20))  # left half white
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 degrees clockwise to display"
    path = tmp_path / "phone.jpg"
    img.save(path, exif=exif.tobytes(), quality=95)
    loaded = d2lstyle.load_image(path)
    assert loaded.size == (20, 40)
    top, bottom = loaded.getpixel((10, 5)), loaded.getpixel((10, 35))
    assert top[0] > 200 and bottom[0] < 50  # the white half is now on top


# --- loading errors: a clear message, nothing touched ---------------------------


def test_missing_file(tmp_path):
    with pytest.raises(ImageError, match="no such file"):
        d2lstyle.load_image(tmp_path / "nope.jpg")


def test_folder(tmp_path):
    with pytest.raises(ImageError, match="is a folder"):
        d2lstyle.load_image(tmp_path)


def test_empty_file(tmp_path):
    path = tmp_path / "empty.jpg"
    path.write_bytes(b"")
    with pytest.raises(ImageError, match="empty"):
        d2lstyle.load_image(path)


def test_not_an_image(tmp_path):
    path = tmp_path / "notes.jpg"
    path.write_text("these are not pixels")
    with pytest.raises(ImageError, match="notes.jpg: is a text file, not an image file"):
        d2lstyle.load_image(path)
    assert path.read_text() == "these are not pixels"
    model = tmp_path / "starry.png"
    torch.save({"w": torch.ones(2)}, model)
    with pytest.raises(ImageError, match=r"starry.png: is a PyTorch file \(weights or a checkpoint\), not an image"):
        d2lstyle.load_image(model)


def test_truncated_jpeg(tmp_path, gradient_image):
    buffer = io.BytesIO()
    gradient_image.resize((400, 300)).save(buffer, format="JPEG")
    path = tmp_path / "cut.jpg"
    path.write_bytes(buffer.getvalue()[: len(buffer.getvalue()) // 2])
    with pytest.raises(ImageError, match="damaged or truncated"):
        d2lstyle.load_image(path)


def png_header_only(width, height):
    """A PNG that claims to be width x height with almost no pixel data."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0")) + chunk(b"IEND", b"")


@pytest.mark.parametrize("side", [8_000, 60_000])  # over our limit; over Pillow's own limit too
def test_decompression_bomb_is_refused_from_the_header(tmp_path, monkeypatch, side):
    path = tmp_path / "bomb.png"
    path.write_bytes(png_header_only(side, side))

    def no_decoding(self, *args):
        raise AssertionError("pixels were decoded")

    monkeypatch.setattr(ImageFile.ImageFile, "load", no_decoding)
    with pytest.raises(ImageError, match="pixels|decompression bomb"):
        d2lstyle.load_image(path)


def test_pixel_limit(tmp_path, gradient_image):
    path = saved(tmp_path, gradient_image, "g.png")
    with pytest.raises(ImageError, match="over the limit of 1,000 pixels"):
        d2lstyle.load_image(path, max_pixels=1000)
    assert d2lstyle.load_image(path, max_pixels=1200).size == (40, 30)


# --- resizing without distortion ---------------------------------------------------


def test_shape_for_long_side_keeps_aspect_ratio():
    assert images.shape_for_long_side((1024, 682), 512) == (341, 512)
    assert images.shape_for_long_side((300, 600), 100) == (100, 50)
    assert images.shape_for_long_side((1, 1000), 10) == (10, 1)


def test_resize_to_long_side_and_to_shape(gradient_image):
    assert images.resize(gradient_image, 20).size == (20, 15)
    assert images.resize(gradient_image, 80).size == (80, 60)
    cropped = images.resize(gradient_image, (30, 30))  # square: centre crop of the 40x30 image
    assert cropped.size == (30, 30)
    # The crop keeps the middle 30 columns: column 5 of the original is the crop's column 0.
    assert cropped.getpixel((0, 0)) == gradient_image.getpixel((5, 0))


# --- preprocess / postprocess --------------------------------------------------------


def test_preprocess_normalises_with_imagenet_statistics(gradient_image):
    x = d2lstyle.preprocess(gradient_image)
    assert x.shape == (1, 3, 30, 40) and x.dtype == torch.float32
    r, g, b = gradient_image.getpixel((7, 3))
    expected = [(v / 255 - m) / s for v, m, s in zip((r, g, b), d2lstyle.IMAGENET_MEAN, d2lstyle.IMAGENET_STD)]
    assert x[0, :, 3, 7].tolist() == pytest.approx(expected, abs=1e-6)


def test_preprocess_resizes(gradient_image):
    assert d2lstyle.preprocess(gradient_image, (12, 16)).shape == (1, 3, 12, 16)
    assert d2lstyle.preprocess(gradient_image, 20).shape == (1, 3, 15, 20)


def test_preprocess_rejects_tensors():
    with pytest.raises(TypeError, match="PIL image"):
        d2lstyle.preprocess(torch.zeros(3, 4, 4))


def test_round_trip_within_one_level(gradient_image):
    back = d2lstyle.postprocess(d2lstyle.preprocess(gradient_image))
    difference = np.abs(np.asarray(back, dtype=int) - np.asarray(gradient_image, dtype=int))
    assert difference.max() <= 1


def test_postprocess_clamps_out_of_range_values():
    x = torch.zeros(1, 3, 1, 2)
    x[0, :, 0, 0] = 100.0  # far above white
    x[0, :, 0, 1] = -100.0  # far below black
    assert pixels(d2lstyle.postprocess(x)) == [(255, 255, 255), (0, 0, 0)]


def test_postprocess_accepts_chw_and_rejects_batches():
    assert d2lstyle.postprocess(torch.zeros(3, 2, 5)).size == (5, 2)
    with pytest.raises(ValueError, match=r"\(1, 3, H, W\)"):
        d2lstyle.postprocess(torch.zeros(2, 3, 4, 4))


def test_normalize_and_denormalize_are_inverse():
    pixels = torch.rand(1, 3, 5, 5)
    assert torch.allclose(d2lstyle.denormalize(d2lstyle.normalize(pixels)), pixels, atol=1e-6)


# --- saving safely -------------------------------------------------------------------


def test_save_creates_the_folder_and_leaves_no_temporary_files(tmp_path, gradient_image):
    path = d2lstyle.save_image(gradient_image, tmp_path / "new" / "folder" / "out.png")
    assert Image.open(path).size == (40, 30)
    assert [p.name for p in path.parent.iterdir()] == ["out.png"]


@pytest.mark.parametrize("umask, mode", [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_saved_images_get_the_mode_the_umask_gives(tmp_path, gradient_image, umask, mode):
    # The atomic save writes through mkstemp, which makes files private (0o600);
    # a stylised image should be as readable as any file the user creates.
    previous = os.umask(umask)
    try:
        path = d2lstyle.save_image(gradient_image, tmp_path / "out.png")
        assert files.new_file_mode() == mode
    finally:
        os.umask(previous)
    assert stat.S_IMODE(path.stat().st_mode) == mode


def test_save_accepts_a_tensor(tmp_path, gradient_image):
    path = d2lstyle.save_image(d2lstyle.preprocess(gradient_image), tmp_path / "t.png")
    assert np.abs(np.asarray(Image.open(path), dtype=int) - np.asarray(gradient_image, dtype=int)).max() <= 1


def test_save_never_overwrites_an_input(tmp_path, gradient_image):
    content = saved(tmp_path, gradient_image, "content.png")
    before = content.read_bytes()
    with pytest.raises(ImageError, match="refusing to overwrite an input"):
        d2lstyle.save_image(Image.new("RGB", (2, 2)), tmp_path / "." / "content.png", protect=[content])
    assert content.read_bytes() == before


def test_save_rejects_unknown_extensions_and_folders(tmp_path, gradient_image):
    with pytest.raises(ImageError, match="unknown image extension"):
        d2lstyle.save_image(gradient_image, tmp_path / "out.xyz")
    folder = tmp_path / "dir.png"
    folder.mkdir()
    with pytest.raises(ImageError, match="is a folder"):
        d2lstyle.save_image(gradient_image, folder)


def test_failed_save_keeps_the_old_file(tmp_path, gradient_image, monkeypatch):
    path = saved(tmp_path, gradient_image, "out.png")
    before = path.read_bytes()

    def broken_save(self, file, format=None, **options):
        file.write(b"half an image")
        raise OSError("disk full")

    monkeypatch.setattr(Image.Image, "save", broken_save)
    with pytest.raises(ImageError, match="could not be written .*disk full.*unchanged"):
        d2lstyle.save_image(Image.new("RGB", (2, 2)), path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["out.png"]


def test_an_output_under_a_file_is_refused_clearly(tmp_path, gradient_image):
    notes = tmp_path / "notes.txt"
    notes.write_text("mine")
    for target in (notes / "out.png", notes / "new" / "out.png"):
        with pytest.raises(ImageError, match="notes.txt is a file, not a folder"):
            files.validate_output_path(target)
        with pytest.raises(ImageError, match="is a file, not a folder"):
            d2lstyle.save_image(gradient_image, target)
    assert notes.read_text() == "mine"


def test_an_output_in_a_read_only_folder_is_refused_clearly(tmp_path, monkeypatch):
    # Simulated: as root (as in CI) every folder is writable, so a chmod would prove nothing.
    read_only = tmp_path / "read-only"
    read_only.mkdir()
    monkeypatch.setattr(images.os, "access", lambda folder, mode: Path(folder) != read_only)
    with pytest.raises(ImageError, match="read-only is not writable"):
        files.validate_output_path(read_only / "out.png")
    with pytest.raises(ImageError, match="read-only is not writable"):  # nearest existing folder decides
        files.validate_output_path(read_only / "sub" / "out.png")
    assert files.validate_output_path(tmp_path / "sub" / "out.png") == tmp_path / "sub" / "out.png"


def test_a_folder_that_cannot_be_created_is_an_image_error(tmp_path, gradient_image, monkeypatch):
    def refuse(self, *args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(Path, "mkdir", refuse)
    with pytest.raises(ImageError, match="cannot be written .Permission denied"):
        d2lstyle.save_image(gradient_image, tmp_path / "new" / "out.png")


# --- the bundled images --------------------------------------------------------------


def test_bundled_images_load_and_are_credited():
    credits = (images.IMAGES_DIR / "CREDITS.md").read_text(encoding="utf-8")
    bundled = d2lstyle.bundled_images("content") + d2lstyle.bundled_images("style")
    assert len(d2lstyle.bundled_images("content")) >= 2 and len(d2lstyle.bundled_images("style")) >= 2
    for path in bundled:
        assert f"{path.parent.name}/{path.name}" in credits
        assert max(d2lstyle.load_image(path).size) <= 1024


def test_bundled_image_by_name_and_unknown_name():
    assert d2lstyle.bundled_image("rainier").name == "rainier.jpg"
    assert d2lstyle.bundled_image("style/great_wave.jpg").name == "great_wave.jpg"
    with pytest.raises(ImageError, match="available: .*rainier"):
        d2lstyle.bundled_image("mona_lisa")
