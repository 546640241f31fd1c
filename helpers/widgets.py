"""Interactive controls (ipywidgets) for the lessons: sliders, buttons, pickers.

Each function builds the controls and wires them to callbacks the lesson passes in, so the
lesson keeps the code that does the work in plain sight.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable


@dataclass
class TrainingControls:
    """The controls of a toy-GAN training session: sliders, two buttons and an output area."""

    widget: object
    sliders: dict
    train_button: object
    reset_button: object
    output: object

    def values(self) -> dict:
        """The sliders' current settings, by name."""
        return {name: slider.value for name, slider in self.sliders.items()}

    def _ipython_display_(self) -> None:
        from IPython.display import display
        display(self.widget)


def training_controls(train: Callable[[dict], None], reset: Callable[[dict], None],
                      lr_d: float, lr_g: float, d_steps: int, latent_dim: int,
                      steps: int = 500) -> TrainingControls:
    """Sliders for the learning rates, D steps per G step and noise dimension, and two buttons.

    "Train N more steps" calls train(settings) and continues from where training stands;
    "Reset models" calls reset(settings), e.g. to rebuild the models with a new noise dimension.
    """
    import ipywidgets as w

    for name, value in (("lr_d", lr_d), ("lr_g", lr_g)):
        if not 1e-5 <= value <= 1e-1:
            raise ValueError(f"{name} must be between 1e-5 and 1e-1, got {value}")
    style = {"description_width": "150px"}
    layout = w.Layout(width="420px")
    sliders = {
        "lr_d": w.FloatLogSlider(value=lr_d, base=10, min=-5, max=-1, step=0.1, readout_format=".1e",
                                 description="D learning rate", style=style, layout=layout),
        "lr_g": w.FloatLogSlider(value=lr_g, base=10, min=-5, max=-1, step=0.1, readout_format=".1e",
                                 description="G learning rate", style=style, layout=layout),
        "d_steps": w.IntSlider(value=d_steps, min=1, max=10, description="D steps per G step",
                               style=style, layout=layout),
        "latent_dim": w.IntSlider(value=latent_dim, min=1, max=16,
                                  description="noise dimension (reset)", style=style, layout=layout),
        "steps": w.IntSlider(value=steps, min=50, max=5000, step=50, description="N (steps)",
                             style=style, layout=layout),
    }
    train_button = w.Button(description="Train N more steps", button_style="primary", icon="play")
    reset_button = w.Button(description="Reset models", button_style="warning", icon="refresh")
    output = w.Output()
    controls = TrainingControls(widget=None, sliders=sliders, train_button=train_button,
                                reset_button=reset_button, output=output)

    def run(callback: Callable[[dict], None]) -> Callable:
        def handler(_button) -> None:
            with output:
                callback(controls.values())
        return handler

    train_button.on_click(run(train))
    reset_button.on_click(run(reset))
    controls.widget = w.VBox([*sliders.values(), w.HBox([train_button, reset_button]), output])
    return controls


# --- Lesson 02: MNIST GAN (latent walk slider, new-samples button) ---

def latent_walk(draw, steps: int = 20, description: str = "z₀ → z₁"):
    """A slider t in [0, 1] (steps + 1 stops) that calls draw(t) into an output area below it.

    The lesson's draw(t) shows G((1 - t) z₀ + t z₁). Returns the widget box to display
    (the same widget as lesson 03's interpolation_slider, with room for a longer label).
    """
    return interpolation_slider(draw, steps=steps, description=description,
                                style={"description_width": "initial"})


# --- Lesson 03: DCGAN on faces ---------------------------------------------------------------

def interpolation_slider(draw, steps: int = 16, description: str = "t", style: dict | None = None):
    """A slider t in [0, 1] (in `steps` steps) that calls draw(t) in an output area whenever it moves.

    Lesson 03 passes a draw(t) that shows G(slerp(z0, z1, t)): walking through the latent space.
    Returns the widget box (display it, or leave it as the cell's last line).
    """
    import ipywidgets as widgets
    if not callable(draw):
        raise ValueError(f"draw must be a function of t, got {type(draw).__name__}")
    if not isinstance(steps, int) or steps < 1:
        raise ValueError(f"steps must be a positive int, got {steps!r}")
    slider = widgets.FloatSlider(value=0.0, min=0.0, max=1.0, step=1.0 / steps,
                                 description=description, continuous_update=True,
                                 readout_format=".2f", **({"style": style} if style else {}))
    output = widgets.Output()

    def redraw(change=None) -> None:
        with output:
            output.clear_output(wait=True)
            draw(slider.value)

    slider.observe(redraw, names="value")
    redraw()
    box = widgets.VBox([slider, output])
    box.slider, box.output = slider, output  # for tests and for lessons that drive it from code
    return box


