"""Peak memory of one run, measured in a fresh process (run by bench.py).

    python benchmarks/memory_probe.py --side 512 --recipe default --steps 14 --lbfgs-history 10
    python benchmarks/memory_probe.py --side 512 --baseline --steps 3

Prints one JSON line: the process's resident memory just before the run
(after handing freed heap back to the system), the highest resident memory
seen during the run (sampled every 2 ms by a thread), the process's peak
(``ru_maxrss``), and d2lstyle's own estimate
(:func:`d2lstyle.devices.estimate_memory_bytes`). A fresh process per
measurement, because ``ru_maxrss`` only ever grows and freed memory is not
always returned to the system.
"""

import argparse
import ctypes
import json
import resource
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import torch  # noqa: E402

import d2lstyle  # noqa: E402
from d2lstyle import devices, transfer  # noqa: E402

from common import PeakSampler, TextbookBaseline, load_pair, rss_bytes  # noqa: E402


def peak_bytes():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux


def trim_heap():
    """Give freed heap memory back to the system (glibc), so that the baseline is honest."""
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except OSError:
        pass


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--side", type=int, required=True)
    parser.add_argument("--recipe", default="default")
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--single-scale", action="store_true", help="optimise at full size only")
    parser.add_argument("--lbfgs-history", type=int, default=None,
                        help="use L-BFGS (strong Wolfe, lr 1) with this history instead of the recipe's optimiser")
    parser.add_argument("--baseline", action="store_true", help="the textbook baseline instead of d2lstyle")
    args = parser.parse_args()

    content, style = load_pair()
    recipe = d2lstyle.get_recipe(args.recipe).replace(image_size=args.side, steps=args.steps)
    if args.single_scale:
        recipe = recipe.replace(scales=(1.0,))
    if args.lbfgs_history is not None:
        recipe = recipe.replace(optimizer="lbfgs", lr=1.0, lr_decay_every=0, line_search="strong_wolfe",
                                lbfgs_history=args.lbfgs_history)
    vgg = d2lstyle.load_vgg19("original")
    content_shape, style_shape = transfer.working_shapes(recipe, content, style)
    estimate = devices.estimate_memory_bytes(content_shape, recipe)
    trim_heap()
    if args.baseline:
        content_x = d2lstyle.preprocess(content, content_shape)
        style_x = d2lstyle.preprocess(style, style_shape)
        before = rss_bytes()
        sampler = PeakSampler()
        sampler.start()
        d2l = d2lstyle.get_recipe("d2l")
        baseline = TextbookBaseline(vgg, content_x, style_x, weights=(d2l.content_weight, d2l.style_weight, d2l.tv_weight))
        for _ in range(args.steps):
            baseline.step()
        evaluations = args.steps
    else:
        before = rss_bytes()
        sampler = PeakSampler()
        sampler.start()
        result = d2lstyle.stylise(content, style, recipe, vgg, device="cpu", progress=False)
        evaluations = len(result.history["step"])
    run_peak = sampler.stop()
    print(json.dumps({
        "side": args.side, "shape": list(content_shape), "recipe": "textbook" if args.baseline else recipe.name,
        "optimizer": "adam" if args.baseline else recipe.optimizer,
        "lbfgs_history": recipe.lbfgs_history if recipe.optimizer == "lbfgs" and not args.baseline else None,
        "scales": [1.0] if args.baseline else list(recipe.scales), "evaluations": evaluations, "rss_before": before, "peak": run_peak,
        "ru_maxrss": peak_bytes(), "increase": run_peak - before, "estimate": estimate, "torch_threads": torch.get_num_threads(),
    }))


if __name__ == "__main__":
    main()
