"""Tests of the pieces notebooks 06 (training) and 07 (recipes) rely on."""

import pytest
import torch
from PIL import Image

import d2lstyle
from d2lstyle import transfer


@pytest.fixture(scope="module")
def vgg():
    return d2lstyle.load_vgg19("random", seed=0)


@pytest.fixture(scope="module")
def pictures():
    return Image.new("RGB", (32, 32), (30, 90, 160)), Image.new("RGB", (32, 32), (220, 180, 40))


def test_history_records_the_learning_rate_each_step_used(vgg, pictures):
    # Steps 1 and 2 (0-based 0, 1) run at lr, steps 3 and 4 at lr * factor: the
    # history must say so, not run one step ahead of the schedule.
    recipe = d2lstyle.get_recipe("d2l").replace(image_size=(32, 32), steps=4, lr=1.0,
                                                lr_decay_every=2, lr_decay_factor=0.5)
    result = d2lstyle.stylise(*pictures, recipe, vgg, progress=False)
    assert result.history["lr"] == [1.0, 1.0, 0.5, 0.5]
