"""Pictures of every stage: images side by side, feature maps, Gram matrices,
loss curves, and a live view of a run that redraws one figure in place.

>>> from PIL import Image
>>> fig = show_images([Image.new("RGB", (8, 8)), Image.new("RGB", (8, 8), "white")], ["black", "white"])
>>> [ax.get_title() for ax in fig.axes]
['black', 'white']
"""

import math

import matplotlib.pyplot as plt
import torch

from . import images
from .transfer import LOSS_TERMS


def _as_pil(image):
    return images.postprocess(image) if isinstance(image, torch.Tensor) else image


def show_images(pictures, titles=None, ncols=None, size=3.0, suptitle=None):
    """Show PIL images (or normalised tensors) in a grid; returns the figure."""
    pictures = list(pictures)
    ncols = ncols or len(pictures)
    nrows = math.ceil(len(pictures) / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(size * ncols, size * nrows), squeeze=False)
    for index, ax in enumerate(axes.flat):
        ax.axis("off")
        if index < len(pictures):
            ax.imshow(_as_pil(pictures[index]))
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
