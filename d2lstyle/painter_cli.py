"""The painter's command-line tool: train a painter network once, then stylise in one pass.

    d2lstyle-painter train STYLE... -o MODEL.pt [--steps N] [--size PX] [--photos DIR] [--add-to MODEL] ...
    d2lstyle-painter paint MODEL INPUT... -o OUT [--size PX] [--work-size PX] [--style NAME[=WEIGHT]]...

``train`` trains a :class:`~d2lstyle.painter.Painter` for the painting STYLE
(:func:`d2lstyle.painter.train_painter`) and saves it as MODEL.pt; given
several paintings, it trains one painter for all of them (conditional instance
normalisation), and with ``--add-to`` it adds the paintings to a trained
model by training only their normalisation parameters. ``paint``
stylises image files, the photos in a folder, or the frames of an animated
GIF (into an animated GIF) with a saved model; ``--style`` chooses one of a
model's paintings by name, or a blend (``--style starry_night=0.7 --style
the_scream=0.3``).

Every file argument is checked before any work, and a file of the wrong kind
is named for what it is: ``paint photo.png model.pt`` says that photo.png is a
picture, not a model file, and that the model comes first. ``paint`` reads
every input before it paints any: if some cannot be painted (no picture, or
too thin for the painter at ``--size``), it names each of them and writes
nothing, so a batch is never left half done.

The conventions are those of the ``d2lstyle`` command (:mod:`d2lstyle.cli`):
a bad option is a usage error (exit status 2); a file that cannot be used ends
in one line saying why (status 1), never a traceback; files are written
atomically and never over an input. Ctrl-C during training saves a checkpoint
(MODEL.pt.ckpt) and exits with status 130; the same command with ``--resume``
continues from it, with the optimiser's state, and ends as an uninterrupted
run would.
"""

import argparse
import sys
import time
from pathlib import Path

from PIL import Image, ImageSequence

from . import command_line, images, painter, settings as settings_module
from .command_line import EXIT_ERROR, EXIT_INTERRUPTED, non_negative_float, positive_float, positive_int, seed_number
from .errors import ImageError
from .files import checkpoint_path, describe_file, validate_model_path, validate_output_path, write_atomically

# Formats Pillow can write with several frames.
ANIMATED_SUFFIXES = (".gif", ".png", ".webp")

# What each verb takes first, for the message about a file given in the wrong place.
TRAIN_ORDER = "the painting comes first: d2lstyle-painter train PAINTING -o MODEL.pt"
PAINT_ORDER = "the model comes first: d2lstyle-painter paint MODEL PHOTO... -o OUT"


