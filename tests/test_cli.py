"""The command-line tool end to end with random weights on tiny images, and every error path:
one clear line, a non-zero exit, no traceback, no input touched."""

import os
import select
import signal
import subprocess
import sys
import time
import urllib.error

import pytest
import torch
from PIL import Image

from d2lstyle import cli, files, settings as settings_module


@pytest.fixture
def pictures(tmp_path):
    content, style = tmp_path / "content.png", tmp_path / "style.jpg"
    Image.new("RGB", (60, 40), (40, 120, 200)).save(content)
    Image.new("RGB", (50, 50), (220, 200, 30)).save(style)
    return content, style


def run_main(argv, capsys):
    status = cli.main([str(a) for a in argv])
    captured = capsys.readouterr()
    return status, captured.err


def command(*args):
    return [sys.executable, "-m", "d2lstyle", *map(str, args)]


def environment():
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    env.pop("D2LSTYLE_NETWORK", None)
    return env


@pytest.mark.slow
def test_end_to_end_with_random_weights(pictures, tmp_path):
    content, style = pictures
    out = tmp_path / "result" / "out.png"
    done = subprocess.run(command(content, style, "-o", out, "--network", "random", "--quick", "--quiet"),
                          capture_output=True, text=True, timeout=300, env=environment())
    assert done.returncode == 0, done.stderr
    assert "random (seed 0): NOT trained" in done.stderr and "saved" in done.stderr
    assert "Traceback" not in done.stderr
    assert Image.open(out).size == (64, 43)


def test_help_explains_every_option(capsys):
    with pytest.raises(SystemExit) as exit_:
        cli.main(["--help"])
    assert exit_.value.code == 0
    text = capsys.readouterr().out
    for option in ("--size", "--steps", "--preset", "--network", "--seed", "--device", "--quick", "--resume",
                   "--checkpoint-every", "--content-weight", "--style-weight", "--tv-weight", "--lr",
                   "--preserve-colors", "--style-scale", "--style-blend", "--mask", "--scales", "--scale-steps",
                   "--pooling"):
        assert option in text
    assert "{luminance,histogram}" in text and "{max,avg}" in text and "STYLE [STYLE ...]" in text
    assert "pytorch-tutorial" in text and "random" in text


def test_missing_input(pictures, tmp_path, capsys):
    content, style = pictures
    status, err = run_main([tmp_path / "nope.png", style, "-o", tmp_path / "o.png", "--network", "random"], capsys)
    assert status == 1
    assert err.strip().splitlines() == [f"d2lstyle: error: {tmp_path / 'nope.png'}: no such file"]


def test_unreadable_input(pictures, tmp_path, capsys):
    content, style = pictures
    broken = tmp_path / "broken.jpg"
    broken.write_text("not a picture")
    status, err = run_main([content, broken, "-o", tmp_path / "o.png", "--network", "random"], capsys)
    assert status == 1 and "not an image file" in err and "Traceback" not in err


def test_output_over_an_input_is_refused(pictures, capsys):
    content, style = pictures
    before = content.read_bytes()
    status, err = run_main([content, style, "-o", content, "--network", "random", "--quick"], capsys)
    assert status == 1 and "refusing to overwrite an input" in err
    assert content.read_bytes() == before


def test_unknown_output_extension(pictures, tmp_path, capsys):
    content, style = pictures
    status, err = run_main([content, style, "-o", tmp_path / "out.txt", "--network", "random"], capsys)
    assert status == 1 and "unknown image extension" in err


def test_an_output_folder_is_refused_before_the_run(pictures, tmp_path, capsys, monkeypatch):
    content, style = pictures
    folder = tmp_path / "results.png"  # a folder, despite its name
    folder.mkdir()
    (folder / "keep.txt").write_text("mine")
    monkeypatch.setattr(cli, "choose_recipe", lambda *args: pytest.fail("the run started"))
    status, err = run_main([content, style, "-o", folder, "--network", "random"], capsys)
    assert status == 1 and "is a folder" in err and "Traceback" not in err
    assert (folder / "keep.txt").read_text() == "mine"


