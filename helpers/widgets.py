"""Controls (ipywidgets 7 in Colab, 8 in JupyterLab) that call the lesson's own functions: each returns a Controls."""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Mapping, Sequence

import ipywidgets
from IPython.display import display

LABEL = {"description_width": "initial"}  # labels at their natural width: a fixed one cuts long ones off
SLIDER_LAYOUT = {"width": "auto", "max_width": "460px"}  # a slider shrinks in a narrow pane, its readout in view
BUTTON_LAYOUT = {"width": "auto", "align_self": "flex-start"}  # as wide as its label, not stretched across a box
LR_RANGE, MAX_D_STEPS = (1e-4, 1e-2), 5  # method_picker's sliders
IMAGE_SIZES = (128, 192, 256, 384, 512)  # style_transfer_controls' choices


@dataclass
class Controls:
    """A lesson's controls: the box to show, each control by name, and the output area under them."""

    widget: ipywidgets.Box
    controls: dict[str, ipywidgets.Widget]
    output: ipywidgets.Output

    def __getitem__(self, name: str) -> ipywidgets.Widget:
        if name not in self.controls:
            raise KeyError(f"no control named {name!r}; the controls are {sorted(self.controls)}")
        return self.controls[name]

    def values(self) -> dict:  # every slider's and picker's setting, by name
        return {name: control.value for name, control in self.controls.items()
                if isinstance(control, ipywidgets.ValueWidget) and not isinstance(control, ipywidgets.FileUpload)}

    def _ipython_display_(self) -> None:
        display(self.widget)


def uploaded_bytes(value) -> bytes | None:
    """A FileUpload's first file as bytes (ipywidgets 8: a tuple of dicts; 7: a dict by file name), or None."""
    if not value:
        return None
    if not isinstance(value, (tuple, list, dict)):
        raise TypeError(f"expected a FileUpload value (a tuple of dicts, or a dict of dicts), "
                        f"got {type(value).__name__}")
    item = next(iter(value.values())) if isinstance(value, dict) else value[0]
    if not isinstance(item, dict) or "content" not in item:
        raise TypeError(f"expected an uploaded file as a dict with 'content', got {item!r:.80}")
    if item["content"] is None or not len(item["content"]):
        raise ValueError("the upload holds no content (its 'content' is empty): choose the file again")
    return bytes(item["content"])


def _button(description: str, icon: str = "play") -> ipywidgets.Button:
    return ipywidgets.Button(description=description, button_style="primary", icon=icon, layout=BUTTON_LAYOUT)


def _slider(description: str, value: float, low: float, high: float, step: float = 1, log: bool = False):
    """An int slider, or with `log` a slider over powers of ten from 10**low to 10**high."""
    if log:
        return ipywidgets.FloatLogSlider(value=value, base=10, min=low, max=high, step=step, readout_format=".1e",
                                         description=description, style=LABEL, layout=SLIDER_LAYOUT)
    return ipywidgets.IntSlider(value=value, min=low, max=high, step=step, description=description, style=LABEL,
                                layout=SLIDER_LAYOUT)


def _controls(named: dict[str, ipywidgets.Widget], button: str, run: Callable[[], None], rows: list | None = None,
              wait: bool = False) -> Controls:
    """Controls of `rows` (the named ones by default); clicking named[button] clears the output area (`wait`: once
    run() shows something new) and calls run() there, the button disabled meanwhile."""
    output = ipywidgets.Output()

    def on_click(_button) -> None:
        output.clear_output(wait=wait)
        with output:
            named[button].disabled = True
            try:
                run()
            finally:
                named[button].disabled = False

    named[button].on_click(on_click)
    return Controls(widget=ipywidgets.VBox([*(rows or named.values()), output]), controls=named, output=output)


def training_controls(train: Callable[[dict], None], lr_d: float, lr_g: float, d_steps: int, latent_dim: int,
                      steps: int = 500, live_plot=None) -> Controls:
    """Sliders for the learning rates, D steps per G step, noise dimension and N, and a "Train N steps" button.
    It calls train(controls.values()); a `live_plot` (a helpers.plotting.LivePlot) redraws just under it."""
    for name, value in (("lr_d", lr_d), ("lr_g", lr_g)):
        if not 1e-5 <= value <= 1e-1:
            raise ValueError(f"{name} must be between 1e-5 and 1e-1, got {value}")
    named = {"lr_d": _slider("D learning rate", lr_d, -5, -1, step=0.1, log=True),
             "lr_g": _slider("G learning rate", lr_g, -5, -1, step=0.1, log=True),
             "d_steps": _slider("D steps per G step", d_steps, 1, 10),
             "latent_dim": _slider("noise dimension", latent_dim, 1, 16),
             "steps": _slider("N", steps, 50, 5000, step=50),
             "train": _button("Train N steps"), "plot": ipywidgets.Output()}
    controls = _controls(named, "train", lambda: train(controls.values()))
    if live_plot is not None:
        live_plot.show_in(named["plot"])
    return controls


def _redrawn_by(slider: ipywidgets.ValueWidget, name: str, draw: Callable) -> Controls:
    """Controls of one slider that calls draw(value) in the output area now and whenever it moves."""
    if not callable(draw):
        raise ValueError(f"draw must be a function of the slider's value, got {type(draw).__name__}")
    output = ipywidgets.interactive_output(lambda value: draw(value), {"value": slider})
    return Controls(widget=ipywidgets.VBox([slider, output]), controls={name: slider}, output=output)


