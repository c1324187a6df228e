"""The exercise checkers accept the reference answers and name the typical wrong ones.

Each checker gets the reference implementation (it must pass and print one
line), a few legitimate variants (they must pass too), and at least three
"mutants": typical wrong answers a learner writes. A mutant must fail with an
AssertionError whose message contains the phrase that names its mistake.
"""

import math
import re

import numpy as np
import pytest
import torch
from PIL import Image
from torch import nn

import d2lstyle
import d2lstyle.colour
from d2lstyle import diagnosis, exercises, images, recipes, transfer, vgg

MEAN = torch.tensor(images.IMAGENET_MEAN).view(1, 3, 1, 1)
STD = torch.tensor(images.IMAGENET_STD).view(1, 3, 1, 1)


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """The checkers use tiny tensors: extra threads only add overhead on a busy machine."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


# --- reference answers (what a notebook's solution cell defines) ----------------


def resize_to_long_side(img, long_side):
    scale = long_side / max(img.size)
    return img.resize((round(img.width * scale), round(img.height * scale)), Image.Resampling.LANCZOS)


def extract_features(X, net, layers):
    wanted = {vgg.LAYER_INDEX[name]: name for name in layers}
    features = {}
    for index, layer in enumerate(net[: max(wanted) + 1]):
        X = layer(X)
        if index in wanted:
            features[wanted[index]] = X.clone()  # a copy survives the in-place ReLU that comes next
    return features


# The references of notebook 06's exercises live in d2lstyle.transfer.
decayed_learning_rate = transfer.decayed_learning_rate
training_step = transfer.training_step
make_closure = transfer.make_closure


REFERENCES = {
    "check_resize_to_long_side": resize_to_long_side,
    "check_preprocess": d2lstyle.preprocess,
    "check_postprocess": d2lstyle.postprocess,
    "check_vgg19_layer_names": lambda: list(d2lstyle.LAYER_NAMES),
    "check_extract_features": lambda X, net, layers: d2lstyle.FeatureExtractor(net, layers)(X),
    "check_content_loss": d2lstyle.content_loss,
    "check_gram_matrix": d2lstyle.gram_matrix,
    "check_style_loss": d2lstyle.style_loss,
    "check_tv_loss": d2lstyle.tv_loss,
    "check_synthesized_image": transfer.SynthesizedImage,
    "check_decayed_learning_rate": decayed_learning_rate,
    "check_training_step": training_step,
    "check_make_closure": make_closure,
    "check_match_histogram": d2lstyle.colour.match_histogram,
    "check_guided_gram_matrix": d2lstyle.losses.guided_gram_matrix,
}


@pytest.mark.parametrize("checker", sorted(REFERENCES))
def test_reference_passes_with_one_line(checker, capsys):
    getattr(exercises, checker)(REFERENCES[checker])
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 1 and lines[0].endswith("checks passed."), lines


# --- legitimate variants that must pass ------------------------------------------


def preprocess_torchvision(img, image_shape):
    """torchvision's usual pipeline: it stretches to the shape instead of cropping."""
    from torchvision import transforms

    pipeline = transforms.Compose([transforms.Resize(image_shape), transforms.ToTensor(),
                                   transforms.Normalize(images.IMAGENET_MEAN, images.IMAGENET_STD)])
    return pipeline(img).unsqueeze(0)


def postprocess_truncating(X):
    pixels = (X.detach()[0] * STD[0] + MEAN[0]).clamp(0, 1)
    return Image.fromarray((pixels.permute(1, 2, 0).numpy() * 255).astype(np.uint8))


def postprocess_torchvision(X):
    from torchvision import transforms

    return transforms.ToPILImage()((X.detach()[0] * STD[0] + MEAN[0]).clamp(0, 1))


def resize_truncating_bilinear(img, long_side):
    scale = long_side / max(img.size)
    return img.resize((int(img.width * scale), int(img.height * scale)), Image.Resampling.BILINEAR)


class SynthesizedImageReturningCopy(nn.Module):
    def __init__(self, initial):
        super().__init__()
        self.weight = nn.Parameter(initial.clone().detach())

    def forward(self):
        return self.weight * 1


def training_step_zeroing_module(synthesized, optimizer, loss_fn):
    synthesized.zero_grad()
    loss = loss_fn(synthesized())
    loss.backward()
    optimizer.step()
    return float(loss.detach())


def match_histogram_cholesky(painting, photo):
    """The paper's other square root: A = L_p L_a^-1 with the Cholesky factors, Sigma = L L^T."""
    mean_a, cov_a = d2lstyle.colour.colour_statistics(painting)
    mean_p, cov_p = d2lstyle.colour.colour_statistics(photo)
    A = torch.linalg.cholesky(cov_p) @ torch.linalg.inv(torch.linalg.cholesky(cov_a))
    colours = A @ painting.reshape(3, -1) + (mean_p - A @ mean_a)[:, None]
    return colours.reshape(painting.shape)


def guided_gram_by_hand(X, T):
    _, channels, height, width = X.shape
    F = (X * T).reshape(channels, height * width)
    return F @ F.T / (channels * (T ** 2).sum())


VARIANTS = [
    ("check_resize_to_long_side", resize_truncating_bilinear),
    ("check_preprocess", preprocess_torchvision),
    ("check_postprocess", postprocess_truncating),
    ("check_postprocess", postprocess_torchvision),
    ("check_extract_features", extract_features),
    ("check_content_loss", lambda Y_hat, Y: torch.nn.functional.mse_loss(Y_hat, Y.detach())),
    ("check_gram_matrix", lambda X: torch.einsum("bchw,bdhw->cd", X, X) / X[0].numel()),
    ("check_synthesized_image", SynthesizedImageReturningCopy),
    ("check_training_step", training_step_zeroing_module),
    ("check_match_histogram", match_histogram_cholesky),
    ("check_guided_gram_matrix", guided_gram_by_hand),
]


@pytest.mark.parametrize("checker, candidate", VARIANTS)
def test_legitimate_variant_passes(checker, candidate, capsys):
    getattr(exercises, checker)(candidate)
    assert "checks passed." in capsys.readouterr().out


# --- mutants: typical wrong answers ----------------------------------------------


def thumbnail_in_place(img, long_side):
    img.thumbnail((long_side, long_side))


def thumbnail_copy(img, long_side):
    copy = img.copy()
    copy.thumbnail((long_side, long_side))
    return copy


def resize_scaled(img, width_scale, height_scale):
    return img.resize((round(img.width * width_scale), round(img.height * height_scale)))


