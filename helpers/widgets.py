"""Interactive controls (ipywidgets) for the lessons: sliders, buttons, pickers.

Each function builds the controls and wires them to callbacks the lesson passes in, so the
lesson keeps the code that does the work in plain sight.
"""
from __future__ import annotations


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
