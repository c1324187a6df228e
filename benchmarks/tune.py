"""How the ``default`` recipe was chosen: L-BFGS settings and schedules against
the d2l recipe's final loss (not part of ``make bench``; see README.md).

    python benchmarks/tune.py --side 256
    python benchmarks/tune.py --side 512 --variants c2f-0.5-h10-s120,full-h20

For each variant it prints the evaluations (forward + backward passes) and
the wall time until the loss at full size first falls to the d2l recipe's
500-step loss, and a cost in *full-size evaluations* (each evaluation weighted
by its convolution FLOPs relative to one at full size), which does not depend
on how busy the machine is.
"""

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import d2lstyle  # noqa: E402
from d2lstyle import transfer  # noqa: E402
from d2lstyle.vgg import min_input_size  # noqa: E402

from common import CONTENT, STYLE, step_flops  # noqa: E402


DEFAULT_VARIANTS = ("full-h5,full-h10,full-h20,full-h50,full-h10-plain,full-h20-plain,"
                    "c2f-0.5-h20-s80,c2f-0.5-h20-s120,c2f-0.5-h20-s160,c2f-0.5-h20-s200,"
                    "c2f-0.25-0.5-h20-s120,c2f-0.25-0.5-h20-s180,c2f-0.25-0.5-h20-s240")


def variant(default, name):
    """A recipe from a name such as ``c2f-0.5-h20-s120`` or ``full-h10-plain``.

    ``full``: L-BFGS at full size only (up to 200 evaluations); ``c2f-A-B``:
    coarse to fine through scales A, B, 1.0; ``hN``: L-BFGS history N;
    ``sN``: N evaluations in all, shared equally by the scales (as the
    ``default`` recipe does); ``plain``: no line search, fixed step lr 1.
    """
    parts = name.split("-")
    changes = {"scales": (1.0,), "steps": 200}
    if parts[0] == "c2f":
        scales = []
        while parts[1][0].isdigit():
            scales.append(float(parts.pop(1)))
        changes["scales"] = tuple(scales) + (1.0,)
    for part in parts[1:]:
        if part.startswith("h"):
            changes["lbfgs_history"] = int(part[1:])
        elif part.startswith("s"):
            changes["steps"] = int(part[1:])
        elif part == "plain":
            changes["line_search"] = None
        else:
            raise ValueError(f"unknown part {part!r} in {name!r}")
    return default.replace(**changes)


def cost(history, shapes, full):
    """Full-size-equivalent evaluations up to each recorded step."""
    total, costs = 0.0, []
    for scale in history["scale"]:
        total += shapes[scale] / full
        costs.append(total)
    return costs


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--side", type=int, default=256)
    parser.add_argument("--variants", default="", help="comma-separated names (default: all)")
    parser.add_argument("--d2l-steps", type=int, default=500)
    parser.add_argument("--target", type=float, default=None, help="skip the d2l run and use this loss")
    parser.add_argument("--json", default=None, help="append results to this file")
    args = parser.parse_args()
    content = d2lstyle.load_image(d2lstyle.bundled_image(CONTENT))
    style = d2lstyle.load_image(d2lstyle.bundled_image(STYLE))
    vgg = d2lstyle.load_vgg19("random")
    default = d2lstyle.get_recipe("default").replace(image_size=args.side)
    shape, _ = transfer.working_shapes(default, content, style)
    full = step_flops(shape, "conv5_1")

    if args.target is None:
        started = time.perf_counter()
        reference = d2lstyle.stylise(content, style, d2lstyle.get_recipe("d2l").replace(
            image_size=args.side, steps=args.d2l_steps), vgg, progress=False)
        target = reference.final_loss
        print(f"d2l recipe at {args.side} px {shape}: {args.d2l_steps} steps -> {target:.6g} in "
              f"{time.perf_counter() - started:.0f} s", flush=True)
    else:
        target = args.target
    for name in (args.variants or DEFAULT_VARIANTS).split(","):
        recipe = variant(default, name)
        shapes = {s: step_flops(transfer.shape_at_scale(shape, s, min_input_size(recipe.layers())), "conv5_1")
                  for s in recipe.scales}

        def stop(info):
            return info.scale == 1.0 and info.losses["total"] <= target

        result = d2lstyle.stylise(content, style, recipe, vgg, progress=False, callbacks=(stop,))
        h = result.history
        costs = cost(h, shapes, full)
        reached = next((i for i, (s, t) in enumerate(zip(h["scale"], h["total"])) if s == 1.0 and t <= target), None)
        coarse = sum(1 for s in h["scale"] if s < 1.0)
        if reached is None:
            line = (f"{name:24s} did not reach {target:.5g} in {len(h['step'])} evaluations "
                    f"(final {result.final_loss:.5g}, {h['seconds'][-1]:.0f} s)")
        else:
            line = (f"{name:24s} {reached + 1:4d} evaluations ({coarse} coarse) = {costs[reached]:6.1f} full-size, "
                    f"{h['seconds'][reached]:6.1f} s")
        print(line, flush=True)
        if args.json:
            with open(args.json, "a") as file:
                file.write(json.dumps({"side": args.side, "name": name, "target": target,
                                       "evaluations": None if reached is None else reached + 1,
                                       "coarse_evaluations": coarse,
                                       "full_size_cost": None if reached is None else costs[reached],
                                       "seconds": None if reached is None else h["seconds"][reached]}) + "\n")


if __name__ == "__main__":
    main()