def build_parser():
    parser = command_line.ArgumentParser(
        prog="d2lstyle-painter",
        description="Fast style transfer: train a painter network for one painting or several (once: it takes "
                    "minutes), then stylise any photo with it in a single forward pass.",
        epilog="Examples: d2lstyle-painter train images/style/starry_night.jpg -o starry.pt ; "
               "d2lstyle-painter paint starry.pt images/content/tubingen.jpg -o tubingen.png ; "
               "d2lstyle-painter train images/style/starry_night.jpg images/style/the_scream.jpg -o two.pt ; "
               "d2lstyle-painter paint two.pt images/content/tubingen.jpg -o blend.png "
               "--style starry_night=0.5 --style the_scream=0.5",
    )
    verbs = parser.add_subparsers(dest="verb", required=True, metavar="{train,paint}")

    train = verbs.add_parser(
        "train", help="train a painter for one painting or several and save it as a model file",
        description="Train a painter network for the painting STYLE on photos (by default the bundled ones and "
                    "matplotlib's sample photo, all offline) and save it as MODEL. Several paintings: one "
                    "painter for all of them, each with its own normalisation parameters (choose one with "
                    "`paint --style NAME`). Ctrl-C saves a checkpoint (MODEL.ckpt); run the same command with "
                    "--resume to continue.",
    )
    defaults = painter.PainterSettings()
    train.add_argument("style", nargs="+", metavar="STYLE", help="the painting(s) whose style to learn")
    train.add_argument("-o", "--output", required=True,
                       help="the model file to write (e.g. starry.pt); a file already there is replaced only if it "
                            "is a painter model file")
    train.add_argument("--steps", type=positive_int, default=None,
                       help=f"training steps (default: {defaults.steps} for one painting, "
                            f"{painter.STEPS_PER_PAINTING} per painting for several, {painter.ADD_STEPS} per "
                            "painting with --add-to)")
    train.add_argument("--add-to", default=None, metavar="MODEL",
                       help="add the paintings to this trained model (written to -o with its paintings and the "
                            "new ones): only their normalisation parameters are trained, in a few minutes")
    train.add_argument("--size", type=positive_int, default=None, metavar="PX",
                       help=f"side of the square training crops in pixels (default: {defaults.crop})")
    train.add_argument("--batch-size", type=positive_int, default=None,
                       help=f"crops per step (default: {defaults.batch_size})")
    train.add_argument("--style-size", type=positive_int, default=None, metavar="PX",
                       help="longer side of the painting as the loss sees it: sets the size of the brush strokes "
                            f"(default: {defaults.style_size})")
    train.add_argument("--photos", default=None, metavar="DIR",
                       help="train on the photos in this folder instead of the bundled ones")
    train.add_argument("--content-weight", type=non_negative_float, default=None, metavar="ALPHA",
                       help=f"content weight alpha (default: {defaults.content_weight:g})")
    train.add_argument("--style-weight", type=non_negative_float, default=None, metavar="BETA",
                       help=f"style weight beta (default: {defaults.style_weight:g})")
    train.add_argument("--tv-weight", type=non_negative_float, default=None, metavar="GAMMA",
                       help=f"total-variation weight gamma (default: {defaults.tv_weight:g})")
    train.add_argument("--lr", type=positive_float, default=None,
                       help=f"Adam's learning rate at the start of the cosine schedule (default: {defaults.lr:g}; "
                            f"{painter.ADD_LR:g} with --add-to)")
    train.add_argument("--checkpoint-every", type=positive_int, default=50, metavar="N",
                       help="also save a checkpoint every N steps, in case the process is killed (default: 50)")
    train.add_argument("--resume", action="store_true",
                       help="continue from the checkpoint of an interrupted run with the same options")
    _common_options(train, network=True)

    paint = verbs.add_parser(
        "paint", help="stylise images with a saved model",
        description="Stylise INPUT (image files, folders of them, or animated GIFs) with the painter in MODEL. "
                    "One input and an OUT with an image extension: OUT is the file written. Otherwise OUT is a "
                    "folder, and each result is written there under its input's name (.png; .gif for an "
                    "animated GIF). Every input is read and checked before any is painted: if some cannot be "
                    "painted (not a picture, or too thin for the painter at --size), each is named and nothing "
                    "is written.",
    )
    paint.add_argument("model", help="a model file written by d2lstyle-painter train")
    paint.add_argument("inputs", nargs="+", metavar="INPUT", help="image files, folders or animated GIFs")
    paint.add_argument("-o", "--output", required=True, help="the output file, or a folder for several")
    paint.add_argument("--size", type=positive_int, default=512, metavar="PX",
                       help="longer side of each result in pixels (default: %(default)s)")
    paint.add_argument("--work-size", type=positive_int, default=None, metavar="PX",
                       help="paint at this longer side, then resize each result to --size with Lanczos: at 512 for "
                            "--size 1024, bolder strokes in a quarter of the time (default: paint at --size)")
    paint.add_argument("--style", action="append", default=None, metavar="NAME[=WEIGHT]",
                       help="which of the model's paintings to paint with (needed when it has several); give it "
                            "more than once with weights to blend paintings: --style starry_night=0.7 "
                            "--style the_scream=0.3")
    _common_options(paint, network=False)
    return parser


