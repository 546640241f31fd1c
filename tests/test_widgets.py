"""helpers.widgets under whichever ipywidgets is imported: 8.x from the venv, 7.7.1 (Colab's) under `make test`,
which puts .ipywidgets7 first on the path. Every builder returns a Controls with named controls; uploads parse
in both versions' formats; labels are never cut to a fixed width; buttons keep their label's width and sliders
fit a narrow pane; LivePlot redraws beside the controls.
"""
from __future__ import annotations

import ipywidgets
import pytest
from IPython.core.interactiveshell import InteractiveShell

from helpers import plotting, training, widgets

VERSION = int(ipywidgets.__version__.split(".")[0])
PNG = b"\x89PNG\r\n\x1a\n pretend image"


def test_report_the_ipywidgets_version(capsys):
    with capsys.disabled():
        print(f"\n(ipywidgets {ipywidgets.__version__})", end=" ")
    assert VERSION in (7, 8), f"expected ipywidgets 7 or 8, got {ipywidgets.__version__}"


def simulate_upload(upload: ipywidgets.FileUpload, name: str, content: bytes) -> None:
    """What the browser sends when a student picks a file, in this ipywidgets version's protocol."""
    metadata = {"name": name, "type": "image/png", "size": len(content), "lastModified": 0}
    if VERSION >= 8:  # value: a list of files, content as a binary buffer
        upload.set_state({"value": [{**metadata, "last_modified": 0, "content": memoryview(content)}]})
    else:  # metadata and data lists, then the counter that makes the kernel rebuild `value`
        upload.set_state({"metadata": [metadata], "data": [memoryview(content)], "_counter": 1})


def every_builder() -> dict[str, widgets.Controls]:
    return {
        "training_controls": widgets.training_controls(print, lr_d=1e-3, lr_g=1e-3, d_steps=1, latent_dim=2),
        "interpolation_slider": widgets.interpolation_slider(lambda t: None),
        "new_samples_button": widgets.new_samples_button(lambda: None),
        "style_transfer_controls": widgets.style_transfer_controls(print),
        "method_picker": widgets.method_picker(print, ["gan", "wgan_gp"]),
        "option_slider": widgets.option_slider(lambda beta: None, [0.1, 1.0, 4.0], value=1.0),
    }


@pytest.mark.parametrize("name", list(every_builder()))
def test_every_builder_returns_controls_and_shows_nothing_itself(name, capsys):
    controls = every_builder()[name]
    printed = capsys.readouterr().out.replace("\x1b[2K\r", "")  # what clear_output writes outside a kernel
    assert printed == "", f"{name} displayed something while being built: {printed[:80]!r}"
    assert isinstance(controls, widgets.Controls)
    assert isinstance(controls.widget, ipywidgets.Box) and isinstance(controls.output, ipywidgets.Output)
    shown = []

    def walk(widget):
        shown.append(widget)
        for child in getattr(widget, "children", ()):
            walk(child)

    walk(controls.widget)
    assert controls.output in shown
    for key, control in controls.controls.items():
        assert control in shown, f"{name}: control {key!r} is not inside the widget"
    with pytest.raises(KeyError, match="no control named 'nope'"):
        controls["nope"]


@pytest.mark.parametrize("name", list(every_builder()))
def test_labels_take_their_natural_width(name):
    """A fixed description width cuts long labels off in the browser ('noise dimension (res…')."""
    for key, control in every_builder()[name].controls.items():
        if getattr(control, "description", "") and hasattr(control.style, "description_width"):
            assert control.style.description_width == "initial", f"{name}: {key!r} has a fixed label width"
        if isinstance(control, (ipywidgets.Button, ipywidgets.FileUpload)):
            assert control.layout.width == "auto", f"{name}: button {key!r} has a fixed width"


@pytest.mark.parametrize("name", list(every_builder()))
def test_buttons_keep_their_label_width_and_sliders_fit_a_narrow_pane(name):
    """A button with width "auto" alone stretches across its VBox (a full-width grey bar); a slider of a fixed
    460 px in an output area narrower than that hides its readout past the area's right edge."""
    for key, control in every_builder()[name].controls.items():
        if isinstance(control, ipywidgets.Button):
            assert control.layout.align_self == "flex-start", f"{name}: button {key!r} stretches across its box"
            assert control.button_style, f"{name}: button {key!r} is a plain grey button"
        if isinstance(control, (ipywidgets.IntSlider, ipywidgets.FloatSlider, ipywidgets.FloatLogSlider,
                                ipywidgets.SelectionSlider)):
            assert (control.layout.width, control.layout.max_width) == ("auto", "460px"), \
                f"{name}: slider {key!r} has layout width {control.layout.width}, max {control.layout.max_width}"


def test_values_leave_out_buttons_outputs_and_uploads():
    controls = widgets.style_transfer_controls(print, size=192, steps=30)
    assert controls.values() == {"content_weight": 1.0, "style_weight": 1e4, "tv_weight": 1e-3,
                                 "size": 192, "steps": 30}


