"""Checkpoints: a stopped run resumes where it was, other settings are refused, files are written atomically."""

import pytest
from PIL import Image

import d2lstyle
from d2lstyle import checkpoints, transfer
from d2lstyle.errors import CheckpointError


@pytest.fixture(scope="module")
def content():
    return d2lstyle.load_image(d2lstyle.bundled_image("chelsea"))


@pytest.fixture(scope="module")
def style():
    return d2lstyle.load_image(d2lstyle.bundled_image("starry_night"))


def small(name="d2l", **changes):
    settings = {"image_size": (32, 48), "steps": 6}
    settings.update(changes)
    return d2lstyle.get_recipe(name).replace(**settings)


def run(content, style, recipe, vgg, **options):
    return d2lstyle.stylise(content, style, recipe, vgg, progress=False, **options)



@pytest.mark.slow
def test_checkpoint_and_resume(content, style, random_vgg, tmp_path):
    recipe = small(steps=8)
    path = tmp_path / "run.ckpt"

    def save_at_five(info):
        if info.step == 5:
            checkpoints.save_checkpoint(path, info.image, info.history, recipe)
        return info.step == 5  # then stop, as if the machine went down

    stopped = run(content, style, recipe, random_vgg, callbacks=[save_at_five])
    assert stopped.status == "stopped" and path.is_file()
    checkpoint = d2lstyle.load_checkpoint(path)
    resumed = run(content, style, recipe, random_vgg, resume=checkpoint)
    assert resumed.status == "finished"
    assert resumed.history["step"] == list(range(1, 9))
    assert resumed.history["total"][:5] == stopped.history["total"][:5]
    assert resumed.history["total"][5] < resumed.history["total"][0]


def test_resume_refuses_other_settings_and_bad_files(content, style, random_vgg, tmp_path):
    recipe = small(steps=4)
    image = d2lstyle.preprocess(content, (32, 48))
    path = checkpoints.save_checkpoint(tmp_path / "a.ckpt", image, transfer.new_history(), recipe)
    assert path.stat().st_mode & 0o777 == d2lstyle.files.new_file_mode()  # not mkstemp's private 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["a.ckpt"]  # no temporary file left
    with pytest.raises(CheckpointError, match="other settings than this run"):
        run(content, style, recipe.replace(steps=5), random_vgg, resume=d2lstyle.load_checkpoint(path))
    (tmp_path / "bad.ckpt").write_bytes(b"garbage")
    with pytest.raises(CheckpointError, match="not a d2lstyle checkpoint"):
        d2lstyle.load_checkpoint(tmp_path / "bad.ckpt")
    with pytest.raises(CheckpointError, match="no such file"):
        d2lstyle.load_checkpoint(tmp_path / "none.ckpt")


def test_a_checkpoint_that_cannot_be_written_is_a_checkpoint_error(content, tmp_path, monkeypatch):
    recipe = small(steps=4)
    image = d2lstyle.preprocess(content, (32, 48))
    (tmp_path / "file").write_text("mine")
    with pytest.raises(CheckpointError, match="a.ckpt: cannot be written"):
        checkpoints.save_checkpoint(tmp_path / "file" / "a.ckpt", image, transfer.new_history(), recipe)
    path = checkpoints.save_checkpoint(tmp_path / "a.ckpt", image, transfer.new_history(), recipe)
    before = path.read_bytes()

    def disk_full(payload, file):
        file.write(b"half a checkpoint")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(checkpoints.torch, "save", disk_full)
    with pytest.raises(CheckpointError, match="No space left on device.*any file already there is unchanged"):
        checkpoints.save_checkpoint(path, image * 0, transfer.new_history(), recipe)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.ckpt", "file"]
