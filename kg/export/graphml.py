"""GraphML, for Gephi, Cytoscape, yEd and networkx.

GraphML has no list type, so list properties are written as JSON strings.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

from cdss.progress import progress
from cdss.types import PropertyValue
from kg.export.columns import edge_fields, infer_columns, node_fields
from kg.store import GraphStore

_GRAPHML_TYPES = {"boolean": "boolean", "long": "long", "double": "double", "string": "string"}
_NODE_FIELDS = {"label": "string", "name": "string", "synonyms": "string", "xrefs": "string", "sources": "string"}
_EDGE_FIELDS = {
    "type": "string",
    "source": "string",
    "source_version": "string",
    "license": "string",
    "evidence": "string",
    "references": "string",
}


def _graphml_type(kind: str) -> str:
    return "string" if kind.endswith("[]") else _GRAPHML_TYPES[kind]


# Characters XML 1.0 does not allow in text, even escaped.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _text(value: PropertyValue | tuple) -> str:
    if isinstance(value, (list, tuple)):
        text = json.dumps(list(value), ensure_ascii=False)
    elif isinstance(value, bool):
        text = "true" if value else "false"
    else:
        text = str(value)
    return _NOT_XML.sub("", text)


def _data(key: str, value: PropertyValue | tuple) -> str:
    return f"<data key={quoteattr(key)}>{escape(_text(value))}</data>"


def export_graphml(store: GraphStore, path: Path, *, show_progress: bool | None = None) -> tuple[int, int]:
    """Write the whole graph to one GraphML file; returns (nodes, edges)."""
    node_keys = {
        **_NODE_FIELDS,
        **{f"attr.{k}": _graphml_type(v) for k, v in infer_columns(c.attributes for c in store.iter_nodes()).items()},
    }
    edge_keys = {
        **_EDGE_FIELDS,
        **{f"attr.{k}": _graphml_type(v) for k, v in infer_columns(e.attributes for e in store.iter_edges()).items()},
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    nodes = edges = 0
    with path.open("w", encoding="utf-8") as out:
        out.write('<?xml version="1.0" encoding="UTF-8"?>\n')
        out.write('<graphml xmlns="http://graphml.graphdrawing.org/xmlns">\n')
        for name, kind in node_keys.items():
            out.write(
                f'  <key id={quoteattr("n." + name)} for="node" attr.name={quoteattr(name)} attr.type="{kind}"/>\n'
            )
        for name, kind in edge_keys.items():
            out.write(
                f'  <key id={quoteattr("e." + name)} for="edge" attr.name={quoteattr(name)} attr.type="{kind}"/>\n'
            )
        version = store.graph_version or "unbuilt"
        out.write(f'  <graph id={quoteattr("cdss-" + version)} edgedefault="directed">\n')
        for c in progress(store.iter_nodes(), desc="graphml nodes", enabled=show_progress):
            fields = node_fields(c)
            del fields["id"]
            fields.update({f"attr.{k}": v for k, v in c.attributes.items() if v is not None})
            body = "".join(_data("n." + k, v) for k, v in fields.items())
            out.write(f"    <node id={quoteattr(c.id)}>{body}</node>\n")
            nodes += 1
        for e in progress(store.iter_edges(), desc="graphml edges", enabled=show_progress):
            fields = edge_fields(e)
            del fields["start"], fields["end"]
            fields.update({f"attr.{k}": v for k, v in e.attributes.items() if v is not None})
            body = "".join(_data("e." + k, v) for k, v in fields.items())
            out.write(f"    <edge source={quoteattr(e.start)} target={quoteattr(e.end)}>{body}</edge>\n")
            edges += 1
        out.write("  </graph>\n</graphml>\n")
    return nodes, edges
