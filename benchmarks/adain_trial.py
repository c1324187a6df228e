"""A 30-minute trial of arbitrary style transfer (AdaIN, Huang and Belongie 2017) on 2 CPU cores: does a decoder
trained this briefly paint recognisably, on photos and a painting it never saw?

    python benchmarks/adain_trial.py --minutes 30 --pictures build/adain.png

AdaIN paints any painting in one forward pass, with no training per painting:

1. the encoder, VGG-19 up to relu4_1 (the original weights, frozen), gives the photo's features c and the
   painting's features s;
2. adaptive instance normalisation gives each channel of c the mean and standard deviation of the same channel
   of s: t = sigma(s) (c - mu(c)) / sigma(c) + mu(s), over the positions;
3. a decoder, the only part trained, turns t back into a picture x = g(t).

The decoder is trained to minimise ||f(g(t)) - t||^2 / mean(t^2) (its picture has the features it was asked for)
plus lambda times the distance between the means and standard deviations of f_l(g(t)) and f_l(painting) at
relu1_1 ... relu4_1 (each divided by the painting's), on random crops of the training photos and of five
bundled paintings; the sixth, :data:`UNSEEN_PAINTING`, is kept out. Here the decoder mirrors the encoder with a
half of its channels (Huang and Belongie's has the encoder's), so that it trains on a CPU.

The trial trains for ``--minutes`` of wall time, then paints the held-out photos of painter_bench.py at 512 px with
a painting it trained on and with the unseen one, and scores each with the quality ratios (lower is better). It
writes its section of results.md (``adain-trial``) and, with --pictures, a contact sheet. Its code stays in this
script: AdaIN enters d2lstyle only if the trial paints recognisably.
"""

import argparse
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

import d2lstyle
from d2lstyle import images, painter, quality
from d2lstyle.devices import fast_layout
from d2lstyle.vgg import FeatureExtractor

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import report  # noqa: E402
from common import add_device_argument, finish_run, load_average, median, run_facts, timings  # noqa: E402
from painter_bench import contact_sheet, held_out_photos  # noqa: E402

SEEN_PAINTING = "starry_night"
UNSEEN_PAINTING = "water_lilies"
TRAINING_PAINTINGS = ("starry_night", "great_wave", "the_scream", "shipwreck", "composition_vii")
STYLE_LAYERS = ("relu1_1", "relu2_1", "relu3_1", "relu4_1")
CONTENT_LAYER = "relu4_1"
SIZE = 512


def adain(content, style, eps=1e-5):
    """Each channel of ``content`` (N, C, H, W) with the mean and standard deviation of the same channel of
    ``style`` (N, C, H', W'), over the positions.

    >>> c = torch.tensor([[[[1.0, 3.0]]]]); s = torch.tensor([[[[10.0, 20.0, 30.0, 40.0]]]])
    >>> adain(c, s, eps=0.0)   # c standardised is (-1, 1); s has mean 25 and standard deviation sqrt(125)
    tensor([[[[13.8197, 36.1803]]]])
    """
    mean_c, std_c = channel_stats(content, eps)
    mean_s, std_s = channel_stats(style, eps)
    return std_s * (content - mean_c) / std_c + mean_s


def channel_stats(X, eps=1e-5):
    """The mean and standard deviation (biased, with eps inside the root) of each channel over its positions."""
    mean = X.mean(dim=(2, 3), keepdim=True)
    return mean, ((X - mean).square().mean(dim=(2, 3), keepdim=True) + eps).sqrt()


def upsample_conv(in_channels, out_channels):
    return [nn.Upsample(scale_factor=2, mode="nearest"), painter.conv_layer(in_channels, out_channels, 3),
            nn.ReLU(inplace=True)]


class Decoder(nn.Sequential):
    """relu4_1's 512 channels back to a picture: the encoder's layout mirrored, with ``width`` channels where the
    encoder has 256 (width / 2 and width / 4 where it has 128 and 64); nearest upsampling, then convolution."""

    def __init__(self, width=128):
        wide, middle, narrow = width, width // 2, width // 4
        super().__init__(painter.conv_layer(512, wide, 3), nn.ReLU(inplace=True),
                         *upsample_conv(wide, wide), painter.conv_layer(wide, middle, 3), nn.ReLU(inplace=True),
                         *upsample_conv(middle, middle), painter.conv_layer(middle, narrow, 3), nn.ReLU(inplace=True),
                         *upsample_conv(narrow, narrow), painter.conv_layer(narrow, 3, 3))
        self.to(memory_format=torch.channels_last)