def test_an_output_under_a_file_is_refused_before_the_run(pictures, tmp_path, capsys, monkeypatch):
    content, style = pictures
    monkeypatch.setattr(cli, "choose_recipe", lambda *args: pytest.fail("the run started"))
    status, err = run_main([content, style, "-o", content / "out.png", "--network", "random"], capsys)
    assert status == 1 and "is a file, not a folder" in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def test_bad_options_are_usage_errors(pictures, tmp_path, capsys):
    content, style = pictures
    with pytest.raises(SystemExit) as exit_:
        cli.main([str(content), str(style), "-o", str(tmp_path / "o.png"), "--steps", "0"])
    assert exit_.value.code == 2 and "expected a whole number >= 1" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        cli.main([str(content), str(style), "-o", str(tmp_path / "o.png"), "--preset", "picasso"])
    assert "invalid choice" in capsys.readouterr().err


def test_unavailable_device(pictures, tmp_path, capsys):
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    content, style = pictures
    status, err = run_main([content, style, "-o", tmp_path / "o.png", "--network", "random", "--device", "cuda"],
                           capsys)
    assert status == 1 and "no CUDA GPU" in err


def test_bad_network_file(pictures, tmp_path, capsys):
    content, style = pictures
    status, err = run_main([content, style, "-o", tmp_path / "o.png", "--network", tmp_path / "vgg.pth"], capsys)
    assert status == 1 and "no such network file" in err and not (tmp_path / "o.png").exists()


def test_no_internet_for_the_torchvision_network(pictures, tmp_path, capsys, monkeypatch, empty_torch_cache):
    def no_network(*args, **kwargs):
        raise urllib.error.URLError("Name or service not known")

    monkeypatch.setattr(torch.hub, "urlopen", no_network)
    content, style = pictures
    status, err = run_main([content, style, "-o", tmp_path / "o.png", "--quiet", "--network", "torchvision"], capsys)
    assert status == 1
    error_lines = [line for line in err.splitlines() if line.startswith("d2lstyle: error:")]
    assert len(error_lines) == 1 and "--network original" in error_lines[0]
    assert not (tmp_path / "o.png").exists()


def test_nan_saves_the_last_good_image_and_explains(pictures, tmp_path, capsys):
    content, style = pictures
    out = tmp_path / "o.png"
    status, err = run_main([content, style, "-o", out, "--network", "random", "--quick", "--quiet",
                            "--preset", "d2l", "--lr", "1e30"], capsys)
    assert status == 1 and "NaN or infinite" in err and "learning rate" in err
    assert Image.open(out).size == (64, 43)


# The command-line tool, held at step 4 of its run (after that step's checkpoint) until a signal comes.
HOLD_AT_STEP_4 = """
import signal, sys, time
from d2lstyle import cli, transfer

# Ctrl-C as in a terminal: a shell without job control (CI's) starts background commands with SIGINT ignored,
# and Python keeps an ignored SIGINT ignored, so the signal would never land
signal.signal(signal.SIGINT, signal.default_int_handler)

real_stylise = transfer.stylise

def stylise_holding_at_step_4(*args, callbacks=(), **kwargs):
    def hold(info):
        if info.step == 4:
            print("holding at step 4", file=sys.stderr, flush=True)
            time.sleep(600)  # Ctrl-C lands here
        return False
    return real_stylise(*args, callbacks=[*callbacks, hold], **kwargs)

transfer.stylise = stylise_holding_at_step_4
sys.exit(cli.main(sys.argv[1:]))
"""


