"""Flicker of a stylised clip: each frame on its own, or each frame started from the last result warped.

    python benchmarks/flicker.py                       # writes section `flicker`
    python benchmarks/flicker.py --frames 8 --size 128 --no-write

A clip with known motion (``d2lstyle.video.make_clip``, the pan by default) of the bundled Tübingen photo is
painted in The Starry Night's style with the default recipe, frame by frame, two ways (Ruder et al. 2016's
baselines):

- **(a) independent**: every frame from the recipe's own start (the photo in the painting's colours);
- **(b) warped start**: the first frame as in (a), every later one started from the last result moved onto it by
  the true flow (``stylise(..., start=video.warp(previous, flow))``); where the last frame did not see the pixel,
  the photo in the painting's colours, as in (a), fills in.

Reported: the warping error of the stylised frames (``d2lstyle.video.warping_error`` with the true flows and
masks: the flicker), the mean style and content ratios of the frames (``d2lstyle.quality``: a method must not win
by painting less), and the seconds. Issue 26's method (c), the temporal loss, is not built yet.
"""

import argparse
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import torch  # noqa: E402

import d2lstyle  # noqa: E402
from d2lstyle import images, quality, training, video  # noqa: E402

import report  # noqa: E402
from common import finish_run, load_pair, run_facts  # noqa: E402


def paint_clip(clip, painting, recipe, vgg, warped_start):
    """The stylised frames in [0, 1], each painted by ``stylise``; with ``warped_start`` every frame after the
    first starts from the last result warped by the true flow (the recoloured photo where it was hidden)."""
    painted = []
    for t, frame in enumerate(clip.frames):
        photo = images.postprocess(images.normalize(frame))
        start = None
        if warped_start and t > 0:
            own = training.initial_image(recipe, images.normalize(frame),
                                         images.preprocess(painting, tuple(frame.shape[-2:])))
            moved = images.normalize(video.warp(painted[-1], clip.flows[t]))
            start = clip.masks[t] * moved + (1 - clip.masks[t]) * own
        result = d2lstyle.stylise(photo, painting, recipe, vgg, progress=False, start=start)
        painted.append(images.denormalize(result.image).clamp(0, 1))
    return painted


def measure(method, clip, painting, recipe, vgg):
    started = time.perf_counter()
    painted = paint_clip(clip, painting, recipe, vgg, warped_start=(method == "warped start"))
    seconds = time.perf_counter() - started
    scores = [quality.Scorer(images.postprocess(images.normalize(frame)), painting, tuple(frame.shape[-2:]))(
        images.normalize(result)) for frame, result in zip(clip.frames, painted)]
    return {"method": method, "seconds": seconds, "flicker": video.warping_error(painted, clip.flows, clip.masks),
            "style": sum(score.style for score in scores) / len(scores),
            "content": sum(score.content for score in scores) / len(scores)}


def section(rows, run, args, photo_flicker):
    lines = [f"A {args.motion} of {args.frames} frames at {args.size} px of Tübingen (`video.make_clip`), painted in "
             f"The Starry Night's style with the default recipe ({args.steps} evaluations per frame), float32, "
             "CPU. Flicker: `video.warping_error` of the stylised frames with the true flows and masks (values in "
             f"[0, 1]; the photo's own frames: {photo_flicker:.5f}). Style and content: the frames' mean ratios "
             "(`d2lstyle.quality`).", "",
             "| method | flicker | / independent | style | content | seconds |", "|---|---|---|---|---|---|"]
    for row in rows:
        lines.append(f"| {row['method']} | {row['flicker']:.5f} | {row['flicker'] / rows[0]['flicker']:.2f} | "
                     f"{row['style']:.3f} | {row['content']:.3f} | {row['seconds']:.0f} |")
    return report.section("flicker", "Flicker of a stylised clip (`flicker.py`)", run, "\n".join(lines))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--frames", type=int, default=12)
    parser.add_argument("--size", type=int, default=128)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--motion", choices=video.MOTIONS, default="pan")
    parser.add_argument("--no-write", action="store_true", help="print the section only")
    args = parser.parse_args()
    torch.set_num_threads(2)
    run = run_facts("flicker.py", sys.argv[1:], torch.device("cpu"), "float32 (L-BFGS runs in float32)")
    content, painting = load_pair()
    clip = video.make_clip(images.denormalize(images.preprocess(content)), args.motion, args.frames, args.size)
    recipe = d2lstyle.get_recipe("default").replace(image_size=args.size, steps=args.steps)
    vgg = d2lstyle.load_vgg19("original")
    rows = [measure(method, clip, painting, recipe, vgg) for method in ("independent", "warped start")]
    finish_run(run)
    block = section(rows, run, args, video.warping_error(clip.frames, clip.flows, clip.masks))
    print(block)
    if not args.no_write:
        report.write_section(HERE / "results.md", block)


if __name__ == "__main__":
    main()
