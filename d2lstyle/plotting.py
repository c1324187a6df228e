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
from .i18n import translate
from .objective import LOSS_TERMS

# The legend's name of each loss term (in Chinese with D2LSTYLE_LANG=zh, as the figures' other text).
TERM_LABELS = {"content": "content loss", "style": "style loss", "tv": "TV loss", "total": "total loss"}


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
            ax.plot(history[x], values, label=f"{translate(label)}{translate(TERM_LABELS[term])}")
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


# --- the painter (notebook 10) ------------------------------------------------------------------


class PainterTrainingPlot:
    """A callback for :func:`d2lstyle.painter.train_painter` that shows the
    loss curves and a snapshot: ``photo`` (best one the network never sees in
    training) painted by the network as it is, redrawn in one output every
    ``every`` steps.

    >>> plot = PainterTrainingPlot(every=50)   # train_painter(..., callbacks=[plot])
    >>> plot.snapshots
    []
    """

    def __init__(self, photo=None, every=50, size=256, title="Training the painter"):
        self.photo, self.every, self.size, self.title = photo, every, size, title
        self.snapshots = []  # (step, PIL image) at every redraw
        self.handle = None

    def __call__(self, info):
        if info.step % self.every == 0 or info.step == info.steps:
            self.draw(info)
        return False

    def draw(self, info):
        from IPython.display import display

        from . import painter

        columns = 2 if self.photo is not None else 1
        fig, axes = plt.subplots(1, columns, figsize=(5.2 * columns, 3.8), squeeze=False)
        ax_loss = axes[0, 0]
        for term in LOSS_TERMS:
            values = info.history[term]
            if any(v > 0 for v in values):
                ax_loss.plot(info.history["step"], values, label=TERM_LABELS[term], lw=1)
        ax_loss.set_yscale("log")
        ax_loss.set_xlabel("step")
        ax_loss.set_ylabel("loss (weighted, batch mean)")
        ax_loss.set_title(f"{self.title}: step {info.step} of {info.steps}")
        ax_loss.legend(fontsize=8)
        if self.photo is not None:
            info.painter.eval()
            snapshot = painter.paint(info.painter, self.photo, self.size)
            info.painter.train()
            self.snapshots.append((info.step, snapshot))
            axes[0, 1].imshow(snapshot)
            axes[0, 1].set_title(f"an unseen photo, painted ({info.seconds:.0f} s)")
            axes[0, 1].axis("off")
        fig.tight_layout()
        if self.handle is None:
            self.handle = display(fig, display_id=True)
        else:
            self.handle.update(fig)
        plt.close(fig)


# (text, relative size of the feature maps, channels key, colour) of each stage in painter_diagram
PAINTER_STAGES = (
    ("photo $p$\n3 channels", 1.0, "rgb", "#e8e8e8"),
    ("9x9 conv\n+ IN + ReLU", 1.0, 0, "#cfe2f3"),
    ("3x3 conv, stride 2\n+ IN + ReLU", 0.5, 1, "#cfe2f3"),
    ("3x3 conv, stride 2\n+ IN + ReLU", 0.25, 2, "#cfe2f3"),
    ("residual\nblocks", 0.25, 2, "#d9ead3"),
    ("upsample x2,\n3x3 conv\n+ IN + ReLU", 0.5, 1, "#fce5cd"),
    ("upsample x2,\n3x3 conv\n+ IN + ReLU", 1.0, 0, "#fce5cd"),
    ("3x3 conv\n-> 3 channels", 1.0, "rgb", "#fce5cd"),
    ("painting\n$x = f_W(p)$", 1.0, "rgb", "#f4cccc"),
)


