"""Concept unification: one node per real-world concept, every identifier kept.

Sources name the same disease, finding or drug with different ids. Merge rules
say which source's concepts may join which other source's concepts, and by
what evidence: a cross-reference that is the other concept's id, a shared
cross-reference, or an identical normalised name. A merge happens only when
the match is one-to-one; anything else is counted as a conflict and left
apart. Every merge records the rule and the evidence that justified it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from cdss.curies import split_curie
from cdss.merge_rules import MergeMethod, MergeRule
from cdss.text import normalize_term
from cdss.types import Concept, NodeLabel


@dataclass(slots=True)
class MergeStats:
    """What unification did with one source's concepts."""

    merged: int = 0
    """Concepts of this source that share a node with a concept of a different id."""
    routes: dict[str, int] = field(default_factory=dict)
    unmapped: int = 0
    conflicting: int = 0
    grouped: int = 0
    conflict_examples: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Grouping:
    """A child concept placed under a grouping concept by a `group_as_is_a` rule."""

    child: str
    parent: str
    rule: MergeRule
    evidence: str


@dataclass(slots=True)
class Unified:
    nodes: dict[str, Concept]
    """Node id -> merged concept."""
    node_of: dict[str, str]
    """Every concept id that any source used -> the node it ended up in."""
    groupings: list[Grouping]
    stats: dict[str, MergeStats]


class _Classes:
    """Union-find over concept ids, remembering which sources each class holds."""

    def __init__(self, contributors: Mapping[str, set[str]]) -> None:
        self.parent = {i: i for i in contributors}
        self.sources = {i: set(s) for i, s in contributors.items()}

    def find(self, item: str) -> str:
        root = item
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[item] != root:
            self.parent[item], item = root, self.parent[item]
        return root

    def union(self, a: str, b: str) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[rb] = ra
            self.sources[ra] |= self.sources.pop(rb)

    def holds(self, item: str, source: str) -> bool:
        return source in self.sources[self.find(item)]


def _prefix(curie: str) -> str:
    return split_curie(curie)[0]


def _xrefs(concept: Concept, prefixes: tuple[str, ...]) -> list[str]:
    return [x for x in concept.xrefs if _prefix(x) in prefixes]


Match = tuple[int, str]
"""(tier, evidence): a lower tier is stronger evidence; a target goes to its strongest claimant."""


def _matches(
    rule: MergeRule,
    concept: Concept,
    targets: dict[str, Concept],
    index: dict[str, set[str]],
    synonyms: dict[str, set[str]],
) -> dict[str, Match]:
    """Target id -> how it matched: a cross-reference (tier 0), or for names: name = name (0),
    name = target synonym (1), synonym = target name (2)."""
    found: dict[str, Match] = {}
    if rule.method is MergeMethod.XREF_IS_ID:
        for xref in _xrefs(concept, rule.prefixes):
            if xref in targets:
                found.setdefault(xref, (0, f"cross-reference {xref}"))
    elif rule.method is MergeMethod.SHARED_XREF:
        for xref in _xrefs(concept, rule.prefixes):
            for target in index.get(xref, ()):
                found.setdefault(target, (0, f"shared {xref}"))
    else:
        name = normalize_term(concept.name)
        for target in index.get(name, ()):
            found.setdefault(target, (0, f"same name {concept.name!r}"))
        for target in synonyms.get(name, ()):
            found.setdefault(target, (1, f"name {concept.name!r} is a synonym there"))
        for synonym in concept.synonyms:
            for target in index.get(normalize_term(synonym), ()):
                found.setdefault(target, (2, f"synonym {synonym!r} is the name there"))
    return found


def _indexes(rule: MergeRule, targets: dict[str, Concept]) -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    index: dict[str, set[str]] = defaultdict(set)
    synonyms: dict[str, set[str]] = defaultdict(set)
    for target_id, concept in targets.items():
        if rule.method is MergeMethod.SHARED_XREF:
            for xref in _xrefs(concept, rule.prefixes):
                index[xref].add(target_id)
        elif rule.method is MergeMethod.SAME_NAME:
            index[normalize_term(concept.name)].add(target_id)
            for synonym in concept.synonyms:
                synonyms[normalize_term(synonym)].add(target_id)
    return index, synonyms


