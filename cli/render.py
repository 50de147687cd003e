"""Plain-text rendering of graph stats and nodes for the terminal."""

from __future__ import annotations

import textwrap
from itertools import groupby
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cdss.types import Edge
    from kg.lookup import NodeView
    from kg.store import GraphStats


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{k} {v:,}" for k, v in sorted(counts.items()))


def render_stats(stats: GraphStats) -> str:
    lines = [f"graph version {stats.graph_version or '(none)'}  built {stats.built_at or '(unknown)'}"]
    lines.append(f"nodes {stats.node_count:,}")
    lines += [f"  {label:<20} {count:>9,}" for label, count in sorted(stats.nodes_by_label.items())]
    lines.append(f"edges {stats.edge_count:,}")
    for edge_type, count in sorted(stats.edges_by_type.items()):
        extra = f"  ({stats.has_finding_with_frequency:,} with a frequency)" if edge_type == "HAS_FINDING" else ""
        lines.append(f"  {edge_type:<20} {count:>9,}{extra}")
    lines.append("sources")
    described = {s["name"]: s for s in stats.sources}
    for name in sorted(set(stats.nodes_by_source) | set(stats.edges_by_source) | set(described)):
        info = described.get(name, {})
        lines.append(f"  {name} {info.get('version', '')}  [{info.get('license', 'licence unknown')}]")
        if name in stats.nodes_by_source:
            lines.append(f"      nodes: {_counts(stats.nodes_by_source[name])}")
        if name in stats.edges_by_source:
            lines.append(f"      edges: {_counts(stats.edges_by_source[name])}")
        for note in info.get("notes", []):
            lines.append(f"      note: {note}")
    return "\n".join(lines)


def render_merge_report(stats: GraphStats) -> str:
    """Per source: how its concepts unified with the others', and what was left apart."""
    header = (
        f"{'source':<18} {'concepts':>8} {'merged':>7} {'unmapped':>8} {'conflict':>8} {'grouped':>7} "
        f"{'edges':>7} {'links dropped':>13} {'by name':>7}"
    )
    lines = [header, "-" * len(header)]
    for s in stats.sources:
        dropped = s.get("links_unmapped", 0) + s.get("links_ambiguous", 0)
        lines.append(
            f"{s['name']:<18} {s.get('concepts', 0):>8,} {s.get('merged', 0):>7,} {s.get('unmapped', 0):>8,} "
            f"{s.get('conflicting', 0):>8,} {s.get('grouped', 0):>7,} {s.get('edges', 0):>7,} {dropped:>13,} "
            f"{s.get('links_by_name', 0):>7,}"
        )
    lines.append("")
    lines.append("merged: concepts joined with another source's; unmapped: considered by a merge rule, no match;")
    lines.append("conflict: the match was not one-to-one, so nothing was merged; grouped: one term citing several")
    lines.append("entries of another vocabulary, which became its IS_A children.")
    for s in stats.sources:
        if s.get("merge_routes") or s.get("conflict_examples"):
            lines.append(f"\n{s['name']}")
            for route, count in s.get("merge_routes", {}).items():
                lines.append(f"  {count:>6,}  {route}")
            for example in s.get("conflict_examples", []):
                lines.append(f"  conflict: {example}")
    for s in stats.sources:
        if s.get("details"):
            lines.append(f"\n{s['name']}: what it contributed")
            for note in s.get("notes", []):
                lines.append(textwrap.fill(note, width=110, initial_indent="  ", subsequent_indent="    "))
            for key, value in s["details"].items():
                if isinstance(value, list):
                    lines.append(f"  {key}:")
                    lines.extend(f"    {item}" for item in value)
                elif isinstance(value, float):
                    lines.append(f"  {key}: {value:.1%}")
                else:
                    lines.append(f"  {key}: {value:,}" if isinstance(value, int) else f"  {key}: {value}")
    return "\n".join(lines)


def _edge_detail(edge: Edge) -> str:
    a = edge.attributes
    parts = []
    if a.get("frequency") is not None:
        counts = f" ({a['frequency_n']}/{a['frequency_m']})" if "frequency_n" in a else ""
        interval = a.get("frequency_ci95")
        ci = f" 95% CI {interval[0]:.2f}-{interval[1]:.2f}" if isinstance(interval, list) and len(interval) == 2 else ""
        parts.append(f"freq {a['frequency']:.2f}{counts}{ci}")
    if a.get("setting"):
        parts.append(f"setting {a['setting']}")
    if a.get("onset_names"):
        parts.append("onset " + ", ".join(a["onset_names"]))
    p = edge.provenance
    evidence = f"; evidence {','.join(p.evidence)}" if p.evidence else ""
    refs = f"; refs {', '.join(p.references[:3])}{'…' if len(p.references) > 3 else ''}" if p.references else ""
    parts.append(f"[{p.source} {p.version}; {p.license}{evidence}{refs}]")
    return "  ".join(parts)


def _most_frequent_first(edge: Edge) -> tuple:
    frequency = edge.attributes.get("frequency")
    return (-frequency if isinstance(frequency, int | float) else 1.0, edge.start, edge.end, edge.provenance.source)


def render_node(view: NodeView, *, limit: int) -> str:
    c = view.concept
    lines = [f"{c.id}  {c.name}  [{c.label}]"]
    if view.matched_xref:
        lines.append(f"  found through its cross-reference {view.matched_xref}")
    if c.synonyms:
        lines.append(
            textwrap.fill(
                "synonyms: " + "; ".join(c.synonyms), width=110, initial_indent="  ", subsequent_indent="    "
            )
        )
    if c.xrefs:
        lines.append(
            textwrap.fill("xrefs: " + ", ".join(c.xrefs), width=110, initial_indent="  ", subsequent_indent="    ")
        )
    lines.append(f"  sources: {', '.join(c.sources)}")
    for key, value in sorted(c.attributes.items()):
        text = ", ".join(map(str, value)) if isinstance(value, list) else str(value)
        lines.append("  " + textwrap.shorten(f"{key}: {text}", width=160, placeholder=" …"))
    if "visit_share_ed" in c.attributes:
        a = c.attributes
        lines.append(
            f"  prior: {a['visit_share_ed']:.3%} of emergency visits with a complaint (n={a['visit_n_ed']}), "
            f"{a['visit_share_office']:.3%} of office visits (n={a['visit_n_office']}); by age band and sex: --json"
        )
    for direction, edges, arrow, other in (
        ("outgoing", view.outgoing, "->", lambda e: e.end),
        ("incoming", view.incoming, "<-", lambda e: e.start),
    ):
        for edge_type, group in groupby(edges, key=lambda e: e.type):
            items = sorted(group, key=_most_frequent_first)
            lines.append(f"{edge_type} {arrow} ({direction}, {len(items):,})")
            for edge in items[:limit]:
                neighbour = view.neighbours.get(other(edge))
                name = neighbour.name if neighbour else "?"
                lines.append(f"  {other(edge)}  {name}  {_edge_detail(edge)}")
            if len(items) > limit:
                lines.append(f"  … and {len(items) - limit:,} more (--limit, or --json for all)")
    return "\n".join(lines)
