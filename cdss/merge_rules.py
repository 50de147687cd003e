"""Merge rules: the contract between the sources that declare them and the graph builder that applies them."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from cdss.types import NodeLabel


class MergeMethod(StrEnum):
    XREF_IS_ID = "xref_is_id"
    """The source concept lists the target concept's id among its cross-references."""
    SHARED_XREF = "shared_xref"
    """Both concepts list the same cross-reference."""
    SAME_NAME = "same_name"
    """The source concept's name equals the target's name or a synonym (or a source
    synonym equals the target's name), after normalisation."""


@dataclass(frozen=True, slots=True, kw_only=True)
class MergeRule:
    """Concepts of `label` from `source` may join concepts from `target`, by `method`."""

    label: NodeLabel
    source: str
    target: str
    method: MergeMethod
    prefixes: tuple[str, ...] = ()
    """For the cross-reference methods: which vocabularies count."""
    group_as_is_a: bool = False
    """When one source concept matches several targets that nobody else claims,
    make the targets its children (`IS_A`) instead of calling it a conflict."""

    @property
    def route(self) -> str:
        via = f" {'/'.join(self.prefixes)}" if self.prefixes else ""
        return f"{self.source} -> {self.target}: {self.method}{via}"
