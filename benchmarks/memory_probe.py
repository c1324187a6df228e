"""Peak memory of one run, measured in a fresh process (run by bench.py).

    python benchmarks/memory_probe.py --side 512 --recipe default --steps 30
    python benchmarks/memory_probe.py --side 512 --baseline --steps 3

Prints one JSON line: the process's resident memory just before the run, its
peak (``ru_maxrss``) after it, and d2lstyle's own estimate
(:func:`d2lstyle.transfer.estimate_memory_bytes`). A fresh process per
measurement, because ``ru_maxrss`` only ever grows and torch keeps freed
memory in its allocator.
"""

import argparse
import json
import resource
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import torch  # noqa: E402

import d2lstyle  # noqa: E402
from d2lstyle import transfer  # noqa: E402

from common import CONTENT, STYLE, TextbookBaseline  # noqa: E402


def rss_bytes():
    """The process's resident memory now."""
    with open("/proc/self/statm") as file:
        return int(file.read().split()[1]) * resource.getpagesize()


def peak_bytes():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--side", type=int, required=True)
    parser.add_argument("--recipe", default="default")
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--single-scale", action="store_true", help="optimise at full size only")
    parser.add_argument("--baseline", action="store_true", help="the textbook baseline instead of d2lstyle")
    args = parser.parse_args()

    content = d2lstyle.load_image(d2lstyle.bundled_image(CONTENT))
    style = d2lstyle.load_image(d2lstyle.bundled_image(STYLE))
    recipe = d2lstyle.get_recipe(args.recipe).replace(image_size=args.side, steps=args.steps)
    if args.single_scale:
        recipe = recipe.replace(scales=(1.0,))
    vgg = d2lstyle.load_vgg19("random")
    content_shape, style_shape = transfer.working_shapes(recipe, content, style)
    estimate = transfer.estimate_memory_bytes(content_shape, recipe)
    if args.baseline:
        content_x = d2lstyle.preprocess(content, content_shape)
        style_x = d2lstyle.preprocess(style, style_shape)
        before = rss_bytes()
        baseline = TextbookBaseline(vgg, content_x, style_x)
        for _ in range(args.steps):
            baseline.step()
        evaluations = args.steps
    else:
        before = rss_bytes()
        result = d2lstyle.stylise(content, style, recipe, vgg, device="cpu", progress=False)
        evaluations = len(result.history["step"])
    peak = peak_bytes()
    print(json.dumps({
        "side": args.side, "shape": list(content_shape), "recipe": "textbook" if args.baseline else recipe.name,
        "optimizer": "adam" if args.baseline else recipe.optimizer,
        "lbfgs_history": recipe.lbfgs_history if recipe.optimizer == "lbfgs" and not args.baseline else None,
        "scales": [1.0] if args.baseline else list(recipe.scales), "evaluations": evaluations, "rss_before": before, "peak": peak,
        "increase": peak - before, "estimate": estimate, "torch_threads": torch.get_num_threads(),
    }))


if __name__ == "__main__":
    main()
