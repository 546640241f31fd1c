"""Interactive controls (ipywidgets) for the lessons: sliders, buttons, pickers.

Each builder wires the controls to callbacks the lesson passes in, so the lesson keeps the code
that does the work in plain sight, and returns a `Controls`: leave it as a cell's last line to
show it; `controls["train"]` is a control by name (for tests, or to drive it from code).
Works with ipywidgets 7 (Colab's front end) and 8.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Mapping, Sequence

import ipywidgets
from IPython.display import display

# Labels at their natural width: a fixed width cuts long ones off ("noise dimension (res…").
LABEL = {"description_width": "initial"}
# A slider fills a narrow output area (its track shrinks, its readout stays in view) up to 460 px.
SLIDER_LAYOUT = {"width": "auto", "max_width": "460px"}
# A button as wide as its label: "auto" alone stretches it across a VBox, "flex-start" stops that.
BUTTON_LAYOUT = {"width": "auto", "align_self": "flex-start"}


@dataclass
class Controls:
    """A lesson's controls: the box to show, each control by name, and the output area under them.

    Whatever the callbacks print or draw appears in `output`, just under the controls.
    """

    widget: ipywidgets.Box
    controls: dict[str, ipywidgets.Widget]
    output: ipywidgets.Output

    def __getitem__(self, name: str) -> ipywidgets.Widget:
        if name not in self.controls:
            raise KeyError(f"no control named {name!r}; the controls are {sorted(self.controls)}")
        return self.controls[name]

    def values(self) -> dict:
        """The current setting of every slider and picker, by name (buttons, outputs and uploads left out)."""
        return {name: control.value for name, control in self.controls.items()
                if isinstance(control, ipywidgets.ValueWidget)
                and not isinstance(control, ipywidgets.FileUpload)}

    def _ipython_display_(self) -> None:
        display(self.widget)


def uploaded_bytes(value) -> bytes | None:
    """The first file in a FileUpload's value as bytes, or None when nothing was uploaded.

    ipywidgets 8: a tuple of dicts with a "content" memoryview; ipywidgets 7 (Colab):
    a dict {file name: {"content": bytes, "metadata": {...}}}.
    """
    if not value:
        return None
    if isinstance(value, (tuple, list)):
        item = value[0]
    elif isinstance(value, dict):
        item = next(iter(value.values()))
    else:
        raise TypeError(f"expected a FileUpload value (a tuple of dicts, or a dict of dicts), "
                        f"got {type(value).__name__}")
    if not isinstance(item, dict) or "content" not in item:
        raise TypeError(f"expected an uploaded file as a dict with 'content', got {item!r:.80}")
    if item["content"] is None or not len(item["content"]):
        raise ValueError("the upload holds no content (its 'content' is empty): choose the file again")
    return bytes(item["content"])


def _button(description: str, **kwargs) -> ipywidgets.Button:
    return ipywidgets.Button(description=description, layout=BUTTON_LAYOUT, **kwargs)


def _log_slider(description: str, value: float, low: float, high: float,
                step: float = 0.25) -> ipywidgets.FloatLogSlider:
    return ipywidgets.FloatLogSlider(value=value, base=10, min=low, max=high, step=step, readout_format=".1e",
                                     description=description, style=LABEL, layout=SLIDER_LAYOUT)


# --- Lesson 01: the toy GAN (learning rates, D steps, noise dimension; train fresh networks) ------

def training_controls(train: Callable[[dict], None], lr_d: float, lr_g: float, d_steps: int, latent_dim: int,
                      steps: int = 500, live_plot=None) -> Controls:
    """Sliders for the learning rates, D steps per G step, noise dimension and N, and a "Train N steps" button.

    The button calls train(settings), settings = {"lr_d", "lr_g", "d_steps", "latent_dim", "steps"}.
    Pass the lesson's `live_plot` (a helpers.plotting.LivePlot) and it redraws in the "plot" area
    just under the button.
    """
    for name, value in (("lr_d", lr_d), ("lr_g", lr_g)):
        if not 1e-5 <= value <= 1e-1:
            raise ValueError(f"{name} must be between 1e-5 and 1e-1, got {value}")
    sliders = {
        "lr_d": _log_slider("D learning rate", lr_d, -5, -1, step=0.1),
        "lr_g": _log_slider("G learning rate", lr_g, -5, -1, step=0.1),
        "d_steps": ipywidgets.IntSlider(value=d_steps, min=1, max=10, description="D steps per G step",
                                        style=LABEL, layout=SLIDER_LAYOUT),
        "latent_dim": ipywidgets.IntSlider(value=latent_dim, min=1, max=16, style=LABEL, layout=SLIDER_LAYOUT,
                                           description="noise dimension"),
        "steps": ipywidgets.IntSlider(value=steps, min=50, max=5000, step=50, description="N",
                                      style=LABEL, layout=SLIDER_LAYOUT),
    }
    train_button = _button("Train N steps", button_style="primary", icon="play")
    plot, output = ipywidgets.Output(), ipywidgets.Output()
    controls = Controls(widget=ipywidgets.VBox([*sliders.values(), train_button, plot, output]),
                        controls={**sliders, "train": train_button, "plot": plot}, output=output)

    def on_click(_button) -> None:
        output.clear_output()
        with output:
            train_button.disabled = True
            try:
                train(controls.values())
            finally:
                train_button.disabled = False

    train_button.on_click(on_click)
    if live_plot is not None:
        live_plot.show_in(plot)
    return controls


# --- Lessons 02 and 03: walk the latent space, draw new samples ---------------------------------

def interpolation_slider(draw: Callable[[float], None], steps: int = 16, description: str = "t") -> Controls:
    """A slider "t" in [0, 1] (in `steps` steps) that calls draw(t) in the output area whenever it moves.

    Lessons 02 and 03 pass a draw(t) that shows G between two noise vectors z0 and z1: a walk through
    the latent space.
    """
    if not callable(draw):
        raise ValueError(f"draw must be a function of t, got {type(draw).__name__}")
    if not isinstance(steps, int) or steps < 1:
        raise ValueError(f"steps must be a positive int, got {steps!r}")
    slider = ipywidgets.FloatSlider(value=0.0, min=0.0, max=1.0, step=1.0 / steps, description=description,
                                    continuous_update=True, readout_format=".2f", style=LABEL,
                                    layout=SLIDER_LAYOUT)
    return _redrawn_by(slider, "t", draw)


def _redrawn_by(slider: ipywidgets.ValueWidget, name: str, draw: Callable) -> Controls:
    """Controls of one slider, named `name`, whose every move calls draw(value) in the output area (and once now)."""
    output = ipywidgets.interactive_output(lambda value: draw(value), {"value": slider})
    return Controls(widget=ipywidgets.VBox([slider, output]), controls={name: slider}, output=output)


def new_samples_button(draw: Callable[[], None], description: str = "New samples") -> Controls:
    """A button "new" that calls draw() in the output area on each click (and once now).

    Lessons 02 and 03 pass a draw() that samples fresh noise and shows a grid of G's digits or faces.
    """
    if not callable(draw):
        raise ValueError(f"draw must be a function with no arguments, got {type(draw).__name__}")
    button = _button(description, button_style="primary", icon="refresh")
    output = ipywidgets.Output()

    def redraw(_button=None) -> None:
        with output:
            output.clear_output(wait=True)
            draw()

    button.on_click(redraw)
    redraw()
    return Controls(widget=ipywidgets.VBox([button, output]), controls={"new": button}, output=output)


# --- Lesson 04: neural style transfer ---------------------------------------------------------

def style_transfer_controls(run: Callable[[dict], None], sizes: Sequence[int] = (128, 192, 256, 384, 512),
                            size: int = 128, content_weight: float = 1.0, style_weight: float = 1e4,
                            tv_weight: float = 1e-3, steps: int = 100) -> Controls:
    """Two uploads, sliders (content, style and TV weights as powers of ten; image size; steps) and "Run".

    Pressing "Run" calls run(settings) with settings = {"content_weight", "style_weight", "tv_weight",
    "size", "steps", "content_bytes", "style_bytes"} (bytes are None when nothing was uploaded);
    whatever run() prints or shows appears just under the button.
    """
    if size not in sizes:
        raise ValueError(f"size must be one of {list(sizes)}, got {size}")
    style_power = math.floor(math.log10(style_weight))
    named = {
        "content_upload": ipywidgets.FileUpload(accept="image/*", multiple=False, description="your photo",
                                                layout=BUTTON_LAYOUT),
        "style_upload": ipywidgets.FileUpload(accept="image/*", multiple=False, description="your painting",
                                              layout=BUTTON_LAYOUT),
        "content_weight": _log_slider("content weight", content_weight, -2, 3),
        "style_weight": _log_slider("style weight", style_weight, style_power - 4, style_power + 4),
        "tv_weight": _log_slider("TV weight", max(tv_weight, 1e-6), -6, 1),
        "size": ipywidgets.Dropdown(options=list(sizes), value=size, description="image size (px)",
                                    style=LABEL),
        "steps": ipywidgets.IntSlider(value=steps, min=10, max=500, step=10, description="steps", style=LABEL,
                                      layout=SLIDER_LAYOUT),
        "run": _button("Run", button_style="primary", icon="play"),
    }
    output = ipywidgets.Output()
    controls = Controls(widget=ipywidgets.VBox([
        ipywidgets.HBox([named["content_upload"], named["style_upload"]]),
        named["content_weight"], named["style_weight"], named["tv_weight"],
        named["size"], named["steps"], named["run"], output]), controls=named, output=output)

    def on_click(_button) -> None:
        output.clear_output()
        with output:
            named["run"].disabled = True
            try:
                run({**controls.values(),
                     "content_bytes": uploaded_bytes(named["content_upload"].value),
                     "style_bytes": uploaded_bytes(named["style_upload"].value)})
            except (ValueError, FileNotFoundError) as error:  # bad upload, size that will not fit...
                print(f"Could not run: {error}")
            finally:
                named["run"].disabled = False

    named["run"].on_click(on_click)
    return controls


# --- Lesson 05: why GANs fail, and how to fix them -------------------------------------------

def method_picker(run: Callable[[str, float, int], None], methods: Sequence[str], lr: float = 1e-3,
                  d_steps: int = 1, lr_range: tuple[float, float] = (1e-4, 1e-2),
                  max_d_steps: int = 5, settings: Mapping[str, Mapping] | None = None) -> Controls:
    """A "method" picker, an "lr" slider, a "d_steps" (D:G step ratio) slider and a "train" button.

    Pressing Train calls run(method, lr, d_steps) with the chosen values; whatever it prints or
    draws appears just under the controls. With `settings` ({method: {"lr": ..., "d_steps": ...}},
    e.g. the settings each method ran with in a comparison), picking a method moves both sliders
    to that method's values, from where the student can change them.
    """
    methods = list(methods)
    if not methods:
        raise ValueError("methods must name at least one method")
    for method, chosen in (settings or {}).items():
        if method not in methods or not {"lr", "d_steps"} <= set(chosen):
            raise ValueError(f"settings must map methods in {methods} to dicts with 'lr' and 'd_steps', "
                             f"got {method!r}: {chosen!r}")
        if not (lr_range[0] <= chosen["lr"] <= lr_range[1] and 1 <= chosen["d_steps"] <= max_d_steps):
            raise ValueError(f"settings of {method!r}: lr={chosen['lr']} must lie in lr_range={lr_range} and "
                             f"d_steps={chosen['d_steps']} in 1..{max_d_steps}")
    if not lr_range[0] <= lr <= lr_range[1]:
        raise ValueError(f"lr={lr} must lie in lr_range={lr_range}")
    if not 1 <= d_steps <= max_d_steps:
        raise ValueError(f"d_steps={d_steps} must lie in 1..{max_d_steps}")
    named = {
        "method": ipywidgets.Dropdown(options=methods, value=methods[0], description="method", style=LABEL),
        "train": _button("Train", button_style="primary", icon="play"),
        "lr": _log_slider("learning rate", lr, math.log10(lr_range[0]), math.log10(lr_range[1])),
        "d_steps": ipywidgets.IntSlider(value=d_steps, min=1, max=max_d_steps,
                                        description="D steps per G step", style=LABEL, layout=SLIDER_LAYOUT),
    }
    output = ipywidgets.Output()

    def on_click(_button) -> None:
        output.clear_output()
        with output:
            named["train"].disabled = True
            try:
                run(named["method"].value, named["lr"].value, named["d_steps"].value)
            finally:
                named["train"].disabled = False

    def on_pick(change) -> None:
        if settings and change["new"] in settings:
            named["lr"].value = settings[change["new"]]["lr"]
            named["d_steps"].value = settings[change["new"]]["d_steps"]

    named["train"].on_click(on_click)
    named["method"].observe(on_pick, names="value")
    box = ipywidgets.VBox([named["method"], named["lr"], named["d_steps"], named["train"], output])
    return Controls(widget=box, controls=named, output=output)


# --- Lesson 07: VAE versus GAN (pick one of a few trained models) ---------------------------------

def option_slider(draw: Callable[[object], None], options: Sequence, value=None,
                  description: str = "value") -> Controls:
    """A slider "option" over a few values that calls draw(value) in the output area whenever it moves.

    Lesson 07 passes its β values and a draw(β) that shows the model trained with that β.
    """
    if not callable(draw):
        raise ValueError(f"draw must be a function of one option, got {type(draw).__name__}")
    options = list(options)
    if not options:
        raise ValueError("options must hold at least one value")
    value = options[0] if value is None else value
    if value not in options:
        raise ValueError(f"value must be one of {options}, got {value!r}")
    slider = ipywidgets.SelectionSlider(options=options, value=value, description=description,
                                        continuous_update=False, style=LABEL, layout=SLIDER_LAYOUT)
    return _redrawn_by(slider, "option", draw)
