"""The graph version: a content hash of the nodes and edges, nothing else.

Build time, file paths and insertion order do not enter it, so two builds from
the same source releases give the same version in any store.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable

from cdss.types import Concept, Edge

VERSION_LENGTH = 16


def canonical_json(value: object) -> str:
    """One byte-exact JSON spelling per value: sorted keys, no spaces, UTF-8."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def graph_version(nodes: Iterable[Concept], edges: Iterable[Edge]) -> str:
    """Hash nodes (sorted by id) and edges (sorted by key); callers pass them in that order."""
    digest = hashlib.sha256()
    for node in nodes:
        digest.update(canonical_json(node.to_dict()).encode())
        digest.update(b"\n")
    digest.update(b"\x00edges\x00")
    for edge in edges:
        digest.update(canonical_json(edge.to_dict()).encode())
        digest.update(b"\n")
    return digest.hexdigest()[:VERSION_LENGTH]