def merge_concepts(first: Concept, other: Concept) -> Concept:
    """Union of names, ids and sources; the first concept's name, label and attribute values win.

    Names that differ only in case or punctuation are kept once.
    """
    seen = {normalize_term(first.name)}
    names = []
    for name in sorted({*first.synonyms, other.name, *other.synonyms}):
        key = normalize_term(name)
        if key not in seen:
            seen.add(key)
            names.append(name)
    attributes = dict(other.attributes)
    attributes.update(first.attributes)
    return Concept(
        id=first.id,
        label=first.label,
        name=first.name,
        synonyms=tuple(names),
        xrefs=tuple(sorted(set(first.xrefs) | set(other.xrefs))),
        sources=tuple(sorted(set(first.sources) | set(other.sources))),
        attributes=attributes,
    )


def _rank(concept_id: str, label: NodeLabel, canonical_prefixes: Mapping[NodeLabel, Sequence[str]]) -> tuple[int, str]:
    order = list(canonical_prefixes.get(label, ()))
    prefix = _prefix(concept_id)
    return (order.index(prefix) if prefix in order else len(order), concept_id)


def unify(
    concepts: Mapping[str, Concept],
    contributors: Mapping[str, set[str]],
    *,
    rules: Sequence[MergeRule],
    canonical_prefixes: Mapping[NodeLabel, Sequence[str]],
    source_order: Iterable[str],
) -> Unified:
    """Apply `rules` in order to concepts already merged by identical id.

    `contributors` says which sources stated each concept id. A class of merged
    concepts becomes one node whose id has the best-ranked prefix for its label.
    """
    classes = _Classes(contributors)
    stats = {name: MergeStats() for name in source_order}
    reasons: dict[str, list[str]] = defaultdict(list)
    groupings: list[Grouping] = []
    considered: dict[str, set[str]] = defaultdict(set)
    targets_of: dict[str, set[str]] = defaultdict(set)
    in_conflict: dict[str, set[str]] = defaultdict(set)
    grouped: dict[str, set[str]] = defaultdict(set)

    for rule in rules:
        sources = sorted(i for i, c in concepts.items() if c.label == rule.label and rule.source in contributors[i])
        targets = {i: c for i, c in concepts.items() if c.label == rule.label and rule.target in contributors[i]}
        index, synonyms = _indexes(rule, targets)
        targets_of[rule.source].add(rule.target)
        summary = stats.setdefault(rule.source, MergeStats())
        considered[rule.source].update(sources)
        found, root_of, claims = _claims(rule, sources, concepts, targets, index, synonyms, classes)

        def winners(root: str, claims: dict[str, dict[str, int]] = claims) -> set[str]:
            best = min(claims[root].values())
            return {a for a, tier in claims[root].items() if tier == best}

        for concept_id, groups in found.items():
            # One-to-one is judged per target vocabulary: a DO term citing one OMIM and one
            # ORPHA entry names the same disease three times, which is a merge, not a conflict.
            for group in groups:
                by_root: dict[str, tuple[str, str]] = {}
                for target, why in sorted(group.items()):
                    by_root.setdefault(root_of[target], (target, why))
                exclusive = {root: hit for root, hit in by_root.items() if winners(root) == {concept_id}}
                if len(by_root) == 1 and exclusive:
                    [(target, why)] = exclusive.values()
                    taken = classes.find(target) != classes.find(concept_id) and classes.holds(target, rule.source)
                    if not taken:
                        classes.union(concept_id, target)
                        reasons[concept_id].append(f"{concept_id} = {target} by {why} ({rule.route})")
                        reasons[target].append(f"{concept_id} = {target} by {why} ({rule.route})")
                        summary.routes[rule.route] = summary.routes.get(rule.route, 0) + 1
                        continue
                elif len(by_root) > 1 and rule.group_as_is_a and exclusive:
                    for target, why in sorted(exclusive.values()):
                        groupings.append(Grouping(child=target, parent=concept_id, rule=rule, evidence=why))
                    grouped[rule.source].add(concept_id)
                    continue
                elif len(by_root) == 1 and concept_id not in winners(next(iter(by_root))):
                    continue  # a stronger claimant won this target; not a conflict
                in_conflict[rule.source].add(concept_id)
                rivals = sorted({a for root in by_root for a in winners(root)} | {concept_id})
                example = f"{', '.join(rivals)} all match {', '.join(sorted(t for t, _ in by_root.values()))}"
                if len(summary.conflict_examples) < 5 and example not in summary.conflict_examples:
                    summary.conflict_examples.append(example)

    nodes, node_of = _nodes(concepts, contributors, classes, reasons, stats, canonical_prefixes)
    for source, ids in considered.items():
        unmerged = {i for i in ids if not any(classes.holds(i, t) for t in targets_of[source])}
        stats[source].conflicting = len(in_conflict[source] & unmerged)
        stats[source].grouped = len(grouped[source])
        stats[source].unmapped = len(unmerged - in_conflict[source] - grouped[source])
    return Unified(nodes=nodes, node_of=node_of, groupings=groupings, stats=stats)


