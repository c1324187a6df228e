"""The d2lstyle-painter command: train and paint, end to end with random VGG-19 weights and tiny
settings, and every error path: one clear line, the right exit status, no traceback, no input touched."""

import os
import signal
import subprocess
import sys
import time

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
    for verb, options in [("train", ("--steps", "--size", "--photos", "--resume", "--style-weight", "--network")),
                          ("paint", ("--size", "--device", "--quiet"))]:
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
    ("missing", "no such d2lstyle painter model file"),
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
    assert status == 1 and "no such d2lstyle painter training checkpoint" in err and one_error_line(err)
    status, err = run_main(["train", style, "-o", tmp_path / "m.pt", "--photos", tmp_path / "none",
                            "--network", "random"], capsys)
    assert status == 1 and "no such folder of photos" in err
    (photos / "broken.jpg").write_text("not a photo")
    status, err = run_main(["train", style, "-o", tmp_path / "m.pt", "--photos", photos, "--network", "random"],
                           capsys)
    assert status == 1 and "broken.jpg: not an image file" in err and one_error_line(err)
    assert not (tmp_path / "m.pt").exists()


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


def wait_for(path, process, seconds=240):
    deadline = time.monotonic() + seconds
    while not path.exists():
        if process.poll() is not None:
            pytest.fail(f"the tool ended early: {process.communicate()}")
        if time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"{path} never appeared")
        time.sleep(0.2)


@pytest.mark.slow
def test_ctrl_c_saves_a_checkpoint_and_resume_finishes_the_same_training(pictures, tmp_path):
    style, photos = pictures
    model_file = tmp_path / "style.pt"
    checkpoint = painter_cli.checkpoint_path(model_file)
    args = ["train", style, "-o", model_file, "--photos", photos, "--steps", "12", "--checkpoint-every", "2",
            "--quiet", *TRAIN_TINY]
    process = subprocess.Popen(command(*args), stderr=subprocess.PIPE, text=True, env=environment())
    wait_for(checkpoint, process)
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=120)
    if process.returncode == 0:
        pytest.skip("the training finished before Ctrl-C arrived")
    assert process.returncode == 130, err
    assert "Ctrl-C" in err and "--resume" in err and "Traceback" not in err
    assert not model_file.exists()  # no half-trained model under the final name
    steps_before = len(painter.load_training_checkpoint(checkpoint)["history"]["step"])
    assert 2 <= steps_before < 12

    done = subprocess.run(command(*args, "--resume"), capture_output=True, text=True, timeout=300, env=environment())
    assert done.returncode == 0, done.stderr
    saved = painter.load_painter(model_file)
    assert saved.steps_done == 12 and not checkpoint.exists()

    again = subprocess.run(command(*args, "--resume"), capture_output=True, text=True, timeout=300,
                           env=environment())
    assert again.returncode == 1 and "no such d2lstyle painter training checkpoint" in again.stderr


@pytest.mark.slow
def test_resume_with_other_options_is_refused(pictures, tmp_path):
    style, photos = pictures
    model_file = tmp_path / "style.pt"
    # many steps, so that Ctrl-C arrives before the end even on a busy machine (the run is cut short anyway)
    args = ["train", style, "-o", model_file, "--photos", photos, "--steps", "400", "--checkpoint-every", "2",
            "--quiet", *TRAIN_TINY]
    process = subprocess.Popen(command(*args), stderr=subprocess.PIPE, text=True, env=environment())
    wait_for(painter_cli.checkpoint_path(model_file), process)
    process.send_signal(signal.SIGINT)
    process.communicate(timeout=120)
    if process.returncode == 0:
        pytest.skip("the training finished before Ctrl-C arrived")
    done = subprocess.run(command(*args, "--style-weight", "3", "--resume"), capture_output=True, text=True,
                          timeout=300, env=environment())
    assert done.returncode == 1 and "other settings (style_weight differ)" in done.stderr
    assert "Traceback" not in done.stderr


def test_the_painter_command_is_installed():
    import tomllib
    from pathlib import Path

    project = tomllib.loads((Path(__file__).resolve().parent.parent / "pyproject.toml").read_text())["project"]
    assert project["scripts"]["d2lstyle-painter"] == "d2lstyle.painter_cli:main"