def new_samples_button(draw, description: str = "New samples"):
    """A button that calls draw() in an output area on each click (and once now).

    Lessons 02 and 03 pass a draw() that samples fresh noise and shows a grid of G's digits or faces.
    """
    import ipywidgets as widgets
    if not callable(draw):
        raise ValueError(f"draw must be a function with no arguments, got {type(draw).__name__}")
    button = widgets.Button(description=description, icon="refresh")
    output = widgets.Output()

    def redraw(_=None) -> None:
        with output:
            output.clear_output(wait=True)
            draw()

    button.on_click(redraw)
    redraw()
    box = widgets.VBox([button, output])
    box.button, box.output = button, output
    return box


# --- Lesson 04: neural style transfer ---------------------------------------------------------
from typing import Callable, Sequence  # noqa: E402



def style_transfer_controls(run: Callable[[dict], None], sizes: Sequence[int] = (128, 192, 256, 384, 512),
                            size: int = 128, content_weight: float = 1.0, style_weight: float = 1e4,
                            tv_weight: float = 1e-3, steps: int = 100):
    """Sliders (content, style and TV weights as powers of ten; image size; steps), two uploads and a button.

    Pressing "Run" calls run(settings) with settings = {"content_weight", "style_weight", "tv_weight",
    "size", "steps", "content_bytes", "style_bytes"} (bytes are None when nothing was uploaded);
    whatever run() prints or shows appears under the controls. Returns the widget box.
    """
    import math

    import ipywidgets as widgets
    from IPython.display import display

    def log_slider(description: str, value: float, low: int, high: int):
        return widgets.FloatLogSlider(value=value, base=10, min=low, max=high, step=0.25,
                                      description=description, readout_format=".1e",
                                      style={"description_width": "110px"}, layout={"width": "420px"})

    if size not in sizes:
        raise ValueError(f"size must be one of {list(sizes)}, got {size}")
    content_slider = log_slider("content weight", content_weight, -2, 3)
    style_slider = log_slider("style weight", style_weight, math.floor(math.log10(style_weight)) - 4,
                              math.floor(math.log10(style_weight)) + 4)
    tv_slider = log_slider("TV weight", max(tv_weight, 1e-6), -6, 1)
    size_picker = widgets.Dropdown(options=list(sizes), value=size, description="image size (px)",
                                   style={"description_width": "110px"})
    steps_slider = widgets.IntSlider(value=steps, min=10, max=500, step=10, description="steps",
                                     style={"description_width": "110px"}, layout={"width": "420px"})
    content_upload = widgets.FileUpload(accept="image/*", multiple=False, description="your photo")
    style_upload = widgets.FileUpload(accept="image/*", multiple=False, description="your painting")
    button = widgets.Button(description="Run", button_style="primary", icon="play")
    output = widgets.Output()

    def uploaded_bytes(upload) -> bytes | None:
        value = upload.value  # ipywidgets 8: a tuple of dicts with a "content" memoryview
        if not value:
            return None
        item = value[0] if isinstance(value, (tuple, list)) else next(iter(value.values()))
        return bytes(item["content"])

    def on_click(_):
        output.clear_output()
        with output:
            button.disabled = True
            try:
                run({"content_weight": content_slider.value, "style_weight": style_slider.value,
                     "tv_weight": tv_slider.value, "size": size_picker.value, "steps": steps_slider.value,
                     "content_bytes": uploaded_bytes(content_upload),
                     "style_bytes": uploaded_bytes(style_upload)})
            except (ValueError, FileNotFoundError) as error:  # bad upload, size that will not fit...
                print(f"Could not run: {error}")
            finally:
                button.disabled = False

    button.on_click(on_click)
    box = widgets.VBox([
        widgets.HBox([content_upload, style_upload]),
        content_slider, style_slider, tv_slider,
        widgets.HBox([size_picker, steps_slider]),
        button, output])
    display(box)
    return box


# --- Lesson 05: why GANs fail, and how to fix them ---

