#!/usr/bin/env python3
"""`make site`: the course as a static website, from the notebooks that `make run` executed.

Prepares Sphinx sources (MyST-NB, the book theme) in <out>/source, then builds HTML in <out>/html:
- a home page with the lessons table: title (each notebook's first heading), what it teaches (the
  README's lessons table, the one place that says it), run time (papermill's duration of the run)
  and the headline number from the lesson's summary.json;
- one page per lesson: runs/NN_topic/executed.ipynb with its figures and tables, each exercise's
  solution folded (a collapsed block), widgets replaced by their last state (a progress bar as it
  ended; for controls, a note saying what the control does and what its output area showed), links
  to Colab and to the notebooks on GitHub. A lesson with no run yet is rendered from solutions/
  without outputs, and the build says so;
- the instructors' guide (benchmarks/INSTRUCTORS.md), the benchmark results (benchmarks/README.md) and the
  experiment record (benchmarks/EXPERIMENTS.md).

    python scripts/build_site.py                      # reads $GAN_COURSE_RUNS or runs/, writes site/
    python scripts/build_site.py --runs /tmp/runs --out /tmp/site
"""
from __future__ import annotations

import argparse
import ast
import copy
import html
import os
import posixpath
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import nbformat

from helpers.runtime import read_summary
from make_lessons import BEGIN, END

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = ROOT / "scripts" / "site"        # conf.py and _static/, copied into the sources
REPOSITORY = "gan-course/gan-course"
BLOB = f"https://github.com/{REPOSITORY}/blob/main"
COLAB = f"https://colab.research.google.com/github/{REPOSITORY}/blob/main"
COLAB_BADGE = "https://colab.research.google.com/assets/colab-badge.svg"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
SOLUTION_PROMPTS = {"code_prompt_show": "Show the solution", "code_prompt_hide": "Hide the solution"}
# A markdown link or image target: "](target" up to a space, a closing parenthesis or the end.
LINK_TARGET = re.compile(r"\]\(([^)\s]+)")


@dataclass
class Lesson:
    """One lesson as the site shows it: where its notebook came from and what its run measured."""

    stem: str
    title: str
    notebook: Path          # the executed notebook, or the solution when there is no run
    executed: bool
    seconds: float | None   # papermill's duration of the run
    headline: str | None    # summary.json's "headline"
    smoke: bool             # summary.json says the run was a smoke run
    failed: str | None      # papermill's exception, when the run stopped at an error


def lesson_title(nb: nbformat.NotebookNode, where: str) -> str:
    """The text of the notebook's first markdown heading ('# Lesson 01 — ...')."""
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    raise ValueError(f"{where}: expected a first markdown heading '# Lesson NN — title', found none")


def short_title(title: str) -> str:
    """'Lesson 01 — A GAN on a harmonic curve' -> 'A GAN on a harmonic curve'."""
    short = re.sub(r"^Lesson\s+\d+\s*[—:–-]\s*", "", title)
    return short[:1].upper() + short[1:]


def readme_section(readme: str, heading: str) -> str:
    """The text under '## heading' in the README, up to the next '## ' heading."""
    match = re.search(rf"^## {re.escape(heading)}\n(.*?)(?=^## |\Z)", readme, flags=re.M | re.S)
    if not match:
        raise ValueError(f"README.md: expected a section '## {heading}', found none")
    return match.group(1).strip()


def what_each_teaches(readme: str) -> dict[str, str]:
    """The README lessons table's 'what it teaches' column by lesson number: {'01': '...'}."""
    rows = [line for line in readme_section(readme, "The lessons").splitlines() if line.startswith("|")]
    header = [cell.strip() for cell in rows[0].strip("|").split("|")]
    if "#" not in header or "what it teaches" not in header:
        raise ValueError(f"README.md lessons table: expected columns '#' and 'what it teaches', got {header}")
    number, teaches = header.index("#"), header.index("what it teaches")
    found = {}
    for row in rows[2:]:
        cells = [cell.strip() for cell in row.strip().strip("|").split("|")]
        found[cells[number]] = cells[teaches]
    return found


