#!/usr/bin/env python3
"""The house's rules that no linter checks, run by `make test`:

- no module in traded_app/ over 600 lines, and no function over 80 lines unless its docstring
  says why (a line starting "Long because");
- imports at module top (traded_app/, tests/, bench/): an import inside a function only where
  it breaks a real import cycle, with a comment naming the cycle (the word "cycle") on the line
  above or on the import's own line.

Migrations are history and are left as they were written."""

from __future__ import annotations

import ast
import io
import sys
import tokenize
from collections.abc import Iterator
from pathlib import Path

HOUSE = Path(__file__).resolve().parent.parent
ROOT = HOUSE / "traded_app"
IMPORT_ROOTS = [ROOT, HOUSE / "tests", HOUSE / "bench"]
MAX_MODULE_LINES = 600
MAX_FUNCTION_LINES = 80
REASON = "Long because"
CYCLE = "cycle"


def python_files(root: Path) -> Iterator[Path]:
    for path in sorted(root.rglob("*.py")):
        if "migrations" not in path.parts:
            yield path


def size_problems(name: Path, text: str, tree: ast.Module) -> list[str]:
    found = []
    lines = text.count("\n") + 1
    if lines > MAX_MODULE_LINES:
        found.append(f"{name}: {lines} lines (at most {MAX_MODULE_LINES})")
    for node in ast.walk(tree):
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


def comments_by_line(text: str) -> dict[int, str]:
    """The comment on each line, by line number."""
    comments = {}
    for token in tokenize.generate_tokens(io.StringIO(text).readline):
        if token.type == tokenize.COMMENT:
            comments[token.start[0]] = token.string
    return comments


def import_problems(name: Path, text: str, tree: ast.Module) -> list[str]:
    inside = {
        node
        for function in ast.walk(tree)
        if isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef)
        for node in ast.walk(function)
        if isinstance(node, ast.Import | ast.ImportFrom)
    }
    if not inside:
        return []
    lines = text.splitlines()
    comments = comments_by_line(text)
    found = []
    for node in sorted(inside, key=lambda n: n.lineno):
        above = node.lineno - 1
        reasons = [comments.get(node.lineno, "")]
        if above >= 1 and lines[above - 1].lstrip().startswith("#"):
            reasons.append(comments.get(above, ""))
        if any(CYCLE in reason.lower() for reason in reasons):
            continue
        found.append(
            f"{name}:{node.lineno} import inside a function: move it to the module top, or, "
            f'where it breaks a real import cycle, say which in a comment ("# inside: … {CYCLE}")'
        )
    return found


def problems() -> list[str]:
    found = []
    for path in python_files(ROOT):
        text = path.read_text(encoding="utf-8")
        found += size_problems(path.relative_to(HOUSE), text, ast.parse(text))
    for root in IMPORT_ROOTS:
        for path in python_files(root):
            text = path.read_text(encoding="utf-8")
            found += import_problems(path.relative_to(HOUSE), text, ast.parse(text))
    return found


if __name__ == "__main__":
    report = problems()
    for line in report:
        print(line, file=sys.stderr)
    sys.exit(1 if report else 0)
