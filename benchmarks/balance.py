"""The default's balance for each pair: q for the 30 bundled pairs, and trials of the cap on the hardest ones.

    python benchmarks/balance.py                       (q for every pair, then the trials below; about 6 minutes)
    python benchmarks/balance.py --trials "" --no-write   (q only, a minute)

The default recipe multiplies beta by min(1, cap / q) (``balance_cap``; ``d2lstyle.objective.balance_factor``),
where q = L_style(p) / L_content(a) is the photo's unweighted style term over the painting's unweighted content
term. This script prints q and that factor for every bundled photo with every bundled painting at 512 px, then
runs the default with several caps on a few pairs (the trials that chose the cap) and measures each result with
``d2lstyle.quality`` (style ratio <= 0.25 and content ratio <= 0.55 is the gallery's goal). Everything runs on the
CPU in float32, one run at a time. Writes its section of results.md (``balance``).
"""

import argparse
import sys
import time
from pathlib import Path

import torch

import d2lstyle
from d2lstyle import objective, quality, transfer

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT / "tools"))

import report  # noqa: E402
from common import finish_run, run_facts  # noqa: E402
from make_gallery import GOAL_CONTENT, GOAL_STYLE  # noqa: E402

# photo:painting@cap,cap,...: the cat with the Great Wave (q the second largest) with a cap either side of the
# default's, and with The Scream (the hardest pair to paint: its style ratio is the highest) with a lower cap. The
# default's cap on every pair is the gallery (tools/make_gallery.py); the pairs without a cap (beta = 100 everywhere)
# are the gallery of commit 37f7a60.
TRIALS = "chelsea:great_wave@0.25,0.35;chelsea:the_scream@0.25"


def bundled(kind):
    return sorted(path.stem for path in (ROOT / "images" / kind).glob("*.jpg"))


def q_of(photo, painting, recipe, vgg):
    """q for one pair at the recipe's size, as ``stylise`` measures it (objective.style_to_content)."""
    extractor = d2lstyle.FeatureExtractor(vgg, recipe.layers())
    content_shape, style_shape = transfer.working_shapes(recipe, photo, painting, extractor.min_size)
    p = d2lstyle.preprocess(photo, content_shape)
    targets = objective.compute_targets(extractor, p, d2lstyle.preprocess(painting, style_shape), recipe)
    return objective.style_to_content(extractor, p, [d2lstyle.preprocess(painting, content_shape)], targets, recipe)


def run(args, argv):
    torch.manual_seed(0)
    vgg = d2lstyle.load_vgg19("original")
    facts = run_facts("balance.py", argv, torch.device("cpu"), "float32")
    base = d2lstyle.get_recipe("default").replace(image_size=args.size, precision="float32")
    scales = []
    for photo_name in bundled("content"):
        photo = d2lstyle.load_image(d2lstyle.bundled_image(photo_name))
        for painting_name in bundled("style"):
            q = q_of(photo, d2lstyle.load_image(d2lstyle.bundled_image(painting_name)), base, vgg)
            scales.append({"photo": photo_name, "painting": painting_name, "q": q,
                           "factor": min(1.0, base.balance_cap / q)})
            print(f"balance: {photo_name}/{painting_name}: q {q:.3f}, factor {scales[-1]['factor']:.2f}",
                  file=sys.stderr, flush=True)
    trials = []
    for trial in filter(None, args.trials.split(";")):
        pair, caps = trial.split("@")
        photo_name, painting_name = pair.split(":")
        photo = d2lstyle.load_image(d2lstyle.bundled_image(photo_name))
        painting = d2lstyle.load_image(d2lstyle.bundled_image(painting_name))
        for cap in (float(value) for value in caps.split(",")):
            started = time.perf_counter()
            result = d2lstyle.stylise(photo, painting, base.replace(balance_cap=cap), vgg, device="cpu",
                                      progress=False)
            seconds = time.perf_counter() - started
            score = quality.measure(result.image, photo, painting)
            trials.append({"photo": photo_name, "painting": painting_name, "cap": cap, "seconds": seconds,
                           "style_weight": result.recipe.style_weight, "style": score.style,
                           "content": score.content})
            print(f"balance: {photo_name}/{painting_name} cap {cap:g}: beta {result.recipe.style_weight:.1f}, "
                  f"{score}, {seconds:.0f} s", file=sys.stderr, flush=True)
    facts.update(size=args.size, cap=base.balance_cap, scales=scales, trials=trials)
    return finish_run(facts)


def section(results):
    lines = [f"The default recipe at {results['size']} px multiplies beta = 100 by min(1, cap / q), cap = "
             f"{results['cap']:g}, where q = L_style(p) / L_content(a) (`d2lstyle.objective.style_to_content`). "
             "q and the factor for every bundled pair:", "",
             "| photo | painting | q | factor |", "|---|---|---|---|"]
    lines += [f"| {row['photo']} | {row['painting']} | {row['q']:.3f} | {row['factor']:.2f} |"
              for row in results["scales"]]
    if results["trials"]:
        lines += ["", f"Trials of the cap (one run each, the default's 60 evaluations; cap 0: beta = 100 "
                      f"unchanged). The gallery's goal: style ratio <= {GOAL_STYLE}, content ratio <= "
                      f"{GOAL_CONTENT}.", "",
                  "| photo | painting | cap | beta that ran | seconds | style | content | goal |",
                  "|---|---|---|---|---|---|---|---|"]
        lines += [f"| {row['photo']} | {row['painting']} | {row['cap']:g} | {row['style_weight']:.1f} | "
                  f"{row['seconds']:.0f} | {row['style']:.3f} | {row['content']:.3f} | "
                  f"{'met' if row['style'] <= GOAL_STYLE and row['content'] <= GOAL_CONTENT else 'NOT met'} |"
                  for row in results["trials"]]
    return report.section("balance", "The balance for each pair (`balance.py`)", results, "\n".join(lines))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=512, help="longer side in pixels (default 512)")
    parser.add_argument("--trials", default=TRIALS, help=f"photo:painting@cap,...;... (default {TRIALS}); "
                                                         "empty: q only")
    report.add_output_arguments(parser, HERE / "results.md")
    args = parser.parse_args(argv)
    report.publish(args, section(run(args, sys.argv[1:] if argv is None else argv)))


if __name__ == "__main__":
    main()
