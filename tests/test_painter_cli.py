"""The d2lstyle-painter command: train and paint, end to end with random VGG-19 weights and tiny
settings, and every error path: one clear line, the right exit status, no traceback, no input touched."""

import os
import subprocess
import sys

import numpy as np
import pytest
import torch
from PIL import Image

from d2lstyle import painter, painter_cli

TINY = painter.PainterSettings(channels=(4, 8, 8), residual_blocks=1, crop=32, batch_size=2, steps=2, style_size=32)


@pytest.fixture
def pictures(tmp_path):
    """A style image and a folder of three small photos."""
    style = tmp_path / "style.png"
    stripes = (np.indices((40, 40)).sum(axis=0) // 3 % 2 * 200 + 30).astype(np.uint8)
    Image.fromarray(np.stack([stripes, 255 - stripes, stripes // 2], axis=2)).save(style)
    photos = tmp_path / "photos"
    photos.mkdir()
    for index, colour in enumerate([(200, 40, 40), (40, 200, 90), (30, 60, 220)]):
        img = Image.new("RGB", (60, 44), colour)
        img.paste((250, 250, 250), (10 + 10 * index, 10, 30 + 10 * index, 30))
        img.save(photos / f"photo{index}.jpg")
    return style, photos


@pytest.fixture
def model(tmp_path):
    """A small, untrained painter saved as a model file (painting needs no training to be tested)."""
    net = painter.new_painter(TINY)
    return painter.save_painter(tmp_path / "model.pt", net, TINY, style="style.png", network="random")


def run_main(argv, capsys):
    status = painter_cli.main([str(a) for a in argv])
    return status, capsys.readouterr().err


def command(*args):
    return [sys.executable, "-m", "d2lstyle.painter_cli", *map(str, args)]


def environment():
    env = dict(os.environ, PYTHONUNBUFFERED="1", OMP_NUM_THREADS="1")  # tiny tensors: one thread is faster
    for name in ("D2LSTYLE_NETWORK", "D2LSTYLE_QUICK"):
        env.pop(name, None)
    return env


def one_error_line(err):
    lines = [line for line in err.splitlines() if line.strip()]
    return "Traceback" not in err and lines[-1].startswith("d2lstyle-painter: error:")


# --- usage ---------------------------------------------------------------------------------


def test_help_names_both_verbs_and_every_option(capsys):
    with pytest.raises(SystemExit) as exit_:
        painter_cli.main(["--help"])
    assert exit_.value.code == 0 and "train" in capsys.readouterr().out
    for verb, options in [("train", ("--steps", "--size", "--photos", "--resume", "--style-weight", "--network",
                                     "--add-to")),
                          ("paint", ("--size", "--work-size", "--device", "--quiet", "--style"))]:
        with pytest.raises(SystemExit):
            painter_cli.main([verb, "--help"])
        text = capsys.readouterr().out
        assert all(option in text for option in options), verb


@pytest.mark.parametrize("argv", [[], ["sketch", "a.png"], ["train", "style.png"], ["train", "s.png", "-o", "m.pt",
                                  "--steps", "0"], ["paint", "m.pt", "-o", "out.png"],
                                  ["train", "s.png", "-o", "m.pt", "--lr", "nan"]])
def test_usage_errors_exit_with_status_2(argv, capsys):
    with pytest.raises(SystemExit) as exit_:
        painter_cli.main(argv)
    assert exit_.value.code == 2
    assert "usage:" in capsys.readouterr().err


# --- paint ---------------------------------------------------------------------------------


def test_paint_one_file(model, pictures, tmp_path, capsys):
    _, photos = pictures
    out = tmp_path / "out" / "painted.png"
    status, err = run_main(["paint", model, photos / "photo0.jpg", "-o", out, "--size", "40"], capsys)
    assert status == 0, err
    assert Image.open(out).size == (40, 29) and "wrote" in err


def test_paint_at_a_work_size_writes_the_asked_size_and_checks_both_sizes_first(model, pictures, tmp_path, capsys):
    _, photos = pictures
    out = tmp_path / "out" / "painted.png"
    status, err = run_main(["paint", model, photos / "photo0.jpg", "-o", out, "--size", "60", "--work-size", "30"],
                           capsys)
    assert status == 0, err
    assert Image.open(out).size == (60, 44) and "size 60 px (painted at 30 px)" in err
    status, err = run_main(["paint", model, photos / "photo0.jpg", "-o", tmp_path / "thin.png", "--size", "60",
                            "--work-size", "10"], capsys)  # 10x7 at 10: under 8 pixels
    assert status == 1 and one_error_line(err), err
    assert "10x7 at size 10: the painter needs at least 8 pixels on each side" in err
    assert not (tmp_path / "thin.png").exists()


def test_paint_a_folder_and_files_into_a_folder(model, pictures, tmp_path, capsys):
    style, photos = pictures
    out = tmp_path / "painted"
    status, err = run_main(["paint", model, photos, style, "-o", out, "--size", "32", "--quiet"], capsys)
    assert status == 0, err
    assert sorted(path.name for path in out.iterdir()) == ["photo0.png", "photo1.png", "photo2.png", "style.png"]
    assert all(Image.open(path).size[0] == 32 for path in out.iterdir())


def test_paint_an_animated_gif_into_an_animated_gif(model, tmp_path, capsys):
    frames = []
    for n in range(4):  # a square moving across a coloured ground: frames that differ in structure
        frame = Image.new("RGB", (40, 30), (40 * n, 100, 200 - 40 * n))
        frame.paste((250, 250, 0), (5 + 6 * n, 8, 17 + 6 * n, 20))
        frames.append(frame)
    gif = tmp_path / "moving.gif"
    frames[0].save(gif, save_all=True, append_images=frames[1:], duration=[80, 120, 80, 120], loop=0)
    for out in (tmp_path / "painted.gif", tmp_path / "folder"):
        status, err = run_main(["paint", model, gif, "-o", out, "--size", "40"], capsys)
        assert status == 0, err
        written = out if out.suffix else out / "moving.gif"
        with Image.open(written) as result:
            assert result.n_frames == 4 and result.size == (40, 30)
            durations = []
            for index in range(result.n_frames):
                result.seek(index)
                durations.append(result.info["duration"])
            assert durations == [80, 120, 80, 120]


@pytest.mark.parametrize("case, message", [
    ("missing", "no such file (expected a d2lstyle painter model file)"),
    ("text", "not a d2lstyle painter model file"),
    ("vgg", "no d2lstyle format tag"),
    ("checkpoint", "is a training checkpoint, not a model file"),
])
def test_paint_with_a_bad_model_file_is_one_clear_error(case, message, pictures, tmp_path, capsys, random_vgg):
    _, photos = pictures
    path = tmp_path / f"{case}.pt"
    if case == "text":
        path.write_text("not a model\n")
    elif case == "vgg":
        torch.save(random_vgg.features.state_dict(), path)
    elif case == "checkpoint":
        torch.save({"format": painter.CHECKPOINT_FORMAT}, path)
    out = tmp_path / "out.png"
    status, err = run_main(["paint", path, photos / "photo0.jpg", "-o", out], capsys)
    assert status == 1 and message in err and one_error_line(err)
    assert not out.exists()


@pytest.mark.parametrize("inputs, output, message", [
    (["photos/photo0.jpg", "photos/photo1.jpg"], "one.png", "need a folder, not an image file name"),
    (["photos/missing.jpg"], "out.png", "no such file or folder"),
    (["photos/photo0.jpg"], "photos/photo0.jpg", "refusing to overwrite an input"),
    (["photos/photo0.jpg"], "out.xyz", "unknown image extension"),
    (["photos"], "photos", "refusing to overwrite an input"),
])
def test_paint_refuses_outputs_that_cannot_work_before_any_work(inputs, output, message, model, pictures,
                                                               tmp_path, capsys):
    before = {path.name: path.read_bytes() for path in (tmp_path / "photos").iterdir()}
    if output == "photos":  # painting a folder into itself would write photoN.png next to photoN.jpg: fine,
        Image.open(tmp_path / "photos" / "photo0.jpg").save(tmp_path / "photos" / "photo0.png")  # unless taken
        before["photo0.png"] = (tmp_path / "photos" / "photo0.png").read_bytes()
    status, err = run_main(["paint", model, *[tmp_path / name for name in inputs], "-o", tmp_path / output], capsys)
    assert status == 1 and message in err and one_error_line(err), err
    assert {path.name: path.read_bytes() for path in (tmp_path / "photos").iterdir()} == before


def copy_of(source, target):
    target.write_bytes(source.read_bytes())
    return target


@pytest.mark.parametrize("case", ["swapped", "folder", "input is a model", "input is text"])
def test_paint_names_a_file_of_the_wrong_kind_for_what_it_is(case, model, pictures, tmp_path, capsys):
    _, photos = pictures
    photo = photos / "photo0.jpg"
    notes = tmp_path / "notes.png"
    notes.write_text("a shopping list, not a photo")
    argv, said = {
        "swapped": ([photo, model], f"{photo}: is a picture (JPEG), not a d2lstyle painter model file; the model "
                                    "comes first: d2lstyle-painter paint MODEL PHOTO... -o OUT"),
        "folder": ([photos, model], f"{photos}: is a folder, not a d2lstyle painter model file; the model comes "
                                    "first: d2lstyle-painter paint MODEL PHOTO... -o OUT"),
        "input is a model": ([model, model], f"{model}: is a d2lstyle painter model file, not a picture"),
        "input is text": ([model, notes], f"{notes}: is a text file, not a picture"),
    }[case]
    before = {path: path.read_bytes() for path in [model, notes, *photos.iterdir()]}
    out = tmp_path / "out.png"
    status, err = run_main(["paint", *argv, "-o", out], capsys)
    assert status == 1 and one_error_line(err), err
    assert err.strip().splitlines()[-1] == f"d2lstyle-painter: error: {said}"
    assert "run code" not in err and not out.exists()
    assert {path: path.read_bytes() for path in before} == before


@pytest.mark.parametrize("case", ["painting is a model", "photos is a picture", "photos is a model",
                                  "checkpoint is a model", "checkpoint is a picture", "output is a text file",
                                  "output is other weights"])
def test_train_names_a_file_of_the_wrong_kind_for_what_it_is(case, model, pictures, tmp_path, capsys, random_vgg):
    style, photos = pictures
    output = tmp_path / "new.pt"
    checkpoint = painter_cli.checkpoint_path(output)
    options = ["--photos", photos]
    if case == "painting is a model":
        style = model
        said = f"{model}: is a d2lstyle painter model file, not a picture; the painting comes first: " \
               "d2lstyle-painter train PAINTING -o MODEL.pt"
    elif case == "photos is a picture":
        options = ["--photos", photos / "photo0.jpg"]
        said = f"{photos / 'photo0.jpg'}: is a picture (JPEG), not a folder of photos"
    elif case == "photos is a model":
        options = ["--photos", model]
        said = f"{model}: is a d2lstyle painter model file, not a folder of photos"
    elif case == "checkpoint is a model":
        copy_of(model, checkpoint)
        options += ["--resume"]
        said = f"{checkpoint}: is a d2lstyle painter model file, not a training checkpoint; --resume continues a " \
               "run that was interrupted; run without --resume to start one"
    elif case == "checkpoint is a picture":
        copy_of(style, checkpoint)
        options += ["--resume"]
        said = f"{checkpoint}: is a picture (PNG), not a d2lstyle painter training checkpoint; --resume continues " \
               "a run that was interrupted; run without --resume to start one"
    elif case == "output is a text file":
        output.write_text("notes I keep")
        said = f"{output}: is a text file, not a d2lstyle painter model file; refusing to overwrite it: choose " \
               "another model file name"
    else:
        torch.save(random_vgg.features.state_dict(), output)
        said = f"{output}: is a PyTorch file of another kind, not a d2lstyle painter model file; refusing to " \
               "overwrite it: choose another model file name"
    before = {path: path.read_bytes() for path in [model, style, output, checkpoint, *photos.iterdir()]
              if path.exists()}
    status, err = run_main(["train", style, "-o", output, *options, "--network", "random", "--steps", "1",
                            "--quiet"], capsys)
    assert status == 1 and one_error_line(err), err
    assert err.strip().splitlines()[-1] == f"d2lstyle-painter: error: {said}"
    assert {path: path.read_bytes() for path in before} == before  # nothing given was changed, nothing written
    assert output.exists() == (output in before)


# --- paint: a batch is checked whole before any of it is painted -----------------------------


def test_a_folder_with_photos_that_cannot_be_painted_is_refused_whole_naming_each(model, pictures, tmp_path,
                                                                                  capsys, monkeypatch):
    monkeypatch.delenv("D2LSTYLE_QUICK", raising=False)  # make test's quick mode would cap --size at 64
    _, photos = pictures
    Image.new("RGB", (600, 5), (90, 90, 90)).save(photos / "thin.png")  # 512x4 at --size 512: under 8 pixels
    (photos / "notes.png").write_text("not a photo")
    out = tmp_path / "painted"
    status, err = run_main(["paint", model, photos, "-o", out, "--quiet"], capsys)
    assert status == 1 and one_error_line(err), err
    line = err.strip().splitlines()[-1]
    assert line.startswith("d2lstyle-painter: error: 2 of 5 inputs cannot be painted, so nothing was painted: ")
    assert f"{photos / 'thin.png'}: the photo is 600x5 pixels, 512x4 at size 512: the painter needs at least 8 " \
           "pixels on each side; use a size of at least 960" in line
    assert f"{photos / 'notes.png'}: is a text file, not a picture" in line
    assert not out.exists()  # not one result written: the batch is never half done
    status, err = run_main(["paint", model, photos / "thin.png", "-o", out / "thin.png", "--size", "960"], capsys)
    assert status == 0 and Image.open(out / "thin.png").size == (960, 8)  # the size it named works


def test_an_animated_gif_needs_an_animated_format(model, tmp_path, capsys):
    frames = [Image.new("RGB", (20, 20), (50 * n, 0, 0)) for n in range(3)]
    frames[0].save(tmp_path / "a.gif", save_all=True, append_images=frames[1:])
    status, err = run_main(["paint", model, tmp_path / "a.gif", "-o", tmp_path / "a.jpg"], capsys)
    assert status == 1 and "needs a format with frames" in err


# --- train: errors in process, the real thing in subprocesses --------------------------------


def test_train_refuses_a_bad_model_path_or_a_missing_checkpoint(pictures, tmp_path, capsys):
    style, photos = pictures
    status, err = run_main(["train", style, "-o", tmp_path, "--network", "random"], capsys)
    assert status == 1 and "is a folder" in err and one_error_line(err)
    status, err = run_main(["train", style, "-o", tmp_path / "m.png", "--network", "random"], capsys)
    assert status == 1 and "should not have an image extension" in err
    status, err = run_main(["train", style, "-o", tmp_path / "m.pt", "--photos", photos, "--network", "random",
                            "--resume"], capsys)
    assert status == 1 and "no such file (expected a d2lstyle painter training checkpoint)" in err and one_error_line(err)
    status, err = run_main(["train", style, "-o", tmp_path / "m.pt", "--photos", tmp_path / "none",
                            "--network", "random"], capsys)
    assert status == 1 and "no such folder of photos" in err
    (photos / "broken.jpg").write_text("not a photo")
    status, err = run_main(["train", style, "-o", tmp_path / "m.pt", "--photos", photos, "--network", "random"],
                           capsys)
    assert status == 1 and "broken.jpg: is a text file, not a picture" in err and one_error_line(err)
    assert not (tmp_path / "m.pt").exists()


def test_train_refuses_a_painting_too_small_for_the_style_layers_before_loading_the_network(pictures, tmp_path,
                                                                                             capsys):
    _, photos = pictures
    wide = tmp_path / "wide.png"
    Image.new("RGB", (3000, 6), (200, 120, 30)).save(wide)
    status, err = run_main(["train", wide, "-o", tmp_path / "m.pt", "--photos", photos, "--network", "random",
                            "--quiet"], capsys)
    assert status == 1 and one_error_line(err), err
    assert err.strip().splitlines()[-1] == (f"d2lstyle-painter: error: {wide}: the painting is only 3000x6 pixels; "
                                            "layer relu5_1 needs at least 16 pixels on each side: use a painting at "
                                            "least 16 pixels on each side")
    assert "training on" not in err and not (tmp_path / "m.pt").exists()  # refused before any work


TRAIN_TINY = ["--network", "random", "--size", "32", "--style-size", "32", "--batch-size", "2"]


@pytest.mark.slow
def test_train_then_paint_end_to_end(pictures, tmp_path):
    style, photos = pictures
    model_file = tmp_path / "style.pt"
    done = subprocess.run(command("train", style, "-o", model_file, "--photos", photos, "--steps", "3", "--quiet",
                                  *TRAIN_TINY), capture_output=True, text=True, timeout=300, env=environment())
    assert done.returncode == 0, done.stderr
    assert "training on 3 photos" in done.stderr and "saved" in done.stderr and "Traceback" not in done.stderr
    saved = painter.load_painter(model_file)
    assert saved.steps_done == 3 and saved.settings.crop == 32 and saved.style == "style.png"
    assert not painter_cli.checkpoint_path(model_file).exists()

    out = tmp_path / "painted.png"
    done = subprocess.run(command("paint", model_file, photos / "photo1.jpg", "-o", out, "--size", "48"),
                          capture_output=True, text=True, timeout=300, env=environment())
    assert done.returncode == 0, done.stderr
    assert Image.open(out).size == (48, 35)


# Runs d2lstyle-painter as a user would, except that the process sends itself Ctrl-C (SIGINT) once the training
# has done CTRL_C_AT_STEP steps: the signal always lands in the middle of the run, however busy the machine.
CTRL_C_DRIVER = """
import os, signal, sys
from d2lstyle import painter, painter_cli

train_painter = painter.train_painter


def press_ctrl_c(info):
    if info.step == int(os.environ["CTRL_C_AT_STEP"]):
        os.kill(os.getpid(), signal.SIGINT)
    return False


def train_with_ctrl_c(*args, callbacks=(), **options):
    return train_painter(*args, callbacks=[*callbacks, press_ctrl_c], **options)


painter.train_painter = train_with_ctrl_c
sys.exit(painter_cli.main(sys.argv[1:]))
"""


def interrupted_at(step, args, tmp_path):
    """Run ``d2lstyle-painter ARGS`` and press Ctrl-C after ``step`` training steps; the finished process."""
    driver = tmp_path / "ctrl_c_driver.py"
    driver.write_text(CTRL_C_DRIVER)
    return subprocess.run([sys.executable, driver, *map(str, args)], capture_output=True, text=True, timeout=300,
                          env={**environment(), "CTRL_C_AT_STEP": str(step)})


@pytest.mark.slow
def test_ctrl_c_saves_a_checkpoint_and_resume_finishes_the_same_training(pictures, tmp_path):
    style, photos = pictures
    model_file = tmp_path / "style.pt"
    checkpoint = painter_cli.checkpoint_path(model_file)
    args = ["train", style, "-o", model_file, "--photos", photos, "--steps", "12", "--checkpoint-every", "2",
            "--quiet", *TRAIN_TINY]
    interrupted = interrupted_at(5, args, tmp_path)
    err = interrupted.stderr
    assert interrupted.returncode == 130, err
    assert "interrupted by Ctrl-C after 5 of 12 steps" in err and "--resume" in err and "Traceback" not in err
    assert not model_file.exists()  # no half-trained model under the final name
    # the checkpoint saved at Ctrl-C holds step 5, not the one saved every 2 steps (step 4)
    assert painter.load_training_checkpoint(checkpoint)["history"]["step"] == [1, 2, 3, 4, 5]

    done = subprocess.run(command(*args, "--resume"), capture_output=True, text=True, timeout=300, env=environment())
    assert done.returncode == 0, done.stderr
    saved = painter.load_painter(model_file)
    assert saved.steps_done == 12 and not checkpoint.exists()

    again = subprocess.run(command(*args, "--resume"), capture_output=True, text=True, timeout=300,
                           env=environment())
    assert again.returncode == 1 and "no such file (expected a d2lstyle painter training checkpoint)" in again.stderr


@pytest.mark.slow
def test_resume_with_other_options_is_refused(pictures, tmp_path):
    style, photos = pictures
    model_file = tmp_path / "style.pt"
    args = ["train", style, "-o", model_file, "--photos", photos, "--steps", "12", "--checkpoint-every", "2",
            "--quiet", *TRAIN_TINY]
    interrupted = interrupted_at(3, args, tmp_path)
    assert interrupted.returncode == 130 and painter_cli.checkpoint_path(model_file).exists(), interrupted.stderr
    done = subprocess.run(command(*args, "--style-weight", "3", "--resume"), capture_output=True, text=True,
                          timeout=300, env=environment())
    assert done.returncode == 1 and "other settings (style_weight differ)" in done.stderr
    assert "Traceback" not in done.stderr


def test_the_painter_command_is_installed():
    import tomllib
    from pathlib import Path

    project = tomllib.loads((Path(__file__).resolve().parent.parent / "pyproject.toml").read_text())["project"]
    assert project["scripts"]["d2lstyle-painter"] == "d2lstyle.painter_cli:main"


# --- several paintings in one model ----------------------------------------------------------------


@pytest.fixture
def second_painting(tmp_path):
    """A second painting, of blue dots."""
    dots = ((np.indices((40, 40)) % 8 < 4).all(axis=0)).astype(np.uint8)
    path = tmp_path / "dots.png"
    Image.fromarray(np.stack([20 * dots, 40 * dots, 120 + 130 * dots], axis=2).astype(np.uint8)).save(path)
    return path


def test_train_several_paintings_then_paint_each_and_a_blend(pictures, second_painting, tmp_path, capsys):
    style, photos = pictures
    model_file = tmp_path / "two.pt"
    status, err = run_main(["train", style, second_painting, "-o", model_file, "--photos", photos, "--steps", "2",
                            "--quiet", *TRAIN_TINY], capsys)
    assert status == 0, err
    saved = painter.load_painter(model_file)
    assert saved.styles == ["style.png", "dots.png"] and saved.painter.styles == 2 and saved.steps_done == 2

    photo = photos / "photo0.jpg"
    status, err = run_main(["paint", model_file, photo, "-o", tmp_path / "none.png", "--size", "32"], capsys)
    assert status == 1 and one_error_line(err) and not (tmp_path / "none.png").exists()
    assert err.strip().splitlines()[-1] == ("d2lstyle-painter: error: the model paints 2 paintings (style, dots); "
                                            "choose one with --style NAME, or blend them: --style NAME=WEIGHT "
                                            "--style NAME=WEIGHT")
    painted = {}
    for name, choice in (("style", ["--style", "style"]), ("dots", ["--style", "DOTS.png"]),
                         ("blend", ["--style", "style=1", "--style", "dots=3"])):
        out = tmp_path / f"{name}.png"
        status, err = run_main(["paint", model_file, photo, "-o", out, "--size", "32", *choice], capsys)
        assert status == 0, err
        painted[name] = np.asarray(Image.open(out), dtype=float)
    assert "painter for style x 0.25 + dots x 0.75" in err
    expected = {}
    for name, style_choice in (("style", 0), ("dots", 1), ("blend", [0.25, 0.75])):
        expected[name] = np.asarray(painter.paint(saved.painter, painter.load_picture(photo), 32, style=style_choice),
                                    dtype=float)
        assert np.abs(painted[name] - expected[name]).max() <= 1, name
    assert np.abs(painted["style"] - painted["dots"]).mean() > 0  # the choice reached the painter


@pytest.mark.parametrize("choice, said", [
    (["--style", "waves"], "the painter has no painting called 'waves'; it paints style, dots"),
    (["--style", "style=-1", "--style", "dots=1"], "--style style=-1: the weight must be a number >= 0"),
    (["--style", "style=abc", "--style", "dots"], "--style style=abc: the weight must be a number >= 0"),
    (["--style", "style=0", "--style", "dots=0"], "--style: the weights are all 0"),
    (["--style", "dots", "--style", "dots=2"], "--style names dots twice"),
    (["--style", "dots=0", "--style", "DOTS=1"], "--style names dots twice"),
])
def test_a_bad_style_choice_is_one_clear_line_and_writes_nothing(choice, said, pictures, tmp_path, capsys):
    _, photos = pictures
    net = painter.new_painter(TINY, styles=2)
    model_file = painter.save_painter(tmp_path / "two.pt", net, TINY, style=["style.png", "dots.png"])
    out = tmp_path / "out.png"
    status, err = run_main(["paint", model_file, photos / "photo0.jpg", "-o", out, *choice], capsys)
    assert status == 1 and one_error_line(err) and said in err and not out.exists()


def test_two_paintings_of_one_name_are_refused_before_training(pictures, tmp_path, capsys):
    style, photos = pictures
    other = tmp_path / "other" / "style.jpg"
    other.parent.mkdir()
    Image.open(style).convert("RGB").save(other)
    status, err = run_main(["train", style, other, "-o", tmp_path / "m.pt", "--photos", photos, *TRAIN_TINY], capsys)
    assert status == 1 and one_error_line(err) and "have the same name ('style'); rename one" in err
    assert "training on" not in err and not (tmp_path / "m.pt").exists()


def test_add_a_painting_to_a_trained_model(model, pictures, second_painting, tmp_path, capsys):
    style, photos = pictures
    before = painter.load_painter(model)
    bigger = tmp_path / "bigger.pt"
    status, err = run_main(["train", second_painting, "--add-to", model, "-o", bigger, "--photos", photos,
                            "--steps", "2", "--quiet", *TRAIN_TINY], capsys)
    assert status == 0, err
    assert "adding 1 painting to" in err and "only their normalisation parameters are trained" in err
    saved = painter.load_painter(bigger)
    assert saved.styles == ["style.png", "dots.png"] and saved.settings.channels == TINY.channels
    state, old = saved.painter.state_dict(), before.painter.state_dict()
    for name, value in old.items():
        if state[name].dim() == 2 and value.dim() == 1:  # a normalisation layer's scales or shifts
            assert torch.equal(state[name][0], value), name  # the model's own painting is as it was
        else:
            assert torch.equal(state[name], value), name  # every convolution too
    photo = painter.load_picture(photos / "photo2.jpg")
    assert np.array_equal(np.asarray(painter.paint(saved.painter, photo, 32, style=0)),
                          np.asarray(painter.paint(before.painter, photo, 32)))

    model_bytes = model.read_bytes()
    status, err = run_main(["train", second_painting, "--add-to", model, "-o", model, "--photos", photos,
                            *TRAIN_TINY], capsys)
    assert status == 1 and one_error_line(err) and model.read_bytes() == model_bytes  # never over an input
    status, err = run_main(["train", style, "--add-to", model, "-o", tmp_path / "x.pt", "--photos", photos,
                            *TRAIN_TINY], capsys)
    assert status == 1 and "have the same name ('style')" in err and not (tmp_path / "x.pt").exists()
    status, err = run_main(["train", second_painting, "--add-to", style, "-o", tmp_path / "x.pt", "--photos",
                            photos, *TRAIN_TINY], capsys)
    assert status == 1 and one_error_line(err) and "not a d2lstyle painter model file" in err