def painter_diagram(channels=(16, 32, 64), residual_blocks=5, figsize=(14, 5.4), fontsize=9):
    """Draw the painter network (encoder, residual blocks, decoder) and its
    training loss; returns the figure.

    Each box is one stage; its height is proportional to the size of its
    feature maps (full, half or quarter of the photo's height), and its label
    says how many channels it has. Below, the training loop: VGG-19 compares
    x with the photo's features and the painting's Gram matrices, and the
    gradient updates the painter's weights W, not the pixels.

    >>> fig = painter_diagram()
    >>> len(fig.axes[0].patches) >= len(PAINTER_STAGES)
    True
    >>> plt.close(fig)
    """
    from matplotlib.patches import FancyBboxPatch

    fig, ax = plt.subplots(figsize=figsize)
    step, width, full = 1.55, 1.25, 2.6
    centres = []
    for index, (text, scale, key, colour) in enumerate(PAINTER_STAGES):
        x = index * step
        height = full * scale
        ax.add_patch(FancyBboxPatch((x - width / 2, -height / 2), width, height, boxstyle="round,pad=0.04",
                                    facecolor=colour, edgecolor="#444444", linewidth=1.1))
        label = text if key != 2 or "residual" not in text else f"{residual_blocks} residual\nblocks\nx + F(x)"
        ax.text(x, 0, label, ha="center", va="center", fontsize=fontsize - (1 if scale < 0.5 else 0))
        size = {1.0: "H x W", 0.5: "H/2 x W/2", 0.25: "H/4 x W/4"}[scale]
        depth = 3 if key == "rgb" else channels[key]
        ax.text(x, -height / 2 - 0.12, f"{depth} x {size}", ha="center", va="top", fontsize=fontsize - 1,
                color="#555555")
        centres.append(x)
    for x0, x1 in zip(centres, centres[1:]):
        ax.annotate("", xy=(x1 - width / 2 - 0.05, 0), xytext=(x0 + width / 2 + 0.05, 0),
                    arrowprops=dict(arrowstyle="-|>", lw=1.3, color="#333333"))
    ax.text(centres[2], full / 2 + 0.35, "encoder", ha="center", fontsize=fontsize + 1, weight="bold")
    ax.text(centres[4], full / 2 + 0.35, "transform", ha="center", fontsize=fontsize + 1, weight="bold")
    ax.text(centres[6], full / 2 + 0.35, "decoder", ha="center", fontsize=fontsize + 1, weight="bold")
    # the training loop underneath
    y = -full / 2 - 1.3
    loop = [("VGG-19 (frozen)\nfeatures of $x$", centres[7]),
            ("loss $L$: content vs $F^l(p)$,\nstyle vs $G^l(a)$, TV", centres[5]),
            ("backward: $\\partial L / \\partial W$,\nAdam updates the painter's $W$", centres[2])]
    for text, x in loop:
        ax.add_patch(FancyBboxPatch((x - 1.25, y - 0.45), 2.5, 0.9, boxstyle="round,pad=0.04",
                                    facecolor="#fff2cc", edgecolor="#444444", linewidth=1.1))
        ax.text(x, y, text, ha="center", va="center", fontsize=fontsize)
    ax.annotate("", xy=(centres[7], y + 0.5), xytext=(centres[8], -full / 2 - 0.45),
                arrowprops=dict(arrowstyle="-|>", lw=1.2, color="#777777", connectionstyle="arc3,rad=-0.2"))
    for (_, x0), (_, x1) in zip(loop, loop[1:]):
        ax.annotate("", xy=(x1 + 1.3, y), xytext=(x0 - 1.3, y), arrowprops=dict(arrowstyle="-|>", lw=1.2,
                                                                               color="#777777"))
    ax.text(centres[0], y, "training only:\nonce per painting", ha="center", va="center", fontsize=fontsize,
            color="#666666", style="italic")
    ax.set_xlim(centres[0] - 1.0, centres[-1] + 1.0)
    ax.set_ylim(y - 0.8, full / 2 + 0.8)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.set_title("The painter: one forward pass turns a photo into a painting")
    fig.tight_layout()
    return fig