@pytest.mark.parametrize("value, expected", [
    ((), None),
    ({}, None),
    (({"name": "a.png", "content": memoryview(PNG)},), PNG),                      # ipywidgets 8
    ({"a.png": {"content": PNG, "metadata": {"name": "a.png"}}}, PNG),           # ipywidgets 7
])
def test_uploaded_bytes_reads_both_versions(value, expected):
    assert widgets.uploaded_bytes(value) == expected


def test_uploaded_bytes_says_what_it_expected():
    with pytest.raises(TypeError, match="expected a FileUpload value .* got str"):
        widgets.uploaded_bytes("a.png")
    with pytest.raises(TypeError, match="dict with 'content'"):
        widgets.uploaded_bytes({"a.png": b"raw"})


def test_an_upload_reaches_the_run_callback():
    calls = []
    controls = widgets.style_transfer_controls(calls.append)
    simulate_upload(controls["style_upload"], "painting.png", PNG)
    controls["run"].click()
    assert calls[0]["style_bytes"] == PNG and calls[0]["content_bytes"] is None


def test_a_failing_run_says_why_under_the_controls(capsys):
    def run(_settings):
        raise ValueError("that file is not an image")

    controls = widgets.style_transfer_controls(run)
    controls["run"].click()
    assert "Could not run: that file is not an image" in capsys.readouterr().out  # no front end: to stdout
    assert not controls["run"].disabled


@pytest.fixture
def shell():
    """An IPython shell, so that figures are displayed (no front end, but the same messages)."""
    yield InteractiveShell.instance()
    InteractiveShell.clear_instance()


def test_live_plot_redraws_in_the_controls_output(shell):
    history = training.History()
    history.log(0, d_loss=1.0)
    plot = plotting.LivePlot(curves=[["d_loss"]])
    plot.update(history)
    steps = []

    def train(settings):
        steps.append(settings["steps"])
        history.log(len(steps), d_loss=0.5)
        plot.update(history)

    controls = widgets.training_controls(train, lr_d=1e-3, lr_g=1e-3, d_steps=1, latent_dim=2,
                                         steps=100, live_plot=plot)
    area = controls["plot"]
    assert len(area.outputs) == 1 and area.outputs[0]["output_type"] == "display_data", \
        "the plot is not shown beside the controls"
    area.outputs = ()
    controls["train"].click()
    assert steps == [100] and len(area.outputs) == 1, "Train did not redraw the plot beside the controls"
    assert plot.handle is None or plot.output is area
    with pytest.raises(TypeError, match="ipywidgets Output, got int"):
        plot.show_in(3)


def test_live_plot_updates_its_one_figure_in_place(shell, monkeypatch):
    """Every update after the first replaces the figure shown (one display id), never adds a new one."""
    shown, updated = [], []

    class Handle:
        def update(self, fig):
            updated.append(fig)

    def fake_display(fig, display_id=False):
        shown.append(fig)
        return Handle()

    monkeypatch.setattr(plotting, "display", fake_display)
    history = training.History()
    plot = plotting.LivePlot(curves=[["d_loss"]])
    for step in range(3):
        history.log(step, d_loss=1.0 / (step + 1))
        plot.update(history)
    assert shown == [plot.fig] and updated == [plot.fig, plot.fig]
    assert len(plot.axes[0].get_lines()[0].get_xdata()) == 3, "the redraw shows every logged point"


def test_picking_a_method_moves_the_sliders_to_its_settings():
    """Lesson 05's picker, given each method's settings in the comparison, starts each method from its own row."""
    calls = []
    settings = {"gan": {"lr": 3e-3, "d_steps": 1, "betas": (0.5, 0.99)}, "wgan_gp": {"lr": 1e-2, "d_steps": 2}}
    controls = widgets.method_picker(lambda *args: calls.append(args), ["gan", "wgan_gp", "ttur"], lr=3e-3,
                                     settings=settings)
    controls["method"].value = "wgan_gp"
    assert (controls["lr"].value, controls["d_steps"].value) == (1e-2, 2)
    controls["d_steps"].value = 3                      # the student's change is kept until the next pick
    controls["train"].click()
    controls["method"].value = "ttur"                  # no settings given: the sliders stay
    controls["train"].click()
    controls["method"].value = "gan"
    assert calls == [("wgan_gp", 1e-2, 3), ("ttur", 1e-2, 3)]
    assert (controls["lr"].value, controls["d_steps"].value) == (3e-3, 1)


@pytest.mark.parametrize("settings, message", [
    ({"lsgan": {"lr": 1e-3, "d_steps": 1}}, "settings must map methods in"),
    ({"gan": {"lr": 1e-3}}, "settings must map methods in"),
    ({"gan": {"lr": 1.0, "d_steps": 1}}, "lr=1.0 must lie in 0.0001..0.01"),
    ({"gan": {"lr": 1e-3, "d_steps": 9}}, "d_steps=9 in 1..5"),
])
def test_method_settings_out_of_range_are_refused(settings, message):
    with pytest.raises(ValueError, match=message):
        widgets.method_picker(print, ["gan"], settings=settings)
