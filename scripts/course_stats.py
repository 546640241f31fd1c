"""How much a reader has to get through: per lesson and for helpers/, against the course's limits.

    python scripts/course_stats.py            # a table; exit 1 when a limit is broken
    python scripts/course_stats.py --json     # the same numbers as JSON

Per lesson (solutions/NN_*.ipynb): lines of code that are neither comment nor blank, the longest
code cell, and the number of values in the `parameters` cell. For helpers/: lines in all, the
longest module, and lines over 120 characters.
"""
from __future__ import annotations

import argparse
import ast
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LIMITS = {"lesson_code_lines": 250, "cell_code_lines": 40, "parameters": 12,
          "helpers_lines": 3500, "module_lines": 450, "line_length": 120}


def code_lines(source: str) -> int:
    """Lines that are neither blank nor a comment (IPython magics count as code)."""
    return sum(1 for line in source.splitlines() if line.strip() and not line.strip().startswith("#"))


def parameter_count(source: str) -> int:
    """How many names the parameters cell assigns."""
    names = set()
    for node in ast.parse(source).body:
        targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(node, ast.AnnAssign) else []
        for target in targets:
            names.update(n.id for n in ast.walk(target) if isinstance(n, ast.Name))
    return len(names)


def lesson_stats(path: Path) -> dict:
    cells = json.loads(path.read_text())["cells"]
    code = [("".join(c["source"]), c.get("metadata", {}).get("tags", [])) for c in cells if c["cell_type"] == "code"]
    params = [src for src, tags in code if "parameters" in tags]
    if len(params) != 1:
        raise ValueError(f"{path.name}: expected one code cell tagged 'parameters', found {len(params)}")
    return {"lesson": path.stem, "code_lines": sum(code_lines(src) for src, _ in code),
            "longest_cell": max(code_lines(src) for src, _ in code), "parameters": parameter_count(params[0])}


def helpers_stats(folder: Path) -> dict:
    modules = {str(p.relative_to(folder)): p.read_text().splitlines() for p in sorted(folder.rglob("*.py"))}
    longest = max(modules, key=lambda name: len(modules[name]))
    return {"lines": sum(len(lines) for lines in modules.values()), "modules": len(modules),
            "longest_module": longest, "longest_module_lines": len(modules[longest]),
            "long_lines": sum(len(line) > LIMITS["line_length"] for lines in modules.values() for line in lines)}


def problems(lessons: list[dict], helpers: dict) -> list[str]:
    found = []
    for s in lessons:
        if s["code_lines"] > LIMITS["lesson_code_lines"]:
            found.append(f"{s['lesson']}: {s['code_lines']} lines of code (at most {LIMITS['lesson_code_lines']})")
        if s["longest_cell"] > LIMITS["cell_code_lines"]:
            found.append(f"{s['lesson']}: a cell of {s['longest_cell']} lines of code (at most {LIMITS['cell_code_lines']})")
        if s["parameters"] > LIMITS["parameters"]:
            found.append(f"{s['lesson']}: {s['parameters']} parameters (at most {LIMITS['parameters']})")
    if helpers["lines"] > LIMITS["helpers_lines"]:
        found.append(f"helpers: {helpers['lines']} lines (at most {LIMITS['helpers_lines']})")
    if helpers["longest_module_lines"] > LIMITS["module_lines"]:
        found.append(f"helpers/{helpers['longest_module']}: {helpers['longest_module_lines']} lines "
                     f"(at most {LIMITS['module_lines']})")
    if helpers["long_lines"]:
        found.append(f"helpers: {helpers['long_lines']} lines over {LIMITS['line_length']} characters")
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print the numbers as JSON")
    args = parser.parse_args(argv)
    lessons = [lesson_stats(p) for p in sorted((ROOT / "solutions").glob("[0-9][0-9]_*.ipynb"))]
    helpers = helpers_stats(ROOT / "helpers")
    found = problems(lessons, helpers)
    if args.json:
        print(json.dumps({"lessons": lessons, "helpers": helpers, "problems": found}, indent=2))
    else:
        print(f"{'lesson':<26}{'code lines':>11}{'longest cell':>14}{'parameters':>12}")
        for s in lessons:
            print(f"{s['lesson']:<26}{s['code_lines']:>11}{s['longest_cell']:>14}{s['parameters']:>12}")
        print(f"helpers: {helpers['lines']} lines in {helpers['modules']} modules; longest "
              f"{helpers['longest_module']} ({helpers['longest_module_lines']}); "
              f"{helpers['long_lines']} lines over {LIMITS['line_length']} characters")
        print("\n".join(["Over the limits:", *found]) if found else "Within every limit.")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