def split_solution_regions(source: str, where: str) -> list[tuple[bool, str]]:
    """A code cell's source -> [(is_solution, code), ...] in order; the marker lines themselves dropped."""
    parts, lines, inside = [], [], False
    for number, line in enumerate(source.splitlines(), start=1):
        marker = line.strip()
        if marker in (BEGIN, END):
            if (marker == BEGIN) == inside:
                raise ValueError(f"{where}, line {number}: unexpected {marker} "
                                 f"({'inside' if inside else 'outside'} a solution region)")
            parts.append((inside, "\n".join(lines)))
            lines, inside = [], marker == BEGIN
        else:
            lines.append(line)
    if inside:
        raise ValueError(f"{where}: {BEGIN} is never closed by {END}")
    parts.append((False, "\n".join(lines)))
    return [(is_solution, code) for is_solution, code in parts if code.strip()]


def fold_solutions(nb: nbformat.NotebookNode, where: str) -> int:
    """Split each code cell with solution regions into cells; each region's cell has its input folded.

    The code around a region stays visible; the cell's outputs go under its last part. Returns how
    many regions were folded.
    """
    cells, folded = [], 0
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code" or BEGIN not in cell.source:
            cells.append(cell)
            continue
        parts = split_solution_regions(cell.source, f"{where}, cell {index}")
        for number, (is_solution, code) in enumerate(parts):
            part = copy.deepcopy(cell)
            part.source = code
            if "id" in cell:  # ids stay unique: the cell's own, then -1, -2 for its later parts
                part["id"] = cell["id"] if number == 0 else f"{cell['id'][:60]}-{number}"
            if number < len(parts) - 1:
                part.outputs, part.execution_count = [], None
            if is_solution:
                folded += 1
                part.metadata["tags"] = list(part.metadata.get("tags", [])) + ["hide-input"]
                part.metadata["mystnb"] = dict(SOLUTION_PROMPTS)
            cells.append(part)
    nb.cells = cells
    return folded


def widget_docs(widgets_py: Path) -> dict[str, str]:
    """First docstring line of each public function in helpers/widgets.py: what that control does."""
    tree = ast.parse(widgets_py.read_text())
    return {node.name: (ast.get_docstring(node) or "").split("\n")[0].strip()
            for node in tree.body if isinstance(node, ast.FunctionDef) and not node.name.startswith("_")}


def widget_description(source: str, docs: dict[str, str]) -> str | None:
    """What the widget a cell shows does: the docstring of the last helpers.widgets builder the cell
    calls, else the cell's first comment line; None when the cell says neither."""
    called = [name for name in re.findall(r"widgets\.(\w+)\(", source) if docs.get(name)]
    if called:
        return docs[called[-1]]
    comments = [line.strip().lstrip("#").strip() for line in source.splitlines() if line.strip().startswith("#")]
    return comments[0] if comments else None


def progress_bar(states: dict, model_id: str) -> str | None:
    """A tqdm progress bar's last state as HTML (description, bar, counts), or None if it is no progress bar."""
    box = states.get(model_id, {})
    children = [ref.removeprefix("IPY_MODEL_") for ref in box.get("state", {}).get("children", [])]
    kinds = [states.get(child, {}).get("model_name") for child in children]
    if box.get("model_name") != "HBoxModel" or len(kinds) != 3 or kinds[1] not in ("FloatProgressModel",
                                                                                     "IntProgressModel"):
        return None
    left, bar, right = (states[child]["state"] for child in children)
    return (f'<div class="widget-progress"><span>{left.get("value", "")}</span>'
            f'<progress value="{bar.get("value", 0)}" max="{bar.get("max", 100)}"></progress>'
            f'<span>{right.get("value", "")}</span></div>')


def captured_outputs(states: dict, model_id: str) -> list[dict]:
    """What the Output widgets inside a widget (itself included) showed last, in order; widgets among them left out."""
    model = states.get(model_id, {})
    state = model.get("state", {})
    found = [output for output in state.get("outputs", []) or []
             if WIDGET_VIEW not in output.get("data", {})] if model.get("model_name") == "OutputModel" else []
    for ref in state.get("children", []) or []:
        found += captured_outputs(states, ref.removeprefix("IPY_MODEL_"))
    return found