def wait_for_line(text, process, seconds=240):
    """What ``process`` wrote to stderr up to a line holding ``text``; fails if it ends or never writes it."""
    deadline, written = time.monotonic() + seconds, b""
    while text.encode() not in written:
        if time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"{text!r} never came: {written.decode()}")
        if select.select([process.stderr], [], [], 0.5)[0]:
            chunk = os.read(process.stderr.fileno(), 4096)  # (not readline: its buffer would hide what came)
            if not chunk:
                pytest.fail(f"the tool ended before {text!r}: {written.decode()}")
            written += chunk
    return written.decode()


@pytest.mark.slow
def test_ctrl_c_saves_a_valid_image_and_resume_finishes(pictures, tmp_path):
    content, style = pictures
    out = tmp_path / "out.png"
    checkpoint = files.checkpoint_path(out)
    args = [content, style, "-o", out, "--network", "random", "--quick", "--quiet", "--preset", "d2l",
            "--steps", "20", "--checkpoint-every", "2"]
    process = subprocess.Popen([sys.executable, "-c", HOLD_AT_STEP_4, *map(str, args)], stderr=subprocess.PIPE,
                               text=True, env=environment())
    try:
        before = wait_for_line("holding at step 4", process)
        process.send_signal(signal.SIGINT)  # always during step 4: the run is held there
        _, after = process.communicate(timeout=120)
    finally:
        process.kill()  # (a no-op when it has ended; else it would sleep on after a failure)
    err = before + after
    assert process.returncode == 130, err
    assert "interrupted by Ctrl-C after 4 of 20 steps" in err and "--resume" in err and "Traceback" not in err
    Image.open(out).verify()  # a complete, valid image file
    assert torch.load(checkpoint, weights_only=True)["history"]["step"] == [1, 2, 3, 4]

    done = subprocess.run(command(*args, "--resume"), capture_output=True, text=True, timeout=300, env=environment())
    assert done.returncode == 0, done.stderr
    assert "20 steps" in done.stderr
    assert Image.open(out).size == (64, 43)


def test_resume_without_a_checkpoint(pictures, tmp_path, capsys):
    content, style = pictures
    status, err = run_main([content, style, "-o", tmp_path / "o.png", "--network", "random", "--resume"], capsys)
    assert status == 1 and "no such file" in err


# --- every option and file a user can pass: refused before the run, with the reason ---------------------


@pytest.mark.parametrize("option, value, message", [
    ("--content-weight", "inf", "expected a finite number"),
    ("--style-weight", "nan", "expected a finite number"),
    ("--tv-weight", "-1", "expected a finite number >= 0"),
    ("--lr", "0", "expected a finite number > 0"),
    ("--lr", "fast", "expected a number such as 1e4"),
    ("--size", "0", "expected a whole number >= 1"),
    ("--steps", "1.5", "expected a whole number"),
    ("--seed", "-1", "expected a seed from 0"),
    ("--checkpoint-every", "0", "expected a whole number >= 1"),
])
def test_numbers_that_cannot_work_are_usage_errors(pictures, tmp_path, capsys, option, value, message):
    content, style = pictures
    with pytest.raises(SystemExit) as exit_:
        cli.main([str(content), str(style), "-o", str(tmp_path / "o.png"), option, value])
    err = capsys.readouterr().err
    assert exit_.value.code == 2 and message in err and "Traceback" not in err
    assert not (tmp_path / "o.png").exists()


def test_a_text_file_as_the_network_is_one_clear_line(pictures, tmp_path, capsys):
    content, style = pictures
    notes = tmp_path / "vgg.pth"
    notes.write_text("not a network\n")
    status, err = run_main([content, style, "-o", tmp_path / "o.png", "--network", notes], capsys)
    assert status == 1 and "is a text file, not a VGG-19 weights file" in err and "Traceback" not in err
    assert notes.read_text() == "not a network\n" and not (tmp_path / "o.png").exists()


def test_a_picture_as_the_network_is_one_line_that_never_advises_the_unsafe_load(pictures, tmp_path, capsys):
    content, style = pictures
    status, err = run_main([content, style, "-o", tmp_path / "o.png", "--network", style], capsys)
    last = err.strip().splitlines()[-1]  # after the lines that say what the run would use
    assert status == 1 and "is a picture (JPEG), not a VGG-19 weights file" in last
    assert "weights_only" not in err and "torch.load" not in err and "Traceback" not in err
    assert not (tmp_path / "o.png").exists()