RESIZE_MUTANTS = [
    (thumbnail_in_place, "Image.thumbnail works in place"),
    (thumbnail_copy, "only ever shrinks"),
    (lambda img, n: img.resize((round(img.height * n / max(img.size)), round(img.width * n / max(img.size)))),
     "width and height are swapped"),
    (lambda img, n: img.resize((n, n)), "squashed into a square"),
    (lambda img, n: resize_scaled(img, n / min(img.size), n / min(img.size)), "the shorter side became long_side"),
    (lambda img, n: resize_scaled(img, n / img.width, n / img.width), "landscape pictures only"),
    (lambda img, n: img.copy(), "was not resized"),
    (lambda img, n: resize_to_long_side(img, n).transpose(Image.Transpose.FLIP_LEFT_RIGHT), "resized copy"),
]


def preprocess_mutant(scale=255.0, mean=MEAN, std=STD, layout="permute", batch=True, swap=False, dtype=torch.float32):
    """A preprocess with one typical mistake switched on."""

    def preprocess(img, image_shape):
        height, width = image_shape
        img = img.resize((height, width) if swap else (width, height))
        array = np.asarray(img, dtype=np.float32) / scale
        if layout == "permute":
            x = torch.from_numpy(array).permute(2, 0, 1)
            x = (x.unsqueeze(0) - mean) / std
        elif layout == "reshape":
            x = (torch.from_numpy(array).reshape(1, 3, height, width) - mean) / std
        else:  # channels last
            x = (torch.from_numpy(array) - mean.view(3)) / std.view(3)
            x = x.unsqueeze(0)
        x = x if batch else x[0]
        return x.to(dtype)

    return preprocess


def preprocess_own_statistics(img, image_shape, dims):
    """Normalises with the picture's own mean and std: per channel (dims (2, 3)) or over all values."""
    x = preprocess_mutant(mean=torch.zeros(1, 3, 1, 1), std=torch.ones(1, 3, 1, 1))(img, image_shape)
    return (x - x.mean(dim=dims, keepdim=True)) / x.std(dim=dims, keepdim=True)


PREPROCESS_MUTANTS = [
    (preprocess_mutant(scale=1.0), "not scaled to [0, 1]"),
    (preprocess_mutant(mean=torch.zeros(1, 3, 1, 1), std=torch.ones(1, 3, 1, 1)), "was not normalised"),
    (preprocess_mutant(mean=torch.full((1, 3, 1, 1), 0.5), std=torch.full((1, 3, 1, 1), 0.5)), "mean 0.5 and std 0.5"),
    (preprocess_mutant(mean=MEAN.flip(1), std=STD.flip(1)), "applied to the wrong channels"),
    (preprocess_mutant(batch=False), "batch dimension is missing"),
    (preprocess_mutant(layout="last"), "the channels are last"),
    (preprocess_mutant(layout="reshape"), "scrambles them"),
    (preprocess_mutant(swap=True), "height and width are swapped"),
    (preprocess_mutant(dtype=torch.float64), "convert it to float32"),
    (lambda img, shape: preprocess_mutant()(Image.fromarray(np.asarray(img)[:, :, ::-1].copy()), shape), "BGR order"),
    (lambda img, shape: np.asarray(img), "return a torch tensor"),
    (preprocess_mutant(mean=MEAN.view(3), std=STD.view(3)), "view(1, 3, 1, 1)"),
    (lambda img, shape: preprocess_own_statistics(img, shape, dims=(2, 3)), "the picture's own mean and std"),
    (lambda img, shape: preprocess_own_statistics(img, shape, dims=(1, 2, 3)), "the picture's own mean and std"),
]


def postprocess_mutant(denormalize=True, clamp=True, scale=255, detach=True, layout="permute", in_place=False):
    """A postprocess with one typical mistake switched on."""

    def postprocess(X):
        X = X.detach() if detach else X
        if in_place:
            X = X.mul_(STD).add_(MEAN)
        elif denormalize:
            X = X * STD + MEAN
        if clamp:
            X = X.clamp(0, 1)
        pixels = X[0].permute(1, 2, 0) if layout == "permute" else X[0].reshape(X.shape[2], X.shape[3], 3)
        return Image.fromarray((pixels * scale).round().numpy().astype(np.uint8))

    return postprocess


POSTPROCESS_MUTANTS = [
    (postprocess_mutant(denormalize=False), "normalisation was not undone"),
    (postprocess_mutant(clamp=False), "were not clamped"),
    (postprocess_mutant(scale=1), "not multiplied by 255"),
    (postprocess_mutant(detach=False), "detach the tensor first"),
    (postprocess_mutant(in_place=True), "changed X in place"),
    (postprocess_mutant(layout="reshape"), "scrambles the pixels"),
    (lambda X: (X * STD + MEAN).clamp(0, 1), "return a PIL image"),
]


def layer_names(block_sizes=(2, 2, 4, 4, 4), pools=True, relus=True, first=1, pool_name="pool{b}"):
    """VGG layer names with one typical mistake switched on."""
    names = []
    for block, size in enumerate(block_sizes, start=first):
        for conv in range(first, size + first):
            names += [f"conv{block}_{conv}"] + ([f"relu{block}_{conv}"] if relus else [])
        names += [pool_name.format(b=block)] if pools else []
    return names


LAYER_NAMES_MUTANTS = [
    (lambda: layer_names(pools=False), "no pooling layers"),
    (lambda: layer_names(relus=False), "no ReLU layers"),
    (lambda: layer_names(block_sizes=(2, 2, 3, 3, 3)), "VGG-16"),
    (lambda: layer_names(first=0), "numbered from 1"),
    (lambda: layer_names(pool_name="pool_{b}"), "name 4 is 'pool_1'"),
    (lambda: layer_names()[:-1], "36 names"),
    (lambda: " ".join(layer_names()), "return a list of strings"),
]


def features_mutant(copy=True, stop="deepest", offset=0, grad=True, only_requested=True):
    """An extract_features with one typical mistake switched on."""

    def extract(X, net, layers):
        wanted = {vgg.LAYER_INDEX[name]: name for name in layers}
        last = {"deepest": max(wanted), "last_in_list": vgg.LAYER_INDEX[layers[-1]], "all": len(net) - 1}[stop]
        features = {}
        with torch.set_grad_enabled(grad):
            for index, layer in enumerate(net[: last + 1]):
                if index + offset in wanted:  # offset 1: records the input of the layer, not its output
                    features[wanted[index + offset]] = X.clone() if copy else X
                X = layer(X)
                if index in wanted or (not only_requested and index <= max(wanted)):
                    features[vgg.LAYER_NAMES[index]] = X.clone() if copy else X
        return features

    return extract


