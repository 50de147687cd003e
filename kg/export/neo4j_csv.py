"""CSV files shaped for `neo4j-admin database import full`, plus the exact command.

One node file per label and one relationship file per edge type, each with a
typed header (`id:ID`, `:LABEL`, `name:string[]`...). Bulk import this way is
what makes a first load take seconds instead of hours.
"""

from __future__ import annotations

import csv
import shlex
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from cdss.errors import GraphModelError
from cdss.progress import progress
from cdss.types import Concept, Edge, EdgeType, NodeLabel, PropertyValue
from kg.export.columns import edge_fields, infer_columns, node_fields
from kg.store import GraphStore

ARRAY_DELIMITER_CANDIDATES = ("|", ";", "\u00a6", "\u00a4")
NODE_HEADER = ["id:ID", ":LABEL", "name", "synonyms:string[]", "xrefs:string[]", "sources:string[]"]
EDGE_HEADER = [
    ":START_ID",
    ":END_ID",
    ":TYPE",
    "source",
    "source_version",
    "license",
    "evidence:string[]",
    "references:string[]",
]
IMPORT_SCRIPT = "import.sh"


def _fixed_cells(fields: dict, delimiter: str) -> list:
    return [delimiter.join(v) if isinstance(v, tuple) else v for v in fields.values()]


@dataclass(slots=True)
class CsvExport:
    directory: Path
    files: list[Path]
    command: str
    nodes: int
    edges: int


def _array_values(concepts: Iterable[Concept], edges: Iterable[Edge]) -> Iterator[str]:
    for c in concepts:
        yield from c.synonyms
        yield from c.xrefs
        yield from c.sources
        for v in c.attributes.values():
            if isinstance(v, list):
                yield from (str(x) for x in v)
    for e in edges:
        yield from e.provenance.evidence
        yield from e.provenance.references
        for v in e.attributes.values():
            if isinstance(v, list):
                yield from (str(x) for x in v)


def choose_array_delimiter(values: Iterable[str]) -> str:
    """The first candidate delimiter that no array element contains."""
    remaining = list(ARRAY_DELIMITER_CANDIDATES)
    for value in values:
        remaining = [d for d in remaining if d not in value]
        if not remaining:
            break
    if not remaining:
        raise GraphModelError(
            f"every candidate array delimiter {ARRAY_DELIMITER_CANDIDATES} occurs inside some list value"
        )
    return remaining[0]


def _cell(value: PropertyValue, kind: str, delimiter: str) -> str:
    if value is None:
        return ""
    if kind.endswith("[]"):
        items = value if isinstance(value, list) else [value]
        return delimiter.join(_scalar(v) for v in items)
    return _scalar(value)


def _scalar(value: PropertyValue) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _write_table(
    path: Path,
    header: list[str],
    columns: Mapping[str, str],
    items: Iterable[Concept] | Iterable[Edge],
    fixed: Callable,
    delimiter: str,
    files: list[Path],
) -> int:
    """One node or relationship file: fixed fields, then typed attribute columns; an empty file is removed,
    a written one is added to `files`. Returns the rows written."""
    count = 0
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header + [f"{k}:{kind}" for k, kind in columns.items()])
        for item in items:
            attributes = [_cell(item.attributes.get(k), kind, delimiter) for k, kind in columns.items()]
            writer.writerow(_fixed_cells(fixed(item), delimiter) + attributes)
            count += 1
    if count:
        files.append(path)
    else:
        path.unlink()
    return count


def export_neo4j_csv(store: GraphStore, out: Path, *, show_progress: bool | None = None) -> CsvExport:
    """Write node and relationship CSVs for neo4j-admin into `out`."""
    out.mkdir(parents=True, exist_ok=True)
    labels = sorted(NodeLabel)
    types = sorted(EdgeType)
    node_columns = {label: infer_columns(c.attributes for c in store.iter_nodes(label=label)) for label in labels}
    edge_columns = {t: infer_columns(e.attributes for e in store.iter_edges(edge_type=t)) for t in types}
    delimiter = choose_array_delimiter(_array_values(store.iter_nodes(), store.iter_edges()))

    files: list[Path] = []
    node_total = edge_total = 0
    for label in labels:
        nodes = progress(store.iter_nodes(label=label), desc=f"nodes {label}", enabled=show_progress)
        path = out / f"nodes_{label}.csv"
        node_total += _write_table(path, NODE_HEADER, node_columns[label], nodes, node_fields, delimiter, files)
    for edge_type in types:
        edges = progress(store.iter_edges(edge_type=edge_type), desc=f"edges {edge_type}", enabled=show_progress)
        path = out / f"rels_{edge_type}.csv"
        edge_total += _write_table(path, EDGE_HEADER, edge_columns[edge_type], edges, edge_fields, delimiter, files)

    command = import_command(files, delimiter)
    script = out / IMPORT_SCRIPT
    script.write_text(
        "#!/bin/sh\n"
        "# Load this export into an empty Neo4j 5 database. Run it from this folder with Neo4j stopped.\n"
        "set -e\n"
        f'cd "$(dirname "$0")"\n'
        f"{command}\n",
        encoding="utf-8",
    )
    script.chmod(0o755)
    return CsvExport(directory=out, files=[*files, script], command=command, nodes=node_total, edges=edge_total)


def import_command(files: list[Path], delimiter: str, database: str = "neo4j") -> str:
    """The `neo4j-admin database import full` command line for these files."""
    parts = [
        "neo4j-admin",
        "database",
        "import",
        "full",
        "--overwrite-destination=true",
        f"--array-delimiter={delimiter}",
        "--multiline-fields=true",
        "--ignore-empty-strings=true",
    ]
    parts += [f"--nodes={f.name}" for f in files if f.name.startswith("nodes_")]
    parts += [f"--relationships={f.name}" for f in files if f.name.startswith("rels_")]
    parts.append(database)
    return " ".join(shlex.quote(p) for p in parts)
