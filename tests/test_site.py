"""The course's website (`make site`), built from smoke runs and checked in headless Chromium.

The site is built from the session's smoke runs: tests/test_notebooks.py copies there each solution's
smoke run when it runs first (as in `make test`); a lesson it did not run is executed here, in smoke
mode, by scripts/run_lessons.py as `make run` does. scripts/build_site.py builds the site from them
(as `make site` does) and it is served on localhost. Every page must load with no console error and
no request leaving localhost, every image on it must load, every internal link (and its #anchor)
must resolve, and the home page must list every lesson. Set GAN_COURSE_SITE_RUNS to a folder that
`make run` wrote to check the site built from those runs instead (no lesson is executed then). Needs
Debian's chromium and Playwright, as tests/test_browser.py does (skipped without them, an error
under CI=true).
"""
from __future__ import annotations

import functools
import html
import http.server
import os
import subprocess
import sys
import threading
import time
import urllib.parse
from pathlib import Path

import nbformat
import pytest

from test_browser import MISSING, browser, free_port  # noqa: F401  (browser: the headless Chromium fixture)

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
import build_site  # noqa: E402
from make_lessons import BEGIN  # noqa: E402

SOLUTIONS = sorted((ROOT / "solutions").glob("[0-9][0-9]_*.ipynb"))
SITE_BUILD_LIMIT_S = 120   # the issue: the site builds in under two minutes on a 2-core CPU
PAGE_LOAD_S = 60
needs_browser = pytest.mark.skipif(bool(MISSING), reason=f"site browser test: needs {' and '.join(MISSING)}")

# In the page: images that did not load, and every link's absolute address.
BROKEN_IMAGES = "() => Array.from(document.images).filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.src)"
LINKS = "() => Array.from(document.querySelectorAll('a[href]')).map(a => a.href)"


# --- the builder's pieces, without a browser -----------------------------------------------------

def test_solution_regions_split_around_the_visible_code():
    source = f"def f(x):\n    {BEGIN}\n    y = x + 1\n    ### END SOLUTION\n    return y\nprint(f(1))"
    assert build_site.split_solution_regions(source, "cell") == [
        (False, "def f(x):"), (True, "    y = x + 1"), (False, "    return y\nprint(f(1))")]


def test_folded_cell_keeps_its_outputs_under_its_last_part():
    cell = nbformat.v4.new_code_cell(f"{BEGIN}\nx = 1\n### END SOLUTION\nprint(x)")
    cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="1\n")]
    nb = nbformat.v4.new_notebook(cells=[cell])
    assert build_site.fold_solutions(nb, "test") == 1
    solution, rest = nb.cells
    assert "hide-input" in solution.metadata["tags"] and solution.source == "x = 1" and not solution.outputs
    assert rest.source == "print(x)" and rest.outputs[0]["text"] == "1\n"
    assert solution.metadata["mystnb"]["code_prompt_show"] == "Show the solution"


@pytest.mark.parametrize("source", [f"{BEGIN}\nx = 1", "x = 1\n### END SOLUTION", f"{BEGIN}\n{BEGIN}\n"])
def test_unbalanced_markers_name_the_cell(source):
    with pytest.raises(ValueError, match="cell 3"):
        build_site.split_solution_regions(source, "cell 3")


def test_widget_note_says_what_the_helper_does():
    docs = build_site.widget_docs(ROOT / "helpers" / "widgets.py")
    assert "button" in build_site.widget_description("helpers.widgets.new_samples_button(draw)", docs)
    assert build_site.widget_description("# Pick a beta\nshow(x)", docs) == "Pick a beta"
    assert build_site.widget_description("show(x)", docs) is None


