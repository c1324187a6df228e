"""Optical flow on clips whose motion is known: end-point error of OpenCV's DIS (d2lstyle.video.estimate_flow).

    python benchmarks/flow.py            # every bundled photo, pan, zoom and occluder; writes section `flow`
    python benchmarks/flow.py --no-write

Each bundled photo becomes three clips (``d2lstyle.video.make_clip``: a pan, a zoom and the pan with a moving
square) of ``--frames`` frames at ``--size`` px. For every pair of frames the estimated flow is compared with the
true one: the end-point error (EPE) is the distance in pixels between the two displacements, averaged over the
pixels visible in both frames (the mask) and, separately, over the pixels the mask hides. Issue 26's goal: an EPE
below one pixel on the pans away from occlusions. The warping error of the frames themselves, moved by the
estimated flow, is reported beside it (``d2lstyle.video.warping_error``; 0 would be a perfect flow on the pan).
"""

import argparse
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import torch  # noqa: E402

import d2lstyle  # noqa: E402
from d2lstyle import images, video  # noqa: E402

import report  # noqa: E402
from common import finish_run, run_facts  # noqa: E402

PHOTOS = ("tubingen", "chelsea", "astronaut", "coffee", "rainier")


def measure(photo_name, motion, frames, size):
    """One row: the mean EPE where visible and where hidden, the warping errors, the seconds per flow."""
    photo = images.denormalize(images.preprocess(d2lstyle.load_image(d2lstyle.bundled_image(photo_name))))
    clip = video.make_clip(photo, motion, frames=frames, size=size)
    visible, hidden, seconds, estimated = [], [], [], [None]
    for t in range(1, frames):
        started = time.perf_counter()
        flow = video.estimate_flow(clip.frames[t], clip.frames[t - 1])
        seconds.append(time.perf_counter() - started)
        estimated.append(flow)
        endpoint = ((flow - clip.flows[t]) ** 2).sum(1, keepdim=True).sqrt()
        mask = clip.masks[t]
        visible.append(float((endpoint * mask).sum() / mask.sum()))
        if (1 - mask).sum() > 0:
            hidden.append(float((endpoint * (1 - mask)).sum() / (1 - mask).sum()))
    return {"photo": photo_name, "motion": motion, "shape": list(clip.frames[0].shape[-2:]),
            "epe_visible": sum(visible) / len(visible), "epe_worst_pair": max(visible),
            "epe_hidden": sum(hidden) / len(hidden) if hidden else None,
            "warping_true": video.warping_error(clip.frames, clip.flows, clip.masks),
            "warping_estimated": video.warping_error(clip.frames, estimated, clip.masks),
            "seconds_per_flow": sorted(seconds)[len(seconds) // 2]}


def section(rows, run, frames, size):
    lines = [f"Clips of {frames} frames at {size} px made from each bundled photo (`d2lstyle.video.make_clip`). "
             "EPE: the distance in pixels between the estimated and the true displacement, averaged over the "
             "pixels visible in both frames (`visible`, the mean over the frame pairs; `worst pair`: the largest "
             "pair's mean) and over those the mask hides (`hidden`: where the pan brought new pixels in or the "
             "square covered them). Warping error: the frames moved by the true and by the estimated flow "
             "(`d2lstyle.video.warping_error`, values in [0, 1]). Seconds: the median per flow.", ""]
    pans = [row for row in rows if row["motion"] == "pan"]
    worst = max(row["epe_worst_pair"] for row in pans)
    lines += [f"Goal (issue 26): EPE below one pixel on the pans away from occlusions: the worst pair's mean is "
              f"{worst:.3f} px: {'met' if worst < 1 else 'NOT met'}", "",
              "| photo | motion | frame | EPE visible | worst pair | EPE hidden | warping error: true flow, "
              "estimated | seconds |", "|---|---|---|---|---|---|---|---|"]
    for row in rows:
        hidden = f"{row['epe_hidden']:.2f}" if row["epe_hidden"] is not None else "-"
        lines.append(f"| {row['photo']} | {row['motion']} | {row['shape'][1]}x{row['shape'][0]} | "
                     f"{row['epe_visible']:.3f} | {row['epe_worst_pair']:.3f} | {hidden} | "
                     f"{row['warping_true']:.5f}, {row['warping_estimated']:.5f} | {row['seconds_per_flow']:.3f} |")
    return report.section("flow", "Optical flow on clips with known motion (`flow.py`)", run, "\n".join(lines))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--frames", type=int, default=24)
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--no-write", action="store_true", help="print the section only")
    args = parser.parse_args()
    run = run_facts("flow.py", sys.argv[1:], torch.device("cpu"), "float32 (OpenCV's DIS on 8-bit grey frames)")
    rows = [measure(photo, motion, args.frames, args.size) for photo in PHOTOS for motion in video.MOTIONS]
    finish_run(run)
    block = section(rows, run, args.frames, args.size)
    print(block)
    if not args.no_write:
        report.write_section(HERE / "results.md", block)


if __name__ == "__main__":
    main()
