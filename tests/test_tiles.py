"""Painting large images in tiles (d2lstyle.tiles): the tiles' layout, their blend, their targets, bad input."""

import math

import pytest
import torch
from PIL import Image

import d2lstyle
from d2lstyle import devices, images, losses, tiles
from d2lstyle.errors import InputError, MemoryEstimateError, RecipeError
from d2lstyle.vgg import FeatureExtractor


@pytest.mark.parametrize("length", [17, 64, 65, 100, 257, 700, 1536, 2048, 3072, 4096, 4100])
@pytest.mark.parametrize("tile,overlap", [(64, 16), (256, 32), (1024, 128), (1000, 499)])
def test_tile_spans_cover_the_axis_with_the_overlap_asked(length, tile, overlap):
    spans = tiles.tile_spans(length, tile, overlap)
    assert spans[0][0] == 0 and spans[-1][1] == length
    assert len({end - start for start, end in spans}) == 1  # one length
    assert all(end - start <= tile for start, end in spans)
    for (start, end), (next_start, _) in zip(spans, spans[1:]):
        assert start < next_start and end - next_start >= overlap  # covered, with the overlap
    # the fewest: one tile fewer, each as long as allowed, could not cover the axis with that overlap
    fewer = len(spans) - 1
    assert fewer == 0 or fewer * tile - (fewer - 1) * overlap < length


def test_tile_spans_refuse_a_tile_no_larger_than_its_overlap():
    with pytest.raises(InputError, match="larger than its overlap"):
        tiles.tile_spans(100, 16, 16)


def test_blend_weights_ramp_towards_neighbours_only():
    assert tiles.blend_weights((0, 10), 10, 4).tolist() == [1.0] * 10  # alone: all of it counts
    middle = tiles.blend_weights((3, 13), 20, 4).tolist()
    assert middle == [0.0, 0.25, 0.5, 0.75, 1.0, 1.0, 0.75, 0.5, 0.25, 0.0]


def test_blending_identical_tiles_leaves_the_picture_as_it_is():
    # w x + (1 - w) canvas with x = canvas changes nothing, whatever the weights
    canvas = torch.rand(1, 3, 30, 50)
    before = canvas.clone()
    for row in tiles.tile_spans(30, 20, 6):
        for column in tiles.tile_spans(50, 20, 6):
            window = (..., slice(*row), slice(*column))
            weight = tiles.blend_weights(row, 30, 6)[:, None] * tiles.blend_weights(column, 50, 6)
            canvas[window] = weight * canvas[window].clone() + (1 - weight) * canvas[window]
    assert torch.allclose(canvas, before)


@pytest.fixture
def pair():
    photo = Image.new("RGB", (96, 64))
    photo.putdata([(x * 2, y * 3, (x * y) % 256) for y in range(64) for x in range(96)])
    painting = Image.new("RGB", (80, 60))
    painting.putdata([((x * 7) % 256, (y * 11) % 256, 128) for y in range(60) for x in range(80)])
    return photo, painting


def recipe(steps=(2, 2)):
    return d2lstyle.get_recipe("default").replace(image_size=96, scales=(0.5, 1.0), scale_steps=steps,
                                                  steps=sum(steps), balance_cap=0.0)


class Recorder:
    """Stands in for transfer's ``optimise``: notes each tile's start and targets and returns a known tile."""

    def __init__(self, interrupt_at=None):
        self.calls, self.interrupt_at = [], interrupt_at

    def __call__(self, start, extractor, targets, recipe, log, scale, last_step):
        self.calls.append({"start": start.clone(), "targets": targets, "last_step": last_step})
        if len(self.calls) == self.interrupt_at:
            raise KeyboardInterrupt
        while log.done < last_step:
            log.record({"content": torch.tensor(1.0), "style": torch.tensor(1.0), "tv": torch.tensor(0.0),
                        "total": torch.tensor(2.0)}, start, scale, recipe.lr)
        return torch.full_like(start, float(len(self.calls)))  # tile k paints the value k


