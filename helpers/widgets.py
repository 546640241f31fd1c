"""Interactive controls (ipywidgets) for the lessons: sliders, buttons, pickers.

Each function builds the controls and wires them to callbacks the lesson passes in, so the
lesson keeps the code that does the work in plain sight.
"""
from __future__ import annotations
# --- Lesson 02: MNIST GAN (latent walk slider, new-samples button) ---

def latent_walk(draw, steps: int = 20, description: str = "z₀ → z₁"):
    """A slider t in [0, 1] (steps + 1 stops) that calls draw(t) into an output area below it.

    The lesson's draw(t) shows G((1 - t) z₀ + t z₁). Returns the widget box to display.
    """
    import ipywidgets as widgets
    if not isinstance(steps, int) or steps < 1:
        raise ValueError(f"steps must be a positive int, got {steps!r}")
    slider = widgets.FloatSlider(value=0.0, min=0.0, max=1.0, step=1.0 / steps,
                                 description=description, continuous_update=True,
                                 readout_format=".2f", style={"description_width": "initial"})
    output = widgets.Output()

    def redraw(change=None) -> None:
        with output:
            output.clear_output(wait=True)
            draw(slider.value)

    slider.observe(redraw, names="value")
    redraw()
    return widgets.VBox([slider, output])


def new_samples_button(draw, description: str = "New samples"):
    """A button that calls draw() into an output area below it (once at the start, then per click)."""
    import ipywidgets as widgets
    button = widgets.Button(description=description, icon="refresh")
    output = widgets.Output()

    def redraw(_=None) -> None:
        with output:
            output.clear_output(wait=True)
            draw()

    button.on_click(redraw)
    redraw()
    return widgets.VBox([button, output])