def test_widgets_become_their_last_state():
    """A control: a note from its helper's docstring, then what its Output widget showed; a progress bar: as it ended."""
    def model(name, **state):
        return {"model_name": name, "state": state}
    states = {"box": model("VBoxModel", children=["IPY_MODEL_button", "IPY_MODEL_out"]), "button": model("ButtonModel"),
              "out": model("OutputModel", outputs=[{"output_type": "stream", "name": "stdout", "text": "drawn\n"}]),
              "bar": model("HBoxModel", children=["IPY_MODEL_left", "IPY_MODEL_progress", "IPY_MODEL_right"]),
              "left": model("HTMLModel", value="training: 100%"), "right": model("HTMLModel", value="3/3"),
              "progress": model("FloatProgressModel", value=3.0, max=3.0)}
    view = {"version_major": 2, "version_minor": 0}
    cell = nbformat.v4.new_code_cell("train()\nhelpers.widgets.new_samples_button(draw)")
    cell.outputs = [nbformat.v4.new_output("display_data", data={build_site.WIDGET_VIEW: {**view, "model_id": "bar"}}),
                    nbformat.v4.new_output("display_data", data={build_site.WIDGET_VIEW: {**view, "model_id": "box"}})]
    nb = nbformat.v4.new_notebook(cells=[cell], metadata={"widgets": {build_site.WIDGET_STATE: {"state": states}}})
    docs = build_site.widget_docs(ROOT / "helpers" / "widgets.py")
    assert build_site.replace_widgets(nb, docs, "test") == []
    bar, note, drawn = nb.cells[0].outputs
    assert '<progress value="3.0" max="3.0">' in bar["data"]["text/html"] and "3/3" in bar["data"]["text/html"]
    assert html.escape(docs["new_samples_button"]) in note["data"]["text/html"] and drawn["text"] == "drawn\n"
    assert "widgets" not in nb.metadata


def test_links_point_at_site_pages_or_at_github():
    pages = {"benchmarks/INSTRUCTORS.md": "benchmarks/INSTRUCTORS.md"}
    text = "[n](../benchmarks/INSTRUCTORS.md#lesson-02) [h](../helpers/widgets.py) [w](https://x.org) [a](#top)"
    assert build_site.rewrite_links(text, "solutions/01_x.ipynb", "lessons/01_x.ipynb", pages) == (
        "[n](../benchmarks/INSTRUCTORS.md#lesson-02) "
        f"[h]({build_site.BLOB}/helpers/widgets.py) [w](https://x.org) [a](#top)")


def test_readme_says_what_every_lesson_teaches():
    teaches = build_site.what_each_teaches((ROOT / "README.md").read_text())
    assert teaches.get("01", "").strip(), f"README lessons table rows found: {sorted(teaches)}"


def test_a_lesson_without_a_run_is_named_and_shown_without_outputs(tmp_path, capsys):
    """`make site` before `make run`: each lesson is said to have no run, and its page has no outputs."""
    build_site.prepare(tmp_path / "no-runs", tmp_path / "source")
    printed = capsys.readouterr().out
    for solution in SOLUTIONS:
        assert f"{solution.stem}: not run yet" in printed, f"expected a line for {solution.stem} in:\n{printed}"
        nb = nbformat.read(tmp_path / "source" / "lessons" / f"{solution.stem}.ipynb", as_version=4)
        assert "Not run yet" in nb.cells[1].source
        assert not any(cell.get("outputs") for cell in nb.cells if cell.cell_type == "code")
    assert (tmp_path / "source" / "index.md").read_text().count("not run yet") == len(SOLUTIONS)


def test_the_benchmark_pages_come_from_the_benchmarks_folder(tmp_path):
    """benchmarks/README.md becomes the results page, with INSTRUCTORS.md and EXPERIMENTS.md beside it, links
    between them pointing at site pages."""
    build_site.prepare(tmp_path / "no-runs", tmp_path / "source")
    pages = tmp_path / "source" / "benchmarks"
    results = (pages / "results.md").read_text()
    assert "bench_01_harmonic.py" in results and "(EXPERIMENTS.md#lesson-08)" in results
    assert "## Lesson 05" in (pages / "EXPERIMENTS.md").read_text()
    assert "## Lesson 02" in (pages / "INSTRUCTORS.md").read_text()
    assert "benchmarks/EXPERIMENTS" in (tmp_path / "source" / "index.md").read_text()


# --- the site in a browser ------------------------------------------------------------------------

