"""Every lesson with controls in a real browser: JupyterLab (as `make lab` starts it) driven by headless Chromium.

The other tests build widgets in a kernel with no front end; this one checks what a student sees,
in a pane 800 px wide: every cell runs without an error, the controls render as widgets (not a text
repr, not "Loading widget..."), no label, button text or slider readout is cut off, no button
stretches into a full-width bar, and each control, used once (a slider moved, a method picked, a
button pressed), shows its new setting and redraws the picture just under the controls.
Screenshots go to runs/browser/. Needs Debian's chromium and Playwright for Python (no browser
download): skipped, with one line saying so, when either is missing. One JupyterLab server serves
every lesson; each runs in smoke mode with the sizes below injected after its parameters cell.
"""
from __future__ import annotations

import inspect
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import nbformat
import pytest

from helpers import widgets

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SCREENSHOTS = ROOT / "runs" / "browser"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--no-first-run"]
SERVER_START_S = 120
KERNEL_START_S = 180
RUN_ALL_S = 240
CLICK_S = 120
# JupyterLab settings for the test's server: every cell in the DOM, no autosave.
LAB_SETTINGS = {
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
    "@jupyterlab/docmanager-extension/plugin.jupyterlab-settings": {"autosave": False},
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {"fetchNews": "false",
                                                                        "checkForUpdates": False},
}
VIEWPORT = {"width": 800, "height": 1000}  # a laptop's half screen: the file browser leaves ~370 px for outputs
# What is done to each lesson's controls, in order: (action, the control's label or button text, value,
# text the controls show afterwards or None, whether the picture under the controls is redrawn).
#   "type":  type the value into a slider's readout (as a student may), then check the readout shows it;
#   "key":   press the key on a slider's handle (a selection slider's readout takes no typing);
#   "pick":  choose the value in a dropdown, then check the dropdown shows it;
#   "press": press the button.
ACTIONS = {
    "01_harmonic_gan": [("type", "N", "50", None, False), ("press", "Train N steps", None, "50/50", True)],
    "02_mnist_gan": [("press", "New pairs", None, None, True)],
    "03_dcgan_celeba": [("type", "t", "0.50", None, True), ("press", "New samples", None, None, True)],
    "04_style_transfer": [("type", "steps", "10", None, False), ("press", "Run", None, None, True)],
    "05_gan_failures": [("pick", "method", "wgan_gp", None, False), ("type", "D steps per G step", "2", None, False),
                        ("press", "Train", None, None, True)],
    "07_vae_vs_gan": [("key", "β", "ArrowLeft", "0.1", True)],
}
# Smaller sizes than smoke mode's, injected after the lesson's parameters cell (as papermill does): the
# browser checks what is shown, not what training reaches. Lesson 07 loads the generator lesson 02 saved.
PARAMETERS = {"02_mnist_gan": dict(STEPS=60, ABLATION_STEPS=10, EVAL_EVERY=30),
              "07_vae_vs_gan": dict(STEPS=20, BETA_STEPS=10)}
LESSONS = list(ACTIONS)

try:
    from playwright.sync_api import sync_playwright
except ImportError:
    sync_playwright = None

MISSING = [what for what, absent in (("`apt-get install chromium`", not os.access(CHROMIUM, os.X_OK)),
                                    ("`pip install playwright`", sync_playwright is None)) if absent]
if MISSING and os.environ.get("CI") == "true":  # .ci/run installs both: in CI a skip would hide the test
    raise RuntimeError(f"browser test: CI must run it, but it needs {' and '.join(MISSING)}")
needs_browser = pytest.mark.skipif(bool(MISSING), reason=f"browser test: needs {' and '.join(MISSING)}")


def test_every_lesson_with_controls_is_opened_in_the_browser():
    """A lesson that calls a helpers.widgets builder (or ipywidgets itself) has its actions in ACTIONS."""
    builders = [name for name, f in inspect.getmembers(widgets, inspect.isfunction)
                if f.__module__ == widgets.__name__ and f.__annotations__.get("return") == "Controls"]
    assert builders, "no builder found in helpers.widgets (functions returning Controls)"
    calls = re.compile(rf"\b({'|'.join(builders)})\(|\bipywidgets\b")
    with_controls = [path.stem for path in sorted((ROOT / "solutions").glob("[0-9][0-9]_*.ipynb"))
                     if any(cell.cell_type == "code" and calls.search(cell.source)
                            for cell in nbformat.read(path, as_version=4).cells)]
    assert with_controls == LESSONS, f"lessons with controls: {with_controls}; ACTIONS covers {LESSONS}"


