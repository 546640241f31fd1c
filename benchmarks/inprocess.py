"""Run a solution notebook's code cells inside this Python process: the one way benchmarks get lesson code.

Benchmarks compare a lesson's own code with a baseline *in one process*, so they execute the
lesson's cells here rather than re-typing them or starting a kernel. `notebook_namespace` runs
the cells tagged `bench` (or every code cell: `run_notebook`); the functions it defines keep the
notebook as their `__code__.co_filename`, which tests/test_benchmarks.py checks. IPython syntax
(%pip inside the Colab-only branch) is translated first; nothing is displayed.
"""
from __future__ import annotations

import ast
import os
import time
from pathlib import Path

import nbformat


def notebook_namespace(path: str | Path, tags: tuple[str, ...] | None = ("bench",),
                       parameters: dict | None = None, smoke: bool = False,
                       timings: bool = False) -> dict:
    """Execute the code cells of `path` that carry one of `tags` (None: every code cell), in order.

    `parameters` override the values of the cell tagged `parameters` right after it runs.
    Returns the namespace the cells defined.
    """
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
        cell_tags = cell.metadata.get("tags", [])
        if cell.cell_type != "code" or (tags is not None and not set(tags) & set(cell_tags)):
            continue
        start = time.perf_counter()
        exec(compile(transform(cell.source), f"{path} [cell {index}]", "exec"), namespace)
        if "parameters" in cell_tags and parameters:
            namespace.update(parameters)
        if timings:
            first = cell.source.strip().splitlines()[0][:60] if cell.source.strip() else ""
            print(f"  cell {index:2d} {time.perf_counter() - start:6.2f} s  {first}")
    return namespace


def run_notebook(path: str | Path, parameters: dict | None = None, smoke: bool = False,
                 timings: bool = False) -> dict:
    """Execute every code cell of `path` (the whole lesson); see notebook_namespace."""
    return notebook_namespace(path, tags=None, parameters=parameters, smoke=smoke, timings=timings)


def notebook_parameters(path: str | Path) -> dict:
    """The values in the notebook's cell tagged `parameters` (the lesson's full-run defaults)."""
    values = notebook_namespace(path, tags=("parameters",))
    return {name: value for name, value in values.items() if name.isupper()}


def assignments(defaults: dict, texts: list[str]) -> dict:
    """NAME=VALUE texts (a benchmark's --set) -> {NAME: value}, each NAME one of `defaults`, each value of its type.

    A number or True/False is read as a Python literal; a text parameter takes VALUE as it is.
    """
    assigned = {}
    for text in texts:
        name, sep, value = text.partition("=")
        if not sep or name not in defaults:
            raise SystemExit(f"--set expects NAME=VALUE with NAME one of the notebook's parameters "
                             f"({', '.join(sorted(defaults))}), got {text!r}")
        kind = type(defaults[name])
        if kind is str:
            assigned[name] = value
            continue
        try:
            new = ast.literal_eval(value)
        except (ValueError, SyntaxError):
            new = None
        if type(new) is not kind and not (kind is float and type(new) is int):
            raise SystemExit(f"--set {name}: expected a {kind.__name__} like {defaults[name]!r}, got {value!r}")
        assigned[name] = kind(new)
    return assigned