def test_each_tile_starts_from_the_canvas_with_its_photo_and_the_whole_painting(pair, random_vgg, monkeypatch):
    photo, painting = pair
    recorder = Recorder()
    monkeypatch.setattr(tiles, "optimise", recorder)
    coarse = d2lstyle.stylise(photo, painting, recipe().replace(image_size=48, scales=(1.0,), scale_steps=(),
                                                                 steps=2), random_vgg, progress=False)
    result = tiles.stylise_in_tiles(photo, painting, recipe(), random_vgg, tile=64, overlap=16, progress=False)
    rows, columns = tiles.tile_spans(64, 64, 16), tiles.tile_spans(96, 64, 16)
    assert len(recorder.calls) == len(rows) * len(columns) == 2
    extract = FeatureExtractor(random_vgg, recipe().layers())
    # the style targets: the whole painting at the full size (96 px long, as the photo)
    whole = extract(images.preprocess(painting, (72, 96)))
    upsampled = torch.nn.functional.interpolate(coarse.image, size=(64, 96), mode="bilinear", align_corners=False)
    expected = upsampled.clone()
    for number, (call, column) in enumerate(zip(recorder.calls, columns), 1):
        for name in recipe().style_layers:
            assert torch.allclose(call["targets"].grams[name], losses.gram_matrix(whole[name]), rtol=1e-4, atol=1e-6)
        window = (..., slice(0, 64), slice(*column))
        photo_tile = images.preprocess(photo, (64, 96))[window]
        assert torch.allclose(call["targets"].content["relu4_2"], extract(photo_tile)["relu4_2"], atol=1e-5)
        assert torch.allclose(call["start"], expected[window], atol=1e-6)  # the canvas, with the tiles before
        assert call["last_step"] == 2 + 2 * number
        weight = tiles.blend_weights((0, 64), 64, 16)[:, None] * tiles.blend_weights(column, 96, 16)
        expected[window] = weight * number + (1 - weight) * expected[window]
    assert torch.allclose(result.image, expected, atol=1e-6)
    # the second tile's start holds the first tile's value 1 in their overlap, blended
    overlap_start = columns[1][0]
    assert recorder.calls[1]["start"][..., 0, 40 - overlap_start].max() > 0.5
    assert result.status == "finished" and result.history["step"] == list(range(1, 7))


def test_ctrl_c_during_the_tiles_keeps_those_finished(pair, random_vgg, monkeypatch):
    photo, painting = pair
    monkeypatch.setattr(tiles, "optimise", Recorder(interrupt_at=2))
    result = tiles.stylise_in_tiles(photo, painting, recipe(), random_vgg, tile=64, overlap=16, progress=False)
    assert result.status == "interrupted" and "kept the tiles finished" in result.message
    assert torch.all(result.image[..., :, :40] == 1.0)  # the first tile's own part, painted
    assert not torch.any(result.image[..., :, 64:] == 1.0)  # the second tile's own part, untouched


def test_a_real_tiled_run_lowers_each_tiles_loss(pair, random_vgg):
    photo, painting = pair
    result = tiles.stylise_in_tiles(photo, painting, recipe((2, 4)), random_vgg, tile=64, overlap=16,
                                    progress=False)
    totals = result.history["total"]
    assert result.status == "finished" and len(totals) == 2 + 2 * 4
    assert min(totals[2:6]) < totals[2] and min(totals[6:10]) < totals[6]  # each tile's optimisation made progress
    assert result.image.shape == (1, 3, 64, 96) and torch.isfinite(result.image).all()


def test_a_run_that_cannot_fit_is_refused_before_any_work_with_a_tile_that_would(pair, random_vgg, monkeypatch):
    photo, painting = pair
    big = recipe().replace(image_size=4096)
    shape, style_shape = (2731, 4096), (3277, 4096)  # the photo is 3:2, the painting 4:3
    needed = tiles.memory_needed(shape, 2048, 128, style_shape, big)
    assert needed >= devices.estimate_memory_bytes(tiles.tile_shape(shape, 2048, 128), big)
    monkeypatch.setattr(devices, "available_memory_bytes", lambda device: needed / 2)
    monkeypatch.setattr(tiles, "stylise", lambda *args, **kwargs: pytest.fail("the run started"))
    with pytest.raises(MemoryEstimateError, match=r"use smaller tiles \(--tile (\d+) or less\)") as refused:
        tiles.stylise_in_tiles(photo, painting, big, random_vgg, tile=2048, progress=False)
    advised = int(refused.value.args[0].split("--tile ")[1].split()[0])
    assert 64 <= advised < 2048 and advised % 16 == 0
    # the tile advised fits; one 16 pixels larger does not
    fits = tiles.check_memory(shape, advised, tiles.default_overlap(advised), style_shape, big, "cpu")
    assert fits <= 0.9 * needed / 2
    with pytest.raises(MemoryEstimateError):
        tiles.check_memory(shape, advised + 16, tiles.default_overlap(advised + 16), style_shape, big, "cpu")