def test_the_cli_reads_the_same_settings_as_the_notebooks(pictures, tmp_path, capsys, monkeypatch):
    """D2LSTYLE_QUICK, _SEED and _NETWORK reach the CLI (an option given on the command line wins)."""
    monkeypatch.setenv("D2LSTYLE_NETWORK", "random")
    monkeypatch.setenv("D2LSTYLE_QUICK", "1")
    monkeypatch.setenv("D2LSTYLE_SEED", "3")
    content, style = pictures
    status, err = run_main([content, style, "-o", tmp_path / "o.png", "--quiet", "--steps", "3"], capsys)
    assert status == 0, err
    assert "random (seed 3)" in err and "quick mode: ON" in err
    monkeypatch.setenv("D2LSTYLE_QUICK", "maybe")
    status, err = run_main([content, style, "-o", tmp_path / "p.png", "--quiet"], capsys)
    assert status == 1 and "D2LSTYLE_QUICK='maybe'" in err


def test_a_nan_from_an_overflowing_weight_names_the_weight(pictures, tmp_path, capsys):
    content, style = pictures
    # the original network's style loss is ~1e5 here: times 1e38 it is past float32's largest number, 3.4e38
    status, err = run_main([content, style, "-o", tmp_path / "o.png", "--network", "original", "--quick", "--quiet",
                            "--preset", "d2l", "--style-weight", "1e38"], capsys)
    assert status == 1 and "style term overflowed" in err and "--style-weight" in err


# --- the controls (Gatys et al. 2017) ----------------------------------------------------------------


@pytest.fixture
def two_styles(pictures, tmp_path):
    content, style = pictures
    second = tmp_path / "second.png"
    Image.new("RGB", (40, 40), (200, 30, 60)).save(second)
    sky = tmp_path / "sky.png"
    mask = Image.new("L", (30, 20), 0)  # another size than the photo's: it is resized
    mask.paste(255, (0, 0, 30, 8))
    mask.save(sky)
    return content, style, second, sky


@pytest.mark.slow
def test_every_control_from_the_command_line(two_styles, tmp_path):
    content, style, second, sky = two_styles
    out = tmp_path / "out.png"
    done = subprocess.run(command(content, style, second, "-o", out, "--network", "random", "--quick", "--quiet",
                                  "--preserve-colors", "luminance", "--style-scale", "0.8", "--style-blend", "0.7,0.3",
                                  "--mask", sky, "--mask", "none", "--scales", "0.5,1", "--scale-steps", "3,1",
                                  "--pooling", "avg", "--steps", "8"),
                          capture_output=True, text=True, timeout=300, env=environment())
    assert done.returncode == 0, done.stderr
    assert "scales 0.5 (6 steps), 1 (2 steps)" in done.stderr and "avg pooling" in done.stderr
    assert ("controls: the photo's colours (luminance); style scale 0.8; blend weights 0.7, 0.3; masks for style 1"
            in done.stderr)
    assert Image.open(out).size == (64, 43)


@pytest.mark.slow
def test_histogram_matching_from_the_command_line(pictures, tmp_path):
    content, style = pictures
    out = tmp_path / "out.png"
    done = subprocess.run(command(content, style, "-o", out, "--network", "random", "--quick", "--quiet",
                                  "--preserve-colors", "histogram", "--steps", "2"),
                          capture_output=True, text=True, timeout=300, env=environment())
    assert done.returncode == 0, done.stderr
    assert "controls: the photo's colours (histogram)" in done.stderr
    assert Image.open(out).size == (64, 43)


