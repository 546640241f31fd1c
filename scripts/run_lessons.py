#!/usr/bin/env python3
"""`make run`: execute every solution notebook headless and print a table of results.

Each lesson runs at the size its own cells choose for the hardware found (full size on a
GPU, a small but meaningful size on a CPU). The executed notebook lands in
runs/NN_topic/executed.ipynb (under $GAN_COURSE_RUNS where that is set) next to what the lesson
itself writes there; the lesson's runs/NN_topic/summary.json gives the table's metric column.

    python scripts/run_lessons.py            # every lesson
    python scripts/run_lessons.py 01 03      # lessons whose names start with these
"""
from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import nbclient.output_widget

from helpers.runtime import read_summary

ROOT = Path(__file__).resolve().parents[1]
# Seconds to wait for a notebook's kernel to start (papermill's default is 60). A cold kernel on a
# busy 2-core machine can take longer than that; the notebook tests use this too.
KERNEL_START_TIMEOUT = 300
# The kernel's own start-up log (ipykernel 7 warns that a local kernel talks over unencrypted TCP)
# would break each progress line; cells' errors still come back through papermill.
QUIET_KERNEL = ["--IPKernelApp.log_level=ERROR"]


def keep_output_widget_state_in_the_client(self: nbclient.output_widget.OutputWidget) -> None:
    """Replaces nbclient's OutputWidget.sync_state: what an Output widget captured stays in the executed
    notebook's widget state, and is not sent back to the kernel.

    With the inline backend a lesson draws into its controls' Output widgets; nbclient (0.11) then sends
    each captured output to the kernel on the shell channel while it waits there for the cell's reply,
    and the run hung for good after such a cell (lesson 02, its latent walk: the kernel idle, the reply
    never read; cf. jupyter/nbclient#312). No kernel needs that state back in a headless run.
    """


nbclient.output_widget.OutputWidget.sync_state = keep_output_widget_state_in_the_client


def main(argv: list[str]) -> int:
    import papermill

    notebooks = sorted((ROOT / "solutions").glob("[0-9][0-9]_*.ipynb"))
    if argv:
        notebooks = [nb for nb in notebooks if any(nb.name.startswith(a) for a in argv)]
        if not notebooks:
            print(f"no lesson matches {argv}; lessons are "
                  f"{[p.stem for p in sorted((ROOT / 'solutions').glob('*.ipynb'))]}", file=sys.stderr)
            return 2
    # The lessons write under GAN_COURSE_RUNS (default runs/); the executed notebooks go there too.
    runs = Path(os.environ.setdefault("GAN_COURSE_RUNS", str(ROOT / "runs")))
    if runs.exists() and not runs.is_dir():
        print(f"GAN_COURSE_RUNS={str(runs)!r} is a file: the lessons need a folder to write to. "
              "Set GAN_COURSE_RUNS to a folder, or unset it to use runs/.", file=sys.stderr)
        return 2
    # The kernel draws with Jupyter's inline backend, as in a student's notebook, so that the executed
    # notebooks keep their figures (the site shows them); the Makefile's MPLBACKEND=Agg would drop them.
    os.environ.pop("MPLBACKEND", None)
    rows, failed = [], False
    for i, nb in enumerate(notebooks, start=1):
        out_dir = runs / nb.stem
        out_dir.mkdir(parents=True, exist_ok=True)
        label = f"[{i}/{len(notebooks)}] {nb.stem}"
        start = time.perf_counter()
        try:  # a bar of cells while the lesson runs (some train for minutes), then one line for it
            papermill.execute_notebook(str(nb), str(out_dir / "executed.ipynb"), cwd=str(nb.parent),
                                       kernel_name="python3", log_output=False,
                                       progress_bar={"desc": label, "leave": False, "file": sys.stdout},
                                       start_timeout=KERNEL_START_TIMEOUT, extra_arguments=QUIET_KERNEL)
            status = "ok"
        except Exception as error:  # papermill raises PapermillExecutionError with the cell's traceback
            status, failed = f"FAILED: {str(error).strip().splitlines()[-1][:120]}", True
        seconds = time.perf_counter() - start
        summary = out_dir / "summary.json"
        try:
            headline = str(read_summary(summary).get("headline", "")) if summary.exists() else ""
        except ValueError as error:
            headline = f"summary.json unreadable: {error}"
        print(f"{label} {status} in {seconds:.0f} s", flush=True)
        rows.append((nb.stem, seconds, headline if status == "ok" else status))
    width = max(len(r[0]) for r in rows)
    print(f"\n{'lesson':<{width}}  {'time':>7}  metric")
    for name, seconds, headline in rows:
        print(f"{name:<{width}}  {seconds:>6.0f}s  {headline}")
    print(f"\nexecuted notebooks and figures: {runs}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
