"""Pictures of every stage: images side by side, feature maps, Gram matrices,
loss curves, and a live view of a run that redraws one figure in place.

>>> from PIL import Image
>>> fig = show_images([Image.new("RGB", (8, 8)), Image.new("RGB", (8, 8), "white")], ["black", "white"])
>>> [ax.get_title() for ax in fig.axes]
['black', 'white']
"""

import math
from pathlib import Path

import matplotlib.pyplot as plt
import torch

from . import images
from .transfer import LOSS_TERMS


NETWORK_NAMES = {"original": "original VGG-19", "torchvision": "torchvision's VGG-19",
                 "random": "untrained random VGG-19"}


def network_name(network):
    """A short name of a network choice (``settings.network``), for figure titles.

    >>> network_name("original"), network_name("random"), network_name("/data/my_vgg19.pth")
    ('original VGG-19', 'untrained random VGG-19', 'VGG-19 from my_vgg19.pth')
    """
    return NETWORK_NAMES.get(str(network), f"VGG-19 from {Path(network).name}")


def show_images(pictures, titles=None, ncols=None, size=3.0, suptitle=None):
    """Show PIL images (or normalised tensors) in a grid; returns the figure."""
    pictures = list(pictures)
    ncols = ncols or len(pictures)
    nrows = math.ceil(len(pictures) / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(size * ncols, size * nrows), squeeze=False)
    for index, ax in enumerate(axes.flat):
        ax.axis("off")
        if index < len(pictures):
            ax.imshow(images.as_pil_image(pictures[index]))
            if titles is not None:
                ax.set_title(titles[index])
    if suptitle:
        fig.suptitle(suptitle)
    fig.tight_layout()
    return fig


def plot_history(history, ax=None, x="step", terms=LOSS_TERMS, title="Loss during optimisation", label=""):
    """Plot each loss term of a run's history on a log scale against ``x``
    ("step" or "seconds"); returns the axes."""
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 4))
    for term in terms:
        values = history[term]
        if any(v > 0 for v in values):
            ax.plot(history[x], values, label=f"{label}{term}")
    ax.set_yscale("log")
    ax.set_xlabel("wall time (s)" if x == "seconds" else "step (loss evaluations)")
    ax.set_ylabel("loss (weighted)")
    ax.set_title(title)
    ax.legend()
    return ax


def feature_grid(features, channels=16, ncols=8, title=None, size=1.4):
    """Show the first ``channels`` feature maps of a (1, C, H, W) tensor as a
    grid of greyscale images (each scaled to its own min..max); returns the figure."""
    maps = features.detach().to("cpu", torch.float32)[0, :channels]
    nrows = math.ceil(len(maps) / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(size * ncols, size * nrows + (0.4 if title else 0)),
                             squeeze=False)
    for index, ax in enumerate(axes.flat):
        ax.axis("off")
        if index < len(maps):
            ax.imshow(maps[index], cmap="gray")
            ax.set_title(f"channel {index}", fontsize=7)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def gram_heatmap(gram, ax=None, title="Gram matrix", channels=None):
    """Show a C x C Gram matrix (or its top-left ``channels`` x ``channels``
    corner) as a heatmap with a colour bar; returns the axes."""
    gram = gram.detach().to("cpu", torch.float32)
    if channels is not None:
        gram = gram[:channels, :channels]
    if ax is None:
        _, ax = plt.subplots(figsize=(4.5, 4))
    shown = ax.imshow(gram, cmap="viridis")
    ax.figure.colorbar(shown, ax=ax, fraction=0.046)
    ax.set_xlabel("channel l")
    ax.set_ylabel("channel k")
    ax.set_title(title)
    return ax


class LivePlot:
    """A callback for :func:`d2lstyle.transfer.stylise` that shows the loss
    curve and the current image, redrawing a single output every ``every``
    steps (so a notebook's output does not pile up).

    >>> live = LivePlot(every=10)   # stylise(..., callbacks=[live])
    """

    def __init__(self, every=10, title="Style transfer"):
        self.every, self.title = every, title
        self.history = {"step": [], "total": []}
        self.handle = None

    def __call__(self, info):
        self.history["step"].append(info.step)
        self.history["total"].append(info.losses["total"])
        if info.step % self.every == 0 or info.step == info.steps:
            self.draw(info)
        return False

    def draw(self, info):
        from IPython.display import display

        fig, (ax_loss, ax_image) = plt.subplots(1, 2, figsize=(10, 3.8))
        ax_loss.plot(self.history["step"], self.history["total"])
        ax_loss.set_yscale("log")
        ax_loss.set_xlabel("step")
        ax_loss.set_ylabel("total loss")
        ax_loss.set_title(f"{self.title}: step {info.step} of {info.steps}")
        ax_image.imshow(images.postprocess(info.image))
        ax_image.set_title(f"current image ({info.seconds:.0f} s)")
        ax_image.axis("off")
        fig.tight_layout()
        if self.handle is None:
            self.handle = display(fig, display_id=True)
        else:
            self.handle.update(fig)
        plt.close(fig)


# --- the pipeline diagram of the overview (notebook 00) ------------------------------------------------------