@pytest.mark.parametrize("option, value, message", [
    ("--style-blend", "0.7,-0.3", "expected a finite number >= 0, got '-0.3'"),
    ("--style-blend", "0.7,nan", "expected a finite number, got 'nan'"),
    ("--style-blend", "0.7,,0.3", "expected weights separated by commas"),
    ("--style-scale", "0", "expected a finite number > 0, got '0'"),
    ("--style-scale", "inf", "expected a finite number"),
    ("--scales", "0.5,0.25,1", "expected scales increasing and ending at 1 (the full --size)"),
    ("--scales", "0.5,2", "expected scales increasing and ending at 1"),
    ("--scales", "0.25,0.5", "expected scales increasing and ending at 1 (the full --size), such as 0.25,0.5,1; "
                             "got '0.25,0.5'"),
    ("--scale-steps", "3,0", "expected a whole number >= 1, got 0"),
    ("--preserve-colors", "sepia", "invalid choice: 'sepia'"),
    ("--pooling", "min", "invalid choice: 'min'"),
])
def test_bad_control_values_are_usage_errors(pictures, tmp_path, capsys, option, value, message):
    content, style = pictures
    with pytest.raises(SystemExit) as exit_:
        cli.main([str(content), str(style), "-o", str(tmp_path / "o.png"), option, value])
    assert exit_.value.code == 2 and message in capsys.readouterr().err
    assert not (tmp_path / "o.png").exists()


@pytest.mark.parametrize("extra, message", [
    (["--style-blend", "0.5,0.3,0.2"], "3 blend weights for 2 style images: give one for each style"),
    (["--mask", "SKY"], "1 --mask for 2 STYLE images: give one --mask per style"),
    (["--mask", "SKY", "--mask", "SKY", "--mask", "none"], "3 --mask for 2 STYLE images"),
    (["--mask", "SKY", "--mask", "BROKEN"], "is a text file, not an image file (use PNG or JPEG) (the mask of style 2)"),
    (["--mask", "SKY", "--mask", "BLACK"], "is black everywhere, so its style would apply nowhere"),
    (["--style-blend", "0,0"], "every blend weight is 0"),
    (["--scale-steps", "3,1"], "--scale-steps gives 2 step counts for 1 scale (1)"),
])
def test_controls_that_cannot_work_end_in_one_line(two_styles, tmp_path, capsys, monkeypatch, extra, message):
    content, style, second, sky = two_styles
    broken, black = tmp_path / "broken.png", tmp_path / "black.png"
    broken.write_text("not a picture")
    Image.new("L", (60, 40), 0).save(black)
    names = {"SKY": str(sky), "BROKEN": str(broken), "BLACK": str(black)}
    existing = tmp_path / "o.png"
    existing.write_bytes(b"an earlier result")
    monkeypatch.setattr(cli.transfer, "stylise", lambda *args, **kwargs: pytest.fail("the run started"))
    status, err = run_main([content, style, second, "-o", existing, "--network", "random", "--quiet",
                            *[names.get(arg, arg) for arg in extra]], capsys)
    assert status == 1 and message in err, err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert existing.read_bytes() == b"an earlier result"


def test_a_mask_is_never_overwritten(two_styles, capsys):
    content, style, second, sky = two_styles
    before = sky.read_bytes()
    status, err = run_main([content, style, second, "-o", sky, "--mask", sky, "--mask", "none", "--network",
                            "random"], capsys)
    assert status == 1 and "refusing to overwrite an input" in err and sky.read_bytes() == before


# --- sizes: every scale gets a step, the result has the size --size promises, no image too large -------------


def test_fewer_steps_than_scales_is_refused_before_the_run(pictures, tmp_path, capsys, monkeypatch):
    content, style = pictures
    monkeypatch.setattr(settings_module.Settings, "load_vgg", lambda self: pytest.fail("the network loaded"))
    status, err = run_main([content, style, "-o", tmp_path / "o.png", "--network", "random", "--size", "32",
                            "--scales", "0.25,0.5,1", "--steps", "2"], capsys)
    assert status == 1 and err.strip().splitlines() == [
        "d2lstyle: error: 3 scales (0.25, 0.5, 1) need at least 3 steps, one for each, not 2; give more steps or "
        "fewer scales"]
    assert not (tmp_path / "o.png").exists()