FEATURES_MUTANTS = [
    (features_mutant(copy=False), "came back after its ReLU"),
    (features_mutant(stop="all"), "ran layers past conv3_1"),
    (features_mutant(stop="last_in_list"), "not sorted by depth"),
    (features_mutant(grad=False), "no gradient reaches X"),
    (features_mutant(only_requested=False), "nobody asked for"),
    (lambda X, net, layers: [X], "return a dict"),
]


def off_by_one_features(X, net, layers):
    """Records the output of the layer before each requested one (1-based thinking)."""
    features = {}
    for name in layers:
        features[name] = net[: vgg.LAYER_INDEX[name]](X).clone()
    return features


FEATURES_MUTANTS.append((off_by_one_features, "off-by-one"))

CONTENT_MUTANTS = [
    (lambda Y_hat, Y: ((Y_hat - Y.detach()) ** 2).sum(), "sums the squared differences"),
    (lambda Y_hat, Y: ((Y_hat - Y) ** 2).mean(), "gradient flows into the target Y"),
    (lambda Y_hat, Y: 0.5 * ((Y_hat - Y.detach()) ** 2).mean(), "drop the 1/2"),
    (lambda Y_hat, Y: (Y_hat - Y.detach()).abs().mean(), "absolute differences"),
    (lambda Y_hat, Y: ((Y_hat - Y.detach()) ** 2).mean().item(), "return the loss as a tensor"),
    (lambda Y_hat, Y: ((Y_hat - Y.detach()) ** 2).sum() / (Y.shape[2] * Y.shape[3]), "divides by H*W only"),
    (lambda Y_hat, Y: ((Y_hat - Y.detach()) ** 2).mean().sqrt(), "square root"),
    (lambda Y_hat, Y: (Y_hat - Y.detach()) ** 2, "return one number"),
]


def gram_mutant(divide="chw", product="FFt"):
    """A gram_matrix with one typical mistake switched on."""

    def gram_matrix(X):
        _, C, H, W = X.shape
        F = X.reshape(C, H * W)
        G = {"FFt": lambda: F @ F.T, "FtF": lambda: F.T @ F, "scrambled": lambda: X.reshape(H * W, C).T @ X.reshape(H * W, C),
             "asymmetric": lambda: F @ X.reshape(H * W, C)}[product]()
        return G / {"chw": C * H * W, "hw": H * W, "none": 1, "cchw": C * C * H * W}[divide]

    return gram_matrix


GRAM_MUTANTS = [
    (gram_mutant(divide="none"), "was not normalised"),
    (gram_mutant(divide="hw"), "divides by H*W only"),
    (gram_mutant(divide="cchw"), "it divides by C^2*H*W"),
    (gram_mutant(product="FtF"), "F.T @ F"),
    (gram_mutant(product="scrambled"), "mixes values of different channels"),
    (gram_mutant(product="asymmetric"), "not symmetric"),
    (lambda X: torch.bmm(X.flatten(2), X.flatten(2).transpose(1, 2)) / X[0].numel(), "drop the batch dimension"),
    (lambda X: d2lstyle.gram_matrix(X.detach()), "no gradient reaches X"),
]

def gram_any_shape(X):
    """A Gram matrix that reads C from X.shape[1] and divides by X.numel(): right for features,
    and for a (C, C) matrix it quietly computes that matrix's own Gram matrix."""
    F = X.reshape(X.shape[1], -1)
    return F @ F.T / X.numel()


STYLE_MUTANTS = [
    (lambda Y_hat, gram_Y: ((d2lstyle.gram_matrix(Y_hat) - gram_Y.detach()) ** 2).sum(), "C^2"),
    (lambda Y_hat, gram_Y: ((d2lstyle.gram_matrix(Y_hat) - gram_Y) ** 2).mean(), "gradient flows into the target gram_Y"),
    (lambda Y_hat, gram_Y: ((gram_mutant(divide="none")(Y_hat) - gram_Y.detach()) ** 2).mean(), "C*H*W times too large"),
    (lambda Y_hat, gram_Y: ((d2lstyle.gram_matrix(Y_hat) - gram_Y.detach()) ** 2).mean() / 4, "drop the 1/4"),
    (lambda Y_hat, gram_Y: (d2lstyle.gram_matrix(Y_hat) - gram_Y.detach()).abs().mean(), "absolute differences"),
    (lambda Y_hat, gram_Y: d2lstyle.style_loss(Y_hat, gram_Y).item(), "return the loss as a tensor"),
    (lambda Y_hat, gram_Y: ((gram_mutant()(Y_hat) - gram_mutant()(gram_Y.detach())) ** 2).mean(),
     "the Gram matrix of gram_Y"),
    (lambda Y_hat, gram_Y: ((gram_any_shape(Y_hat) - gram_any_shape(gram_Y.detach())) ** 2).mean(),
     "the Gram matrix of gram_Y"),
]


def tv_mutant(power=1, half=True, directions="hw", reduce="mean", wrap=False, count=None):
    """A tv_loss with one typical mistake switched on."""

    def tv_loss(Y):
        if wrap:
            dh, dw = Y - Y.roll(1, 2), Y - Y.roll(1, 3)
        else:
            dh, dw = Y[:, :, 1:, :] - Y[:, :, :-1, :], Y[:, :, :, 1:] - Y[:, :, :, :-1]
        dc = Y[:, 1:] - Y[:, :-1]
        chosen = {"hw": [dh, dw], "h": [dh], "ch": [dc, dh]}[directions]
        magnitude = (lambda d: d.abs() ** power) if power else (lambda d: d)
        if count:  # the sum of each direction divided by a count of our choice
            total = sum(magnitude(d).sum() / count(Y.shape) for d in chosen)
        else:
            total = sum(getattr(magnitude(d), reduce)() for d in chosen)
        return 0.5 * total if half else total

    return tv_loss


TV_MUTANTS = [
    (tv_mutant(power=2), "squares the differences"),
    (tv_mutant(half=False), "the 1/2 in front is missing"),
    (tv_mutant(directions="h"), "only vertical differences"),
    (tv_mutant(directions="ch"), "between colour channels"),
    (tv_mutant(power=0), "absolute value is missing"),
    (tv_mutant(reduce="sum"), "sums the differences"),
    (tv_mutant(wrap=True), "torch.roll wraps around"),
    (tv_mutant(count=lambda shape: shape[1] * shape[2] * shape[3]), "it divides by C*H*W, the number of values (pixels times channels)"),
    (tv_mutant(count=lambda shape: shape[2] * shape[3], half=False), "it divides by H*W, the number of pixels "
                                                                      "of one channel, and the 1/2 in front is missing"),
    (lambda Y: (Y[:, :, 1:] - Y[:, :, :-1]).abs().sum() / Y.numel() + (Y[..., 1:] - Y[..., :-1]).abs().sum() / Y.numel(),
     "it divides by C*H*W, the number of values (pixels times channels), and the 1/2 in front is missing"),
    (lambda Y: torch.cat([(Y[:, :, 1:] - Y[:, :, :-1]).abs().flatten(), (Y[..., 1:] - Y[..., :-1]).abs().flatten()]).mean(),
     "averages all differences together"),
]