def replace_widgets(nb: nbformat.NotebookNode, docs: dict[str, str], where: str) -> list[str]:
    """Replace each widget output (it needs a kernel) with its last state: a progress bar as it ended, or a
    note saying what the control does followed by what its output area showed when the notebook ran.

    Returns a line for each widget whose cell names no helper and has no comment (shown as a plain note).
    """
    states = nb.metadata.get("widgets", {}).get(WIDGET_STATE, {}).get("state", {})
    unexplained = []
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        outputs = []
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if WIDGET_VIEW not in data:
                outputs.append(output)
                continue
            model_id = data[WIDGET_VIEW].get("model_id", "")
            shown, captured = progress_bar(states, model_id), []
            if shown is None:
                description = widget_description(cell.source, docs)
                if description is None:
                    unexplained.append(f"{where}, cell {index}: a widget whose cell calls no helpers.widgets "
                                       "builder and has no comment; shown as a plain note")
                    description = "an interactive control"
                captured = captured_outputs(states, model_id)
                shown = ('<div class="widget-note"><b>Interactive control</b> (run this notebook to use it): '
                         f"{html.escape(description)}"
                         + (" Below, what it showed when the notebook ran." if captured else "") + "</div>")
            outputs.append(nbformat.v4.new_output("display_data", data={"text/html": shown,
                                                                        "text/plain": data.get("text/plain", "")}))
            outputs += [nbformat.from_dict(output) for output in captured]
        cell.outputs = outputs
    nb.metadata.pop("widgets", None)
    return unexplained


def rewrite_links(markdown: str, origin: str, page: str, pages: dict[str, str]) -> str:
    """Relative links written for the repository (from the file `origin`) -> links that work on the site page
    `page`: to the page that shows the target when the site has one, else to the file on GitHub."""
    def rewrite(match: re.Match) -> str:
        target = match.group(1)
        if target.startswith(("#", "/")) or re.match(r"^[a-zA-Z][\w+.-]*:", target):
            return match.group(0)
        path, _, anchor = target.partition("#")
        repo_path = posixpath.normpath(posixpath.join(posixpath.dirname(origin), path))
        if repo_path in pages:
            new = posixpath.relpath(pages[repo_path], posixpath.dirname(page) or ".")
        else:
            kind = "tree" if (ROOT / repo_path).is_dir() else "blob"  # GitHub's address of a folder / a file
            new = f"https://github.com/{REPOSITORY}/{kind}/main/{repo_path}"
        return "](" + new + ("#" + anchor if anchor else "")
    return LINK_TARGET.sub(rewrite, markdown)


def find_lessons(runs: Path) -> list[Lesson]:
    """Every solutions/NN_topic.ipynb with its run under `runs`, if any."""
    solutions = sorted((ROOT / "solutions").glob("[0-9][0-9]_*.ipynb"))
    if not solutions:
        raise FileNotFoundError(f"expected lessons in {ROOT / 'solutions'} (NN_topic.ipynb), found none")
    lessons = []
    for solution in solutions:
        executed = runs / solution.stem / "executed.ipynb"
        notebook = executed if executed.is_file() else solution
        nb = nbformat.read(notebook, as_version=4)
        papermill = nb.metadata.get("papermill", {})
        summary_path = runs / solution.stem / "summary.json"
        problem = None
        try:
            summary = read_summary(summary_path) if executed.is_file() and summary_path.is_file() else {}
        except ValueError as error:
            summary, problem = {}, str(error)
            print(f"{solution.stem}: {problem}")
        exception = papermill.get("exception")
        lessons.append(Lesson(stem=solution.stem, title=lesson_title(nb, str(notebook)), notebook=notebook,
                              executed=executed.is_file(), seconds=papermill.get("duration"),
                              headline=summary.get("headline"), smoke=bool(summary.get("smoke")),
                              failed="stopped at an error" if exception else problem))
    return lessons