@pytest.mark.parametrize("change,error,words", [
    (dict(scales=(1.0,), scale_steps=()), RecipeError, "two scales or more"),
])
def test_a_recipe_without_coarse_scales_is_refused(pair, random_vgg, change, error, words):
    with pytest.raises(error, match=words):
        tiles.stylise_in_tiles(*pair, recipe().replace(**change), random_vgg, progress=False)


@pytest.mark.parametrize("tile,overlap,words", [(32, 16, "more than twice the overlap"), (64, 0, "at least 1"),
                                                (64.0, 16, "whole numbers"), (8, 2, "needs")])
def test_bad_tiles_are_refused(pair, random_vgg, tile, overlap, words):
    with pytest.raises(InputError, match=words):
        tiles.stylise_in_tiles(*pair, recipe(), random_vgg, tile=tile, overlap=overlap, progress=False)


def test_several_paintings_are_refused(pair, random_vgg):
    photo, painting = pair
    with pytest.raises(InputError, match="one photo and one painting"):
        tiles.stylise_in_tiles(photo, [painting, painting], recipe(), random_vgg, progress=False)


@pytest.mark.parametrize("normalization", ["chw", "hw", "none"])
def test_painting_grams_in_cells_with_a_whole_margin_equal_the_whole_paintings(random_vgg, normalization):
    recipe_ = d2lstyle.get_recipe("default").replace(gram_normalization=normalization)
    extract = FeatureExtractor(random_vgg, recipe_.layers())
    painting = torch.randn(1, 3, 72, 104, generator=torch.Generator().manual_seed(1))
    whole = extract(painting)
    cells = tiles.painting_grams(extract, painting, recipe_, cell=32, margin=112)  # every cell sees all of it
    for name in recipe_.style_layers:
        expected = losses.gram_matrix(whole[name], normalization)
        assert torch.allclose(cells[name], expected, rtol=1e-4, atol=1e-6 * float(expected.abs().max())), name


def test_painting_grams_with_a_narrow_margin_differ_near_the_cells_sides_only(random_vgg):
    # relu1_1 sees 3x3 pixels: a margin of 16 leaves it exact; relu5_1 sees far more, so it differs a little
    recipe_ = d2lstyle.get_recipe("default")
    extract = FeatureExtractor(random_vgg, recipe_.layers())
    painting = torch.randn(1, 3, 96, 128, generator=torch.Generator().manual_seed(2))
    whole = extract(painting)
    cells = tiles.painting_grams(extract, painting, recipe_, cell=32, margin=16)
    exact = losses.gram_matrix(whole["relu1_1"])
    assert torch.allclose(cells["relu1_1"], exact, rtol=1e-4, atol=1e-6 * float(exact.abs().max()))
    deep = losses.gram_matrix(whole["relu5_1"])
    assert not torch.allclose(cells["relu5_1"], deep, rtol=1e-4, atol=1e-6 * float(deep.abs().max()))


@pytest.mark.parametrize("preset", ["default", "pytorch-tutorial"])  # standardised and [0, 1] pixel space
def test_tiles_that_change_nothing_leave_the_upsampled_coarse_picture_in_either_space(pair, random_vgg, monkeypatch,
                                                                                        preset):
    photo, painting = pair
    starts = []

    def unchanged(start, extractor, targets, recipe_, log, scale, last_step):
        starts.append(start.clone())
        return start

    chosen = d2lstyle.get_recipe(preset).replace(image_size=96, scales=(0.5, 1.0), scale_steps=(2, 2), steps=4)
    coarse = d2lstyle.stylise(photo, painting, chosen.replace(image_size=48, scales=(1.0,), scale_steps=(), steps=2),
                              random_vgg, progress=False)
    monkeypatch.setattr(tiles, "optimise", unchanged)
    result = tiles.stylise_in_tiles(photo, painting, chosen, random_vgg, tile=64, progress=False)
    upsampled = torch.nn.functional.interpolate(coarse.image, size=(64, 96), mode="bilinear", align_corners=False)
    assert torch.allclose(result.image, upsampled, atol=1e-5)
    if chosen.space == "pixels":  # the optimiser is handed pixels in [0, 1], as stylise hands it
        assert 0 <= float(starts[0].min()) and float(starts[0].max()) <= 1
