"""Treatments and disease neighbourhoods, read from the graph once per graph version.

Small enough to hold in memory (thousands of indication edges), so ranking a
case never waits on the store.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from cdss.types import Concept, Edge, EdgeType, NodeLabel
from kg.store import GraphStore
from ontologies.mappings import mapping_rows
from ranking.knowledge import EdgeEvidence, edge_evidence

INDICATIONS = (EdgeType.TREATS, EdgeType.PALLIATES)
NON_THERAPEUTIC = "non_therapeutic.tsv"
NON_THERAPEUTIC_COLUMNS = ("kind", "value", "role", "note")
CLASS_ATTRIBUTES = ("established_pharmacologic_classes", "mesh_pharmacological_actions")


@dataclass(frozen=True, slots=True, order=True)
class Grade:
    """How strong the evidence for an indication is: its weight in the ranking, and what it is."""

    weight: float
    label: str


GUIDELINE_FIRST = Grade(1.0, "guideline first-line (cdss curated, cited)")
GUIDELINE_ALTERNATIVE = Grade(0.8, "guideline alternative (cdss curated, cited)")
CURATED_MODIFYING = Grade(0.9, "physician-curated, disease-modifying (PharmacotherapyDB)")
CURATED_SYMPTOMATIC = Grade(0.6, "physician-curated, symptomatic (PharmacotherapyDB)")
LABEL_EXPERT = Grade(0.4, "FDA drug label, expert-reviewed (LabeledIn)")
LABEL = Grade(0.3, "drug label indication only")


def grade_of(edge: Edge) -> Grade:
    """The evidence grade one indication edge gives: guidelines and physician curation above labels."""
    source, attributes = edge.provenance.source, edge.attributes
    if source == "cdss_curated":
        return GUIDELINE_FIRST if attributes.get("line") == "first" else GUIDELINE_ALTERNATIVE
    if source == "pharmacotherapydb":
        return CURATED_MODIFYING if attributes.get("category") == "DM" else CURATED_SYMPTOMATIC
    if source == "labeledin" and attributes.get("expert"):
        return LABEL_EXPERT
    return LABEL


@dataclass(frozen=True, slots=True)
class Indication:
    drug: str
    disease: str
    relation: str
    evidence: tuple[EdgeEvidence, ...]
    grade: Grade = LABEL
    """The best grade among the edges behind it."""

    @property
    def curated(self) -> bool:
        return self.grade.weight > LABEL_EXPERT.weight


def non_therapeutic_roles(drugs: Iterable[Concept]) -> dict[str, tuple[str, str]]:
    """Drug id -> (role, why) for diagnostics, vehicles, nutrients and medical gases, by pharmacologic class
    (DrugCentral's FDA and MeSH classes) or by name in our table `mappings/non_therapeutic.tsv`."""
    by_class: dict[str, tuple[str, str]] = {}
    by_drug: dict[str, tuple[str, str]] = {}
    for _, row in mapping_rows(NON_THERAPEUTIC, NON_THERAPEUTIC_COLUMNS):
        target = by_class if row["kind"] == "class" else by_drug
        target[row["value"]] = (row["role"], row["note"])
    roles = {}
    for drug in drugs:
        if drug.id in by_drug:
            roles[drug.id] = by_drug[drug.id]
            continue
        for attribute in CLASS_ATTRIBUTES:
            classes = drug.attributes.get(attribute) or []
            hit = next((c for c in (classes if isinstance(classes, list) else [classes]) if c in by_class), None)
            if hit is not None:
                role, note = by_class[hit]
                roles[drug.id] = (role, f"class {hit}: {note}")
                break
    return roles


@dataclass(slots=True)
class TherapyIndex:
    indications: dict[str, list[Indication]] = field(default_factory=dict)
    """Disease id -> the drugs that treat or palliate it."""
    drugs_of: dict[str, frozenset[str]] = field(default_factory=dict)
    contraindicated: dict[str, dict[str, tuple[EdgeEvidence, ...]]] = field(default_factory=dict)
    """Disease id -> drugs contraindicated in it, with the edges that say so."""
    not_indicated: dict[tuple[str, str], tuple[EdgeEvidence, ...]] = field(default_factory=dict)
    """(drug, disease) pairs a curated source says do not go together as a treatment."""
    parents: dict[str, list[str]] = field(default_factory=dict)
    children: dict[str, list[str]] = field(default_factory=dict)
    hierarchy_source: dict[tuple[str, str], str] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)
    roles: dict[str, tuple[str, str]] = field(default_factory=dict)
    """Drugs that are not treatments of a disease (diagnostics, vehicles, nutrients, medical gases): role, why."""


def build_therapy(store: GraphStore) -> TherapyIndex:
    index = TherapyIndex()
    grouped: dict[tuple[str, str, str], list[EdgeEvidence]] = defaultdict(list)
    grades: dict[tuple[str, str, str], Grade] = {}
    for edge_type in INDICATIONS:
        for edge in store.iter_edges(edge_type=edge_type):
            key = (edge.end, edge.start, str(edge_type))
            grouped[key].append(edge_evidence(edge))
            grades[key] = max(grades.get(key, LABEL), grade_of(edge))
    by_disease: dict[str, list[Indication]] = defaultdict(list)
    for (disease, drug, relation), evidence in sorted(grouped.items()):
        by_disease[disease].append(
            Indication(drug, disease, relation, tuple(evidence), grades[(disease, drug, relation)])
        )
    index.indications = dict(by_disease)
    index.drugs_of = {d: frozenset(i.drug for i in items) for d, items in by_disease.items()}
    contraindicated: dict[str, dict[str, list[EdgeEvidence]]] = defaultdict(lambda: defaultdict(list))
    for edge in store.iter_edges(edge_type=EdgeType.CONTRAINDICATED_FOR):
        contraindicated[edge.end][edge.start].append(edge_evidence(edge))
    index.contraindicated = {d: {k: tuple(v) for k, v in drugs.items()} for d, drugs in contraindicated.items()}
    not_indicated: dict[tuple[str, str], list[EdgeEvidence]] = defaultdict(list)
    for edge in store.iter_edges(edge_type=EdgeType.NOT_INDICATED_FOR):
        not_indicated[(edge.start, edge.end)].append(edge_evidence(edge))
    index.not_indicated = {k: tuple(v) for k, v in not_indicated.items()}
    diseases = {c.id: c.name for c in store.iter_nodes(label=NodeLabel.DISEASE)}
    parents: dict[str, list[str]] = defaultdict(list)
    children: dict[str, list[str]] = defaultdict(list)
    for edge in store.iter_edges(edge_type=EdgeType.IS_A):
        if edge.start in diseases and edge.end in diseases:
            parents[edge.start].append(edge.end)
            children[edge.end].append(edge.start)
            index.hierarchy_source[(edge.start, edge.end)] = edge.provenance.source
    index.parents = {k: sorted(set(v)) for k, v in parents.items()}
    index.children = {k: sorted(set(v)) for k, v in children.items()}
    drugs = {i.drug for items in by_disease.values() for i in items}
    drugs |= {drug for items in index.contraindicated.values() for drug in items}
    drug_nodes = store.get_nodes(sorted(drugs))
    index.names = {**diseases, **{c.id: c.name for c in drug_nodes.values()}}
    index.roles = non_therapeutic_roles(drug_nodes.values())
    return index
