"""Lessons 01 and 04 in a real browser: JupyterLab (as `make lab` starts it) driven by headless Chromium.

The other tests build widgets in a kernel with no front end; this one checks what a student sees:
every cell runs without an error, the controls render as widgets (not a text repr, not "Loading
widget..."), no label or button text is cut off, and pressing Train / Run redraws the output
just under the button. Screenshots go to runs/browser/. Needs Debian's chromium and Playwright
for Python (no browser download): skipped, with one line saying so, when either is missing.
"""
from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

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
# (notebook, the button to press, a slider to set first (typed into its readout, as a student
# may) and its value, text the controls show after the press, or None)
LESSONS = [("01_harmonic_gan", "Train N steps", ("N", 50), "50/50"),
           ("04_style_transfer", "Run", ("steps", 10), None)]

try:
    from playwright.sync_api import sync_playwright
except ImportError:
    sync_playwright = None

MISSING = [what for what, absent in (("`apt-get install chromium`", not os.access(CHROMIUM, os.X_OK)),
                                    ("`pip install playwright`", sync_playwright is None)) if absent]
if MISSING and os.environ.get("CI") == "true":  # .ci/run installs both: in CI a skip would hide the test
    raise RuntimeError(f"browser test: CI must run it, but it needs {' and '.join(MISSING)}")
pytestmark = pytest.mark.skipif(bool(MISSING), reason=f"browser test: needs {' and '.join(MISSING)}")


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
    for name, *_ in LESSONS:
        shutil.copy(ROOT / "solutions" / f"{name}.ipynb", notebooks)
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
    # The kernel's ipywidgets (7.7.1 under `make test-widgets7`), in the screenshots' names.
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
            pytest.fail(f"{what}: not after {timeout_s:.0f} s (screenshot runs/browser/timeout.png)")
        page.wait_for_timeout(500)


def cut_off_texts(page) -> list[str]:
    """Labels and button texts of the widgets that do not fit in their box."""
    return page.evaluate("""() => Array.from(document.querySelectorAll(
            '.jupyter-widgets .widget-label, .jupyter-widgets .widget-label-basic, .jupyter-widgets button'))
        .filter(e => e.offsetParent !== null && e.scrollWidth > e.clientWidth + 1)
        .map(e => `${e.textContent.trim()} (${e.scrollWidth}px in ${e.clientWidth}px)`)""")


def set_slider(page, controls, label: str, value: int) -> None:
    """Type a value into the readout of the slider labelled `label`, then check the slider took it."""
    slider = controls.locator(".widget-slider").filter(has=page.get_by_text(label, exact=True))
    readout = slider.locator(".widget-readout")
    readout.click()
    page.keyboard.press("Control+A")
    page.keyboard.type(str(value))
    page.keyboard.press("Enter")
    wait_for(page, lambda: readout.inner_text().strip() == str(value), 10,
             f"the slider {label!r} showing {value} once typed in")


@pytest.mark.parametrize("name, button_text, slider, shown", LESSONS, ids=[n for n, *_ in LESSONS])
def test_lesson_runs_and_its_controls_work_in_a_browser(lab, browser, name, button_text, slider, shown):
    url, token, tag = lab
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    console_errors = []
    page.on("console", lambda message: message.type == "error" and console_errors.append(message.text))

    def expect(ok, message: str) -> None:
        if not ok:
            page.screenshot(path=str(SCREENSHOTS / f"{name}_{tag}_failed.png"))
            (SCREENSHOTS / f"{name}_{tag}_failed.html").write_text(page.content())
            pytest.fail(f"{message} (screenshot runs/browser/{name}_{tag}_failed.png); "
                        "the browser's errors:\n"
                        + "\n".join(console_errors[-5:]))

    # A workspace of its own: only this notebook open, so "run all" cannot reach another one.
    page.goto(f"{url}/lab/workspaces/{name}/tree/{name}.ipynb?token={token}", timeout=SERVER_START_S * 1000)
    wait_for(page, lambda: (s := page.evaluate(NOTEBOOK_STATE)) and s["path"] == f"{name}.ipynb"
             and s["kernel"] == "idle", KERNEL_START_S, f"{name}: the notebook open with an idle kernel")
    page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")

    def finished():
        s = page.evaluate(NOTEBOOK_STATE)
        assert s["path"] == f"{name}.ipynb", f"another notebook came to the front: {s['path']}"
        errors = [c for c in s["cells"] if c["errors"]]
        done = all(c["count"] is not None for c in s["cells"]) and s["kernel"] == "idle"
        return (done or (errors and s["kernel"] == "idle")) and s

    state = wait_for(page, finished, RUN_ALL_S, f"{name}: all cells run")
    errors = [f"{c['source']!r}: {c['errors']}" for c in state["cells"] if c["errors"]]
    expect(not errors, f"{name}: cells raised errors:\n" + "\n".join(errors))

    # The controls are widgets, not a text repr or a placeholder.
    text = page.inner_text(".jp-NotebookPanel")
    for wrong in ("Loading widget", "VBox(children", "Controls(widget="):
        expect(wrong not in text, f"{name}: a control shows as {wrong!r}, not as a widget")
    expect(page.locator(".jupyter-widgets-error-widget").count() == 0, f"{name}: a widget failed to render")
    expect(page.locator(".jp-NotebookPanel .widget-slider").count() > 0, f"{name}: no slider rendered")
    button = page.locator(".jupyter-widgets button", has_text=button_text).last
    expect(button.count() == 1, f"{name}: no button {button_text!r}")
    button.scroll_into_view_if_needed()
    expect(not cut_off_texts(page), f"{name}: labels cut off: {cut_off_texts(page)}")

    # Pressing the button (after setting a slider) redraws the output just under it.
    controls = button.locator("xpath=ancestor::div[contains(@class, 'widget-vbox')][1]")
    set_slider(page, controls, *slider)
    def pictures() -> str:
        return controls.evaluate("e => Array.from(e.querySelectorAll('img')).map(i => i.src).join()")

    before = pictures()
    button.click()
    wait_for(page, lambda: pictures() not in ("", before) and not button.is_disabled()
             and (shown is None or shown in controls.inner_text()),
             CLICK_S, f"{name}: pressing {button_text!r} redraws the picture under it")
    expect("Traceback" not in controls.inner_text(), f"{name}: the button's callback raised an error")
    image = controls.locator("img").first
    gap = image.bounding_box()["y"] - (button.bounding_box()["y"] + button.bounding_box()["height"])
    expect(0 <= gap < 300, f"{name}: the picture is {gap:.0f} px from {button_text!r}, not just under it")
    controls.scroll_into_view_if_needed()
    controls.screenshot(path=str(SCREENSHOTS / f"{name}_{tag}_controls.png"))
    page.screenshot(path=str(SCREENSHOTS / f"{name}_{tag}.png"))
    page.close()