@pytest.fixture(scope="module")
def site(tmp_path_factory, smoke_runs) -> Path:
    """The built site's html folder, from the session's smoke runs (tests/test_notebooks.py made them when it ran
    first; the lessons it did not run are executed here, as `make run` does), or from $GAN_COURSE_SITE_RUNS."""
    scratch = tmp_path_factory.mktemp("site")
    runs = Path(os.environ["GAN_COURSE_SITE_RUNS"]) if os.environ.get("GAN_COURSE_SITE_RUNS") else smoke_runs
    missing = [s.stem for s in SOLUTIONS if not (runs / s.stem / "executed.ipynb").is_file()]
    if missing and not os.environ.get("GAN_COURSE_SITE_RUNS"):
        env = {**os.environ, "GAN_COURSE_SMOKE": "1", "GAN_COURSE_RUNS": str(runs)}
        result = subprocess.run([sys.executable, str(ROOT / "scripts" / "run_lessons.py"), *missing],
                                capture_output=True, text=True, env=env, cwd=ROOT)
        assert result.returncode == 0, f"smoke runs failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    start = time.perf_counter()
    result = subprocess.run([sys.executable, str(ROOT / "scripts" / "build_site.py"), "--runs", str(runs),
                             "--out", str(scratch / "site")], capture_output=True, text=True, cwd=ROOT)
    seconds = time.perf_counter() - start
    assert result.returncode == 0, f"build_site.py failed:\n{result.stdout}\n{result.stderr[-5000:]}"
    assert "not run yet" not in result.stdout, f"every lesson was run, yet:\n{result.stdout}"
    assert seconds < SITE_BUILD_LIMIT_S, f"the site took {seconds:.0f} s to build, expected < {SITE_BUILD_LIMIT_S} s"
    print(f"\nsite built in {seconds:.1f} s")
    return scratch / "site" / "html"


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


