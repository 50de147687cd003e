"""Modules over 400 lines and functions over 80, beside the one-line reason where one is allowed to stay.

python tools/code_size.py [--root .]     # exits 1 when a module or function is too long without a reason
"""

from __future__ import annotations

import argparse
import ast
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from package_imports import PACKAGES

MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 80
REASONS = {
    "ontologies/registry.py": "the table of every source (files, checksums, licences, merge rules): data",
}


def oversized(root: Path) -> list[tuple[str, int, str | None]]:
    """(place, lines, the reason it may stay or None) for every module and function over its limit."""
    out = []
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            relative = path.relative_to(root).as_posix()
            source = path.read_text(encoding="utf-8")
            lines = source.count("\n")
            if lines > MAX_MODULE_LINES:
                out.append((relative, lines, REASONS.get(relative)))
            for node in ast.walk(ast.parse(source, relative)):
                if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                    length = node.end_lineno - node.lineno + 1
                    if length > MAX_FUNCTION_LINES:
                        place = f"{relative}:{node.name}"
                        out.append((place, length, REASONS.get(place)))
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=Path(__file__).resolve().parents[1])
    args = parser.parse_args()
    found = oversized(args.root)
    for place, lines, reason in found:
        print(f"{place}: {lines} lines; {reason or 'NO REASON: split it, or say why it stays'}")
    if not found:
        print(f"no module over {MAX_MODULE_LINES} lines and no function over {MAX_FUNCTION_LINES}")
    return 1 if any(reason is None for _, _, reason in found) else 0


if __name__ == "__main__":
    sys.exit(main())