@pytest.mark.parametrize("steps, schedule", [
    (["--steps", "3"], "0.25 (1 steps), 0.5 (1 steps), 1 (1 steps)"),
    (["--scale-steps", "300,100,1", "--steps", "10"], "0.25 (7 steps), 0.5 (2 steps), 1 (1 steps)"),
])
def test_coarse_to_fine_ends_at_the_size_promised(pictures, tmp_path, capsys, steps, schedule):
    content, style = pictures
    out = tmp_path / "o.png"
    status, err = run_main([content, style, "-o", out, "--network", "random", "--quiet", "--preset", "d2l",
                            "--size", "32", "--scales", "0.25,0.5,1", *steps], capsys)
    assert status == 0, err
    assert schedule in err  # the full size optimised, with at least one step
    assert Image.open(out).size == (32, 21)  # the photo is 60x40


@pytest.mark.parametrize("options, message", [
    (["--style-scale", "1e6"], "style scale 1e+06 would make the style image as large as 512000000x512000000 "
                               "pixels, over the limit of 40,000,000 pixels; use a style scale of 12 or less "
                               "(--style-scale)"),
    (["--style-scale", "1e-6"], "style scale 1e-06 would shrink the style image to less than one pixel; use a "
                                "style scale of 0.031 or more (the network needs 16 pixels on each side)"),
    (["--size", "100000"], "the image would be 66667x100000 pixels at size 100000, over the limit of 40,000,000 "
                           "pixels; use a smaller size (--size 7745 or less)"),
    (["--size", "10"], "the image would be 7x10 pixels at size 10, too small for layer relu5_1: it needs at least "
                       "16 pixels on each side; use a larger size (--size 24 or more)"),
    (["--scales", "1e-9,1"], "scale 1e-09 would shrink the 341x512 image to less than one pixel; use scales of "
                             "0.047 or more (the network needs 16 pixels on each side)"),
    (["--size", "64", "--style-scale", "30"], "the style image, 1920x1920 pixels at style scale 30, needs about"),
])
def test_an_image_too_large_or_too_small_is_refused_before_anything_is_made(pictures, tmp_path, capsys, monkeypatch,
                                                                           options, message):
    """--style-scale 1e6 once asked Pillow for a painting of about 100 GB: now every image the run would make
    is checked, against the network's smallest size, the largest picture and the memory (1 GiB free here),
    before the network loads and before any image is resized."""
    content, style = pictures
    monkeypatch.delenv("D2LSTYLE_QUICK", raising=False)  # make test's quick mode would cap --size at 64
    monkeypatch.setattr("d2lstyle.devices.available_memory_bytes", lambda device: 2**30)
    monkeypatch.setattr(settings_module.Settings, "load_vgg", lambda self: pytest.fail("the network loaded"))
    monkeypatch.setattr(cli.images, "resize", lambda *args: pytest.fail("an image was resized"))
    existing = tmp_path / "o.png"
    existing.write_bytes(b"an earlier result")
    status, err = run_main([content, style, "-o", existing, "--network", "random", *options], capsys)
    assert status == 1 and message in err, err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert existing.read_bytes() == b"an earlier result"


# --- --resume refuses a checkpoint of another run, naming what differs ---------------------------------------


