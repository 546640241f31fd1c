"""Run a solution notebook's code cells inside this Python process (for benchmarks).

Benchmarks compare a lesson's own training code with a baseline *in one process*, so they
execute the lesson's cells here rather than in a separate kernel. IPython syntax (%pip inside
the Colab-only branch) is translated first; nothing is displayed.
"""
from __future__ import annotations

import os
import time
from pathlib import Path

import nbformat


def run_notebook(path: str | Path, parameters: dict | None = None, smoke: bool = False,
                 timings: bool = False) -> dict:
    """Execute every code cell of `path`; `parameters` override the `parameters` cell. Returns the namespace."""
    from IPython.core.inputtransformer2 import TransformerManager

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no notebook at {path}")
    os.environ["GAN_COURSE_SMOKE"] = "1" if smoke else "0"
    os.environ.setdefault("MPLBACKEND", "Agg")
    transform = TransformerManager().transform_cell
    namespace: dict = {"__name__": "__main__"}
    nb = nbformat.read(path, as_version=4)
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        start = time.perf_counter()
        exec(compile(transform(cell.source), f"{path.name}[cell {index}]", "exec"), namespace)
        if "parameters" in cell.metadata.get("tags", []) and parameters:
            namespace.update(parameters)
        if timings:
            first = cell.source.strip().splitlines()[0][:60] if cell.source.strip() else ""
            print(f"  cell {index:2d} {time.perf_counter() - start:6.2f} s  {first}")
    return namespace