def has_figures(notebook: Path) -> bool:
    """Whether any output of the notebook is an image."""
    nb = nbformat.read(notebook, as_version=4)
    return any(key.startswith("image/") for cell in nb.cells for output in cell.get("outputs", [])
               for key in output.get("data", {}))


def links_cell(lesson: Lesson) -> nbformat.NotebookNode:
    """A markdown cell under the title: Colab, both notebooks on GitHub, and what this page shows."""
    name = f"{lesson.stem}.ipynb"
    if not lesson.executed:
        shown = ("**Not run yet**: this page shows the lesson's code without outputs "
                 "(`make run`, then `make site`, adds them).")
    else:
        run = "a smoke run" if lesson.smoke else "`make run`"
        shown = (f"Outputs from {run} ({format_seconds(lesson.seconds)})"
                 + (f"; headline: {lesson.headline}" if lesson.headline else "")
                 + (f". **The run {lesson.failed}**: outputs stop there." if lesson.failed else "."))
    text = (f'<div class="lesson-links">\n\n[Open in Colab]({COLAB}/lessons/{name}) · '
            f"[the exercise notebook]({BLOB}/lessons/{name}) · [with solutions]({BLOB}/solutions/{name})\n\n"
            f"{shown} Each exercise's solution is folded: **Show the solution** opens it.\n\n</div>")
    return nbformat.v4.new_markdown_cell(text)


def format_seconds(seconds: float | None) -> str:
    """Seconds -> '24 s' or '2.6 min'; 'not recorded' for None."""
    if seconds is None:
        return "not recorded"
    return f"{seconds:.0f} s" if seconds < 90 else f"{seconds / 60:.1f} min"


def prepare_lesson(lesson: Lesson, source: Path, docs: dict[str, str], pages: dict[str, str]) -> list[str]:
    """Write the lesson's page notebook into the sources; returns lines to report (unexplained widgets)."""
    nb = nbformat.read(lesson.notebook, as_version=4)
    page = f"lessons/{lesson.stem}.ipynb"
    where = f"{lesson.stem} ({lesson.notebook})"
    report = replace_widgets(nb, docs, where)  # first, so that its cell numbers are the notebook's
    fold_solutions(nb, where)
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            # The badge's image ships with the site (Colab's own would be fetched from Google).
            cell.source = rewrite_links(cell.source, f"solutions/{lesson.stem}.ipynb", page, pages) \
                .replace(COLAB_BADGE, "../_static/colab-badge.svg")
    nb.cells.insert(1, links_cell(lesson))
    out = source / page
    out.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, out)
    return report


def home_page(lessons: list[Lesson], readme: str, teaches: dict[str, str], pages: dict[str, str]) -> str:
    """index.md: the README's opening paragraph, the lessons table, the notes and benchmarks, the toctree."""
    intro = readme.split("\n\n")[1].strip()
    rows = []
    for lesson in lessons:
        number = lesson.stem[:2]
        if not lesson.executed:
            time_cell, headline = "not run yet", "—"
        else:
            time_cell = format_seconds(lesson.seconds) + (" (smoke)" if lesson.smoke else "")
            headline = lesson.headline or "no summary.json"
            if lesson.failed:
                headline = f"run {lesson.failed}"
        what = rewrite_links(teaches.get(number, "—"), "README.md", "index.md", pages)
        rows.append(f"| {number} | [{short_title(lesson.title)}](lessons/{lesson.stem}.ipynb) | {what} "
                    f"| {time_cell} | {headline.replace('|', '/')} |")
    toctree = "\n".join(f"lessons/{lesson.stem}" for lesson in lessons)
    return f"""# GANs with PyTorch — a course that runs

{rewrite_links(intro, "README.md", "index.md", pages)}

Every lesson below is shown as it ran, with its figures and numbers; each exercise's solution is
folded. Open a lesson in Colab (the badge on its page) to run it and to use its controls.

| # | lesson | what it teaches | run time | headline |
|---|---|---|---|---|
{chr(10).join(rows)}

Run time: the wall-clock time of the run that produced these pages (`make run`; "smoke" marks a
small run made for testing, whose numbers say little). For teachers: the
[instructors' guide](benchmarks/INSTRUCTORS.md) (a class plan for each lesson), the
[benchmark results](benchmarks/results.md) and the [experiment record](benchmarks/EXPERIMENTS.md)
(what decided each setting).

```{{toctree}}
:hidden:
:caption: Lessons

{toctree}
```

```{{toctree}}
:hidden:
:caption: For instructors

benchmarks/INSTRUCTORS
benchmarks/results
benchmarks/EXPERIMENTS
```
"""