# (key, row, column, text, colour) of each box in pipeline_diagram; rows count from the top.
PIPELINE_BOXES = (
    ("files", 0, 0, "image files\ncontent photo $p$\nstyle painting $a$", "#e8e8e8"),
    ("preprocess", 0, 1, "preprocess\nresize, to tensor,\nImageNet mean/std\n(notebook 01)", "#cfe2f3"),
    ("vgg_targets", 0, 2, "VGG-19 features\nfrozen, pretrained\n(notebook 02)", "#d9ead3"),
    ("targets", 0, 3, "targets, computed once\n$F^l(p)$ at the content layer\n$G^l(a)$ at the style layers",
     "#fff2cc"),
    ("output", 1, 0, "postprocess\nundo mean/std, clamp\n-> stylised image file", "#e8e8e8"),
    ("x", 1, 1, "synthesised image $x$\nstarts as $p$;\nthe only parameter", "#f4cccc"),
    ("vgg_x", 1, 2, "VGG-19 features\nthe same frozen network\n$F^l(x)$, $G^l(x)$", "#d9ead3"),
    ("losses", 1, 3, "losses (notebooks 03-05)\n$\\alpha\\,$content + $\\beta\\,$style\n+ $\\gamma\\,$TV = $L$",
     "#fff2cc"),
    ("optimiser", 2, 3, "optimiser (notebook 06)\nAdam or L-BFGS\nsteps along $-\\partial L / \\partial x$",
     "#d9d2e9"),
)

# (from, to, label) of each arrow in pipeline_diagram.
PIPELINE_ARROWS = (
    ("files", "preprocess", ""),
    ("preprocess", "vgg_targets", ""),
    ("vgg_targets", "targets", ""),
    ("preprocess", "x", "start from $p$"),
    ("x", "vgg_x", ""),
    ("vgg_x", "losses", ""),
    ("targets", "losses", "compare"),
    ("losses", "optimiser", "backward pass\ngives $\\partial L / \\partial x$"),
    ("optimiser", "x", "update the pixels of $x$"),
    ("x", "output", "done"),
)


def pipeline_diagram(figsize=(13, 6.2), fontsize=10):
    """Draw the whole style-transfer pipeline as boxes and arrows; returns the figure.

    Top row: the inputs are preprocessed and passed once through VGG-19 to
    get the targets. Middle and bottom rows: the loop that optimises the
    pixels of the synthesised image x (the network never changes). Each box
    names the notebook that teaches it. The boxes and arrows are listed in
    ``PIPELINE_BOXES`` and ``PIPELINE_ARROWS``.

    >>> fig = pipeline_diagram()
    >>> fig.axes[0].get_title()
    'Neural style transfer: optimise the pixels of x, not the network'
    >>> len(fig.axes[0].patches) == len(PIPELINE_BOXES)
    True
    >>> plt.close(fig)
    """
    from matplotlib.patches import FancyBboxPatch

    width, height, column_step, row_step = 2.7, 1.35, 3.7, 2.1
    fig, ax = plt.subplots(figsize=figsize)
    centres, boxes = {}, {}
    for key, row, column, text, colour in PIPELINE_BOXES:
        x, y = column * column_step, -row * row_step
        box = FancyBboxPatch((x - width / 2, y - height / 2), width, height, boxstyle="round,pad=0.08",
                             facecolor=colour, edgecolor="#444444", linewidth=1.2)
        ax.add_patch(box)
        ax.text(x, y, text, ha="center", va="center", fontsize=fontsize)
        centres[key], boxes[key] = (x, y), box
    for start, end, label in PIPELINE_ARROWS:
        (x0, y0), (x1, y1) = centres[start], centres[end]
        loop = start == "optimiser"  # the loop back to x: left along the bottom, then up
        ax.annotate("", xy=(x1, y1), xytext=(x0, y0),
                    arrowprops=dict(arrowstyle="-|>", lw=1.6, color="#333333", shrinkA=0, shrinkB=0,
                                    patchA=boxes[start], patchB=boxes[end],
                                    connectionstyle="angle,angleA=0,angleB=90,rad=0" if loop else "arc3"))
        if not label:
            continue
        if x0 == x1 and not loop:  # vertical arrow: label to its right
            position = dict(x=x0 + 0.1, y=(y0 + y1) / 2, ha="left", va="center")
        else:  # horizontal arrow, or the horizontal part of the loop: label above it
            position = dict(x=(x0 + x1) / 2, y=y0 + 0.08, ha="center", va="bottom")
        ax.text(s=label, fontsize=fontsize - 1, style="italic", color="#333333", **position)
    ax.text(-width / 2, row_step * 0.62, "computed once", fontsize=fontsize, color="#666666")
    ax.text(column_step - 0.15, -2 * row_step, "the loop, repeated every step:\nonly $x$ changes", ha="right",
            va="center", fontsize=fontsize, color="#666666")
    ax.set_xlim(-width / 2 - 0.3, 3 * column_step + width / 2 + 0.3)
    ax.set_ylim(-2 * row_step - height / 2 - 0.3, height / 2 + 0.9)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.set_title("Neural style transfer: optimise the pixels of x, not the network")
    fig.tight_layout()
    return fig