def synthesized_mutant(copy=True, parameter=True, init_module=True, detach_output=False, keep_initial=False):
    """A SynthesizedImage with one typical mistake switched on."""

    class SynthesizedImage(nn.Module):
        def __init__(self, initial):
            if init_module:
                super().__init__()
            weight = initial.clone() if copy else initial
            self.weight = nn.Parameter(weight) if parameter else weight.requires_grad_(True)
            if keep_initial:
                self.initial = nn.Parameter(initial.clone())

        def forward(self):
            return self.weight.detach() if detach_output else self.weight

    return SynthesizedImage


class NotAModule:
    def __init__(self, initial):
        self.weight = nn.Parameter(initial.clone())


SYNTHESIZED_MUTANTS = [
    (synthesized_mutant(copy=False), "shares its memory with `initial`"),
    (synthesized_mutant(parameter=False), "not an nn.Parameter"),
    (synthesized_mutant(init_module=False), "call super().__init__() first"),
    (synthesized_mutant(detach_output=True), "forward() should return self.weight itself"),
    (synthesized_mutant(keep_initial=True), "the image must be the only one"),
    (NotAModule, "subclass of nn.Module"),
]

LR_MUTANTS = [
    (lambda step, lr, every, factor: lr * factor ** ((step + 1) // every), "one step too early"),
    (lambda step, lr, every, factor: lr * factor ** (step / every), "decays smoothly"),
    (lambda step, lr, every, factor: lr * factor ** step, "decays at every step"),
    (lambda step, lr, every, factor: lr * factor ** (step % every), "step % every"),
    (lambda step, lr, every, factor: lr * factor * (step // every), "factor * (step // every)"),
    (lambda step, lr, every, factor: lr * factor ** (step // every + 1), "step 0 should use lr itself"),
    (lambda step, lr, every, factor: lr * factor ** round(step / every), "rounds step / every to the nearest"),
    (lambda step, lr, every, factor: lr * factor ** math.ceil(step / every), "rounds step / every up"),
    (lambda step, lr, every, factor: torch.tensor(lr * factor ** (step // every)), "return a Python float"),
]


def step_mutant(zero="before", step=1, item=True, call_module=True):
    """A training_step with one typical mistake switched on."""

    def training_step(synthesized, optimizer, loss_fn):
        if zero == "before":
            optimizer.zero_grad()
        loss = loss_fn(synthesized() if call_module else synthesized)
        loss.backward()
        if zero == "after":
            optimizer.zero_grad()
        for _ in range(step):
            optimizer.step()
        return loss.item() if item else loss

    return training_step


TRAINING_MUTANTS = [
    (step_mutant(zero="never"), "the gradients accumulate"),
    (step_mutant(zero="after"), "no gradient when optimizer.step() ran"),
    (step_mutant(step=0), "never calls optimizer.step()"),
    (step_mutant(step=2), "calls optimizer.step() 2 times"),
    (step_mutant(item=False), "return loss.item()"),
    (step_mutant(call_module=False), "pass the image, synthesized(), to loss_fn"),
]


def closure_mutant(zero=True, backward=True, step=False, item=False, call=False):
    """A make_closure with one typical mistake switched on."""

    def make(synthesized, optimizer, loss_fn):
        def closure():
            if zero:
                optimizer.zero_grad()
            loss = loss_fn(synthesized())
            if backward:
                loss.backward()
            if step:
                optimizer.step()
            return loss.item() if item else loss

        return closure() if call else closure

    return make


CLOSURE_MUTANTS = [
    (closure_mutant(step=True), "the closure calls optimizer.step()"),
    (closure_mutant(zero=False), "the gradients accumulate"),
    (closure_mutant(call=True), "it returned a tensor"),
    (closure_mutant(item=True), "return the loss as a tensor"),
    (closure_mutant(backward=False), "call loss.backward() inside it"),
]

def histogram_mutant(root_p=0.5, root_a=-0.5, order="pa", shift="b", per_channel=False, transposed=False,
                     in_place=False, clip=False):
    """A match_histogram with one typical mistake switched on."""
    power = d2lstyle.colour.matrix_power_symmetric

    def match(painting, photo):
        mean_a, cov_a = d2lstyle.colour.colour_statistics(painting)
        mean_p, cov_p = d2lstyle.colour.colour_statistics(photo)
        if per_channel:
            A = torch.diag((cov_p.diag() / cov_a.diag()).sqrt())
        elif order == "pa":
            A = power(cov_p, root_p) @ power(cov_a, root_a)
        else:
            A = power(cov_a, root_a) @ power(cov_p, root_p)
        b = {"b": mean_p - A @ mean_a, "none": torch.zeros(3, dtype=mean_p.dtype), "no A": mean_p - mean_a}[shift]
        colours = (A.T if transposed else A) @ painting.reshape(3, -1) + b[:, None]
        result = colours.reshape(painting.shape)
        if clip:
            result = result.clamp(0.3, 0.7)
        if in_place:
            painting.copy_(result)
            return painting
        return result

    return match


HISTOGRAM_MUTANTS = [
    (histogram_mutant(root_p=1.0, root_a=-1.0), "A = Sigma_p Sigma_a^-1 has no square roots"),
    (histogram_mutant(order="ap"), "A is the wrong way round"),
    (histogram_mutant(root_a=0.5), "needs the power -1/2, not 1/2"),
    (histogram_mutant(per_channel=True), "each channel was matched on its own"),
    (histogram_mutant(transposed=True), "or A is applied transposed"),
    (histogram_mutant(shift="none"), "add b = mu_p - A mu_a"),
    (histogram_mutant(shift="no A"), "b must be mu_p - A mu_a (with A)"),
    (histogram_mutant(in_place=True), "changed the painting in place"),
    (histogram_mutant(root_p=0.0, root_a=0.0), "still have the painting's covariance"),
    (lambda painting, photo: photo.clone(), "it has the photo's shape"),
    (histogram_mutant(clip=True), "the colours' covariance should be the photo's"),
]


def guided_mutant(rescale="area", guide="features", times=1, normalization="chw"):
    """A guided_gram_matrix with one typical mistake switched on."""

    def guided(X, T):
        height, width = X.shape[-2:]
        features = X * T ** times if guide == "features" else X
        G = d2lstyle.gram_matrix(features, normalization)
        if guide == "mean":
            G = G * T.mean()
        factor = {"area": height * width / (T ** 2).sum(), "sum": height * width / T.sum(), "none": 1.0}[rescale]
        return G * factor

    return guided


GUIDED_MUTANTS = [
    (guided_mutant(rescale="none"), "rescale by H * W / (T ** 2).sum()"),
    (guided_mutant(rescale="sum"), "divide by the sum of T squared, not of T"),
    (guided_mutant(times=2), "the guide is applied twice"),
    (guided_mutant(guide="mean", rescale="none"), "it scales the plain Gram matrix"),
    (guided_mutant(guide="ignored", rescale="none"), "it ignores the guide T"),
    (guided_mutant(normalization="hw"), "which is C: use the series' Gram matrix"),
    (lambda X, T: guided_mutant()(X, T).unsqueeze(0), "drop the batch dimension"),
]

MUTANTS = {
    "check_resize_to_long_side": RESIZE_MUTANTS,
    "check_preprocess": PREPROCESS_MUTANTS,
    "check_postprocess": POSTPROCESS_MUTANTS,
    "check_vgg19_layer_names": LAYER_NAMES_MUTANTS,
    "check_extract_features": FEATURES_MUTANTS,
    "check_content_loss": CONTENT_MUTANTS,
    "check_gram_matrix": GRAM_MUTANTS,
    "check_style_loss": STYLE_MUTANTS,
    "check_tv_loss": TV_MUTANTS,
    "check_synthesized_image": SYNTHESIZED_MUTANTS,
    "check_decayed_learning_rate": LR_MUTANTS,
    "check_training_step": TRAINING_MUTANTS,
    "check_make_closure": CLOSURE_MUTANTS,
    "check_match_histogram": HISTOGRAM_MUTANTS,
    "check_guided_gram_matrix": GUIDED_MUTANTS,
}
CASES = [(checker, mutant, phrase) for checker, mutants in MUTANTS.items() for mutant, phrase in mutants]


@pytest.mark.parametrize("checker, mutant, phrase", CASES,
                         ids=[f"{checker[6:]}: {phrase}" for checker, _, phrase in CASES])
def test_mutant_fails_naming_its_mistake(checker, mutant, phrase, capsys):
    with pytest.raises(AssertionError) as failure:
        getattr(exercises, checker)(mutant)
    assert phrase in str(failure.value)
    assert "checks passed" not in capsys.readouterr().out


def test_every_checker_is_tested_with_three_mutants_or_more():
    checkers = sorted(name for name in dir(exercises) if name.startswith("check_"))
    assert checkers == sorted(REFERENCES) == sorted(MUTANTS)
    assert all(len(mutants) >= 3 for mutants in MUTANTS.values())


# --- behaviour shared by every checker -------------------------------------------


def not_written_yet(*args):
    raise NotImplementedError


def test_an_unwritten_exercise_says_so():
    with pytest.raises(NotImplementedError, match="gram_matrix: not written yet"):
        exercises.check_gram_matrix(not_written_yet)


def gram_matrix_unfinished(X):
    raise NotImplementedError


def style_loss_on_an_unfinished_gram_matrix(Y_hat, gram_Y):
    return (gram_matrix_unfinished(Y_hat) - gram_Y.detach()).square().mean()


def test_a_function_that_calls_an_unfinished_exercise_names_that_exercise():
    with pytest.raises(NotImplementedError, match=r"^style_loss: style_loss_on_an_unfinished_gram_matrix calls "
                                                  r"gram_matrix_unfinished, which is not written yet\. Finish "
                                                  r"gram_matrix_unfinished first"):
        exercises.check_style_loss(style_loss_on_an_unfinished_gram_matrix)

    def raises_in_a_library(Y_hat, gram_Y):  # NotImplementedError from outside the learner's code: not theirs
        return torch.ones(2).to_sparse().view(2, 1)

    with pytest.raises(AssertionError, match="it raised"):
        exercises.check_style_loss(raises_in_a_library)


def test_an_error_in_the_learners_code_names_the_call():
    with pytest.raises(AssertionError, match=r"called with \(a tensor of shape \(1, 3, 4, 5\)\) it raised ZeroDivisionError"):
        exercises.check_gram_matrix(lambda X: 1 / 0)


def test_checkers_leave_the_global_random_state_alone(capsys):
    state = torch.get_rng_state()
    exercises.check_extract_features(REFERENCES["check_extract_features"])
    exercises.check_training_step(training_step)
    assert torch.equal(state, torch.get_rng_state())


# --- notebook 10: the painter's checkers (references, variants, mutants) -----------------------------

import math  # noqa: E402

from d2lstyle import painter  # noqa: E402


def instance_norm_with_torch(X, eps=1e-5):
    """A legitimate variant: torch's own function."""
    return torch.nn.functional.instance_norm(X, eps=eps)


def instance_norm_with_var(X, eps=1e-5):
    """A legitimate variant: var with unbiased=False."""
    mean = X.mean(dim=(2, 3), keepdim=True)
    return (X - mean) / (X.var(dim=(2, 3), keepdim=True, unbiased=False) + eps).sqrt()


def instance_norm_mutant(dims=(2, 3), unbiased=False, eps_at="variance", subtract_mean=True, detach=False,
                         keepdim=True):
    """An instance_norm with one typical mistake switched on."""

    def instance_norm(X, eps=1e-5):
        mean = X.mean(dim=dims, keepdim=keepdim)
        variance = X.var(dim=dims, keepdim=keepdim, unbiased=unbiased)
        if detach:
            mean, variance = mean.detach(), variance.detach()
        centred = X - mean if subtract_mean else X
        if eps_at == "std":
            return centred / (variance.sqrt() + eps)
        if eps_at == "nowhere":
            return centred / variance.sqrt()
        return centred / torch.sqrt(variance + eps)

    return instance_norm


INSTANCE_NORM_MUTANTS = [
    (instance_norm_mutant(unbiased=True), "unbiased variance"),
    (instance_norm_mutant(dims=(0, 2, 3)), "batch normalisation"),
    (instance_norm_mutant(dims=(1, 2, 3)), "layer normalisation"),
    (instance_norm_mutant(dims=(0, 1, 2, 3)), "one mean and variance for the whole tensor"),
    (instance_norm_mutant(eps_at="std"), "eps is added to the standard deviation"),
    (instance_norm_mutant(eps_at="nowhere"), "eps is missing"),
    (instance_norm_mutant(subtract_mean=False), "does not subtract the mean"),
    (instance_norm_mutant(detach=True), "do not detach the mean or the variance"),
    (instance_norm_mutant(keepdim=False), "keepdim=True"),
]


def residual_block_mutant(forward):
    """A ResidualBlock whose forward is ``forward(block, x)``."""

    class Block(painter.ResidualBlock):
        def forward(self, x):
            return forward(self, x)

    return Block


def in_place_sum(block, x):
    x += block.norm2(block.conv2(torch.relu(block.norm1(block.conv1(x)))))
    return x


class RenamedBlock(nn.Module):
    """The learner rewrote __init__ with other names."""

    def __init__(self, channels):
        super().__init__()
        self.first = painter.conv_layer(channels, channels, 3)

    def forward(self, x):
        return x + self.first(x)


RESIDUAL_MUTANTS = [
    (residual_block_mutant(lambda b, x: b.norm2(b.conv2(torch.relu(b.norm1(b.conv1(x)))))),
     "the skip connection is missing"),
    (residual_block_mutant(lambda b, x: torch.relu(x + b.norm2(b.conv2(torch.relu(b.norm1(b.conv1(x))))))),
     "a ReLU after the sum"),
    (residual_block_mutant(lambda b, x: x + torch.relu(b.norm2(b.conv2(torch.relu(b.norm1(b.conv1(x))))))),
     "a ReLU at the end of F"),
    (residual_block_mutant(lambda b, x: x + b.norm2(b.conv2(b.norm1(b.conv1(x))))),
     "the ReLU between the two convolutions is missing"),
    (residual_block_mutant(lambda b, x: x + b.norm2(b.conv2(b.norm1(torch.relu(b.conv1(x)))))),
     "the ReLU comes before norm1"),
    (residual_block_mutant(lambda b, x: b.norm1(b.conv1(x)) + b.norm2(b.conv2(torch.relu(b.norm1(b.conv1(x)))))),
     "instead of x itself"),
    (residual_block_mutant(lambda b, x: x + b.conv2(torch.relu(b.norm1(b.conv1(x))))), "norm2 is missing"),
    (residual_block_mutant(in_place_sum), "changed its input x in place"),
    (RenamedBlock, "keep the layers __init__ defines"),
]


def cosine_mutant(rate):
    return lambda step, steps, lr: rate(step, steps, lr)


COSINE_MUTANTS = [
    (cosine_mutant(lambda t, T, lr: lr * (1 + math.cos(math.pi * t / T))), "the factor 1/2 is missing"),
    (cosine_mutant(lambda t, T, lr: lr / 2 * (1 + math.cos(t / T))), "pi is missing"),
    (cosine_mutant(lambda t, T, lr: lr / 2 * (1 + math.cos(2 * math.pi * t / T))), "a whole period"),
    (cosine_mutant(lambda t, T, lr: lr / 2 * (1 - math.cos(math.pi * t / T))), "it rises from 0 to lr"),
    (cosine_mutant(lambda t, T, lr: lr * math.cos(math.pi * t / T)), "it goes negative"),
    (cosine_mutant(lambda t, T, lr: lr / 2 * (1 + math.cos(math.pi * (t // T)))), "step // steps"),
    (cosine_mutant(lambda t, T, lr: torch.tensor(lr / 2 * (1 + math.cos(math.pi * t / T)))), "Python float"),
]

def conditional_norm_mutant(scale_of, shift_of, normalise=True, detach=False):
    """A conditional_instance_norm with one typical mistake: the scale and shift it uses, whether it normalises."""

    def conditional_instance_norm(X, scales, shifts, mix):
        scales = scales.detach() if detach else scales
        Y = painter.instance_norm(X) if normalise else X
        return Y * scale_of(mix, scales, shifts).view(1, -1, 1, 1) + shift_of(mix, scales, shifts).view(1, -1, 1, 1)

    return conditional_instance_norm


CONDITIONAL_NORM_MUTANTS = [
    (conditional_norm_mutant(lambda m, a, b: m @ a, lambda m, a, b: m @ b, normalise=False), "X is not normalised"),
    (conditional_norm_mutant(lambda m, a, b: a[m.argmax()], lambda m, a, b: b[m.argmax()]), "the largest weight"),
    (conditional_norm_mutant(lambda m, a, b: a.mean(0), lambda m, a, b: b.mean(0)), "averages the paintings equally"),
    (conditional_norm_mutant(lambda m, a, b: m @ b, lambda m, a, b: m @ a), "swapped"),
    (conditional_norm_mutant(lambda m, a, b: m @ a, lambda m, a, b: torch.zeros(a.shape[1])), "the shift is missing"),
    (conditional_norm_mutant(lambda m, a, b: torch.ones(a.shape[1]), lambda m, a, b: m @ b), "the scale is missing"),
    (conditional_norm_mutant(lambda m, a, b: m @ a, lambda m, a, b: m @ b, detach=True), "do not detach them"),
    (lambda X, scales, shifts, mix: painter.instance_norm(X) * (mix @ scales) + mix @ shifts, "(1, C, 1, 1)"),
    (lambda X, scales, shifts, mix: painter.instance_norm(X) * (scales.T @ mix.view(-1, 1)).view(1, -1)
     + (mix @ shifts).view(1, -1, 1, 1), "(1, C, 1, 1)"),
    (lambda X, scales, shifts, mix: painter.instance_norm(X) * (scales @ mix).view(1, -1, 1, 1), "not scales @ mix"),
]

PAINTER_REFERENCES = {
    "check_instance_norm": painter.instance_norm,
    "check_residual_block": painter.ResidualBlock,
    "check_cosine_learning_rate": painter.cosine_learning_rate,
    "check_conditional_instance_norm": painter.conditional_instance_norm,
}
PAINTER_VARIANTS = [
    ("check_instance_norm", instance_norm_with_torch),
    ("check_instance_norm", instance_norm_with_var),
    ("check_residual_block", residual_block_mutant(
        lambda b, x: torch.add(x, b.norm2(b.conv2(torch.nn.functional.relu(b.norm1(b.conv1(x)))))))),
    ("check_cosine_learning_rate", lambda step, steps, lr: 0.5 * lr * (1 + math.cos(step / steps * math.pi))),
    ("check_conditional_instance_norm", lambda X, scales, shifts, mix: torch.nn.functional.group_norm(
        X, X.shape[1], torch.einsum("s,sc->c", mix, scales), torch.einsum("s,sc->c", mix, shifts), eps=1e-5)),
]
PAINTER_MUTANTS = {
    "check_instance_norm": INSTANCE_NORM_MUTANTS,
    "check_residual_block": RESIDUAL_MUTANTS,
    "check_cosine_learning_rate": COSINE_MUTANTS,
    "check_conditional_instance_norm": CONDITIONAL_NORM_MUTANTS,
}
REFERENCES.update(PAINTER_REFERENCES)
MUTANTS.update(PAINTER_MUTANTS)


# --- notebooks 07 and 11: converting loss weights, reading a loss history --------------------------------


def weights_on_original(weights, k):
    alpha, beta, gamma = weights
    return alpha / k ** 2, beta / k ** 4, gamma


WEIGHTS_MUTANTS = [
    (lambda w, k: (w[0] * k ** 2, w[1] * k ** 4, w[2]), "it multiplies where it should divide"),
    (lambda w, k: (w[0] / k, w[1] / k ** 2, w[2]), "it divides alpha by k and beta by k**2"),
    (lambda w, k: (w[0] / k ** 2, w[1] / k ** 2, w[2]), "beta is divided by k**2 only"),
    (lambda w, k: (w[0] / k ** 4, w[1] / k ** 4, w[2]), "alpha is divided by k**4"),
    (lambda w, k: (w[0] / k ** 2, w[1] / k ** 4, w[2] / k ** 2), "gamma changed"),
    (lambda w, k: tuple(w), "it returns the weights unchanged"),
    (lambda w, k: [w[0] / k ** 2, w[1] / k ** 4], "return the three weights"),
    (lambda w, k: tuple(float(f"{x:.1e}") for x in weights_on_original(w, k)), "do not round"),
]


def symptom_mutant(finite="all", order="overshot first", rose="last", recent="tenth", names=None):
    """A symptom() with one typical mistake switched on."""
    import math

    def symptom(total):
        if finite == "all" and not all(math.isfinite(value) for value in total):
            return "diverged"
        if finite == "nan only" and any(math.isnan(value) for value in total):
            return "diverged"
        first, last = total[0], total[-1]
        if (last if rose == "last" else max(total)) > first:
            return "rose"
        fell = 1 - last / first
        if fell < 0.05:
            if order == "stalled first":
                return "stalled"
            threshold = 1e3 * first if order == "overshot first" else 1e3  # or: an absolute threshold
            return "overshot" if max(total) > threshold else "stalled"
        tenth = max(1, len(total) // 10) if recent == "tenth" else 1
        if recent == "run":
            return "still falling" if fell > 0.05 else "settled"
        if 1 - last / total[-1 - tenth] > 0.05:
            return "still falling"
        return (names or {}).get("settled", "settled")

    return symptom


SYMPTOM_MUTANTS = [
    (symptom_mutant(finite="none"), "test math.isfinite on every value first"),
    (symptom_mutant(finite="nan only"), "an infinite loss is diverged"),
    (symptom_mutant(order="stalled first"), "the jump is the cause"),
    (symptom_mutant(order="absolute threshold"), "compare the peak with the first value times 1000"),
    (symptom_mutant(rose="peak"), "'rose' compares the last value with the first, not the peak"),
    (symptom_mutant(recent="last step"), "not with total[-2]"),
    (symptom_mutant(recent="run"), "'still falling' looks at the last tenth of the steps only"),
    (symptom_mutant(names={"settled": "converged"}), "return one of 'diverged', 'rose'"),
]

def capstone(mistake=None):
    """The capstone of notebook 06, style_transfer(...), with one typical mistake switched on."""

    def style_transfer(photo, painting, start, extract, content_layer, style_weights, alpha, beta, gamma, steps):
        reduction = "sum" if mistake == "summed" else "mean"
        content_target = extract(photo)[content_layer]
        painting_features = extract(painting)
        grams = {layer: d2lstyle.gram_matrix(painting_features[layer]) for layer in style_weights}
        if mistake != "no detach":
            content_target, grams = content_target.detach(), {k: v.detach() for k, v in grams.items()}
        if mistake == "in place":
            X = start.requires_grad_(True)
        else:
            X = (photo if mistake == "from the photo" else start).clone().requires_grad_(True)
        optimizer = torch.optim.LBFGS([X], lr=1, max_iter=20 if mistake == "steps times" else steps)
        history = []

        def closure():
            optimizer.zero_grad()
            features = extract(X)
            if mistake == "no detach":  # the losses written inline, on targets that kept their graph
                loss = alpha * (features[content_layer] - content_target).square().mean()
                loss = loss + beta * sum(w * (d2lstyle.gram_matrix(features[k]) - grams[k]).square().mean()
                                         for k, w in style_weights.items())
            else:
                loss = alpha * d2lstyle.content_loss(features[content_layer], content_target, reduction=reduction)
                loss = loss + beta * sum((1.0 if mistake == "unweighted" else w) *
                                         d2lstyle.style_loss(features[k], grams[k], reduction=reduction)
                                         for k, w in style_weights.items())
            if mistake != "no tv":
                loss = loss + gamma * d2lstyle.tv_loss(X, reduction=reduction)
            loss.backward()
            history.append(loss if mistake == "tensors" else loss.item())
            return loss

        for _ in range(steps if mistake == "steps times" else 1):
            optimizer.step(closure)
        return (X if mistake == "not detached" else X.detach()), history

    return style_transfer


CAPSTONE_MUTANTS = [
    (capstone("no detach"), "detach the photo's features and the painting's Gram matrices"),
    (capstone("unweighted"), "the style layers' weights w_l are missing"),
    (capstone("summed"), "the losses are summed where they should be averaged"),
    (capstone("no tv"), "the total variation term is missing"),
    (capstone("from the photo"), "start from `start`"),
    (capstone("steps times"), "call it once, with max_iter=steps"),
    (capstone("tensors"), "not tensors"),
    (capstone("not detached"), "return X.detach()"),
    (capstone("in place"), "`start` was changed in place"),
]


def test_the_capstone_paints_and_its_check_reports_the_quality(capsys):
    score = exercises.check_style_transfer(capstone())
    assert capsys.readouterr().out.strip() == "style_transfer: all 11 checks passed."
    assert score.style < exercises.n06_capstone.PAINTS_STYLE_BELOW / 2  # well inside the bar it sets
    assert score.content < exercises.n06_capstone.PAINTS_CONTENT_BELOW


def test_a_capstone_that_does_not_paint_is_told_so():
    def returns_the_photo(photo, painting, start, *args):
        X, history = capstone()(photo, painting, start, *args)
        return (photo.clone() if photo.shape[-1] > 20 else X), history  # paints the small case, not the real one

    with pytest.raises(AssertionError, match=r"it scores style 1\.000, content 0\.000: it should paint"):
        exercises.check_style_transfer(returns_the_photo)


LATER_REFERENCES = {"check_weights_on_original": weights_on_original, "check_symptom": diagnosis.symptom,
                    "check_style_transfer": capstone()}
LATER_MUTANTS = {"check_weights_on_original": WEIGHTS_MUTANTS, "check_symptom": SYMPTOM_MUTANTS,
                 "check_style_transfer": CAPSTONE_MUTANTS}
LATER_CASES = [(checker, mutant, phrase) for checker, mutants in LATER_MUTANTS.items() for mutant, phrase in mutants]
REFERENCES.update(LATER_REFERENCES)
MUTANTS.update(LATER_MUTANTS)


@pytest.mark.parametrize("checker", sorted(set(LATER_REFERENCES) - {"check_style_transfer"}))  # tested above
def test_later_reference_passes_with_one_line(checker, capsys):
    getattr(exercises, checker)(LATER_REFERENCES[checker])
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 1 and lines[0].endswith("checks passed."), lines


def test_a_weight_conversion_returning_a_list_or_numpy_numbers_passes(capsys):
    import numpy

    exercises.check_weights_on_original(lambda w, k: [numpy.float64(w[0]) / k ** 2, w[1] * k ** -4.0, w[2]])
    assert capsys.readouterr().out.strip().endswith("checks passed.")


@pytest.mark.parametrize("checker, mutant, phrase", LATER_CASES,
                         ids=[f"{checker[6:]}: {phrase}" for checker, _, phrase in LATER_CASES])
def test_later_mutant_fails_naming_its_mistake(checker, mutant, phrase, capsys):
    with pytest.raises(AssertionError) as failure:
        getattr(exercises, checker)(mutant)
    assert phrase in str(failure.value)
    assert "checks passed" not in capsys.readouterr().out


def test_the_weight_conversion_is_the_packages():
    for weights in [(1.0, 1e4, 10.0), (1.0, 1e6, 0.0), (1e5, 1e10, 1e-6)]:
        converted = weights_on_original(weights, recipes.FEATURE_SCALE_SQUARED ** 0.5)
        assert recipes.weights_for_other_network(weights, "torchvision") == tuple(
            float(f"{value:.1e}") if value else 0.0 for value in converted)


@pytest.mark.parametrize("history", [[10.0, float("nan"), 5.0], [10.0, 12.0, 11.0], [10.0, 2e5, 9.9], [10, 9.9, 9.8],
                                     [10.0 * 0.9 ** step for step in range(30)], [10.0, 3.0, 3.0, 3.0]])
def test_each_symptom_is_the_one_advice_reads(history):
    """symptom() and advice() read the same thresholds: each symptom matches the advice's first line."""
    found = diagnosis.symptom(history)
    status = "diverged" if found == "diverged" else "finished"
    halves = [value / 2 for value in history]
    lines = diagnosis.advice({"total": history, "content": halves, "style": halves}, status)
    first = lines[0] if lines else ""
    expected = {"diverged": "NaN or infinite", "rose": "rose from", "overshot": "jumped to", "stalled": "fell by only",
                "still falling": "still falling", "settled": ""}[found]
    assert expected in first and (found != "settled" or not lines), (found, lines)


PAINTER_CASES = [(checker, mutant, phrase) for checker, mutants in PAINTER_MUTANTS.items()
                 for mutant, phrase in mutants]


@pytest.mark.parametrize("checker", sorted(PAINTER_REFERENCES))
def test_painter_reference_passes_with_one_line(checker, capsys):
    getattr(exercises, checker)(PAINTER_REFERENCES[checker])
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 1 and lines[0].endswith("checks passed."), lines


@pytest.mark.parametrize("checker, candidate", PAINTER_VARIANTS)
def test_painter_legitimate_variant_passes(checker, candidate, capsys):
    getattr(exercises, checker)(candidate)
    assert capsys.readouterr().out.strip().endswith("checks passed.")


@pytest.mark.parametrize("checker, mutant, phrase", PAINTER_CASES,
                         ids=[f"{checker[6:]}: {phrase}" for checker, _, phrase in PAINTER_CASES])
def test_painter_mutant_fails_naming_its_mistake(checker, mutant, phrase, capsys):
    with pytest.raises(AssertionError) as failure:
        getattr(exercises, checker)(mutant)
    assert phrase in str(failure.value)
    assert "checks passed" not in capsys.readouterr().out


# --- the same diagnoses in Chinese (D2LSTYLE_LANG=zh; d2lstyle/locale/zh_CN.po) ----------------------------

ALL_CASES = [(checker, mutant, phrase) for checker, mutants in {**MUTANTS, **PAINTER_MUTANTS}.items()
             for mutant, phrase in mutants]
CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.mark.parametrize("checker, mutant, phrase", ALL_CASES,
                         ids=[f"{checker[6:]}: {phrase}" for checker, _, phrase in ALL_CASES])
def test_mutant_fails_naming_its_mistake_in_chinese(checker, mutant, phrase, capsys, monkeypatch):
    monkeypatch.setenv("D2LSTYLE_LANG", "zh")
    with pytest.raises(AssertionError) as failure:
        getattr(exercises, checker)(mutant)
    name, _, message = str(failure.value).partition(": ")
    assert name and not CJK.search(name)  # the exercise's name (gram_matrix, ResidualBlock), as in English
    assert CJK.search(message), f"no Chinese for: {message}"
    assert phrase not in message or not re.search(r"[a-z]{3,} [a-z]{3,} [a-z]{3,}", phrase)
    assert "checks passed" not in capsys.readouterr().out


def test_a_passing_check_says_so_in_chinese(capsys, monkeypatch):
    monkeypatch.setenv("D2LSTYLE_LANG", "zh")
    exercises.check_gram_matrix(d2lstyle.gram_matrix)
    line = capsys.readouterr().out.strip()
    assert line.startswith("gram_matrix") and CJK.search(line) and "checks passed" not in line


def test_an_unwritten_exercise_says_so_in_chinese(monkeypatch):
    monkeypatch.setenv("D2LSTYLE_LANG", "zh")
    with pytest.raises(NotImplementedError) as failure:
        exercises.check_gram_matrix(not_written_yet)
    assert str(failure.value).startswith("gram_matrix") and CJK.search(str(failure.value))


def test_the_checkers_answer_in_traditional_chinese_too(capsys, monkeypatch):
    """D2LSTYLE_LANG=zh_TW (or LANG=zh_TW.UTF-8): d2lstyle/locale/zh_TW.po, converted by tools/traditional.py."""
    monkeypatch.setenv("D2LSTYLE_LANG", "zh_TW")
    exercises.check_gram_matrix(d2lstyle.gram_matrix)
    assert "項檢查全部通過" in capsys.readouterr().out
    checker, mutant, _ = ALL_CASES[0]
    with pytest.raises(AssertionError) as failure:
        getattr(exercises, checker)(mutant)
    message = str(failure.value).partition(": ")[2]
    assert CJK.search(message) and not set(message) & set("们这个为与图数学层据损开关体实点线计经网络设区对应变测试页参义输")
