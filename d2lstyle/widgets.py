"""The explorer's view: ipywidgets around an :class:`~d2lstyle.explorer.Explorer`.

:class:`ExplorerUI` holds no state of its own. Each control is tied to one
trait of its Explorer (:meth:`ExplorerUI._tie`), so that moving a slider sets
the trait and setting the trait from code moves the slider; the buttons call
the Explorer's ``run``, ``stop`` and ``save``; the preview and the loss plot
are redrawn from its progress hooks. The controls are built a group at a
time (``_build_network_controls``, ``_build_image_pickers``, ...), so that
``ExplorerUI.__init__`` reads as the layout of the panel, top to bottom.

Every control carries the CSS class ``d2lstyle-<name>`` (``d2lstyle-run``,
``d2lstyle-style-weight``, ...), by which tests/test_explorer_browser.py finds
it in JupyterLab.

The model lives in :mod:`d2lstyle.explorer`; ``Explorer`` is imported here
too, so that ``from d2lstyle.widgets import Explorer, ExplorerUI`` works.
"""

import html
import io
import itertools
import re
import traceback
from pathlib import Path

import ipywidgets as widgets

from . import images, plotting
from .errors import D2lStyleError
from .explorer import LAYER_CHOICES, PRESERVE_COLORS, SETTING_TRAITS, Explorer
from .networks import NETWORKS
from .recipes import INITS, PRESETS, get_recipe
from .settings import QUICK_MAX_SIDE, QUICK_MAX_STEPS
from .vgg import POOLINGS

# What the menus show for each value they offer.
NETWORK_LABELS = {"original": "original VGG-19 (Gatys et al.)",
                  "torchvision": "torchvision's VGG-19 (548 MB download)",
                  "random": "random: NOT trained (speed tests only)"}
INIT_LABELS = {"content": "the content photo p", "recoloured": "p in the colours of a", "noise": "noise",
               "style": "the style artwork a"}
COLOUR_LABELS = {"none": "the painting's", "luminance": "the photo's (luminance only)",
                 "histogram": "the photo's (histogram matching)"}
POOLING_LABELS = {"max": "max (as trained)", "avg": "average (Gatys et al.)"}
DESCRIPTION_WIDTH = {"description_width": "110px"}


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

    >>> loss_plot_png(None)[:4]
    b'\\x89PNG'
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
    # Fixed margins that fit the labels: tight_layout would measure every label again at each preview and
    # cost more than the drawing itself.
    figure.subplots_adjust(left=0.17, right=0.96, bottom=0.15, top=0.9)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def _thumbnail(image, long_side=160):
    return png_bytes(images.resize(image, long_side))


def _format_weight(value):
    return f"{value:.3g}"


def _escape(value):
    return html.escape(str(value))


def _block_of(layer_name):
    """The block of VGG-19 a layer is in: ``"relu3_2"`` -> 3."""
    return int(re.search(r"\d+", layer_name).group())


def _tagged(widget, name):
    """``widget`` with the CSS class ``d2lstyle-<name>``."""
    widget.add_class(f"d2lstyle-{name}")
    return widget


# The loss weight sliders' ranges, as powers of ten: {term: (lowest, highest)}
WEIGHT_RANGES = {"content": (-6, 8), "style": (-6, 14), "tv": (-8, 6)}


def _log_slider(description, low, high):
    """A slider for a loss weight from 10**low to 10**high, in quarter powers of ten."""
    return widgets.FloatLogSlider(description=description, min=low, max=high, step=0.25, continuous_update=False,
                                  style=DESCRIPTION_WIDTH, layout=widgets.Layout(width="420px"))


def _int_slider(description, low, high):
    return widgets.IntSlider(description=description, min=low, max=high, continuous_update=False,
                             style=DESCRIPTION_WIDTH, layout=widgets.Layout(width="420px"))


def _image_picker(kind, description, upload_text):
    """``(dropdown, upload, thumbnail)`` for the content or style image."""
    options = [(path.stem, str(path)) for path in images.bundled_images(kind)]
    return (widgets.Dropdown(description=description, options=options),
            widgets.FileUpload(accept="image/*", multiple=False, description=upload_text,
                               layout=widgets.Layout(width="180px")),
            widgets.Image(format="png", layout=widgets.Layout(max_width="160px")))


