"""The explorer's model: the state of a session and what its buttons do.

:class:`Explorer` holds a session as traitlets: the images p and a, the
preset, the loss weights alpha, beta, gamma, the layers, the steps, the size,
where the optimisation starts, the pooling, which network runs, and two of
the controls of :mod:`d2lstyle.controls` (keeping the photo's colours, the
painting's scale). It turns them into a
:class:`~d2lstyle.recipes.Recipe` and runs
:func:`~d2lstyle.transfer.stylise` in a background thread with
:meth:`~Explorer.run`, :meth:`~Explorer.stop` and :meth:`~Explorer.save`.
It draws nothing: :class:`d2lstyle.widgets.ExplorerUI` is the view that ties
a widget to each trait, so everything here can be used (and tested) from
code alone, without ipywidgets or matplotlib.

Why a thread: a button's click handler runs inside the kernel's message loop.
Had it run the optimisation itself, the kernel would read no other message
until the run ended, so a click on Stop would wait in the queue until there
was nothing left to stop. The worker thread leaves the loop free (PyTorch
releases the GIL while it computes); Stop sets a :class:`threading.Event`
that the step callback checks, and :func:`~d2lstyle.transfer.stylise` then
ends the run with the best image found so far.

The network is loaded once, at the first run (``settings.load_vgg()``: max
pooling, as it was trained), and again only when ``network`` changes; a
recipe that asks for average pooling (the ``gatys`` preset) gets it from
:func:`~d2lstyle.transfer.stylise`, which switches the pooling per run.

>>> from d2lstyle.settings import Settings
>>> explorer = Explorer(Settings(network="random", quick=True), preset="keras")
>>> explorer.style_weight, explorer.content_layer, explorer.steps, explorer.size
(0.01, 'relu5_2', 1000, 512)
>>> recipe, notes = explorer.prepared_recipe()   # what Run would do: quick mode caps it
>>> recipe.steps, recipe.image_size, notes
(20, 64, ['Quick mode: 1000 steps -> 20.', 'Quick mode: image size 512 -> 64.'])
"""

import dataclasses
import itertools
import re
import sys
import tempfile
import threading
import time
import traceback
from pathlib import Path

import traitlets
from traitlets import Dict, Float, Int, Unicode, observe, validate

from . import images, networks
from .errors import D2lStyleError
from .controls import Controls
from .recipes import INITS, get_recipe, weights_family
from .settings import get_settings
from .transfer import stylise
from .vgg import LAYER_NAMES, POOLINGS, layer_index

# The layers the explorer offers: every convolution, before (conv) and after
# (relu) its ReLU. Pooling layers repeat the ReLU before them at half the size.
LAYER_CHOICES = tuple(name for name in LAYER_NAMES if not name.startswith("pool"))
# The traits that make up the recipe (a change to any of them changes the run).
SETTING_TRAITS = ["content", "style", "preset", "content_weight", "style_weight", "tv_weight", "content_layer",
                  "style_layers", "steps", "size", "init", "pooling", "preserve_colors", "style_scale"]
# The choices of preserve_colors: "none" keeps the painting's colours (d2lstyle.controls.Controls: None).
PRESERVE_COLORS = ("none", "luminance", "histogram")


def _resolve_image(name_or_path):
    """A path to an image file: ``name_or_path`` itself, or a bundled image."""
    path = Path(name_or_path).expanduser()
    if path.is_file():
        return str(path)
    return str(images.bundled_image(str(name_or_path)))


