"""Which of our packages import which: the table in the README's layout section, and the rules it must keep.

Reads every module's import statements (top level and inside functions alike, since a deferred import is
still a dependency) and prints one row per package with the packages of ours it imports, then checks:

- `cdss` (the shared leaf: errors, types, settings) imports no other package of ours;
- `ranking` imports neither `nlp` nor `gnn`;
- `nlp`, `ranking`, `gnn` and `imaging` import no `runtime`, `api` or `cli`;
- no import cycle between packages.

    python tools/package_imports.py [--root .]     # exits 1 when a rule is broken
"""

from __future__ import annotations

import argparse
import ast
import sys
from collections import defaultdict
from pathlib import Path

PACKAGES = (
    "cdss",
    "deid",
    "ontologies",
    "kg",
    "nlp",
    "ranking",
    "learning",
    "gnn",
    "imaging",
    "interop",
    "runtime",
    "cluster",
    "api",
    "cli",
)
RULES = (
    ("cdss", set(PACKAGES) - {"cdss"}, "the shared leaf imports no other package of ours"),
    ("deid", set(PACKAGES) - {"cdss"}, "de-identification runs before anything else touches a note"),
    ("ranking", {"nlp", "gnn"}, "ranking reads Case, mentions and link scores, not their producers"),
    ("nlp", {"runtime", "api", "cli"}, "a library does not import the layers that use it"),
    ("ranking", {"runtime", "api", "cli"}, "a library does not import the layers that use it"),
    ("gnn", {"runtime", "api", "cli"}, "a library does not import the layers that use it"),
    ("learning", {"runtime", "api", "cli", "nlp", "gnn"}, "learning reads feedback and ranks; callers load engines"),
    ("imaging", {"runtime", "api", "cli"}, "a library does not import the layers that use it"),
    ("cluster", {"api", "cli"}, "Spark jobs are run by the command line, not the other way round"),
    ("interop", {"runtime", "api", "cli", "gnn"}, "FHIR and CDS Hooks read into a Case; the runtime answers it"),
)


def package_imports(root: Path) -> dict[str, dict[str, set[str]]]:
    """package -> imported package -> the modules of the first that import the second."""
    found: dict[str, dict[str, set[str]]] = {p: defaultdict(set) for p in PACKAGES if (root / p).is_dir()}
    for package in found:
        for path in sorted((root / package).rglob("*.py")):
            module = ".".join(path.relative_to(root).with_suffix("").parts)
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
                names = []
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names = [node.module]
                for name in names:
                    top = name.split(".", 1)[0]
                    if top in found and top != package:
                        found[package][top].add(module)
    return found


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The groups of packages that import each other, directly or round a loop (strongly connected, size > 1)."""
    order, low, on_stack, stack, groups = {}, {}, set(), [], []

    def visit(node: str) -> None:
        order[node] = low[node] = len(order)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in order:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], order[nxt])
        if low[node] == order[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for node in sorted(graph):
        if node not in order:
            visit(node)
    return sorted(groups)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=Path(__file__).resolve().parents[1])
    args = parser.parse_args()
    found = package_imports(args.root)
    print("| package | imports (of ours) |\n|---|---|")
    for package, imported in found.items():
        print(f"| `{package}` | {', '.join(f'`{p}`' for p in sorted(imported)) or '-'} |")
    broken = []
    for package, forbidden, why in RULES:
        for other in sorted(forbidden & set(found.get(package, {}))):
            where = ", ".join(sorted(found[package][other])[:3])
            broken.append(f"{package} imports {other} ({where}): {why}")
    graph = {p: set(imported) for p, imported in found.items()}
    broken += [f"import cycle among {', '.join(c)}" for c in cycles(graph)]
    print()
    holds = "every rule holds: no cycle; the leaf and the libraries import no layer above"
    print("\n".join(broken) if broken else holds)
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main())