@pytest.mark.parametrize("change, difference", [
    ([], None),  # the same run: it finishes
    (["--preserve-colors", "luminance"], "preserve colors (was None, now 'luminance')"),
    (["--style-scale", "2"], "style scale (was 1.0, now 2.0)"),
    (["--pooling", "avg"], "pooling (was 'max', now 'avg')"),
    (["--seed", "1"], "seed (was 0, now 1)"),
    (["--size", "48"], "image_size (was (43, 64), now 48)"),  # quick mode made it 43x64
    (["--style-weight", "1"], "style_weight (was 0.00091, now 1.0)"),
    (["--mask", "SKY"], "masked styles (was (), now (1,))"),
    (["ANOTHER STYLE"], "style image 1 (another picture)"),
    (["A SECOND STYLE"], "style images (was 1, now 2)"),
    (["THE PHOTO REPAINTED"], "the photo (another picture)"),
])
def test_resume_refuses_a_checkpoint_of_another_run(pictures, tmp_path, capsys, monkeypatch, change, difference):
    content, style = pictures
    out = tmp_path / "out.png"
    common = ["-o", out, "--network", "random", "--quick", "--quiet", "--preset", "d2l", "--steps", "4",
              "--checkpoint-every", "1"]
    real_stylise = cli.transfer.stylise

    def stop_after_two_steps(*args, callbacks=(), **kwargs):
        return real_stylise(*args, callbacks=[*callbacks, lambda info: info.step == 2], **kwargs)

    monkeypatch.setattr(cli.transfer, "stylise", stop_after_two_steps)
    status, err = run_main([content, style, *common], capsys)
    assert status == 1 and "stopped after 2 of 4 steps" in err
    monkeypatch.setattr(cli.transfer, "stylise", real_stylise)
    checkpoint = files.checkpoint_path(out)
    kept = checkpoint.read_bytes(), out.read_bytes()

    inputs, options = [content, style], list(change)
    if change == ["ANOTHER STYLE"] or change == ["A SECOND STYLE"]:
        other = tmp_path / "other.png"
        Image.new("RGB", (50, 50), (200, 30, 60)).save(other)
        inputs, options = ([content, other] if change == ["ANOTHER STYLE"] else [content, style, other]), []
    elif change == ["THE PHOTO REPAINTED"]:
        Image.new("RGB", (60, 40), (41, 120, 200)).save(content)  # the same name, one shade of red more
        options = []
    elif change == ["--mask", "SKY"]:
        sky = tmp_path / "sky.png"
        Image.new("L", (60, 40), 255).save(sky)
        options = ["--mask", sky]
    status, err = run_main([*inputs, *common, *options, "--resume"], capsys)
    if difference is None:
        assert status == 0 and "saved" in err and "4 steps" in err, err
        return
    error = err.strip().splitlines()[-1]
    assert status == 1 and error.startswith("d2lstyle: error: the checkpoint is from another run than this one: ")
    assert difference in error and error.endswith("resume with the same options and files, or leave out --resume "
                                                  "to start afresh")
    assert (checkpoint.read_bytes(), out.read_bytes()) == kept  # the progress so far is untouched


def test_the_cli_says_when_the_balance_lowered_beta_and_by_how_much(pictures, tmp_path, capsys):
    """The cat with Composition VII: q far above the default's cap, so beta is lowered and the CLI says to what."""
    import d2lstyle

    photo, painting = d2lstyle.bundled_image("chelsea"), d2lstyle.bundled_image("composition_vii")
    status, err = run_main([photo, painting, "-o", tmp_path / "cat.png", "--network", "original", "--size", "64",
                            "--steps", "1", "--quiet"], capsys)
    assert status == 0, err
    expected = d2lstyle.stylise(d2lstyle.load_image(photo), d2lstyle.load_image(painting),
                                d2lstyle.get_recipe("default").replace(image_size=64, steps=1),
                                d2lstyle.load_vgg19("original"), progress=False).recipe.style_weight
    assert expected < 100
    assert f"style weight beta {expected:.3g} for this pair (the recipe's 100, lowered by its balance_cap 0.3" in err
    content, style = pictures  # on a random network q is far below the cap: beta runs as given, and nothing is said
    status, err = run_main([content, style, "-o", tmp_path / "o.png", "--network", "random", "--steps", "1",
                            "--quiet"], capsys)
    assert status == 0 and "saved" in err and "style weight beta" not in err