def interpolation_slider(draw: Callable[[float], None], steps: int = 16) -> Controls:
    """A slider "t" over [0, 1] in `steps` steps that calls draw(t) as it moves: a walk from z0 to z1."""
    if not isinstance(steps, int) or steps < 1:
        raise ValueError(f"steps must be a positive int, got {steps!r}")
    return _redrawn_by(ipywidgets.FloatSlider(value=0.0, min=0.0, max=1.0, step=1.0 / steps, description="t",
                                              readout_format=".2f", style=LABEL, layout=SLIDER_LAYOUT), "t", draw)


def option_slider(draw: Callable[[object], None], options: Sequence, value=None,
                  description: str = "value") -> Controls:
    """A slider "option" over a few values (lesson 07's β) that calls draw(value) when it moves."""
    options = list(options)
    if not options or (value is not None and value not in options):
        raise ValueError(f"value must be one of {options}, got {value!r}")
    return _redrawn_by(ipywidgets.SelectionSlider(options=options, value=options[0] if value is None else value,
                                                  description=description, continuous_update=False, style=LABEL,
                                                  layout=SLIDER_LAYOUT), "option", draw)


def new_samples_button(draw: Callable[[], None], description: str = "New samples") -> Controls:
    """A button "new" that calls draw() in the output area, now and on each click."""
    if not callable(draw):
        raise ValueError(f"draw must be a function with no arguments, got {type(draw).__name__}")
    controls = _controls({"new": _button(description, icon="refresh")}, "new", draw, wait=True)
    controls["new"].click()
    return controls


def style_transfer_controls(run: Callable[[dict], None], size: int = 128, content_weight: float = 1.0,
                            style_weight: float = 1e4, tv_weight: float = 1e-3, steps: int = 100) -> Controls:
    """Two uploads, sliders (content, style and TV weights as powers of ten; image size; steps) and "Run".
    "Run" calls run(the sliders' values, with "content_bytes" and "style_bytes", None without an upload)."""
    if size not in IMAGE_SIZES:
        raise ValueError(f"size must be one of {list(IMAGE_SIZES)}, got {size}")
    power = math.floor(math.log10(style_weight))
    named = {"content_upload": ipywidgets.FileUpload(accept="image/*", description="your photo", layout=BUTTON_LAYOUT),
             "style_upload": ipywidgets.FileUpload(accept="image/*", description="your painting", layout=BUTTON_LAYOUT),
             "content_weight": _slider("content weight", content_weight, -2, 3, step=0.25, log=True),
             "style_weight": _slider("style weight", style_weight, power - 4, power + 4, step=0.25, log=True),
             "tv_weight": _slider("TV weight", max(tv_weight, 1e-6), -6, 1, step=0.25, log=True),
             "size": ipywidgets.Dropdown(options=IMAGE_SIZES, value=size, description="image size (px)", style=LABEL),
             "steps": _slider("steps", steps, 10, 500, step=10), "run": _button("Run")}

    def run_with_uploads() -> None:
        try:
            run({**controls.values(), "content_bytes": uploaded_bytes(named["content_upload"].value),
                 "style_bytes": uploaded_bytes(named["style_upload"].value)})
        except (ValueError, FileNotFoundError) as error:  # a bad upload, a size that does not fit...
            print(f"Could not run: {error}")

    uploads = ipywidgets.HBox([named["content_upload"], named["style_upload"]])
    controls = _controls(named, "run", run_with_uploads, rows=[uploads, *list(named.values())[2:]])
    return controls


def method_picker(run: Callable[[str, float, int], None], methods: Sequence[str], lr: float = 1e-3,
                  d_steps: int = 1, settings: Mapping[str, Mapping] | None = None) -> Controls:
    """A "method" picker, "lr" and "d_steps" (D:G step ratio) sliders and a "train" button: run(method, lr, d_steps).
    Picking a method in `settings` ({method: {"lr": ..., "d_steps": ...}}) moves both sliders to its values."""
    methods, settings = list(methods), settings or {}
    for method, chosen in settings.items():
        if method not in methods or not {"lr", "d_steps"} <= set(chosen):
            raise ValueError(f"settings must map methods in {methods} to dicts with 'lr' and 'd_steps', "
                             f"got {method!r}: {chosen!r}")
    for method, chosen in {**settings, "the sliders": {"lr": lr, "d_steps": d_steps}}.items():
        if not (LR_RANGE[0] <= chosen["lr"] <= LR_RANGE[1] and 1 <= chosen["d_steps"] <= MAX_D_STEPS):
            raise ValueError(f"settings of {method}: lr={chosen['lr']} must lie in {LR_RANGE[0]:g}..{LR_RANGE[1]:g} "
                             f"and d_steps={chosen['d_steps']} in 1..{MAX_D_STEPS}")
    named = {"method": ipywidgets.Dropdown(options=methods, value=methods[0], description="method", style=LABEL),
             "lr": _slider("learning rate", lr, math.log10(LR_RANGE[0]), math.log10(LR_RANGE[1]), 0.25, log=True),
             "d_steps": _slider("D steps per G step", d_steps, 1, MAX_D_STEPS),
             "train": _button("Train")}

    def on_pick(change) -> None:
        if change["new"] in settings:
            named["lr"].value = settings[change["new"]]["lr"]
            named["d_steps"].value = settings[change["new"]]["d_steps"]

    named["method"].observe(on_pick, names="value")
    return _controls(named, "train", lambda: run(named["method"].value, named["lr"].value, named["d_steps"].value))
