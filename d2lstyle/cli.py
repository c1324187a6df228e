"""The command-line tool: ``d2lstyle CONTENT STYLE -o OUT`` (or ``python -m d2lstyle``).

Stylises one content image with one style image and writes the result. Errors
are printed on one line, with a non-zero exit status and no traceback. The
output file is written atomically and never over an input. Ctrl-C saves the
best image so far and exits with status 130.
"""

import argparse
import os
import sys
import time
from pathlib import Path

from . import images, recipes, settings, transfer, vgg, weights
from .errors import D2lStyleError

EXIT_ERROR = 1
EXIT_INTERRUPTED = 130  # the shell's convention for "ended by Ctrl-C" (128 + SIGINT)


def build_parser():
    parser = argparse.ArgumentParser(
        prog="d2lstyle",
        description="Neural style transfer (Gatys et al.): repaint CONTENT in the style of STYLE.",
        epilog=(
            "Weights: 'imagenet' downloads torchvision's pretrained VGG-19 once (548 MB) into the torch cache. "
            "Without internet, download it elsewhere and pass --weights PATH, or use --weights random to try "
            "the pipeline (random weights do not give real style transfer). "
            "Example: d2lstyle images/content/rainier.jpg images/style/starry_night.jpg -o rainier.png"
        ),
    )
    parser.add_argument("content", help="the photograph to repaint (any format Pillow reads)")
    parser.add_argument("style", help="the painting whose style to copy")
    parser.add_argument("-o", "--output", required=True,
                        help="where to write the result (.png or .jpg); never one of the inputs")
    parser.add_argument("--preset", default="default", choices=list(recipes.PRESETS),
                        help="the recipe: 'default' (recommended) or a well-known tutorial's (default: %(default)s)")
    parser.add_argument("--size", type=_positive_int, default=None,
                        help="length of the output's longer side in pixels (default: the preset's)")
    parser.add_argument("--steps", type=_positive_int, default=None,
                        help="number of optimisation steps, i.e. loss evaluations (default: the preset's)")
    parser.add_argument("--weights", default=os.environ.get("D2LSTYLE_WEIGHTS", "imagenet"),
                        help="'imagenet' (pretrained, downloaded once), 'random' (seeded, offline; not real style "
                             "transfer) or the path of a VGG-19 .pth file (default: %(default)s, from "
                             "D2LSTYLE_WEIGHTS if set)")
    parser.add_argument("--seed", type=int, default=0,
                        help="seed for random weights and noise initialisation (default: %(default)s)")
    parser.add_argument("--device", default=None,
                        help="cpu, cuda or mps (default: the fastest available)")
    parser.add_argument("--quick", action="store_true",
                        help="quick mode: at most 64 px and 20 steps, for a first check that everything runs")
    parser.add_argument("--content-weight", type=float, default=None, help="override the preset's content weight")
    parser.add_argument("--style-weight", type=float, default=None, help="override the preset's style weight")
    parser.add_argument("--tv-weight", type=float, default=None, help="override the preset's TV weight")
    parser.add_argument("--lr", type=float, default=None, help="override the preset's learning rate")
    parser.add_argument("--checkpoint-every", type=_positive_int, default=None, metavar="N",
                        help="save a checkpoint every N steps (to OUTPUT with .ckpt added), for --resume")
    parser.add_argument("--resume", action="store_true",
                        help="continue from the checkpoint that --checkpoint-every wrote for this OUTPUT")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    return parser


def _positive_int(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a number >= 1, got {value}")
    return value


def checkpoint_path(output):
    """The checkpoint file that belongs to an output file: ``out.png`` -> ``out.png.ckpt``."""
    output = Path(output)
    return output.with_name(output.name + ".ckpt")


def choose_recipe(args):
    """The preset with the command line's overrides (and quick mode) applied."""
    recipe = recipes.get_recipe(args.preset)
    changes = {
        "image_size": args.size, "steps": args.steps, "content_weight": args.content_weight,
        "style_weight": args.style_weight, "tv_weight": args.tv_weight, "lr": args.lr,
    }
    recipe = recipe.replace(**{key: value for key, value in changes.items() if value is not None})
    if args.quick:
        recipe = settings.Settings(quick=True).recipe(recipe)
    return recipe


def run(args):
    """Do the work for parsed arguments; returns the exit status."""
    protect = [args.content, args.style]
    output = images.check_output_path(args.output, protect)  # fail now, not after the run
    content_img = images.load_image(args.content)
    style_img = images.load_image(args.style)
    recipe = choose_recipe(args)
    device = settings.pick_device(args.device)
    checkpoint_file = checkpoint_path(output)
    resume = transfer.load_checkpoint(checkpoint_file) if args.resume else None

    say(f"weights: {weights.describe(args.weights, args.seed)}")
    network = vgg.load_vgg19(args.weights, seed=args.seed, pooling=recipe.pooling, progress=not args.quiet)
    say(f"recipe: {recipe.name} ({recipe.steps} steps, size {recipe.image_size}) on {device}")

    callbacks = []
    if args.checkpoint_every:
        def save_checkpoint_every(info):
            if info.step % args.checkpoint_every == 0:
                transfer.save_checkpoint(checkpoint_file, info.image, info.history, recipe)
            return False
        callbacks.append(save_checkpoint_every)
    started = time.perf_counter()
    result = transfer.stylise(content_img, style_img, recipe, network, device=device, seed=args.seed,
                              callbacks=callbacks, progress=not args.quiet, resume=resume)
    images.save_image(result.image, output, protect=protect)
    seconds = time.perf_counter() - started
    width, height = result.pil().size
    if result.status != "finished" and args.checkpoint_every:
        transfer.save_checkpoint(checkpoint_file, result.image, result.history, recipe)
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
    except KeyboardInterrupt:
        say("interrupted before the optimisation started; nothing was written")
        return EXIT_INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