def method_picker(run, methods, lr: float = 1e-3, d_steps: int = 1,
                  lr_range: tuple[float, float] = (1e-4, 1e-2), max_d_steps: int = 5):
    """A method picker, a learning-rate slider, a D:G step-ratio slider and a Train button.

    Pressing Train calls run(method, lr, d_steps) with the chosen values; whatever it prints or
    draws appears under the controls. Returns the widget box (display it as a cell's last line).
    """
    import math

    import ipywidgets as widgets
    from IPython.display import clear_output

    methods = list(methods)
    if not methods:
        raise ValueError("methods must name at least one method")
    if not lr_range[0] <= lr <= lr_range[1]:
        raise ValueError(f"lr={lr} must lie in lr_range={lr_range}")
    if not 1 <= d_steps <= max_d_steps:
        raise ValueError(f"d_steps={d_steps} must lie in 1..{max_d_steps}")
    picker = widgets.Dropdown(options=methods, value=methods[0], description="method")
    lr_slider = widgets.FloatLogSlider(value=lr, base=10, min=math.log10(lr_range[0]),
                                       max=math.log10(lr_range[1]), step=0.25,
                                       description="learning rate", readout_format=".1e",
                                       style={"description_width": "initial"})
    ratio = widgets.IntSlider(value=d_steps, min=1, max=max_d_steps, description="D steps per G step",
                              style={"description_width": "initial"})
    button = widgets.Button(description="Train", button_style="primary")
    out = widgets.Output()

    def on_click(_):
        with out:
            clear_output(wait=True)
            button.disabled = True
            try:
                run(picker.value, lr_slider.value, ratio.value)
            finally:
                button.disabled = False

    button.on_click(on_click)
    return widgets.VBox([widgets.HBox([picker, button]), lr_slider, ratio, out])


# --- Lesson 06: controlling what a GAN makes (pick a class or a code, slide the continuous codes) ---
from typing import Callable, Sequence  # noqa: E402


def code_explorer(render: Callable[[int, list[float]], None], num_choices: int = 10,
                  choice_label: str = "class", slider_names: Sequence[str] = (),
                  slider_range: tuple[float, float] = (-2.0, 2.0), step: float = 0.1,
                  choice: int = 0):
    """Controls to steer a generator: a picker for a class (or categorical code) and one slider
    per continuous code. Every change calls render(choice, [slider values]) inside an Output
    area, which should draw a row of images. Returns the widget (display it, or let the cell show it).
    """
    import ipywidgets as widgets
    if not isinstance(num_choices, int) or num_choices <= 0:
        raise ValueError(f"num_choices must be a positive int, got {num_choices!r}")
    if not 0 <= choice < num_choices:
        raise ValueError(f"choice must be in 0..{num_choices - 1}, got {choice}")
    low, high = slider_range
    if not high > low:
        raise ValueError(f"slider_range must be (low, high) with high > low, got {slider_range}")
    picker = widgets.ToggleButtons(options=list(range(num_choices)), value=choice,
                                   description=choice_label, style={"button_width": "32px"})
    sliders = [widgets.FloatSlider(value=min(max(0.0, low), high), min=low, max=high, step=step,
                                   description=name, continuous_update=False)
               for name in slider_names]
    output = widgets.Output()

    def redraw(_change=None) -> None:
        output.clear_output(wait=True)
        with output:
            render(int(picker.value), [float(s.value) for s in sliders])

    for control in (picker, *sliders):
        control.observe(redraw, names="value")
    redraw()
    return widgets.VBox([picker, *sliders, output])


# --- Lesson 07: VAE versus GAN (pick one of a few trained models) ---

def option_slider(draw: Callable, options: Sequence, value=None, description: str = "value"):
    """A slider over a few `options` that calls draw(option) in an output area whenever it moves.

    Lesson 07 passes its β values and a draw(β) that shows the model trained with that β.
    Returns the widget box (display it, or leave it as the cell's last line).
    """
    import ipywidgets as widgets
    if not callable(draw):
        raise ValueError(f"draw must be a function of one option, got {type(draw).__name__}")
    options = list(options)
    if not options:
        raise ValueError("options must hold at least one value")
    value = options[0] if value is None else value
    if value not in options:
        raise ValueError(f"value must be one of {options}, got {value!r}")
    slider = widgets.SelectionSlider(options=options, value=value, description=description,
                                     continuous_update=False)
    output = widgets.Output()

    def redraw(change=None) -> None:
        with output:
            output.clear_output(wait=True)
            draw(slider.value)

    slider.observe(redraw, names="value")
    redraw()
    box = widgets.VBox([slider, output])
    box.slider, box.output = slider, output
    return box
