"""Shared fixtures: small images, a random VGG-19 loaded once, an empty torch cache; notebooks marked slow."""

import pytest
import torch
from PIL import Image

import d2lstyle


@pytest.fixture(scope="session")
def random_vgg():
    """VGG-19 features with seeded random weights (the offline choice), loaded once."""
    return d2lstyle.load_vgg19("random", seed=0)


@pytest.fixture
def gradient_image():
    """A 40x30 RGB image whose pixels vary smoothly, so resizing and rounding are visible."""
    img = Image.new("RGB", (40, 30))
    img.putdata([(x * 6, y * 8, (x * y) % 256) for y in range(30) for x in range(40)])
    return img


@pytest.fixture
def empty_torch_cache(tmp_path, monkeypatch):
    """Point torch.hub's cache at an empty temporary folder."""
    hub = tmp_path / "hub"
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(hub))
    return hub


def pytest_collection_modifyitems(items):
    """Every notebook cell nbval runs is a slow test: ``pytest -m "not slow"`` leaves the notebooks out."""
    for item in items:
        if item.path.suffix == ".ipynb":
            item.add_marker(pytest.mark.slow)