def _safe_file_name(name):
    """A file name without folders or unusual characters: ``"../my cat.JPG"`` -> ``"my_cat.JPG"``."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", Path(str(name)).name).strip("._") or "upload"


class Explorer(traitlets.HasTraits):
    """The state and actions of an interactive style-transfer session.

    Every setting is a trait: set it from code (``explorer.style_weight =
    1e5``) or with the linked widget of an :class:`~d2lstyle.widgets.ExplorerUI`;
    either way the other side follows. Choosing a ``preset`` loads all of its
    values. Choosing a ``network`` loads it at the next run.

    ``run()`` starts :func:`~d2lstyle.transfer.stylise` in a worker thread
    and returns at once (``run(wait=True)`` waits and returns the result);
    ``stop()`` asks the run to end after the current step; ``save()`` writes
    the image with :func:`~d2lstyle.images.save_image`.

    Functions in ``step_hooks`` are called (in the worker thread) as
    ``hook(info)`` with the :class:`~d2lstyle.transfer.StepInfo` of the first
    step, the last one, and every step that comes ``preview_interval``
    seconds or more after the previous call; an exception in a hook ends the
    run with status ``"error"``. Functions in ``finish_hooks`` are called as
    ``hook(explorer)`` once the run has ended, whatever the reason.
    """

    content = Unicode(help="path of the content photograph p")
    style = Unicode(help="path of the style artwork a")
    preset = Unicode("d2l", help="the preset the other settings start from")
    content_weight = Float(1.0, min=0.0, help="alpha, the content loss weight (0: no content term)")
    style_weight = Float(1e4, min=0.0, help="beta, the style loss weight (0: no style term)")
    tv_weight = Float(10.0, min=0.0, help="gamma, the total variation weight (0: no TV term)")
    content_layer = Unicode("relu4_4", help="the content layer")
    style_layers = Dict(help="style layer name -> its weight b_l")
    steps = Int(500, help="loss evaluations (capped in quick mode)")
    size = Int(450, help="the longer side of the image in pixels (capped in quick mode)")
    init = traitlets.Enum(INITS, "content", help="where the optimisation starts")
    pooling = traitlets.Enum(POOLINGS, "max", help="VGG-19's pooling: max (as trained) or avg (Gatys et al.)")
    preserve_colors = traitlets.Enum(PRESERVE_COLORS, "none",
                                     help="keep the photo's colours: none, luminance or histogram")
    style_scale = Float(1.0, help="the painting's size relative to the photo's (2: strokes twice as large)")
    network = Unicode(help="which VGG-19: 'original', 'torchvision', 'random' or a file path")
    status = Unicode("idle", help="idle, running, stopping, finished, stopped, diverged, interrupted or error")
    message = Unicode("", help="one line about the last run")

    def __init__(self, settings=None, vgg=None, *, content="tubingen", style="starry_night", preset="d2l",
                 output_dir="outputs", preview_interval=0.5):
        super().__init__()
        self.settings = settings if settings is not None else get_settings(verbose=False)
        # (network choice, VGG19): the network last loaded. A vgg passed in is taken to be the settings' network.
        self._loaded_network = (str(self.settings.network), vgg)
        self.output_dir = Path(output_dir)
        self.preview_interval = preview_interval
        self.step_hooks, self.finish_hooks = [], []
        self.result = None  # the TransferResult of the last run
        self.latest = None  # the last image shown (normalised tensor): what save() writes
        self.error, self.error_text = None, ""  # the exception that ended the last run, and its traceback
        self.notes = []  # what quick mode changed in the last run
        self.saved = None  # the path of the last image saved
        self._loaded = {}  # path -> PIL image
        self._stop_event = threading.Event()
        # The lock makes "is a run going on?" and the status change that follows one step: without it a Stop
        # arriving as the run ends could leave the status at "stopping". (Reentrant: observers may read state.)
        self._thread, self._busy, self._lock = None, False, threading.RLock()
        self._last_preview = 0.0
        self._upload_dir = None
        self.network = str(self.settings.network)
        self.content = _resolve_image(content)
        self.style = _resolve_image(style)
        self.load_preset(preset)

    # --- the images ---------------------------------------------------------

    @validate("content", "style")
    def _check_image(self, proposal):
        path = _resolve_image(proposal.value)
        if path not in self._loaded:
            self._loaded[path] = images.load_image(path)  # raises ImageError with a clear message
        return path

    @property
    def content_image(self):
        """The content photograph p as a PIL image."""
        return self._loaded[self.content]

    @property
    def style_image(self):
        """The style artwork a as a PIL image."""
        return self._loaded[self.style]

    def add_upload(self, kind, name, data):
        """Store uploaded image bytes in a temporary folder and use them as the
        ``kind`` ("content" or "style") image; returns the file's path.

        A file that is not a readable image raises
        :class:`~d2lstyle.errors.ImageError` and leaves the choice as it was.
        """
        if kind not in ("content", "style"):
            raise ValueError(f"kind must be 'content' or 'style', not {kind!r}")
        if self._upload_dir is None:
            self._upload_dir = Path(tempfile.mkdtemp(prefix="d2lstyle-uploads-"))
        name = _safe_file_name(name)
        path = self._upload_dir / name
        for number in itertools.count(2):
            if not path.exists():
                break
            path = self._upload_dir / f"{Path(name).stem}-{number}{Path(name).suffix}"
        path.write_bytes(bytes(data))
        try:
            setattr(self, kind, str(path))
        except Exception:
            path.unlink(missing_ok=True)
            raise
        return path

    # --- the settings -------------------------------------------------------

    @validate("preset")
    def _check_preset(self, proposal):
        return get_recipe(proposal.value).name  # raises RecipeError for an unknown name

    @observe("preset")
    def _preset_changed(self, change):
        self._apply_preset(self.preset_recipe())

    def load_preset(self, name):
        """Set every setting to the values of the preset ``name`` (again), with
        its loss weights for the chosen network."""
        if name == self.preset:
            self._apply_preset(self.preset_recipe())
        else:
            self.preset = name

    @property
    def weights_for(self):
        """The network family the loss weights are for: "torchvision" for torchvision's
        VGG-19 (or a file in its layout, once loaded), else "original"."""
        name, vgg = self._loaded_network
        return weights_family(vgg.family if self.network_loaded else self.network)  # (unloaded: its name says)

    def preset_recipe(self):
        """The chosen preset with its loss weights for the chosen network."""
        return get_recipe(self.preset, network=self.weights_for)

    def _apply_preset(self, recipe):
        self.content_weight = recipe.content_weight
        self.style_weight = recipe.style_weight
        self.tv_weight = recipe.tv_weight
        self.content_layer = next(iter(recipe.content_layers))  # every preset has one
        self.style_layers = dict(recipe.style_layers)
        self.steps = recipe.steps
        self.size = recipe.image_size if isinstance(recipe.image_size, int) else max(recipe.image_size)
        self.init = recipe.init
        self.pooling = recipe.pooling

    @validate("content_layer")
    def _check_content_layer(self, proposal):
        layer_index(proposal.value)  # raises LayerError naming the close matches
        return proposal.value

    @validate("style_layers")
    def _check_style_layers(self, proposal):
        for name in proposal.value:
            layer_index(name)
        return dict(sorted(proposal.value.items(), key=lambda item: layer_index(item[0])))

    def style_layer_weight(self, name):
        """The weight w^s_l a newly added style layer gets: the preset's weight
        for that layer, or else the mean of the preset's style-layer weights."""
        preset_layers = self.preset_recipe().style_layers
        mean = sum(preset_layers.values()) / len(preset_layers) if preset_layers else 1.0
        return preset_layers.get(name, mean)

    def set_style_layer(self, name, on=True):
        """Add (``on``) or remove a style layer (see :meth:`style_layer_weight`)."""
        layers = dict(self.style_layers)
        if not on:
            layers.pop(name, None)
        elif name not in layers:
            layers[name] = self.style_layer_weight(name)
        self.style_layers = layers

    def recipe(self):
        """The preset with the explorer's settings, at full quality.

        The content image keeps its aspect ratio: ``size`` is its longer side.
        Raises :class:`~d2lstyle.errors.RecipeError` for settings that cannot
        run (for example no layer at all).
        """
        base = self.preset_recipe()
        content_layers = {self.content_layer: base.content_layers.get(self.content_layer, 1.0)}
        return base.replace(
            name="explorer", summary=f"the {base.name} preset with the explorer's settings",
            content_layers=content_layers, style_layers=dict(self.style_layers),
            content_weight=self.content_weight, style_weight=self.style_weight, tv_weight=self.tv_weight,
            steps=self.steps, image_size=self.size, init=self.init, pooling=self.pooling,
        )

    @validate("style_scale")
    def _check_style_scale(self, proposal):
        Controls(style_scale=proposal.value)  # raises RecipeError for 0, a negative or an infinite scale
        return proposal.value

    def controls(self):
        """The :class:`~d2lstyle.controls.Controls` of a run: the colours to keep and the painting's scale."""
        colours = None if self.preserve_colors == "none" else self.preserve_colors
        return Controls(preserve_colors=colours, style_scale=self.style_scale)

    def prepared_recipe(self):
        """``(recipe, notes)``: the recipe a run uses, capped in quick mode, and
        the lines that say what quick mode changed (captured, not printed)."""
        return self.settings.cap_recipe(self.recipe())

    # --- the network --------------------------------------------------------

    @validate("network")
    def _check_network(self, proposal):
        return str(networks.validate_network_choice(proposal.value))  # NetworkError for "imagenet", ""

    @observe("network")
    def _network_changed(self, change):
        family_before = self.weights_for
        self.settings = dataclasses.replace(self.settings, network=change.new)
        if self.weights_for != family_before:  # the other pretrained network needs other loss weights
            self._apply_preset(self.preset_recipe())

    @property
    def network_loaded(self):
        """True once the chosen network is loaded (False until the next run after a change)."""
        name, vgg = self._loaded_network
        return vgg is not None and name == self.network

    @property
    def network_description(self):
        """Which VGG-19 the runs use, in words (the network's own description
        once it is loaded, else :func:`d2lstyle.networks.describe`'s)."""
        name, vgg = self._loaded_network
        if self.network_loaded and vgg.description:
            return vgg.description
        return networks.describe(self.network, self.settings.seed)

    @property
    def vgg(self):
        """VGG-19 with the session's network (loaded now if it is not yet)."""
        return self._load_network(self.settings)

    def _load_network(self, settings):
        name, vgg = self._loaded_network
        if vgg is None or name != settings.network:
            self.message = f"loading the network: {networks.describe(settings.network, settings.seed)} ..."
            vgg = settings.load_vgg()
            self._loaded_network = (settings.network, vgg)  # one assignment: read whole by other threads
        return vgg

    # --- running ------------------------------------------------------------

    @property
    def running(self):
        """True from run() until the run has ended."""
        return self._busy

    def run(self, wait=False):
        """Start a run in a worker thread; return the thread, or with ``wait``
        the :class:`~d2lstyle.transfer.TransferResult` (an exception that ended
        the run is raised again).

        Invalid settings raise at once, before any thread starts.
        """
        with self._lock:
            if self._busy:
                raise D2lStyleError("a run is already in progress: press Stop first")
            recipe, self.notes = self.prepared_recipe()
            controls = self.controls()
            content_img, style_img = self.content_image, self.style_image
            self._stop_event.clear()
            self.result, self.error, self.error_text = None, None, ""
            self._last_preview = 0.0
            self._busy = True
            self.message = " ".join(self.notes)
            self.status = "running"
            self._thread = threading.Thread(target=self._work, name="d2lstyle-explorer", daemon=True,
                                            args=(recipe, content_img, style_img, self.settings, controls))
            self._thread.start()
        if not wait:
            return self._thread
        self.wait()
        if self.error is not None:
            raise self.error
        return self.result

    def wait(self, timeout=None):
        """Wait until the run ends (or ``timeout`` seconds); returns the result.
        Ctrl-C (the kernel's interrupt button) while waiting stops the run."""
        thread = self._thread
        if thread is None:
            return self.result
        try:
            thread.join(timeout)
        except KeyboardInterrupt:
            self.stop()
            thread.join()
        return self.result

    def stop(self):
        """Ask the run to end after the current step; it keeps the best image so far."""
        with self._lock:
            if self._busy:
                self._stop_event.set()
                self.status = "stopping"

    def _on_step(self, info):
        now = time.perf_counter()
        if info.step in (1, info.steps) or now - self._last_preview >= self.preview_interval:
            self._last_preview = now
            self.latest = info.image.detach().to("cpu").clone()
            for hook in list(self.step_hooks):
                hook(info)
        return self._stop_event.is_set()

    def _work(self, recipe, content_img, style_img, settings, controls):
        vgg = result = error = None
        try:
            vgg = self._load_network(settings)
            result = stylise(content_img, style_img, recipe, vgg, device=settings.device, seed=settings.seed,
                             callbacks=[self._on_step], progress=False, controls=controls)
        except Exception as exc:  # noqa: BLE001 - reported through status, error and the hooks, never lost
            error = exc
            self.error_text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
        self.result, self.error = result, error
        if result is not None:
            self.latest = result.image
            steps = len(result.history["step"])
            seconds = result.history["seconds"][-1] if steps else 0.0
            summary = result.message or f"{steps} steps in {seconds:.1f} s"
            if steps:
                summary += f"; final loss {result.final_loss:.4g}"
            self.message = summary
        else:
            summary = f"{type(error).__name__}: {error}"
            self.message = summary if vgg is not None else f"the network did not load (choose another): {summary}"
        with self._lock:
            self._busy = False
            self.status = "error" if error is not None else result.status
        for hook in list(self.finish_hooks):
            try:
                hook(self)
            except Exception:  # noqa: BLE001 - a broken hook must not hide the run's outcome
                text = traceback.format_exc()
                self.error_text += text
                print(text, file=sys.__stderr__)

    # --- saving -------------------------------------------------------------

    def next_output_path(self):
        """``output_dir/<content>-<style>-NNN.png`` with the first unused number."""
        stem = f"{Path(self.content).stem}-{Path(self.style).stem}"
        for number in itertools.count(1):
            path = self.output_dir / f"{stem}-{number:03d}.png"
            if not path.exists():
                return path

    def save(self, path=None):
        """Write the current image (the result, or during a run the image last
        shown) to ``path`` or :meth:`next_output_path`; returns the absolute path.

        Written atomically, and never over the content or style image.
        """
        if self.latest is None:
            raise D2lStyleError("nothing to save yet: press Run first")
        path = Path(path).expanduser() if path else self.next_output_path()
        written = images.save_image(self.latest, path, protect=(self.content, self.style))
        self.saved = written.resolve()
        return self.saved