def train(vgg, device, minutes, crop, batch_size, style_weight, width, seed=0):
    """Train a decoder for ``minutes`` of wall time; returns (decoder, numbers)."""
    extractor = FeatureExtractor(vgg, STYLE_LAYERS)
    photos = [painter.shrink_for_crops(d2lstyle.load_image(path), crop, 4.0) for path in painter.training_photos()]
    paintings = [painter.shrink_for_crops(d2lstyle.load_image(d2lstyle.bundled_image(name)), crop, 4.0)
                 for name in TRAINING_PAINTINGS]
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        decoder = Decoder(width).to(device)
    optimizer = torch.optim.Adam(decoder.parameters(), lr=1e-3)
    history, loads = [], [load_average()]
    started = time.perf_counter()
    step = 0
    while time.perf_counter() - started < 60 * minutes:
        content = painter.photo_batch(photos, crop, batch_size, seed, step).to(device)
        style = painter.photo_batch(paintings, crop, batch_size, seed + 1, step).to(device)
        with torch.no_grad():
            content_features = extractor(fast_layout(content))[CONTENT_LAYER]
            style_features = extractor(fast_layout(style))
            target = adain(content_features, style_features[CONTENT_LAYER])
        picture = decoder(fast_layout(target))
        features = extractor(fast_layout(picture))
        content_loss = (features[CONTENT_LAYER] - target).square().mean() / target.square().mean()
        style_loss = 0.0
        for name in STYLE_LAYERS:
            mean_x, std_x = channel_stats(features[name])
            mean_s, std_s = channel_stats(style_features[name])
            style_loss = style_loss + ((mean_x - mean_s).square().mean() / mean_s.square().mean()
                                       + (std_x - std_s).square().mean() / std_s.square().mean())
        loss = content_loss + style_weight * style_loss
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        nn.utils.clip_grad_norm_(decoder.parameters(), 5.0)
        optimizer.step()
        step += 1
        history.append((float(content_loss.detach()), float(style_loss.detach())))
        if step % 100 == 0:
            loads.append(load_average())
            print(f"adain_trial: step {step}, {(time.perf_counter() - started) / 60:.1f} min, content "
                  f"{history[-1][0]:.3f}, style {history[-1][1]:.3f}", file=sys.stderr, flush=True)
    seconds = time.perf_counter() - started
    first, last = history[:50], history[-50:]
    numbers = {"seconds": seconds, "steps": step, "loads": loads,
               "content_first": mean(h[0] for h in first), "content_last": mean(h[0] for h in last),
               "style_first": mean(h[1] for h in first), "style_last": mean(h[1] for h in last)}
    return decoder.eval(), numbers


def mean(values):
    values = list(values)
    return sum(values) / len(values)


def paint(decoder, extractor, photo, painting, size, device):
    """The photo painted in the painting's style at ``size`` (its longer side): one pass of encoder, AdaIN,
    decoder. The painting is seen at 512 px, as the painter's loss sees it."""
    painted_shape = images.shape_for_long_side(photo.size, size)
    with torch.inference_mode():
        x = images.preprocess(photo, size).to(device)
        s = images.preprocess(painting, 512).to(device)
        t = adain(extractor(fast_layout(x))[CONTENT_LAYER], extractor(fast_layout(s))[CONTENT_LAYER])
        y = decoder(fast_layout(t))
        if tuple(y.shape[-2:]) != tuple(painted_shape):  # the encoder's poolings floor odd sizes
            y = F.interpolate(y, size=painted_shape, mode="bilinear", align_corners=False)
    return images.postprocess(y)