def copy_with_parameters(name: str, folder: Path) -> None:
    """The solution, with PARAMETERS[name] assigned in a cell after its parameters cell, into `folder`."""
    nb = nbformat.read(ROOT / "solutions" / f"{name}.ipynb", as_version=4)
    if PARAMETERS.get(name):
        tagged = [i for i, c in enumerate(nb.cells) if "parameters" in c.metadata.get("tags", [])]
        assert len(tagged) == 1, f"{name}: expected one cell tagged 'parameters', found {len(tagged)}"
        source = "\n".join(f"{key} = {value!r}" for key, value in PARAMETERS[name].items())
        nb.cells.insert(tagged[0] + 1, nbformat.v4.new_code_cell(source, metadata={"tags": ["injected-parameters"]}))
    nbformat.write(nb, folder / f"{name}.ipynb")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """A JupyterLab server on a free localhost port over copies of the solutions (never saved back)."""
    home = tmp_path_factory.mktemp("lab")
    notebooks = home / "notebooks"
    notebooks.mkdir()
    for name in LESSONS:
        copy_with_parameters(name, notebooks)
    settings = home / "settings"
    for name, values in LAB_SETTINGS.items():
        path = settings / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))
    port, token = free_port(), "gan-course-browser-test"
    env = {**os.environ, "GAN_COURSE_SMOKE": "1", "GAN_COURSE_RUNS": str(home / "runs"),
           "GAN_COURSE_DATA": os.environ.get("GAN_COURSE_DATA", str(ROOT / "data")),
           # `make test` puts Colab's ipywidgets 7.7.1 (.ipywidgets7) first on the path; JupyterLab 4 and its
           # kernel need the venv's ipywidgets 8, so that folder is left out here.
           "PYTHONPATH": os.pathsep.join(p for p in (*os.environ.get("PYTHONPATH", "").split(os.pathsep), str(ROOT))
                                         if p and Path(p).name != ".ipywidgets7")}
    env.pop("MPLBACKEND", None)  # the kernel's inline backend, as in a student's notebook
    # The kernel's ipywidgets, in the screenshots' names.
    version = subprocess.run([sys.executable, "-c", "import ipywidgets; print(ipywidgets.__version__)"],
                             env=env, capture_output=True, text=True, check=True).stdout.strip()
    if version.startswith("7."):  # seen: "Module @jupyter-widgets/controls, version ^1.5.0 is not registered"
        pytest.skip(f"browser test: the kernel would run ipywidgets {version}, which JupyterLab 4's widget "
                    "manager (jupyterlab_widgets 3) does not render; it needs ipywidgets 8")
    log = (home / "server.log").open("w")
    server = subprocess.Popen(
        [sys.executable, "-m", "jupyterlab", "--no-browser", f"--port={port}", "--ip=127.0.0.1",
         f"--IdentityProvider.token={token}", "--allow-root", f"--ServerApp.root_dir={notebooks}",
         f"--LabApp.user_settings_dir={settings}", f"--LabApp.workspaces_dir={home / 'workspaces'}",
         "--LabApp.expose_app_in_browser=True", "--LabApp.news_url=", "--ServerApp.open_browser=False"],
        env=env, stdout=log, stderr=subprocess.STDOUT, cwd=notebooks)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + SERVER_START_S
        while True:
            try:
                urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=5)
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"JupyterLab did not start in {SERVER_START_S} s:\n"
                                + (home / "server.log").read_text()[-2000:])
                time.sleep(0.5)
        yield url, token, f"ipywidgets{version.split('.')[0]}"
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


# In the page: the open notebook's cells, from JupyterLab's model (window.jupyterapp).
NOTEBOOK_STATE = """() => {
    const panel = window.jupyterapp && window.jupyterapp.shell.currentWidget;
    if (!panel || !panel.content || !panel.content.model) return null;
    const kernel = panel.sessionContext.session && panel.sessionContext.session.kernel;
    const cells = [];
    for (const cell of panel.content.model.cells) {
        if (cell.type !== 'code') continue;
        const outputs = cell.outputs.toJSON();
        cells.push({count: cell.executionCount,
                    errors: outputs.filter(o => o.output_type === 'error')
                                   .map(o => o.ename + ': ' + o.evalue),
                    source: cell.sharedModel.getSource().slice(0, 60)});
    }
    return {path: panel.context.path, kernel: kernel ? kernel.status : 'none', cells};
}"""


