"""The interactive explorer: change a setting, press Run, watch what happens.

Two layers, so that all the logic can be tested without a browser:

- :class:`Explorer` holds the state of a session (the images, the preset, the
  loss weights alpha, beta, gamma, the layers, the steps and the size) as
  traitlets, turns it into a :class:`~d2lstyle.recipes.Recipe`, and runs
  :func:`~d2lstyle.transfer.stylise` in a background thread with
  :meth:`~Explorer.run`, :meth:`~Explorer.stop` and :meth:`~Explorer.save`.
- :class:`ExplorerUI` is an ipywidgets box around an Explorer: each control
  is tied to one of its traits, the buttons call its methods, and the preview
  and the loss plot are redrawn from its progress hooks.

Why a thread: a button's click handler runs inside the kernel's message loop.
Had it run the optimisation itself, the kernel would read no other message
until the run ended, so a click on Stop would wait in the queue until there
was nothing left to stop. The worker thread leaves the loop free (PyTorch
releases the GIL while it computes); Stop sets a :class:`threading.Event`
that the step callback checks, and :func:`~d2lstyle.transfer.stylise` then
ends the run with the best image found so far.

>>> from d2lstyle.settings import Settings
>>> explorer = Explorer(Settings(network="random", quick=True), preset="keras")
>>> explorer.style_weight, explorer.content_layer, explorer.steps, explorer.size
(0.01, 'relu5_2', 1000, 512)
>>> recipe, notes = explorer.prepared_recipe()   # what Run would do: quick mode caps it
>>> recipe.steps, recipe.image_size, notes
(20, 64, ['Quick mode: 1000 steps -> 20.', 'Quick mode: image size 512 -> 64.'])
"""

import io
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

from . import images, networks, plotting
from .errors import D2lStyleError
from .recipes import PRESETS, get_recipe
from .settings import QUICK_MAX_SIDE, QUICK_MAX_STEPS, get_settings
from .transfer import stylise
from .vgg import LAYER_NAMES, layer_index

# The layers the explorer offers: every convolution, before (conv) and after
# (relu) its ReLU. Pooling layers repeat the ReLU before them at half the size.
LAYER_CHOICES = tuple(name for name in LAYER_NAMES if not name.startswith("pool"))
INIT_CHOICES = ("content", "noise", "style")
# The traits that make up the recipe (a change to any of them changes the run).
SETTING_TRAITS = ["content", "style", "preset", "content_weight", "style_weight", "tv_weight", "content_layer",
                  "style_layers", "steps", "size", "init"]


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
    1e5``) or with the linked widget of an :class:`ExplorerUI`; either way
    the other side follows. Choosing a ``preset`` loads all of its values.

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
    init = traitlets.Enum(INIT_CHOICES, "content", help="where the optimisation starts")
    status = Unicode("idle", help="idle, running, stopping, finished, stopped, diverged, interrupted or error")
    message = Unicode("", help="one line about the last run")

    def __init__(self, settings=None, vgg=None, *, content="tubingen", style="starry_night", preset="d2l",
                 output_dir="outputs", preview_interval=0.5):
        super().__init__()
        self.settings = settings if settings is not None else get_settings(verbose=False)
        self._vgg = vgg
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
        self._apply_preset(get_recipe(change.new))

    def load_preset(self, name):
        """Set every setting to the values of the preset ``name`` (again)."""
        if name == self.preset:
            self._apply_preset(get_recipe(name))
        else:
            self.preset = name

    def _apply_preset(self, recipe):
        self.content_weight = recipe.content_weight
        self.style_weight = recipe.style_weight
        self.tv_weight = recipe.tv_weight
        self.content_layer = next(iter(recipe.content_layers))  # every preset has one
        self.style_layers = dict(recipe.style_layers)
        self.steps = recipe.steps
        self.size = recipe.image_size if isinstance(recipe.image_size, int) else max(recipe.image_size)
        self.init = recipe.init

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
        """The weight b_l a newly added style layer gets: the preset's weight
        for that layer, or else the mean of the preset's style-layer weights."""
        preset_layers = get_recipe(self.preset).style_layers
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
        base = get_recipe(self.preset)
        content_layers = {self.content_layer: base.content_layers.get(self.content_layer, 1.0)}
        return base.replace(
            name="explorer", summary=f"the {base.name} preset with the explorer's settings",
            content_layers=content_layers, style_layers=dict(self.style_layers),
            content_weight=self.content_weight, style_weight=self.style_weight, tv_weight=self.tv_weight,
            steps=self.steps, image_size=self.size, init=self.init,
        )

    def prepared_recipe(self):
        """``(recipe, notes)``: the recipe a run uses, capped in quick mode, and
        the lines that say what quick mode changed (captured, not printed)."""
        return self.settings.cap_recipe(self.recipe())

    @property
    def network_description(self):
        """Which VGG-19 the runs use, in words (the network's own description
        once it is loaded, else the settings')."""
        loaded = getattr(self._vgg, "description", "")
        return loaded or networks.describe(self.settings.network, self.settings.seed)

    @property
    def vgg(self):
        """VGG-19 with the session's weights, loaded at the first run."""
        if self._vgg is None:
            self._vgg = self.settings.load_vgg()
        return self._vgg

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
            content_img, style_img = self.content_image, self.style_image
            self._stop_event.clear()
            self.result, self.error, self.error_text = None, None, ""
            self._last_preview = 0.0
            self._busy = True
            self.message = " ".join(self.notes)
            self.status = "running"
            self._thread = threading.Thread(target=self._work, args=(recipe, content_img, style_img),
                                            name="d2lstyle-explorer", daemon=True)
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

    def _work(self, recipe, content_img, style_img):
        result = error = None
        try:
            if self._vgg is None:
                self.message = "loading VGG-19 ..."
            result = stylise(content_img, style_img, recipe, self.vgg, device=self.settings.device,
                             seed=self.settings.seed, callbacks=[self._on_step], progress=False)
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
            self.message = f"{type(error).__name__}: {error}"
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


