#!/usr/bin/env python3
"""Generate lessons/ (student versions) from solutions/ (the source of truth).

Inside a code cell of a solution notebook, the lines between `### BEGIN SOLUTION` and
`### END SOLUTION` are the answer to an exercise. In the lesson they become

    # YOUR CODE HERE
    raise NotImplementedError("Exercise: ...")

at the indentation of the BEGIN line. Outputs and execution counts are dropped.

A code cell whose first line is `# @save` (d2l's convention) holds code that later lessons,
widgets, checks or benchmarks reuse: its code, solution regions included, is written to
helpers/taught/lessonNN.py, the one copy they import (`from helpers.taught.lesson02 import ema_update`).
Such a cell may use dataclass, field, replace, torch, Tensor, nn and helpers' models (imported as it needs
them) and the names its saved cells define.

    python scripts/make_lessons.py           # write lessons/
    python scripts/make_lessons.py --check   # exit 1 if lessons/ differs from what it would write
    python scripts/make_lessons.py --strip   # also clear outputs in solutions/ in place
"""
from __future__ import annotations

import argparse
import ast
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
STUB = 'raise NotImplementedError("Exercise: replace this line with your code")'
SAVE = "# @save"
TAUGHT_HEADER = '''"""What lesson {number} teaches and later lessons reuse: generated from solutions/{name}
by scripts/make_lessons.py (its cells that start with `# @save`). Do not edit: edit the solution, then
run `make lessons`."""
from __future__ import annotations
'''
# What a saved cell may use without importing it: name -> the import line that brings it.
TAUGHT_IMPORTS = {"dataclass": "from dataclasses import dataclass", "field": "from dataclasses import field",
                  "replace": "from dataclasses import replace", "torch": "import torch",
                  "Tensor": "from torch import Tensor", "nn": "from torch import nn",
                  "models": "from helpers import models"}


def stub_source(source: str, where: str) -> str:
    """Replace every BEGIN/END SOLUTION region in one cell's source with a stub."""
    out: list[str] = []
    inside = False
    for number, line in enumerate(source.splitlines(), start=1):
        stripped = line.strip()
        if stripped == BEGIN:
            if inside:
                raise ValueError(f"{where}, line {number}: {BEGIN} inside another solution region")
            inside = True
            indent = line[: len(line) - len(line.lstrip())]
            out += [f"{indent}# YOUR CODE HERE", f"{indent}{STUB}"]
        elif stripped == END:
            if not inside:
                raise ValueError(f"{where}, line {number}: {END} without a {BEGIN} before it")
            inside = False
        elif not inside:
            out.append(line)
    if inside:
        raise ValueError(f"{where}: {BEGIN} is never closed by {END}")
    return "\n".join(out)


def clear_outputs(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
        cell.get("metadata", {}).pop("execution", None)
        cell.get("metadata", {}).pop("papermill", None)
    nb.metadata.pop("papermill", None)
    nb.metadata.pop("widgets", None)
    return nb


def to_lesson(solution: Path) -> str:
    nb = clear_outputs(nbformat.read(solution, as_version=4))
    exercises = 0
    for index, cell in enumerate(nb.cells):
        if cell.cell_type == "code" and BEGIN in cell.source:
            exercises += cell.source.count(BEGIN)
            cell.source = stub_source(cell.source, f"{solution.name}, cell {index}")
    if exercises == 0:
        raise ValueError(f"{solution.name} has no {BEGIN} region: a lesson needs exercises")
    return nbformat.writes(nb) + "\n"


def to_taught(solution: Path) -> str | None:
    """helpers/taught/lessonNN.py's text: the solution's `# @save` cells, markers dropped; None if it has none."""
    nb = nbformat.read(solution, as_version=4)
    saved = []
    for cell in nb.cells:
        lines = cell.source.splitlines()
        if cell.cell_type == "code" and lines and lines[0].strip() == SAVE:
            body = [line for line in lines[1:] if line.strip() not in (BEGIN, END)]
            saved.append("\n".join(body).strip("\n"))
    if not saved:
        return None
    code = "\n\n\n".join(saved)
    used = {name for node in ast.walk(ast.parse(code)) for name in
            ([node.id] if isinstance(node, ast.Name) else [node.value.id] if isinstance(node, ast.Attribute)
             and isinstance(node.value, ast.Name) else [])}
    lines = [TAUGHT_IMPORTS[name] for name in TAUGHT_IMPORTS if name in used]
    standard = sorted(line for line in lines if line.startswith("from dataclasses"))
    third_party = sorted(line for line in lines if line.startswith(("import torch", "from torch")))
    merged = [f"from torch import {', '.join(n for n in ('Tensor', 'nn') if TAUGHT_IMPORTS[n] in third_party)}"]
    third_party = [line for line in third_party if line == "import torch"] + (merged if merged[0] != "from torch import " else [])
    dataclasses = [line.split()[-1] for line in standard]
    standard = [f"from dataclasses import {', '.join(dataclasses)}"] if dataclasses else []
    course = [line for line in lines if line.startswith("from helpers")]
    imports = "\n\n".join("\n".join(group) for group in (standard, third_party, course) if group)
    header = TAUGHT_HEADER.format(number=solution.name[:2], name=solution.name)
    return header + ("\n" + imports + "\n" if imports else "") + "\n\n" + code + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare, do not write")
    parser.add_argument("--strip", action="store_true", help="clear outputs in solutions/ too")
    parser.add_argument("--root", type=Path, default=ROOT)
    args = parser.parse_args(argv)
    solutions = sorted((args.root / "solutions").glob("[0-9][0-9]_*.ipynb"))
    if not solutions:
        print(f"no solutions/NN_topic.ipynb under {args.root}", file=sys.stderr)
        return 1
    stale = []
    for solution in solutions:
        if args.strip and not args.check:
            nbformat.write(clear_outputs(nbformat.read(solution, as_version=4)), solution)
        lesson = args.root / "lessons" / solution.name
        text = to_lesson(solution)
        if args.check:
            if not lesson.exists() or lesson.read_text() != text:
                stale.append(lesson.relative_to(args.root))
        else:
            lesson.parent.mkdir(exist_ok=True)
            lesson.write_text(text)
            print(f"wrote {lesson.relative_to(args.root)}")
    taught_dir = args.root / "helpers" / "taught"
    expected = {}
    for solution in solutions:
        text = to_taught(solution)
        if text is not None:
            expected[f"lesson{solution.name[:2]}.py"] = text
    expected["__init__.py"] = '"""Code the lessons teach and later lessons reuse, generated from solutions/ (`# @save` cells)."""\n'
    for name, text in expected.items():
        target = taught_dir / name
        if args.check:
            if not target.exists() or target.read_text() != text:
                stale.append(target.relative_to(args.root))
        else:
            taught_dir.mkdir(exist_ok=True)
            target.write_text(text)
    for old in taught_dir.glob("lesson*.py") if taught_dir.is_dir() else []:
        if old.name not in expected:
            if args.check:
                stale.append(old.relative_to(args.root))
            else:
                old.unlink()
    extra = {p.name for p in (args.root / "lessons").glob("*.ipynb")} - {s.name for s in solutions}
    stale += [Path("lessons") / name for name in sorted(extra)] if args.check else []
    if stale:
        print("lessons/ or helpers/taught/ is out of date with solutions/ (run `make lessons`): "
              + ", ".join(map(str, stale)), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
