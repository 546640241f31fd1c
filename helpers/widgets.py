"""Interactive controls (ipywidgets) for the lessons: sliders, buttons, pickers.

Each function builds the controls and wires them to callbacks the lesson passes in, so the
lesson keeps the code that does the work in plain sight.
"""
from __future__ import annotations


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