# --- the widgets -------------------------------------------------------------

def png_bytes(image):
    """A PIL image (or normalised tensor) encoded as PNG bytes, for ``ipywidgets.Image``.

    >>> from PIL import Image
    >>> png_bytes(Image.new("RGB", (2, 2)))[:4]
    b'\\x89PNG'
    """
    buffer = io.BytesIO()
    images.as_pil_image(image).save(buffer, format="PNG")
    return buffer.getvalue()


def loss_plot_png(history, title="Loss during optimisation", size=(4.6, 3.2)):
    """The loss terms of a run's history drawn as a PNG (empty axes before a run).

    Uses matplotlib's object-oriented API with the Agg canvas and never
    pyplot, so that it is safe to call from the worker thread.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=size, dpi=80)
    FigureCanvasAgg(figure)
    ax = figure.add_subplot()
    if history and history.get("step"):
        plotting.plot_history(history, ax=ax, title=title)
    else:
        ax.set_title(title)
        ax.set_xlabel("step (loss evaluations)")
        ax.set_ylabel("loss (weighted)")
        ax.text(0.5, 0.5, "press Run", ha="center", va="center", transform=ax.transAxes, color="grey")
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def _thumbnail(image, long_side=160):
    return png_bytes(images.resize(image, long_side))


def _format_weight(value):
    return f"{value:.3g}"


class ExplorerUI:
    """The explorer's widgets around an :class:`Explorer`; display it in a notebook cell.

    ``ExplorerUI(explorer)`` or ``ExplorerUI(settings=..., preset=...)`` (the
    keyword arguments go to a new Explorer). The controls are attributes
    (``style_weight_slider``, ``run_button``, ...) so that tests can press them.

    >>> from d2lstyle.settings import Settings
    >>> ui = ExplorerUI(settings=Settings(network="random", quick=True), preset="d2l")
    >>> ui.style_weight_slider.value = 1e5   # what dragging the slider does
    >>> ui.explorer.style_weight, "β = 1e+05" in ui.formula.value
    (100000.0, True)
    """

    def __init__(self, explorer=None, **explorer_options):
        import ipywidgets as w

        self.explorer = explorer = explorer if explorer is not None else Explorer(**explorer_options)
        self._syncing = 0
        settings = explorer.settings
        quick = (f"ON: runs are capped at {QUICK_MAX_SIDE} px and {QUICK_MAX_STEPS} steps" if settings.quick
                 else "off")
        self.network_label = w.HTML(
            f"<b>network:</b> {_escape(explorer.network_description)}<br>"
            f"<b>device:</b> {settings.device} &nbsp; <b>quick mode:</b> {quick}")
        self.network_label.add_class("d2lstyle-network")

        # The images.
        self.content_dropdown = w.Dropdown(description="content p", options=self._image_options("content"))
        self.style_dropdown = w.Dropdown(description="style a", options=self._image_options("style"))
        self.content_upload = w.FileUpload(accept="image/*", multiple=False, description="upload photo")
        self.style_upload = w.FileUpload(accept="image/*", multiple=False, description="upload artwork")
        self.content_thumbnail = w.Image(format="png", layout=w.Layout(max_width="160px"))
        self.style_thumbnail = w.Image(format="png", layout=w.Layout(max_width="160px"))

        # The recipe.
        self.preset_dropdown = w.Dropdown(description="preset", options=list(PRESETS))
        self.preset_label = w.HTML()
        slider = dict(continuous_update=False, style={"description_width": "110px"},
                      layout=w.Layout(width="420px"))
        self.content_weight_slider = w.FloatLogSlider(description="content α", min=-3, max=6, step=0.25,
                                                      **slider)
        self.style_weight_slider = w.FloatLogSlider(description="style β", min=-3, max=9, step=0.25, **slider)
        self.tv_weight_slider = w.FloatLogSlider(description="TV γ", min=-2, max=3, step=0.25, **slider)
        self.weight_checkboxes = {name: w.Checkbox(description="on", indent=False, layout=w.Layout(width="60px"))
                                  for name in ("content", "style", "tv")}
        self.steps_slider = w.IntSlider(description="steps", min=1, max=2000, **slider)
        self.size_slider = w.IntSlider(description="size (long side)", min=32, max=1024, **slider)
        self.content_layer_dropdown = w.Dropdown(description="content layer", options=list(LAYER_CHOICES),
                                                 style={"description_width": "110px"})
        self.init_dropdown = w.Dropdown(
            description="start from", style={"description_width": "110px"},
            options=[("the content photo p", "content"), ("noise", "noise"), ("the style artwork a", "style")])
        self.style_checkboxes = {name: w.Checkbox(description=name, indent=False, layout=w.Layout(width="82px"))
                                 for name in LAYER_CHOICES}
        rows = []
        for block in range(1, 6):
            names = [name for name in LAYER_CHOICES if name[4] == str(block)]
            rows.append(w.HBox([w.Label(f"block {block}", layout=w.Layout(width="60px"))]
                               + [self.style_checkboxes[name] for name in names]))
        self.style_layers_box = w.VBox(rows)
        self.style_layers_box.add_class("d2lstyle-style-layers")
        self.formula = w.HTML()

        # Running, stopping, saving.
        self.run_button = w.Button(description="Run", icon="play", button_style="success",
                                   tooltip="optimise the image with these settings")
        self.stop_button = w.Button(description="Stop", icon="stop", button_style="danger", disabled=True,
                                    tooltip="end the run after this step and keep the best image so far")
        self.save_button = w.Button(description="Save", icon="save", tooltip="write the image shown to a PNG file")
        self.save_path = w.Text(description="save to", layout=w.Layout(width="380px"),
                                placeholder=f"{explorer.output_dir}/<content>-<style>-NNN.png")
        self.status_label = w.HTML()
        self.saved_label = w.HTML()
        self.preview = w.Image(format="png", layout=w.Layout(width="360px"))
        self.loss_plot = w.Image(format="png", value=loss_plot_png(None), layout=w.Layout(width="400px"))
        self.log = w.Output(layout=w.Layout(max_height="240px", overflow="auto"))
        for widget, name in ((self.content_weight_slider, "content-weight"), (self.style_weight_slider, "style-weight"),
                             (self.tv_weight_slider, "tv-weight"), (self.steps_slider, "steps"),
                             (self.run_button, "run"), (self.stop_button, "stop"), (self.save_button, "save"),
                             (self.save_path, "save-path"), (self.status_label, "status"),
                             (self.saved_label, "saved"), (self.preview, "preview"), (self.loss_plot, "loss-plot"),
                             (self.formula, "formula"), (self.log, "log"), (self.preset_dropdown, "preset")):
            widget.add_class(f"d2lstyle-{name}")

        self._link()
        self.widget = w.VBox([
            self.network_label,
            w.HBox([w.VBox([self.content_dropdown, self.content_upload, self.content_thumbnail]),
                    w.VBox([self.style_dropdown, self.style_upload, self.style_thumbnail])]),
            w.HBox([self.preset_dropdown, self.preset_label]),
            w.HBox([w.VBox([w.HBox([self.content_weight_slider, self.weight_checkboxes["content"]]),
                            w.HBox([self.style_weight_slider, self.weight_checkboxes["style"]]),
                            w.HBox([self.tv_weight_slider, self.weight_checkboxes["tv"]])]),
                    w.VBox([self.steps_slider, self.size_slider, self.content_layer_dropdown, self.init_dropdown])]),
            w.HTML("<b>style layers</b> (conv: a convolution's output before its ReLU, relu: after it)"),
            self.style_layers_box,
            self.formula,
            w.HBox([self.run_button, self.stop_button, self.save_button, self.save_path]),
            self.status_label,
            self.saved_label,
            w.HBox([self.preview, self.loss_plot]),
            self.log,
        ])
        self.widget.add_class("d2lstyle-explorer")

    def _ipython_display_(self):
        from IPython.display import display

        display(self.widget)

    # --- wiring -------------------------------------------------------------

    @staticmethod
    def _image_options(kind):
        return [(path.stem, str(path)) for path in images.bundled_images(kind)]

    def _tie(self, trait, widgets, show, read):
        """Keep ``explorer.<trait>`` and its widgets in step, both ways.

        ``show(value)`` sets the widgets from the trait, ``read()`` returns the
        trait's value from the widgets. While ``show`` runs, widget changes are
        not written back, so a value the widgets cannot show (a weight outside
        a slider's range) stays what the code set.
        """
        explorer = self.explorer

        def from_explorer(change=None):
            self._syncing += 1
            try:
                show(getattr(explorer, trait))
            finally:
                self._syncing -= 1

        def from_widget(change):
            if not self._syncing:
                setattr(explorer, trait, read())

        from_explorer()
        explorer.observe(self._guarded(from_explorer), trait)
        for widget in widgets:
            widget.observe(self._guarded(from_widget), "value")

    def _tie_value(self, trait, widget):
        self._tie(trait, [widget], lambda value: setattr(widget, "value", value), lambda: widget.value)

    def _tie_weight(self, name):
        """A loss weight: a log slider for its size, a checkbox to switch the term off (weight 0)."""
        slider, checkbox = getattr(self, f"{name}_weight_slider"), self.weight_checkboxes[name]

        def show(value):
            checkbox.value = value > 0
            slider.disabled = value == 0
            if value > 0:
                slider.value = value

        def read():
            slider.disabled = not checkbox.value
            return slider.value if checkbox.value else 0.0

        self._tie(f"{name}_weight", [slider, checkbox], show, read)

    def _link(self):
        explorer = self.explorer
        for kind in ("content", "style"):
            dropdown = getattr(self, f"{kind}_dropdown")
            self._tie(kind, [dropdown], lambda path, kind=kind: self._show_image(kind, path),
                      lambda dropdown=dropdown: dropdown.value)
            getattr(self, f"{kind}_upload").observe(
                self._guarded(lambda change, kind=kind: self._uploaded(kind, change.new)), "value")
        for trait, widget in (("preset", self.preset_dropdown), ("steps", self.steps_slider),
                              ("size", self.size_slider), ("content_layer", self.content_layer_dropdown),
                              ("init", self.init_dropdown)):
            self._tie_value(trait, widget)
        for name in ("content", "style", "tv"):
            self._tie_weight(name)
        checkboxes = self.style_checkboxes
        self._tie("style_layers", list(checkboxes.values()),
                  lambda layers: [setattr(box, "value", name in layers) for name, box in checkboxes.items()],
                  lambda: {name: explorer.style_layers[name] if name in explorer.style_layers
                           else explorer.style_layer_weight(name) for name, box in checkboxes.items() if box.value})
        # The formula and the preset's description follow every setting.
        explorer.observe(self._guarded(lambda change: self._show_formula()), SETTING_TRAITS)
        self._show_formula()
        # Buttons and progress.
        self.run_button.on_click(self._guarded(lambda button: self.run()))
        self.stop_button.on_click(self._guarded(lambda button: explorer.stop()))
        self.save_button.on_click(self._guarded(lambda button: self.save()))
        explorer.observe(self._guarded(lambda change: self._show_status()), ["status", "message"])
        explorer.step_hooks.append(self._show_step)
        explorer.finish_hooks.append(self._guarded(self._show_finish))
        self._show_status()

    def _guarded(self, function):
        """``function`` with a user error shown in the status line and any other
        exception's traceback in the log, instead of lost in the kernel's log."""
        def guarded(*args):
            try:
                return function(*args)
            except D2lStyleError as error:
                self.status_label.value = f"<span style='color:#b00'>{_escape(error)}</span>"
            except Exception:  # noqa: BLE001 - shown to the user, never lost
                self.log.append_stderr(traceback.format_exc())
        return guarded

    def _show_image(self, kind, path):
        dropdown = getattr(self, f"{kind}_dropdown")
        if path not in [value for _, value in dropdown.options]:
            dropdown.options = list(dropdown.options) + [(f"upload: {Path(path).name}", path)]
        dropdown.value = path
        image = getattr(self.explorer, f"{kind}_image")
        getattr(self, f"{kind}_thumbnail").value = _thumbnail(image)
        if kind == "content" and self.explorer.latest is None:
            self.preview.value = png_bytes(images.resize(image, 360))

    def _uploaded(self, kind, files):
        if not files:
            return
        upload = getattr(self, f"{kind}_upload")
        try:
            for file in files:  # ipywidgets 8: a tuple of {"name", "content", ...}
                self.explorer.add_upload(kind, file["name"], file["content"])
        finally:
            upload.value = ()  # the bytes are on disk now; and the same file can be picked again

    def _show_formula(self):
        explorer = self.explorer
        recipe = get_recipe(explorer.preset)
        optimiser = f"{'L-BFGS' if recipe.optimizer == 'lbfgs' else 'Adam'} (lr {recipe.lr:g})"
        self.preset_label.value = (f"<small>{_escape(recipe.summary)}; optimiser {optimiser}, "
                                   f"Gram matrix normalised by {recipe.gram_normalization}</small>")
        layers = ", ".join(f"{name} (b={weight:g})" for name, weight in explorer.style_layers.items()) or "none"
        text = (f"L = α L<sub>content</sub> + β Σ<sub>l</sub> b<sub>l</sub> L<sup>l</sup><sub>style</sub> "
                f"+ γ L<sub>TV</sub> with α = {_format_weight(explorer.content_weight)}, "
                f"β = {_format_weight(explorer.style_weight)}, γ = {_format_weight(explorer.tv_weight)}; "
                f"content layer {explorer.content_layer}; style layers {layers}")
        try:
            recipe, notes = explorer.prepared_recipe()
            text += f"<br>A run: {recipe.steps} steps, long side {recipe.image_size} px"
            if notes:
                text += " (capped by quick mode)"
        except D2lStyleError as error:
            text += f"<br><span style='color:#b00'>cannot run: {_escape(error)}</span>"
        self.formula.value = text

    def _show_status(self):
        explorer = self.explorer
        colour = {"error": "#b00", "diverged": "#b00", "stopped": "#a60", "finished": "#070"}.get(explorer.status,
                                                                                                  "#333")
        self.status_label.value = f"<b style='color:{colour}'>{explorer.status}</b> {_escape(explorer.message)}"
        self.run_button.disabled = explorer.running
        self.stop_button.disabled = not explorer.running or explorer.status == "stopping"

    def _show_step(self, info):
        self.preview.value = png_bytes(info.image)
        self.loss_plot.value = loss_plot_png(info.history, title=f"Loss: step {info.step} of {info.steps}")
        if self.explorer.status == "running":
            self.status_label.value = (f"<b>running</b> step {info.step} of {info.steps}, {info.seconds:.1f} s, "
                                       f"total loss {info.losses['total']:.4g}")

    def _show_finish(self, explorer):
        if explorer.result is not None:
            self.preview.value = png_bytes(explorer.result.image)
            self.loss_plot.value = loss_plot_png(explorer.result.history, title=f"Loss: {explorer.result.status}")
        if explorer.error is not None and not isinstance(explorer.error, D2lStyleError):
            self.log.append_stderr(explorer.error_text)
        self._show_status()

    # --- actions --------------------------------------------------------------

    def run(self):
        """What the Run button does: clear the log and start a run."""
        self.log.outputs = ()
        self.saved_label.value = ""
        self.explorer.run()

    def save(self):
        """What the Save button does: save and say where."""
        path = self.explorer.save(self.save_path.value.strip() or None)
        self.saved_label.value = f"saved to <code>{_escape(path)}</code>"
        return path


def _escape(value):
    import html

    return html.escape(str(value))
