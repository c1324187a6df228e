"""Checkpoints: a stopped run resumes where it was, other settings are refused, files are written atomically."""

import pytest
from PIL import Image

import d2lstyle
from d2lstyle import checkpoints, transfer
from d2lstyle.controls import Controls
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
            checkpoints.save_checkpoint(path, info.image, info.history, checkpoints.describe_run(recipe))
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
    path = checkpoints.save_checkpoint(tmp_path / "a.ckpt", image, transfer.new_history(),
                                       checkpoints.describe_run(recipe))
    assert path.stat().st_mode & 0o777 == d2lstyle.files.new_file_mode()  # not mkstemp's private 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["a.ckpt"]  # no temporary file left
    with pytest.raises(CheckpointError, match=r"from another run than this one: steps \(was 4, now 5\);"):
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
        checkpoints.save_checkpoint(tmp_path / "file" / "a.ckpt", image, transfer.new_history(),
                                    checkpoints.describe_run(recipe))
    path = checkpoints.save_checkpoint(tmp_path / "a.ckpt", image, transfer.new_history(),
                                       checkpoints.describe_run(recipe))
    before = path.read_bytes()

    def disk_full(payload, file):
        file.write(b"half a checkpoint")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(checkpoints.torch, "save", disk_full)
    with pytest.raises(CheckpointError, match="No space left on device.*any file already there is unchanged"):
        checkpoints.save_checkpoint(path, image * 0, transfer.new_history(), checkpoints.describe_run(recipe))
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.ckpt", "file"]


def test_a_checkpoint_records_what_made_the_run_and_names_what_differs(content, style):
    recipe, masked = small(steps=4), Image.new("L", content.size, 255)
    made = checkpoints.describe_run(recipe, "random (seed 0)", 0, content, [style], Controls())
    other_photo = content.copy()
    other_photo.putpixel((0, 0), (255, 0, 255))  # one pixel
    others = {
        "the photo (another picture)": (recipe, "random (seed 0)", 0, other_photo, [style], Controls()),
        "style image 1 (another picture)": (recipe, "random (seed 0)", 0, content, [content], Controls()),
        "style images (was 1, now 2)": (recipe, "random (seed 0)", 0, content, [style, style], Controls()),
        "style scale (was 1.0, now 2.0)": (recipe, "random (seed 0)", 0, content, [style], Controls(style_scale=2.0)),
        "preserve colors (was None, now 'luminance')":
            (recipe, "random (seed 0)", 0, content, [style], Controls(preserve_colors="luminance")),
        "masked styles (was (), now (1,))": (recipe, "random (seed 0)", 0, content, [style], Controls(masks=(masked,))),
        "network used (was 'random (seed 0)', now 'random (seed 1)')":
            (recipe, "random (seed 1)", 0, content, [style], Controls()),
        "seed (was 0, now 1)": (recipe, "random (seed 0)", 1, content, [style], Controls()),
        "pooling (was 'max', now 'avg')":
            (recipe.replace(pooling="avg"), "random (seed 0)", 0, content, [style], Controls()),
    }
    assert checkpoints.run_differences(made, checkpoints.describe_run(
        recipe, "random (seed 0)", 0, content.copy(), [style.copy()], Controls())) == []  # the same pixels
    for difference, run in others.items():
        assert difference in checkpoints.run_differences(made, checkpoints.describe_run(*run)), difference
    blended = checkpoints.describe_run(recipe, "random (seed 0)", 0, content, [style, style],
                                       Controls(blend=(0.7, 0.3)))
    assert "blend weights (was (0.7, 0.3), now (0.5, 0.5))" in checkpoints.run_differences(
        blended, checkpoints.describe_run(recipe, "random (seed 0)", 0, content, [style, style], Controls()))


def test_resuming_with_other_controls_or_pictures_is_refused(content, style, random_vgg, tmp_path):
    recipe, path = small(steps=4), tmp_path / "a.ckpt"
    made = checkpoints.describe_run(recipe, random_vgg.description, 0, content, [style], Controls())

    def save_and_stop(info):
        checkpoints.save_checkpoint(path, info.image, info.history, made)
        return True

    assert run(content, style, recipe, random_vgg, callbacks=[save_and_stop]).status == "stopped"
    with pytest.raises(CheckpointError, match=r"another run than this one: style scale \(was 1.0, now 2\)"):
        run(content, style, recipe, random_vgg, resume=d2lstyle.load_checkpoint(path),
            controls=Controls(style_scale=2))
    with pytest.raises(CheckpointError, match=r"style image 1 \(another picture\); resume with the same options"):
        run(content, content, recipe, random_vgg, resume=d2lstyle.load_checkpoint(path))
    resumed = run(content, style, recipe, random_vgg, resume=d2lstyle.load_checkpoint(path))
    assert resumed.history["step"] == [1, 2, 3, 4]
