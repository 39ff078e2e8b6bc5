#!/usr/bin/env python3
"""The house's size rules, checked by `make test`: no module in traded_app/ over 600 lines, and
no function over 80 lines unless its docstring says why (a line starting "Long because").

Migrations are history and are left as they were written."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent / "traded_app"
MAX_MODULE_LINES = 600
MAX_FUNCTION_LINES = 80
REASON = "Long because"


def problems() -> list[str]:
    found = []
    for path in sorted(ROOT.rglob("*.py")):
        if "migrations" in path.parts:
            continue
        text = path.read_text(encoding="utf-8")
        name = path.relative_to(ROOT.parent)
        lines = text.count("\n") + 1
        if lines > MAX_MODULE_LINES:
            found.append(f"{name}: {lines} lines (at most {MAX_MODULE_LINES})")
        for node in ast.walk(ast.parse(text)):
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            length = (node.end_lineno or node.lineno) - node.lineno + 1
            if length <= MAX_FUNCTION_LINES:
                continue
            if REASON in (ast.get_docstring(node) or ""):
                continue
            found.append(
                f"{name}:{node.lineno} {node.name}() is {length} lines (at most "
                f'{MAX_FUNCTION_LINES}, or a docstring line "{REASON} …")'
            )
    return found


if __name__ == "__main__":
    report = problems()
    for line in report:
        print(line, file=sys.stderr)
    sys.exit(1 if report else 0)
