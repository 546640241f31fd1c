"""Interactive controls (ipywidgets) for the lessons: sliders, buttons, pickers.

Each function builds the controls and wires them to callbacks the lesson passes in, so the
lesson keeps the code that does the work in plain sight.
"""
from __future__ import annotations


# --- Lesson 03: DCGAN on faces ---------------------------------------------------------------

def interpolation_slider(draw, steps: int = 16, description: str = "t"):
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
                                 readout_format=".2f")
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

    Lesson 03 passes a draw() that samples fresh noise and shows a grid of G's faces.
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