def wait_for(page, check, timeout_s: float, what: str):
    """Poll check() every half second until it returns something true; fail saying what did not happen."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            page.screenshot(path=str(SCREENSHOTS / "timeout.png"))
            (SCREENSHOTS / "timeout.html").write_text(page.content())  # the output areas' DOM, to tell why
            pytest.fail(f"{what}: not after {timeout_s:.0f} s (screenshot runs/browser/timeout.png, page "
                        "runs/browser/timeout.html)")
        page.wait_for_timeout(500)


def cut_off_texts(page) -> list[str]:
    """Labels, button texts and slider readouts that do not fit in their box, or lie past their output area."""
    return page.evaluate("""() => Array.from(document.querySelectorAll('.jupyter-widgets .widget-label, '
            + '.jupyter-widgets .widget-label-basic, .jupyter-widgets button, .jupyter-widgets .widget-readout'))
        .filter(e => e.offsetParent !== null)
        .map(e => {
            const area = e.closest('.jp-OutputArea-output');
            const past = area ? e.getBoundingClientRect().right - area.getBoundingClientRect().right : 0;
            return e.scrollWidth > e.clientWidth + 1 || past > 1
                ? `${e.textContent.trim()} (${e.scrollWidth}px in ${e.clientWidth}px`
                  + (past > 1 ? `, ${past.toFixed(0)}px past the output area's right edge)` : ')')
                : null;
        })
        .filter(text => text)""")


def stretched_buttons(page) -> list[str]:
    """Buttons that stretch across their output area (a grey bar, not a button)."""
    return page.evaluate("""() => Array.from(document.querySelectorAll('.jp-OutputArea-output .jupyter-widgets button'))
        .filter(e => e.offsetParent !== null)
        .filter(e => e.getBoundingClientRect().width > 0.6 * e.closest('.jp-OutputArea-output').clientWidth)
        .map(e => `${e.textContent.trim()} (${e.getBoundingClientRect().width.toFixed(0)}px)`)""")


def find_control(page, action: str, label: str):
    """The one slider, dropdown or button of the open notebook with this label (a locator)."""
    panel = page.locator(".jp-NotebookPanel")
    if action == "press":
        return panel.locator(".jupyter-widgets button").filter(has_text=re.compile(rf"^\s*{re.escape(label)}\s*$"))
    kind = ".widget-dropdown" if action == "pick" else ".widget-slider"
    return panel.locator(kind).filter(has=page.get_by_text(label, exact=True))


def use(page, control, action: str, label: str, value, shown) -> None:
    """Move the slider, pick the option or press the button; a slider or dropdown must then show its new value
    (the value typed or picked; after a key, `shown`)."""
    if action == "press":
        control.click()
        return
    if action == "pick":
        select = control.locator("select")
        select.select_option(label=value)
        showing = lambda: select.evaluate("s => s.options[s.selectedIndex].text")  # noqa: E731
    else:
        readout = control.locator(".widget-readout")
        if action == "type":
            readout.click()
            page.keyboard.press("Control+A")
            page.keyboard.type(value)
            page.keyboard.press("Enter")
        else:  # "key"
            control.locator(".noUi-handle").press(value)
        showing = lambda: readout.inner_text().strip()  # noqa: E731
    expected = shown if action == "key" else value
    wait_for(page, lambda: showing() == expected, 10, f"the control {label!r} showing {expected} once set")


def open_and_run_all(lab, browser, name: str):
    """A page showing the lesson with an idle kernel, "run all" started in it; and the browser's errors there."""
    url, token, _ = lab
    page = browser.new_page(viewport=VIEWPORT)
    console_errors = []
    page.on("console", lambda message: message.type == "error" and console_errors.append(message.text))
    # A workspace of its own: only this notebook open, so "run all" cannot reach another one.
    page.goto(f"{url}/lab/workspaces/{name}/tree/{name}.ipynb?token={token}", timeout=SERVER_START_S * 1000)
    wait_for(page, lambda: (s := page.evaluate(NOTEBOOK_STATE)) and s["path"] == f"{name}.ipynb"
             and s["kernel"] == "idle", KERNEL_START_S, f"{name}: the notebook open with an idle kernel")
    page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
    return page, console_errors