def prepare(runs: Path, source: Path) -> list[Lesson]:
    """Write the Sphinx sources for the site into `source` (emptied first); print what has no run."""
    if source.exists():
        shutil.rmtree(source)
    shutil.copytree(TEMPLATE, source, ignore=shutil.ignore_patterns("__pycache__"))
    lessons = find_lessons(runs)
    readme = (ROOT / "README.md").read_text()
    teaches = what_each_teaches(readme)
    pages = {"README.md": "index.md", "benchmarks/INSTRUCTORS.md": "benchmarks/INSTRUCTORS.md",
             "benchmarks/README.md": "benchmarks/results.md", "benchmarks/EXPERIMENTS.md": "benchmarks/EXPERIMENTS.md"}
    for lesson in lessons:
        pages[f"lessons/{lesson.stem}.ipynb"] = pages[f"solutions/{lesson.stem}.ipynb"] = \
            f"lessons/{lesson.stem}.ipynb"
    docs = widget_docs(ROOT / "helpers" / "widgets.py")
    for lesson in lessons:
        if not lesson.executed:
            print(f"{lesson.stem}: not run yet (no {runs / lesson.stem / 'executed.ipynb'}); "
                  "its page shows the code without outputs")
        elif lesson.failed:
            print(f"{lesson.stem}: its run {lesson.failed}; the page shows the outputs up to there")
        elif not has_figures(lesson.notebook):
            print(f"{lesson.stem}: {lesson.notebook} holds no figure (a run from before `make run` kept them?); "
                  f"`make run LESSONS={lesson.stem[:2]}` redraws them")
        if lesson.stem[:2] not in teaches:
            print(f"{lesson.stem}: no row in README.md's lessons table; 'what it teaches' shows '—'")
        for line in prepare_lesson(lesson, source, docs, pages):
            print(line)
    (source / "index.md").write_text(home_page(lessons, readme, teaches, pages))
    (source / "benchmarks").mkdir(exist_ok=True)
    for name in ("INSTRUCTORS.md", "README.md", "EXPERIMENTS.md"):
        origin = f"benchmarks/{name}"
        text = rewrite_links((ROOT / origin).read_text(), origin, pages[origin], pages)
        (source / pages[origin]).write_text(text)
    return lessons


def build_html(source: Path, html_dir: Path, doctrees: Path) -> None:
    """Run Sphinx on the prepared sources; raise with its output when it fails."""
    if html_dir.exists():
        shutil.rmtree(html_dir)
    command = [sys.executable, "-m", "sphinx", "-b", "html", "-q", "-d", str(doctrees), str(source), str(html_dir)]
    result = subprocess.run(command, capture_output=True, text=True)
    if result.stderr.strip():
        print(result.stderr.rstrip(), file=sys.stderr)
    if result.returncode != 0:
        raise RuntimeError(f"sphinx-build failed with exit code {result.returncode}: {' '.join(command)}")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=Path, default=Path(os.environ.get("GAN_COURSE_RUNS", ROOT / "runs")),
                        help="the folder `make run` wrote (default: $GAN_COURSE_RUNS or runs/)")
    parser.add_argument("--out", type=Path, default=ROOT / "site",
                        help="where to write source/ and html/ (default: site/)")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    lessons = prepare(args.runs, args.out / "source")
    build_html(args.out / "source", args.out / "html", args.out / "doctrees")
    run = sum(lesson.executed for lesson in lessons)
    print(f"site: {len(lessons)} lessons ({run} with outputs from {args.runs}) in "
          f"{time.perf_counter() - start:.0f} s -> {args.out / 'html' / 'index.html'}\n"
          f"open it: python -m http.server -d {args.out / 'html'} 8000, then http://localhost:8000")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