def _common_options(parser, network):
    if network:
        parser.add_argument("--network", default=None,
                            help="the VGG-19 the loss is computed with: 'original' (offline), 'torchvision' "
                                 "(downloaded once), 'random' (tests only) or a .pth file "
                                 "(default: D2LSTYLE_NETWORK, else original)")
        parser.add_argument("--seed", type=seed_number, default=None,
                            help="seed of the painter's first weights and of the random crops "
                                 "(default: D2LSTYLE_SEED, else 0)")
    parser.add_argument("--device", default=None,
                        help="cpu, cuda or mps (default: D2LSTYLE_DEVICE, else the fastest available)")
    parser.add_argument("--quick", action="store_true", default=None,
                        help="quick mode: at most 64 px and 20 steps (default: D2LSTYLE_QUICK)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def say(message):
    command_line.say("d2lstyle-painter", message)


# --- train --------------------------------------------------------------------------------


def choose_settings(args, session):
    """``(settings, notes)``: the defaults with the command line's choices, capped in quick mode."""
    changes = {"steps": args.steps, "crop": args.size, "batch_size": args.batch_size,
               "style_size": args.style_size, "content_weight": args.content_weight,
               "style_weight": args.style_weight, "tv_weight": args.tv_weight, "lr": args.lr}
    settings = painter.PainterSettings(seed=session.seed)
    settings = settings.replace(**{key: value for key, value in changes.items() if value is not None})
    notes = []
    steps, note = session.cap_steps(settings.steps)
    notes.append(note)
    crop, note = session.cap_size(settings.crop)
    notes.append(note)
    style_size, note = session.cap_size(settings.style_size)
    notes.append(note and note.replace("image size", "style size"))
    return settings.replace(steps=steps, crop=crop, style_size=style_size), [note for note in notes if note]


def validate_model_output(path, protect=()):
    """:func:`d2lstyle.files.validate_model_path`, and a file already at ``path`` must be a painter model file
    (training again replaces it): any other file is named and never overwritten."""
    path = validate_model_path(path, protect)
    if path.is_file():
        kind = painter.describe_painter_file(path)
        if kind != f"a {painter.MODEL_FILE}":
            raise ImageError(f"{path}: is {kind}, not a {painter.MODEL_FILE}; refusing to overwrite it: choose "
                             "another model file name")
    return path


def default_steps(args, count):
    """The training steps when --steps is not given: 800 for one painting, STEPS_PER_PAINTING per painting for
    several, ADD_STEPS per painting added to a trained model."""
    if args.add_to:
        return painter.ADD_STEPS * count
    return painter.PainterSettings().steps if count == 1 else painter.STEPS_PER_PAINTING * count


def style_names(paths, known=()):
    """The short names (``painter.style_name``) of the paintings in ``paths``; two paintings with one name, or
    one a model already has (``known``), are refused, since ``paint --style NAME`` could not tell them apart."""
    names = {}
    for path in paths:
        name = painter.style_name(path)
        if name in names or name in known:
            first = names.get(name, "the model's painting")
            raise ImageError(f"{first} and {path} have the same name ({name!r}); rename one, so that "
                             "`paint --style NAME` can tell them apart")
        names[name] = path
    return list(names)


def train(args):
    """Check every file argument, then train; returns the exit status."""
    style_imgs = [painter.load_picture(path, hint=TRAIN_ORDER) for path in args.style]
    base = None
    if args.add_to:
        base = painter.load_painter(args.add_to, hint="--add-to takes a model written by d2lstyle-painter train")
    style_names(args.style, known=[painter.style_name(name) for name in base.styles] if base else ())
    output = validate_model_output(args.output, protect=[*args.style, *([args.add_to] if args.add_to else [])])
    session = settings_module.get_settings(network=args.network, seed=args.seed, quick=args.quick,
                                           device=args.device, verbose=False)
    if args.steps is None:
        args.steps = default_steps(args, len(style_imgs))
    if args.lr is None and args.add_to:
        args.lr = painter.ADD_LR
    settings, notes = choose_settings(args, session)
    if base is not None:  # the network is the trained one's; only the training may change
        settings = base.settings.replace(**{key: getattr(settings, key) for key in (
            "steps", "crop", "batch_size", "style_size", "content_weight", "style_weight", "tv_weight", "lr",
            "seed")})
    long_sides = []
    for path, img in zip(args.style, style_imgs):
        try:  # a painting too small for the style layers is refused now, before the network is loaded
            long_sides.append(painter.painting_long_side(img.size, settings))
        except ImageError as error:
            raise ImageError(f"{path}: {error}") from None
    photo_paths = painter.photos_in_folder(args.photos) if args.photos else painter.training_photos()
    for path in photo_paths:  # a damaged photo is reported now, before the network is loaded
        painter.load_picture(path)
    checkpoint_file = checkpoint_path(output)
    resume = None
    if args.resume:
        resume = painter.load_training_checkpoint(checkpoint_file, hint="--resume continues a run that was "
                                                  "interrupted; run without --resume to start one")
    for line in session.describe().splitlines() + notes:
        say(line)
    if base is not None:
        say(f"adding {len(style_imgs)} painting{'s' if len(style_imgs) != 1 else ''} to {args.add_to} (which "
            f"paints {', '.join(painter.style_name(name) for name in base.styles)}): only their normalisation "
            "parameters are trained")
    say(f"training on {len(photo_paths)} photos: {', '.join(path.name for path in photo_paths)}")
    enlarged = " (more, so that a long thin painting's shorter side suits the style layers)"
    sizes = ", ".join(f"{side} px" for side in long_sides)
    say(f"{settings.steps} steps of {settings.batch_size} crops of {settings.crop} px; style size "
        f"{sizes}{enlarged if max(long_sides) > settings.style_size else ''}")
    vgg = session.load_vgg()
    if base is not None and base.network != vgg.description:
        say(f"note: {args.add_to} was trained with {base.network}; the new paintings are learnt with "
            f"{vgg.description}")

    def save_every(info):
        if info.step % args.checkpoint_every == 0 and info.step < info.steps:
            painter.save_training_checkpoint(checkpoint_file, info.checkpoint())
        return False

    started = time.perf_counter()
    result = painter.train_painter(style_imgs, photo_paths, settings, vgg, device=session.device,
                                   callbacks=[save_every], progress=not args.quiet, resume=resume,
                                   start_from=base.painter if base else None)
    seconds = time.perf_counter() - started
    steps = result.history["step"][-1] if result.history["step"] else 0
    if result.status == "finished":
        names = [Path(path).name for path in args.style]
        if base is not None:
            painter.save_painter(output, result.painter, base.settings, style=base.styles + names,
                                 network=base.network, history=result.history)
        else:
            painter.save_painter(output, result, style=names if len(names) > 1 else names[0])
        checkpoint_file.unlink(missing_ok=True)
        say(f"saved {output} ({steps} steps in {seconds:.0f} s, final loss {result.final_loss:.4g})")
        return 0
    if result.status == "interrupted" and steps:
        painter.save_training_checkpoint(checkpoint_file, result)
        say(f"{result.message}; saved a checkpoint to {checkpoint_file}. Resume with the same command and --resume")
        return EXIT_INTERRUPTED
    if result.status == "interrupted":
        say(f"{result.message}; nothing to save yet")
        return EXIT_INTERRUPTED
    say(f"error: {result.message}")
    return EXIT_ERROR


# --- paint --------------------------------------------------------------------------------


def expand_inputs(inputs):
    """Every image file named by ``inputs``: files as given, folders by their image files."""
    paths = []
    for name in inputs:
        path = Path(name)
        if path.is_dir():
            paths.extend(painter.photos_in_folder(path))
        elif not path.exists():
            raise ImageError(f"{path}: no such file or folder")
        else:
            paths.append(path)
    return paths


def frame_count(path):
    """How many frames the image file holds (1 for a still image)."""
    try:
        with Image.open(path) as img:
            return getattr(img, "n_frames", 1)
    except (OSError, ValueError):
        return 1  # load_image will say what is wrong with it


def plan_outputs(inputs, output):
    """``[(input path, output path, animated)]``: where each result goes, checked before any work."""
    output = Path(output)
    jobs = [(path, frame_count(path) > 1) for path in inputs]
    single_file = len(jobs) == 1 and output.suffix != "" and not output.is_dir()
    plan = []
    if single_file:
        path, animated = jobs[0]
        if animated and output.suffix.lower() not in ANIMATED_SUFFIXES:
            raise ImageError(f"{path} is animated; its result needs a format with frames: "
                             f"{', '.join(ANIMATED_SUFFIXES)} (not {output.suffix})")
        plan.append((path, validate_output_path(output, protect=inputs), animated))
        return plan
    if output.suffix.lower() in Image.registered_extensions() and not output.is_dir():
        raise ImageError(f"{output}: {len(jobs)} results need a folder, not an image file name")
    if output.exists() and not output.is_dir():
        raise ImageError(f"{output}: is a file; give a folder for the results")
    names = {}
    for path, animated in jobs:
        target = output / (path.stem + (".gif" if animated else ".png"))
        if target in names:
            raise ImageError(f"{names[target]} and {path} would both be written to {target}; rename one")
        names[target] = path
        plan.append((path, validate_output_path(target, protect=inputs), animated))
    return plan


def read_frames(path):
    """The frames of an animated image as RGB PIL images, and each one's duration in ms."""
    frames, durations = [], []
    with Image.open(path) as img:
        loop = img.info.get("loop", 0)
        for frame in ImageSequence.Iterator(img):
            durations.append(frame.info.get("duration", img.info.get("duration", 100)))
            rgba = frame.convert("RGBA")  # a GIF's transparent pixels become white, as in load_image
            frames.append(Image.alpha_composite(Image.new("RGBA", rgba.size, "white"), rgba).convert("RGB"))
    return frames, durations, loop


def write_frames(path, frames, durations, loop):
    image_format = Image.registered_extensions()[path.suffix.lower()]
    first, rest = frames[0], frames[1:]
    return write_atomically(path, lambda file: first.save(
        file, format=image_format, save_all=True, append_images=rest, duration=durations, loop=loop), ImageError)


def check_inputs(inputs, size, work_size=None):
    """Read every input and check that the painter can take it at ``size`` (and at ``work_size``, where it
    paints first), before any is painted.

    Raises one :class:`~d2lstyle.errors.ImageError` that names each input that cannot be painted (not a
    picture, damaged, or too thin for the painter: :func:`d2lstyle.painter.painted_shape`) and says that
    nothing was written, so that a batch is never left half done."""
    problems = []
    for path in inputs:
        try:
            img = painter.load_picture(path)
        except ImageError as error:
            problems.append(str(error))
            continue
        try:
            painter.painted_shape(img.size, size)
            if work_size is not None:
                painter.painted_shape(img.size, work_size)
        except ImageError as error:
            problems.append(f"{path}: {error}")
    if len(problems) == 1 and len(inputs) == 1:
        raise ImageError(problems[0])
    if problems:
        raise ImageError(f"{len(problems)} of {len(inputs)} inputs cannot be painted, so nothing was painted: "
                         + "; ".join(problems))


def chosen_style(saved, choices):
    """The painting or blend that ``--style`` chooses (``choices``: its values, or None) for a
    :class:`~d2lstyle.painter.SavedPainter`: an index, or blend weights, one per painting. A model of several
    paintings needs a choice; an unknown name or a bad weight is refused, naming what there is.

    A choice is NAME (one painting) or NAME=WEIGHT, given once per painting to blend (weights >= 0, scaled to
    sum to 1; NAME alone in a blend has weight 1)."""
    names = ", ".join(painter.style_name(name) for name in saved.styles)
    if not choices:
        if saved.painter.styles > 1:
            raise ImageError(f"the model paints {saved.painter.styles} paintings ({names}); choose one with "
                             "--style NAME, or blend them: --style NAME=WEIGHT --style NAME=WEIGHT")
        return 0
    weights = [0.0] * saved.painter.styles
    named = set()
    for choice in choices:
        name, _, weight = choice.partition("=")
        index = saved.style_index(name)
        if index in named:
            raise ImageError(f"--style names {painter.style_name(name)} twice")
        named.add(index)
        try:
            value = float(weight) if weight else 1.0
        except ValueError:
            value = float("nan")
        if not value >= 0 or value == float("inf"):
            raise ImageError(f"--style {choice}: the weight must be a number >= 0")
        weights[index] = value
    if sum(weights) <= 0:
        raise ImageError("--style: the weights are all 0; give at least one painting a weight above 0")
    if len(choices) == 1:
        return weights.index(max(weights))
    return weights


def paint(args):
    """Check the model and every input, then paint them all; returns the exit status."""
    session = settings_module.get_settings(quick=args.quick, device=args.device, verbose=False)
    size, note = session.cap_size(args.size)
    work_size = None if args.work_size is None else session.cap_size(args.work_size)[0]
    model = Path(args.model)
    swapped = model.is_dir() or describe_file(model).startswith("a picture")  # a photo where the model goes
    saved = painter.load_painter(model, device=session.device, hint=PAINT_ORDER if swapped else "")
    style = chosen_style(saved, args.style)
    mix = saved.painter.choose_style(style)
    inputs = expand_inputs(args.inputs)
    plan = plan_outputs(inputs, args.output)
    check_inputs(inputs, size, work_size)
    if note:
        say(note)
    painting = saved.style or "an unnamed painting"
    if saved.painter.styles > 1:
        painting = " + ".join(f"{painter.style_name(name)}" + (f" x {weight:.2f}" if weight < 1 else "")
                              for name, weight in zip(saved.styles, mix.tolist()) if weight > 0)
    say(f"painter for {painting} ({saved.steps_done} training steps); "
        f"{len(plan)} input{'s' if len(plan) != 1 else ''}, size {size} px"
        f"{f' (painted at {work_size} px)' if work_size else ''}, device {session.device}")
    done = 0
    started = time.perf_counter()
    bar = None
    if not args.quiet and len(plan) > 1:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(plan), desc="painting", unit="file")
    try:
        for source, target, animated in plan:
            if animated:
                frames, durations, loop = read_frames(source)
                painted = [painter.paint(saved.painter, frame, size, work_size=work_size) for frame in frames]
                write_frames(target, painted, durations, loop)
            else:
                picture = painter.paint(saved.painter, painter.load_picture(source), size, work_size=work_size)
                images.save_image(picture, target,
                                  protect=[path for path, _, _ in plan])
            done += 1
            if bar is not None:
                bar.update(1)
    except KeyboardInterrupt:
        say(f"interrupted after {done} of {len(plan)} inputs; those are written, the rest are not")
        return EXIT_INTERRUPTED
    finally:
        if bar is not None:
            bar.close()
    seconds = time.perf_counter() - started
    where = plan[0][1] if len(plan) == 1 else Path(args.output)
    say(f"wrote {where} ({done} input{'s' if done != 1 else ''} in {seconds:.1f} s)")
    return 0


def main(argv=None):
    args = build_parser().parse_args(argv)
    work = train if args.verb == "train" else paint
    return command_line.run_tool("d2lstyle-painter", work, args,
                                 interrupted="interrupted before any work was saved; nothing was written")


if __name__ == "__main__":
    sys.exit(main())
