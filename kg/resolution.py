"""Placing a source's link on unified nodes: its endpoints (ids, cross-references or exact names) resolved to
one node of an allowed label, or reported as unmapped, ambiguous or of the wrong label."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass

from cdss.text import normalize_term
from cdss.types import Concept, NodeLabel
from ontologies.model import ByName, ByXref, Endpoint


@dataclass(frozen=True, slots=True)
class Resolution:
    node_id: str | None
    ambiguous: bool = False
    by_name: bool = False
    wrong_label: bool = False
    """The only candidate that named a node named one of a label the edge type does not allow."""


def name_variants(text: str) -> list[str]:
    """Normalised spellings to try for a bare name: as written, MeSH's inverted
    "Arthritis, Rheumatoid" turned round, and the last word without a plural s."""
    variants = [normalize_term(text)]
    parts = [p.strip() for p in text.split(",")]
    if len(parts) == 2 and all(parts):
        variants.append(normalize_term(f"{parts[1]} {parts[0]}"))
    for variant in list(variants):
        words = variant.split()
        if words and len(words[-1]) > 3 and words[-1].endswith("s") and not words[-1].endswith(("ss", "us", "is")):
            variants.append(" ".join([*words[:-1], words[-1][:-1]]))
    return list(dict.fromkeys(variants))


class Resolver:
    """Turns a link's candidate endpoints into node ids."""

    def __init__(self, nodes: Mapping[str, Concept], node_of: Mapping[str, str]) -> None:
        self.nodes = nodes
        self.node_of = node_of
        self.by_xref: dict[str, set[str]] = defaultdict(set)
        for node in nodes.values():
            for xref in node.xrefs:
                self.by_xref[xref].add(node.id)
        self._names: tuple[dict[str, set[str]], dict[str, set[str]]] | None = None

    def _by_name(self, text: str, labels: set[NodeLabel]) -> tuple[str | None, bool]:
        """Names are tried before synonyms; each must point at one node of an allowed label."""
        if self._names is None:
            names: dict[str, set[str]] = defaultdict(set)
            synonyms: dict[str, set[str]] = defaultdict(set)
            for node in self.nodes.values():
                names[normalize_term(node.name)].add(node.id)
                for synonym in node.synonyms:
                    synonyms[normalize_term(synonym)].add(node.id)
            self._names = (names, synonyms)
        # The first spelling that names anything decides: a weaker spelling must not
        # win after a stronger one was ambiguous.
        for index in self._names:
            for variant in name_variants(text):
                matches = {n for n in index.get(variant, ()) if self.nodes[n].label in labels}
                if matches:
                    return (next(iter(matches)), False) if len(matches) == 1 else (None, True)
        return None, False

    def _by_id(self, candidate: str | ByXref, labels: set[NodeLabel] | frozenset[NodeLabel]) -> Resolution:
        """One id or cross-reference: the node it names, or why it names none."""
        if isinstance(candidate, str):
            node_id = self.node_of.get(candidate)
            if node_id is not None:
                if self.nodes[node_id].label in labels:
                    return Resolution(node_id)
                return Resolution(None, wrong_label=True)
        curie = candidate.curie if isinstance(candidate, ByXref) else candidate
        matches = {n for n in self.by_xref.get(curie, ()) if self.nodes[n].label in labels}
        if len(matches) == 1:
            return Resolution(next(iter(matches)))
        return Resolution(None, ambiguous=len(matches) > 1)

    def first_unique(self, candidates: tuple[Endpoint, ...], labels: frozenset[NodeLabel]) -> str | None:
        """The first candidate id or cross-reference that names exactly one node; ambiguous ones are passed over."""
        for candidate in candidates:
            if not isinstance(candidate, ByName):
                found = self._by_id(candidate, labels).node_id
                if found is not None:
                    return found
        return None

    def resolve(self, candidates: tuple[Endpoint, ...], labels: set[NodeLabel]) -> Resolution:
        """Ids and cross-references first, then bare names; an ambiguous id stops the search."""
        ambiguous = wrong_label = False
        for candidate in candidates:
            if isinstance(candidate, ByName):
                continue
            found = self._by_id(candidate, labels)
            if found.node_id is not None:
                return found
            ambiguous = ambiguous or found.ambiguous
            wrong_label = wrong_label or found.wrong_label
        if ambiguous:
            return Resolution(None, ambiguous=True)
        for candidate in candidates:
            if isinstance(candidate, ByName):
                node_id, by_name_ambiguous = self._by_name(candidate.text, labels)
                if node_id is not None:
                    return Resolution(node_id, by_name=True)
                ambiguous = ambiguous or by_name_ambiguous
        return Resolution(None, ambiguous=ambiguous, wrong_label=wrong_label)
