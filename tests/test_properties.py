"""Property-based tests: loading, preprocess and postprocess over random sizes and image modes."""

import numpy as np
import torch
from hypothesis import HealthCheck, given, settings, strategies as st
from PIL import Image

import d2lstyle

MODES = ["RGB", "RGBA", "L", "LA", "1", "P", "CMYK", "I;16"]


@st.composite
def pil_images(draw):
    width = draw(st.integers(1, 48))
    height = draw(st.integers(1, 48))
    mode = draw(st.sampled_from(MODES))
    seed = draw(st.integers(0, 2**32 - 1))
    rgb = np.random.default_rng(seed).integers(0, 256, size=(height, width, 3), dtype=np.uint8)
    img = Image.fromarray(rgb)
    if mode == "I;16":
        return Image.fromarray(rgb[..., 0].astype(np.uint16) * 257)
    if mode == "RGBA":
        return Image.fromarray(np.dstack([rgb, rgb[..., :1]]))
    return img.convert(mode)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(img=pil_images(), extension=st.sampled_from(["png", "tiff"]))
def test_any_mode_and_size_loads_as_rgb_of_the_same_size(tmp_path, img, extension):
    if img.mode == "CMYK":  # PNG cannot hold CMYK
        extension = "tiff"
    path = tmp_path / f"image.{extension}"
    img.save(path)
    loaded = d2lstyle.load_image(path)
    assert loaded.mode == "RGB" and loaded.size == img.size
    if img.mode in ("RGB", "L", "1", "P"):  # no alpha to composite: same colours as Pillow's conversion
        assert np.array_equal(np.asarray(loaded), np.asarray(img.convert("RGB")))


@settings(max_examples=60, deadline=None)
@given(img=pil_images())
def test_preprocess_postprocess_round_trip(img):
    rgb = img.convert("RGB") if img.mode not in ("I;16",) else None
    x = d2lstyle.preprocess(img)
    assert x.shape == (1, 3, img.size[1], img.size[0]) and x.dtype == torch.float32
    assert torch.isfinite(x).all()
    back = d2lstyle.postprocess(x)
    assert back.size == img.size and back.mode == "RGB"
    if rgb is not None and img.mode not in ("RGBA", "LA"):
        assert np.abs(np.asarray(back, dtype=int) - np.asarray(rgb, dtype=int)).max() <= 1


@settings(max_examples=40, deadline=None)
@given(img=pil_images(), long_side=st.integers(1, 80), height=st.integers(1, 60), width=st.integers(1, 60))
def test_resize_hits_the_asked_size(img, long_side, height, width):
    img = img.convert("RGB")
    resized = d2lstyle.resize(img, long_side)
    assert max(resized.size) == long_side
    ratio_before, ratio_after = img.size[0] / img.size[1], resized.size[0] / resized.size[1]
    # Keeping the aspect ratio: off by at most the rounding of one pixel on the short side.
    short = min(resized.size)
    assert abs(ratio_after - ratio_before) <= ratio_before * (1 / short + 1e-9) or short == 1
    assert d2lstyle.resize(img, (height, width)).size == (width, height)