def _claims(rule, sources, concepts, targets, index, synonyms, classes):
    """Which targets each source concept claims under one rule: per target vocabulary, its strongest matches.

    A claim is on a class of targets, not on one id (two ids may already be one node), and only at the
    claimant's strongest tier: a weaker match it will never use must not block another concept.
    """
    found: dict[str, list[dict[str, str]]] = {}
    root_of: dict[str, str] = {}
    claims: dict[str, dict[str, int]] = defaultdict(dict)
    for concept_id in sources:
        if classes.holds(concept_id, rule.target):
            continue
        matches = {
            t: match
            for t, match in _matches(rule, concepts[concept_id], targets, index, synonyms).items()
            if not classes.holds(t, rule.source)
        }
        by_vocabulary: dict[str, dict[str, Match]] = defaultdict(dict)
        for target, match in matches.items():
            by_vocabulary[_prefix(target)][target] = match
        groups = []
        for group in by_vocabulary.values():
            best = min(tier for tier, _ in group.values())
            strongest = {t: why for t, (tier, why) in group.items() if tier == best}
            groups.append(strongest)
            for target in strongest:
                root = root_of.setdefault(target, classes.find(target))
                claims[root][concept_id] = best
        if groups:
            found[concept_id] = groups
    return found, root_of, claims


def _nodes(concepts, contributors, classes, reasons, stats, canonical_prefixes):
    """One node per class of merged concepts, under the best-ranked id, with the merged ids and reasons."""
    members: dict[str, list[str]] = defaultdict(list)
    for concept_id in concepts:
        members[classes.find(concept_id)].append(concept_id)
    nodes: dict[str, Concept] = {}
    node_of: dict[str, str] = {}
    for group in members.values():
        label = concepts[group[0]].label
        ordered = sorted(group, key=lambda i: _rank(i, label, canonical_prefixes))
        merged = concepts[ordered[0]]
        for other in ordered[1:]:
            merged = merge_concepts(merged, concepts[other])
        if len(ordered) > 1:
            attributes = dict(merged.attributes)
            attributes["merged_ids"] = ordered[1:]
            attributes["merge_reasons"] = sorted({r for i in ordered for r in reasons[i]})
            merged = Concept(
                id=merged.id,
                label=merged.label,
                name=merged.name,
                synonyms=merged.synonyms,
                xrefs=tuple(sorted((set(merged.xrefs) | set(ordered[1:])) - {merged.id})),
                sources=merged.sources,
                attributes=attributes,
            )
        nodes[merged.id] = merged
        for concept_id in group:
            node_of[concept_id] = merged.id
        if len(group) > 1:
            for concept_id in group:
                for source in contributors[concept_id]:
                    if source in stats:
                        stats[source].merged += 1
    return nodes, node_of