# --- --tile: the last scale in tiles -------------------------------------------------------------------------


def test_tile_paints_the_full_size_in_tiles_with_the_coarse_scales_first(pictures, tmp_path, capsys, monkeypatch):
    content, style = pictures
    monkeypatch.delenv("D2LSTYLE_QUICK", raising=False)
    calls = []
    real = cli.tiles.optimise

    def noting(start, *args, **kwargs):
        calls.append(tuple(start.shape[-2:]))
        return real(start, *args, **kwargs)

    monkeypatch.setattr(cli.tiles, "optimise", noting)
    out = tmp_path / "o.png"
    status, err = run_main([content, style, "-o", out, "--network", "random", "--quiet", "--size", "96",
                            "--scales", "0.5,1", "--scale-steps", "2,2", "--tile", "64"], capsys)
    assert status == 0, err
    assert Image.open(out).size == (96, 64)  # the photo is 60x40
    assert calls == [(64, 56), (64, 56)]  # two tiles of the full size, each 56 wide, overlapping by 16


@pytest.mark.parametrize("options, message", [
    (["--tile", "64"], "painting in tiles continues a coarse-to-fine run: give the recipe two scales or more"),
    (["--tile", "8", "--scales", "0.5,1"], "a tile of 8 pixels is smaller than the 16 pixels layer relu5_1 needs"),
    (["--tile", "512", "--scales", "0.5,1", "--preserve-colors", "luminance", "--style-scale", "2"],
     "--tile paints one STYLE without other controls; leave out --preserve-colors, --style-scale, or --tile"),
    (["--tile", "512", "--scales", "0.5,1", "--checkpoint-every", "5"], "leave out --checkpoint-every, or --tile"),
])
def test_tile_refuses_what_it_cannot_paint_before_the_network_loads(pictures, tmp_path, capsys, monkeypatch,
                                                                    options, message):
    content, style = pictures
    monkeypatch.setattr(settings_module.Settings, "load_vgg", lambda self: pytest.fail("the network loaded"))
    existing = tmp_path / "o.png"
    existing.write_bytes(b"an earlier result")
    status, err = run_main([content, style, "-o", existing, "--network", "random", *options], capsys)
    assert status == 1 and message in err, err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert existing.read_bytes() == b"an earlier result"


def test_tile_lets_a_size_too_large_in_one_piece_run_and_refuses_tiles_too_large(pictures, tmp_path, capsys,
                                                                                 monkeypatch):
    content, style = pictures
    monkeypatch.delenv("D2LSTYLE_QUICK", raising=False)
    monkeypatch.setattr("d2lstyle.devices.available_memory_bytes", lambda device: 3 * 2**30)
    monkeypatch.setattr(cli.tiles, "stylise", lambda *args, **kwargs: pytest.fail("the run started"))
    existing = tmp_path / "o.png"
    existing.write_bytes(b"an earlier result")
    # in one piece, 2048 px needs far more than 3 GiB: refused with a smaller --size
    status, err = run_main([content, style, "-o", existing, "--network", "random", "--size", "2048",
                            "--scales", "0.25,1"], capsys)
    assert status == 1 and "use a smaller size" in err, err
    # in tiles of 2048, still too much: refused with a smaller --tile, which then passes the check
    status, err = run_main([content, style, "-o", existing, "--network", "random", "--size", "2048",
                            "--scales", "0.25,1", "--tile", "2048"], capsys)
    assert status == 1 and "use smaller tiles (--tile" in err, err
    advised = err.split("--tile ")[1].split()[0]
    monkeypatch.setattr(cli.tiles, "stylise", lambda *args, **kwargs: pytest.fail("checked: the run starts"))
    with pytest.raises(pytest.fail.Exception, match="checked: the run starts"):
        cli.main([str(content), str(style), "-o", str(existing), "--network", "random", "--size", "2048",
                  "--scales", "0.25,1", "--tile", advised])
    assert existing.read_bytes() == b"an earlier result"