def run(args, argv):
    device = d2lstyle.pick_device(args.device)
    results = run_facts("adain_trial.py", argv, device, "float32")
    vgg = d2lstyle.load_vgg19("original").to(device).requires_grad_(False).eval()
    vgg = painter.channels_last_network(vgg, device)
    decoder, results["training"] = train(vgg, device, args.minutes, args.crop, args.batch_size, args.style_weight,
                                         args.width)
    results["settings"] = {"crop": args.crop, "batch_size": args.batch_size, "style_weight": args.style_weight,
                           "width": args.width, "parameters": sum(p.numel() for p in decoder.parameters())}
    extractor = FeatureExtractor(vgg, [CONTENT_LAYER])
    photos = held_out_photos()
    size = 96 if args.quick else SIZE
    if args.quick:
        photos = dict(list(photos.items())[:1])
    rows, pictures = [], {}
    for painting_name in (SEEN_PAINTING, UNSEEN_PAINTING):
        painting = d2lstyle.load_image(d2lstyle.bundled_image(painting_name))
        for name, photo in photos.items():
            picture = paint(decoder, extractor, photo, painting, size, device)
            seconds = median(timings(lambda: paint(decoder, extractor, photo, painting, size, device), device,
                                     args.runs))
            score = quality.measure(picture, photo, painting)
            rows.append({"painting": painting_name, "photo": name, "style": score.style, "content": score.content,
                         "seconds": seconds})
            pictures[name, painting_name] = picture
            print(f"adain_trial: {rows[-1]}", file=sys.stderr, flush=True)
    results["rows"], results["size"] = rows, size
    finish_run(results)
    if args.pictures:
        Path(args.pictures).parent.mkdir(parents=True, exist_ok=True)
        contact_sheet(photos, pictures).save(args.pictures)
    return results


def section(results):
    training, settings, rows = results["training"], results["settings"], results["rows"]
    lines = [f"AdaIN (Huang and Belongie 2017): VGG-19 to relu4_1 (original weights, frozen), adaptive instance "
             f"normalisation, and a decoder of {settings['parameters']:,} weights (width {settings['width']}) trained "
             f"for {training['seconds'] / 60:.1f} min wall ({training['steps']} steps of {settings['batch_size']} "
             f"photo crops and {settings['batch_size']} painting crops of {settings['crop']} px, style weight "
             f"{settings['style_weight']:g}; load average during training {min(training['loads']):.1f} to "
             f"{max(training['loads']):.1f}). Trained on five bundled paintings; `{UNSEEN_PAINTING}` never seen. "
             f"Relative losses over the first and last 50 steps: content {training['content_first']:.3f} -> "
             f"{training['content_last']:.3f}, style {training['style_first']:.3f} -> {training['style_last']:.3f}. "
             f"Quality at {results['size']} px with the original VGG-19 (lower is better).", "",
             "| painting | photo | style ratio | content ratio | seconds |", "|---|---|---|---|---|"]
    for row in rows:
        lines.append(f"| {row['painting']} | {row['photo']} | {row['style']:.3f} | {row['content']:.3f} | "
                     f"{row['seconds']:.3f} |")
    for name in (SEEN_PAINTING, UNSEEN_PAINTING):
        chosen = [row for row in rows if row["painting"] == name]
        lines.append("")
        lines.append(f"- `{name}`: mean style {sum(r['style'] for r in chosen) / len(chosen):.3f}, mean content "
                     f"{sum(r['content'] for r in chosen) / len(chosen):.3f}.")
    return report.section("adain-trial", "A 30-minute trial of arbitrary style transfer (`adain_trial.py`)", results,
                          "\n".join(line for line in lines))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=30.0, help="training time, wall clock (default 30)")
    parser.add_argument("--crop", type=int, default=128, help="side of the training crops (default 128)")
    parser.add_argument("--batch-size", type=int, default=4, help="photo crops per step (default 4)")
    parser.add_argument("--style-weight", type=float, default=1.0, help="lambda (default 1)")
    parser.add_argument("--width", type=int, default=128, help="the decoder's widest layer (default 128)")
    add_device_argument(parser)
    parser.add_argument("--runs", type=int, default=3, help="timed runs per photo (median)")
    parser.add_argument("--pictures", default=None, metavar="PNG", help="write a contact sheet of every result")
    parser.add_argument("--out", default=str(HERE / "results.md"), help="the results file to update")
    parser.add_argument("--no-write", action="store_true", help="print the section, write nothing")
    parser.add_argument("--quick", action="store_true", help="a smoke test: 0.1 minutes, one photo, 96 px; "
                                                             "writes nothing")
    args = parser.parse_args(argv)
    if args.quick:
        args.minutes, args.no_write, args.runs = min(args.minutes, 0.1), True, 1
    results = run(args, sys.argv[1:] if argv is None else argv)
    block = section(results)
    print(block)
    if not args.no_write:
        report.write_section(args.out, block)


if __name__ == "__main__":
    main()