class ExplorerUI:
    """The explorer's widgets around an :class:`~d2lstyle.explorer.Explorer`; display it in a notebook cell.

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
        self.explorer = explorer if explorer is not None else Explorer(**explorer_options)
        self._syncing = 0  # > 0 while widgets are set from the explorer (see _tie)
        self.widget = _tagged(widgets.VBox([
            self._build_network_controls(),  # which VGG-19, on which device, quick mode or not
            self._build_image_pickers(),  # the photograph p and the artwork a
            self._build_recipe_controls(),  # the preset, alpha, beta, gamma, steps, size, content layer, start
            self._build_style_layer_grid(),  # one checkbox per layer, a row per block
            self._build_painting_controls(),  # colours, the painting's scale, pooling
            self._build_run_controls(),  # the formula with its numbers; Run, Stop, Save; what happened
            self._build_output_area(),  # the image, the loss plot, the log of unexpected errors
        ]), "explorer")
        self._link()

    def _ipython_display_(self):
        from IPython.display import display

        display(self.widget)

    # --- the widgets, a group at a time ---------------------------------------

    def _build_network_controls(self):
        """``network_dropdown`` (which VGG-19 the next run uses) and
        ``network_label`` (that network in words, the device and quick mode)."""
        self.network_dropdown = _tagged(widgets.Dropdown(
            description="network", style=DESCRIPTION_WIDTH, layout=widgets.Layout(width="420px"),
            options=[(NETWORK_LABELS.get(name, name), name) for name in NETWORKS]), "network-choice")
        self.network_label = _tagged(widgets.HTML(), "network")
        return widgets.VBox([self.network_dropdown, self.network_label])

    def _build_image_pickers(self):
        """For p and for a: a dropdown of the bundled images (and uploads), an
        upload button and a thumbnail (``content_dropdown``, ``content_upload``,
        ``content_thumbnail``, and the same for ``style``)."""
        self.content_dropdown, self.content_upload, self.content_thumbnail = _image_picker(
            "content", "content p", "upload photo")
        self.style_dropdown, self.style_upload, self.style_thumbnail = _image_picker(
            "style", "style a", "upload artwork")
        return widgets.HBox([widgets.VBox([self.content_dropdown, self.content_upload, self.content_thumbnail]),
                             widgets.VBox([self.style_dropdown, self.style_upload, self.style_thumbnail])])

    def _build_recipe_controls(self):
        """``preset_dropdown`` with ``preset_label``; a log slider per loss
        weight (``content_weight_slider``, ``style_weight_slider``,
        ``tv_weight_slider``), each with an on/off box in ``weight_checkboxes``;
        ``steps_slider``, ``size_slider``, ``content_layer_dropdown`` and
        ``init_dropdown``."""
        self.preset_dropdown = _tagged(widgets.Dropdown(description="preset", options=list(PRESETS)), "preset")
        self.preset_label = widgets.HTML()
        # wide enough for every preset on either network (the original VGG-19's weights are smaller:
        # alpha / 3318 and beta / 3318**2 of torchvision's, see recipes.weights_for_other_network)
        self.content_weight_slider = _tagged(_log_slider("content α", *WEIGHT_RANGES["content"]), "content-weight")
        self.style_weight_slider = _tagged(_log_slider("style β", *WEIGHT_RANGES["style"]), "style-weight")
        self.tv_weight_slider = _tagged(_log_slider("TV γ", *WEIGHT_RANGES["tv"]), "tv-weight")
        self.weight_checkboxes = {name: widgets.Checkbox(description="on", indent=False,
                                                         layout=widgets.Layout(width="60px"))
                                  for name in ("content", "style", "tv")}
        self.steps_slider = _tagged(_int_slider("steps", 1, 2000), "steps")
        self.size_slider = _int_slider("size (long side)", 32, 1024)
        self.content_layer_dropdown = widgets.Dropdown(description="content layer", options=list(LAYER_CHOICES),
                                                       style=DESCRIPTION_WIDTH)
        self.init_dropdown = widgets.Dropdown(description="start from", style=DESCRIPTION_WIDTH,
                                              options=[(INIT_LABELS.get(name, name), name) for name in INITS])
        loss_weights = widgets.VBox([
            widgets.HBox([self.content_weight_slider, self.weight_checkboxes["content"]]),
            widgets.HBox([self.style_weight_slider, self.weight_checkboxes["style"]]),
            widgets.HBox([self.tv_weight_slider, self.weight_checkboxes["tv"]]),
        ])
        run_size = widgets.VBox([self.steps_slider, self.size_slider, self.content_layer_dropdown, self.init_dropdown])
        return widgets.VBox([widgets.HBox([self.preset_dropdown, self.preset_label]),
                             widgets.HBox([loss_weights, run_size])])

    def _build_style_layer_grid(self):
        """``style_checkboxes``: one per layer of LAYER_CHOICES, in
        ``style_layers_box`` with a row per block of VGG-19."""
        self.style_checkboxes = {name: widgets.Checkbox(description=name, indent=False,
                                                        layout=widgets.Layout(width="82px"))
                                 for name in LAYER_CHOICES}
        rows = [widgets.HBox([widgets.Label(f"block {block}", layout=widgets.Layout(width="60px"))]
                             + [self.style_checkboxes[name] for name in names])
                for block, names in itertools.groupby(LAYER_CHOICES, key=_block_of)]
        self.style_layers_box = _tagged(widgets.VBox(rows), "style-layers")
        return widgets.VBox([
            widgets.HTML("<b>style layers</b> (conv: a convolution's output before its ReLU, relu: after it)"),
            self.style_layers_box,
        ])

    def _build_painting_controls(self):
        """``colours_dropdown`` (keep the painting's or the photo's colours), ``style_scale_slider`` (the
        painting's size relative to the photo's) and ``pooling_dropdown`` (see :mod:`d2lstyle.controls`)."""
        self.colours_dropdown = _tagged(widgets.Dropdown(
            description="colours", style=DESCRIPTION_WIDTH, layout=widgets.Layout(width="330px"),
            options=[(COLOUR_LABELS[name], name) for name in PRESERVE_COLORS]), "colours")
        self.style_scale_slider = _tagged(widgets.FloatLogSlider(
            description="style scale", base=2, min=-2, max=2, step=0.25, continuous_update=False,
            style=DESCRIPTION_WIDTH, layout=widgets.Layout(width="330px")), "style-scale")
        self.pooling_dropdown = _tagged(widgets.Dropdown(
            description="pooling", style=DESCRIPTION_WIDTH, layout=widgets.Layout(width="260px"),
            options=[(POOLING_LABELS[name], name) for name in POOLINGS]), "pooling")
        return widgets.VBox([
            widgets.HTML("<b>controls</b> (Gatys et al. 2017): the colours, the painting's scale (2: strokes "
                         "twice as large), the network's pooling"),
            widgets.HBox([self.colours_dropdown, self.style_scale_slider, self.pooling_dropdown]),
        ])

    def _build_run_controls(self):
        """``formula`` (the loss a run minimises, with its numbers), ``run_button``,
        ``stop_button``, ``save_button`` with ``save_path``, and ``status_label``
        and ``saved_label``, which say what happened."""
        self.formula = _tagged(widgets.HTML(), "formula")
        self.run_button = _tagged(widgets.Button(description="Run", icon="play", button_style="success",
                                                 tooltip="optimise the image with these settings"), "run")
        self.stop_button = _tagged(widgets.Button(
            description="Stop", icon="stop", button_style="danger", disabled=True,
            tooltip="end the run after this step and keep the best image so far"), "stop")
        self.save_button = _tagged(widgets.Button(description="Save", icon="save",
                                                  tooltip="write the image shown to a PNG file"), "save")
        self.save_path = _tagged(widgets.Text(
            description="save to", layout=widgets.Layout(width="380px"),
            placeholder=f"{self.explorer.output_dir}/<content>-<style>-NNN.png"), "save-path")
        self.status_label = _tagged(widgets.HTML(), "status")
        self.saved_label = _tagged(widgets.HTML(), "saved")
        return widgets.VBox([self.formula,
                             widgets.HBox([self.run_button, self.stop_button, self.save_button, self.save_path]),
                             self.status_label, self.saved_label])

    def _build_output_area(self):
        """``preview`` (the image), ``loss_plot`` (its loss terms) and ``log``
        (the traceback of an unexpected error)."""
        self.preview = _tagged(widgets.Image(format="png", layout=widgets.Layout(width="360px")), "preview")
        self.loss_plot = _tagged(widgets.Image(format="png", value=loss_plot_png(None),
                                               layout=widgets.Layout(width="400px")), "loss-plot")
        self.log = _tagged(widgets.Output(layout=widgets.Layout(max_height="240px", overflow="auto")), "log")
        return widgets.VBox([widgets.HBox([self.preview, self.loss_plot]), self.log])

    # --- wiring -------------------------------------------------------------

    def _tie(self, trait, controls, show, read):
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
        for control in controls:
            control.observe(self._guarded(from_widget), "value")

    def _tie_value(self, trait, control):
        self._tie(trait, [control], lambda value: setattr(control, "value", value), lambda: control.value)

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
        self._tie("network", [self.network_dropdown], self._show_network, lambda: self.network_dropdown.value)
        for kind in ("content", "style"):
            dropdown = getattr(self, f"{kind}_dropdown")
            self._tie(kind, [dropdown], lambda path, kind=kind: self._show_image(kind, path),
                      lambda dropdown=dropdown: dropdown.value)
            getattr(self, f"{kind}_upload").observe(
                self._guarded(lambda change, kind=kind: self._uploaded(kind, change.new)), "value")
        for trait, control in (("preset", self.preset_dropdown), ("steps", self.steps_slider),
                               ("size", self.size_slider), ("content_layer", self.content_layer_dropdown),
                               ("init", self.init_dropdown), ("preserve_colors", self.colours_dropdown),
                               ("style_scale", self.style_scale_slider), ("pooling", self.pooling_dropdown)):
            self._tie_value(trait, control)
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

    # --- showing the explorer's state -----------------------------------------

    def _show_network(self, network):
        if network not in [value for _, value in self.network_dropdown.options]:  # a file
            self.network_dropdown.options = list(self.network_dropdown.options) + [(f"file: {Path(network).name}",
                                                                                    network)]
        self.network_dropdown.value = network
        self._show_network_label()

    def _show_network_label(self):
        explorer, settings = self.explorer, self.explorer.settings
        when = "" if explorer.network_loaded else " <i>(loaded at the next Run)</i>"
        quick = (f"ON: runs are capped at {QUICK_MAX_SIDE} px and {QUICK_MAX_STEPS} steps" if settings.quick
                 else "off")
        self.network_label.value = (f"<b>network:</b> {_escape(explorer.network_description)}{when}<br>"
                                    f"<b>device:</b> {settings.device} &nbsp; <b>quick mode:</b> {quick}")

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
        recipe = explorer.preset_recipe()
        optimiser = f"{'L-BFGS' if recipe.optimizer == 'lbfgs' else 'Adam'} (lr {recipe.lr:g})"
        self.preset_label.value = (f"<small>{_escape(recipe.summary)}; optimiser {optimiser}, "
                                   f"Gram matrix normalised by {recipe.gram_normalization}</small>")
        layers = ", ".join(f"{name} (w={weight:g})" for name, weight in explorer.style_layers.items()) or "none"
        text = (f"L = α L<sub>content</sub> + β Σ<sub>l</sub> w<sup>s</sup><sub>l</sub> L<sup>l</sup><sub>style</sub> "
                f"+ γ L<sub>TV</sub> with α = {_format_weight(explorer.content_weight)}, "
                f"β = {_format_weight(explorer.style_weight)}, γ = {_format_weight(explorer.tv_weight)}; "
                f"(loss weights for the {explorer.weights_for} VGG-19); content layer {explorer.content_layer}; "
                f"style layers {layers}; {explorer.pooling} pooling")
        if explorer.preserve_colors != "none" or explorer.style_scale != 1:
            text += (f"<br>Colours: {_escape(COLOUR_LABELS[explorer.preserve_colors])}; "
                     f"the painting at {explorer.style_scale:.3g} times the photo's size")
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
        self._show_network_label()  # the run may have loaded a network
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
