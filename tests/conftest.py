"""Shared fixtures: small images, a random VGG-19 loaded once, explorers with tiny runs, an empty torch cache;
notebooks marked slow."""

import pytest
import torch
from PIL import Image

import d2lstyle
from d2lstyle.settings import Settings


@pytest.fixture(scope="session")
def random_vgg():
    """VGG-19 features with seeded random weights (the offline choice), loaded once."""
    return d2lstyle.load_vgg19("random", seed=0)


@pytest.fixture
def small_explorer(random_vgg, tmp_path):
    """Make an Explorer whose runs are tiny: 32 px, layers no deeper than relu2_2, 3 steps, on the random
    network (the pictures do not matter), saving to tmp_path/outputs. Keyword arguments go to Explorer."""
    from d2lstyle.explorer import Explorer

    def make(quick=False, **options):
        explorer = Explorer(Settings(network="random", quick=quick), random_vgg, output_dir=tmp_path / "outputs",
                            **options)
        explorer.size, explorer.steps = 32, 3
        explorer.content_layer = "relu2_2"
        explorer.style_layers = {"relu2_1": 1.0, "relu1_1": 0.5}
        return explorer

    return make


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