def serve(folder: Path):
    """Serve `folder` on a free localhost port in a thread; returns (base URL, server)."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()),
                                             functools.partial(QuietHandler, directory=str(folder)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_address[1]}", server




def link_problem(href: str, base: str, folder: Path) -> str | None:
    """Why an internal link (same host as base) does not resolve to a file in folder (and its #anchor to an
    id in that file), or None when it does; links elsewhere are not checked."""
    parts = urllib.parse.urlsplit(href)
    if f"{parts.scheme}://{parts.netloc}" != base:
        return None
    target = folder / urllib.parse.unquote(parts.path).lstrip("/")
    if target.is_dir():
        target = target / "index.html"
    if not target.is_file():
        return f"{href}: no such file {target.relative_to(folder)}"
    if parts.fragment and target.suffix == ".html":
        text = target.read_text(errors="replace")
        anchor = html.escape(urllib.parse.unquote(parts.fragment), quote=True)
        if f'id="{anchor}"' not in text and f'name="{anchor}"' not in text:
            return f"{href}: {target.relative_to(folder)} has no element with id {anchor!r}"
    return None


def page_problems(browser, url: str, base: str, folder: Path) -> list[str]:
    """Load one page; what is wrong with it: console errors, requests leaving localhost, failed requests,
    images that did not load, internal links that do not resolve. Empty when nothing is."""
    problems = []
    page = browser.new_page()
    page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    page.on("requestfailed", lambda r: problems.append(f"request failed: {r.url} ({r.failure})"))

    def local_only(route):
        if route.request.url.startswith(base):
            route.continue_()
        else:  # the site must work offline: a CDN script or font would fail there
            problems.append(f"request leaves localhost: {route.request.url}")
            route.abort()
    page.route("**/*", local_only)
    try:
        response = page.goto(url, wait_until="load", timeout=PAGE_LOAD_S * 1000)
        if response is None or not response.ok:
            problems.append(f"HTTP {response.status if response else 'no response'}")
        page.wait_for_load_state("networkidle", timeout=PAGE_LOAD_S * 1000)
        problems += [f"image did not load: {src}" for src in page.evaluate(BROKEN_IMAGES)]
        links = sorted(set(page.evaluate(LINKS)))
        problems += [p for p in (link_problem(href, base, folder) for href in links) if p]
    finally:
        page.close()
    return problems


@needs_browser
def test_the_checks_catch_a_broken_image_a_dangling_link_and_a_console_error(browser, tmp_path):
    """The page checker itself, on a page that is broken in every way it looks for."""
    (tmp_path / "good.html").write_text('<html><body><h1 id="here">ok</h1></body></html>')
    (tmp_path / "bad.html").write_text(
        '<html><body><img src="missing.png"><a href="nowhere.html">x</a><a href="good.html#gone">y</a>'
        '<a href="good.html#here">z</a><img src="https://cdn.example.org/x.png">'
        '<script>console.error("boom")</script></body></html>')
    base, server = serve(tmp_path)
    try:
        problems = "\n".join(page_problems(browser, f"{base}/bad.html", base, tmp_path))
    finally:
        server.shutdown()
    for expected in ["image did not load: " + base + "/missing.png", "no such file nowhere.html",
                     "has no element with id 'gone'", "console error: boom",
                     "request leaves localhost: https://cdn.example.org/x.png"]:
        assert expected in problems, f"expected {expected!r} among the problems found:\n{problems}"
    assert "#here" not in problems


@needs_browser
def test_every_page_loads_clean_with_its_images_and_links(site, browser):
    # Every page Sphinx wrote (the theme's _static/*.html are template pieces, not pages).
    pages = sorted(path for path in site.rglob("*.html") if "_static" not in path.relative_to(site).parts)
    assert (site / "index.html") in pages and len(pages) >= len(SOLUTIONS) + 3
    base, server = serve(site)
    try:
        found = {}
        for path in pages:
            relative = path.relative_to(site).as_posix()
            problems = page_problems(browser, f"{base}/{relative}", base, site)
            if problems:
                found[relative] = problems
    finally:
        server.shutdown()
    assert not found, "\n".join(f"{page}:\n  " + "\n  ".join(problems[:10]) for page, problems in found.items())


@needs_browser
def test_home_page_lists_every_lesson(site, browser):
    base, server = serve(site)
    try:
        page = browser.new_page()
        page.goto(f"{base}/index.html", wait_until="load", timeout=PAGE_LOAD_S * 1000)
        rows = page.eval_on_selector_all("table tbody tr", "rows => rows.map(r => r.innerText)")
        hrefs = page.eval_on_selector_all("table a[href]", "links => links.map(a => a.getAttribute('href'))")
        page.close()
    finally:
        server.shutdown()
    for solution in SOLUTIONS:
        title = build_site.short_title(build_site.lesson_title(nbformat.read(solution, as_version=4), solution.name))
        assert any(row.startswith(solution.stem[:2]) and title in row for row in rows), \
            f"home page: no row for {solution.stem} ({title!r}); rows:\n" + "\n".join(rows)
        assert f"lessons/{solution.stem}.html" in hrefs, f"home page: no link to lessons/{solution.stem}.html"
    assert not any("not run yet" in row for row in rows), "every lesson was run, yet the table says 'not run yet'"


@pytest.mark.parametrize("solution", SOLUTIONS, ids=lambda p: p.stem)
def test_lesson_page_has_figures_folded_solutions_and_no_widget(site, solution):
    """Read from the built HTML: output images, one folded block per solution region, widgets replaced."""
    text = (site / "lessons" / f"{solution.stem}.html").read_text()
    regions = sum(cell.source.count(BEGIN) for cell in nbformat.read(solution, as_version=4).cells)
    folded = text.count('<p class="collapsed admonition-title">Show the solution</p>')
    assert folded == regions, f"{solution.stem}: {folded} folded solutions, expected {regions}"
    assert text.count('<details class="admonition hide above-input">') == regions, "a folded block is a <details>"
    outputs = text.split('class="cell_output')[1:]
    assert any("<img" in output for output in outputs), f"{solution.stem}: no figure among the outputs"
    assert "widget-view+json" not in text and "Loading widget" not in text
    if "widgets." in "".join(cell.source for cell in nbformat.read(solution, as_version=4).cells):
        assert 'class="widget-note"' in text, f"{solution.stem}: its controls are not replaced by a note"
    assert "colab.research.google.com/github/gan-course/gan-course/blob/main/lessons/" in text
    assert f"github.com/gan-course/gan-course/blob/main/lessons/{solution.stem}.ipynb" in text