@pytest.fixture(scope="module")
def running(lab, browser, request):
    """running(name): the lesson's page, its cells running. The next lesson selected is started too, so that its
    kernel runs while this one's controls are checked: two kernels at a time, one per core."""
    selected = [item.callspec.params["name"] for item in request.session.items
                if getattr(item, "originalname", None) == "test_lesson_runs_and_its_controls_work_in_a_browser"]
    started = {}

    def get(name: str):
        for lesson in selected[selected.index(name):selected.index(name) + 2]:
            if lesson not in started:
                started[lesson] = open_and_run_all(lab, browser, lesson)
        return started.pop(name)

    yield get
    for page, _ in started.values():
        page.close()


@needs_browser
@pytest.mark.parametrize("name", LESSONS)
def test_lesson_runs_and_its_controls_work_in_a_browser(lab, running, name, request):
    tag = lab[2]
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page, console_errors = running(name)
    request.addfinalizer(page.close)

    def expect(ok, message: str) -> None:
        if not ok:
            page.screenshot(path=str(SCREENSHOTS / f"{name}_{tag}_failed.png"))
            (SCREENSHOTS / f"{name}_{tag}_failed.html").write_text(page.content())
            pytest.fail(f"{message} (screenshot runs/browser/{name}_{tag}_failed.png); "
                        "the browser's errors:\n"
                        + "\n".join(console_errors[-5:]))

    def finished():
        s = page.evaluate(NOTEBOOK_STATE)
        assert s["path"] == f"{name}.ipynb", f"another notebook came to the front: {s['path']}"
        errors = [c for c in s["cells"] if c["errors"]]
        done = all(c["count"] is not None for c in s["cells"]) and s["kernel"] == "idle"
        return (done or (errors and s["kernel"] == "idle")) and s

    state = wait_for(page, finished, RUN_ALL_S, f"{name}: all cells run")
    errors = [f"{c['source']!r}: {c['errors']}" for c in state["cells"] if c["errors"]]
    expect(not errors, f"{name}: cells raised errors:\n" + "\n".join(errors))

    # The controls are widgets, not a text repr or a placeholder; nothing cut off, no button a full-width bar.
    text = page.inner_text(".jp-NotebookPanel")
    for wrong in ("Loading widget", "VBox(children", "Controls(widget="):
        expect(wrong not in text, f"{name}: a control shows as {wrong!r}, not as a widget")
    expect(page.locator(".jupyter-widgets-error-widget").count() == 0, f"{name}: a widget failed to render")
    expect(not stretched_buttons(page), f"{name}: buttons stretched across the output: {stretched_buttons(page)}")

    # Each control used once: it shows its new setting, and the picture under the controls is redrawn.
    for number, (action, label, value, shown, redraws) in enumerate(ACTIONS[name]):
        control = find_control(page, action, label)
        expect(control.count() == 1, f"{name}: {control.count()} controls labelled {label!r}, expected one")
        control.scroll_into_view_if_needed()
        expect(not cut_off_texts(page), f"{name}: texts cut off: {cut_off_texts(page)}")
        controls = control.locator("xpath=ancestor::div[contains(@class, 'widget-vbox')][1]")

        def pictures() -> str:
            return controls.evaluate("e => Array.from(e.querySelectorAll('img')).map(i => i.src).join()")

        before = pictures()
        use(page, control, action, label, value, shown)
        buttons = controls.locator("button")
        wait_for(page, lambda: (not redraws or pictures() not in ("", before))
                 and all(not buttons.nth(i).is_disabled() for i in range(buttons.count()))
                 and (shown is None or shown in controls.inner_text()),
                 CLICK_S, f"{name}: {action} {label!r} redraws the picture under the controls"
                 + (f" and shows {shown!r}" if shown else ""))
        expect("Traceback" not in controls.inner_text(), f"{name}: {action} {label!r} raised an error")
        if redraws:
            image = controls.locator("img").first
            gap = image.bounding_box()["y"] - (control.bounding_box()["y"] + control.bounding_box()["height"])
            expect(0 <= gap < 300, f"{name}: the picture is {gap:.0f} px from {label!r}, not just under it")
        controls.scroll_into_view_if_needed()
        controls.screenshot(path=str(SCREENSHOTS / f"{name}_{tag}_controls{number + 1}.png"))
    expect(not cut_off_texts(page), f"{name}: texts cut off after using the controls: {cut_off_texts(page)}")
    page.screenshot(path=str(SCREENSHOTS / f"{name}_{tag}.png"))
