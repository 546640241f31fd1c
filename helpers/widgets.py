"""Interactive controls (ipywidgets) for the lessons: sliders, buttons, pickers.

Each function builds the controls and wires them to callbacks the lesson passes in, so the
lesson keeps the code that does the work in plain sight.
"""
from __future__ import annotations


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
