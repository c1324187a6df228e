"""Time and evaluations to the quality target: the default recipe and pastiche 1.6.0, two rounds, alternating.

    python benchmarks/vs_pastiche.py [SIDE]     # default 512

The quality is measured after every evaluation (``d2lstyle.quality``; the measuring time is not counted).
Prints, per run, (seconds, evaluations) when the target was first met, and saves each contender's first result
as /tmp/bench/<name>-<side>.png. A short stand-in for part 2 of bench.py without the d2l recipe's 500 steps.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import d2lstyle  # noqa: E402
from d2lstyle import quality, transfer  # noqa: E402

import bench  # noqa: E402
from common import load_average, load_pair  # noqa: E402


def main(side):
    content, style = load_pair()
    vgg = d2lstyle.load_vgg19("original")
    default = d2lstyle.get_recipe("default").replace(image_size=side, steps=300)
    shape, _ = transfer.working_shapes(default, content, style)
    scorer = quality.Scorer(content, style, shape)
    print("load before", load_average(), flush=True)
    for round_ in range(2):
        order = ["default", "pastiche"] if round_ == 0 else ["pastiche", "default"]  # alternate who goes first
        for name in order:
            if name == "default":
                clock, image = bench.run_default(default, content, style, vgg, d2lstyle.pick_device("cpu"), scorer, 1)
            else:
                clock, image = bench.run_pastiche(side, scorer, 1, 300)
            print(name, round_ + 1, "reached (seconds, evaluations):", clock.reached,
                  "last:", [round(v, 3) for v in clock.curve[-1]], flush=True)
            if round_ == 0:
                os.makedirs("/tmp/bench", exist_ok=True)
                d2lstyle.save_image(image, f"/tmp/bench/{name}-{side}.png")
    print("load after", load_average(), flush=True)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 512)
