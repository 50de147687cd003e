"""What the ranking knows, compiled from the graph into arrays once per graph version.

- Findings and their IS_A closure, with each finding's background frequency
  (the share of annotated diseases that have it or something more specific)
  and information content IC = -ln(background).
- Disease-finding annotations (curated `HAS_FINDING` edges; record-derived
  ones are left out) as a sparse matrix of frequencies, with the provenance
  of every entry, and curated exclusions (`EXCLUDES_FINDING`, and
  annotations seen in none of the patients studied).
- A disease that is the same condition as a finding (they share a UMLS CUI or
  their preferred names are equal: DOID:552 pneumonia and HP:0002090 Pneumonia)
  is annotated with that finding at frequency 1, so a patient's phenotype or an
  image label naming the condition counts for the disease.
- Per disease: its prior tier and the earliest onset its annotations allow.
- Disease-gene associations (`ASSOCIATED_WITH` edges from diseases to genes) with their provenance, for the
  genotype's likelihood ratio (`ranking.genotype`).
- Optionally, a knowledge update learned from confirmed diagnoses (`ranking.learned`): its annotations
  join the curated ones, each citing the update, and its confirmed-disease shares join the prior.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from itertools import chain

import numpy as np
from scipy import sparse

from cdss.errors import GraphModelError
from cdss.text import normalize_term
from cdss.types import Concept, Edge, EdgeType, NodeLabel
from kg.records_carry import RECORDS_SOURCE
from kg.store import GraphStore
from ranking.closure import ancestor_closure
from ranking.config import COMMON, DDXPLUS, RARE, RankingConfig
from ranking.disease_facts import onset_years, urgent_diseases
from ranking.learned import LearnedUpdate, mix_log_prior
from ranking.priors import PriorTable

CURATED_EXCLUDED_SOURCES = frozenset({RECORDS_SOURCE})
"""`HAS_FINDING` sources the ranking does not learn from: co-occurrence in records is not curation."""
RARE_PREFIXES = ("OMIM:", "ORPHA:", "DECIPHER:")
IDENTITY = "SAME_CONDITION"
NOT_ASKABLE_KINDS = frozenset({"characterisation"})
"""DDXPlus follow-up questions ("what colour is the rash?") only make sense once the finding itself is known."""
SEX_CODES = {"male": 1, "female": 2}


@dataclass(frozen=True, slots=True)
class EdgeEvidence:
    """One curated edge behind a score, as an answer shows it."""

    type: str
    start: str
    end: str
    source: str
    version: str
    license: str
    frequency: float | None = None
    references: tuple[str, ...] = ()
    predicted_probability: float | None = None
    """Set on a link a model predicted (`ranking.predicted_links`): its probability; None for a curated edge."""

    def to_dict(self) -> dict:
        out = {
            "type": self.type,
            "start": self.start,
            "end": self.end,
            "source": self.source,
            "version": self.version,
            "license": self.license,
            "references": list(self.references[:5]),
        }
        if self.frequency is not None:
            out["frequency"] = round(self.frequency, 4)
        if self.predicted_probability is not None:
            out["predicted"] = {"probability": round(self.predicted_probability, 4), "model": self.version}
        return out


def edge_evidence(edge) -> EdgeEvidence:
    """An edge's provenance and frequency, as an answer cites it."""
    frequency = edge.attributes.get("frequency")
    return EdgeEvidence(
        type=str(edge.type),
        start=edge.start,
        end=edge.end,
        source=edge.provenance.source,
        version=edge.provenance.version,
        license=edge.provenance.license,
        frequency=float(frequency) if isinstance(frequency, int | float) else None,
        references=edge.provenance.references,
    )


def disease_tier(concept: Concept) -> str:
    """Prior tier: a DDXPlus condition; rare (an OMIM, Orphanet or DECIPHER entry, or a term that
    cross-references one); otherwise common (DO or ICD-10-CM only)."""
    if "ddxplus" in concept.sources:
        return DDXPLUS
    if concept.id.startswith(RARE_PREFIXES) or any(x.startswith(RARE_PREFIXES) for x in concept.xrefs):
        return RARE
    return COMMON


@dataclass(slots=True)
class Knowledge:
    graph_version: str
    finding_ids: list[str]
    finding_names: list[str]
    disease_ids: list[str]
    disease_names: list[str]
    ancestors: sparse.csr_matrix
    """findings x findings: ancestor distance + 1 (self included)."""
    descendants: sparse.csr_matrix
    background: np.ndarray
    ic: np.ndarray
    annotations: sparse.csc_matrix
    """diseases x findings: frequency, one column per finding."""
    annotations_by_disease: sparse.csr_matrix
    annotation_sex: sparse.csc_matrix
    """Same shape and order as `annotations`: 0 any sex, 1 male only, 2 female only."""
    exclusions: sparse.csc_matrix
    askable: np.ndarray
    """Per finding: whether it can be suggested as a question to ask next."""
    tiers: list[str]
    priors: PriorTable
    urgent: dict[int, dict[str, str]]
    """Can't-miss diseases (`cdss_curated`): disease index -> why, and the citation."""
    onset_years: np.ndarray
    annotation_edges: dict[tuple[int, int], tuple[EdgeEvidence, ...]]
    exclusion_edges: dict[tuple[int, int], tuple[EdgeEvidence, ...]]
    gene_ids: list[str]
    gene_symbols: list[str]
    gene_diseases: sparse.csc_matrix
    """diseases x genes: 1 where the disease is associated with the gene, one column per gene."""
    genes_per_disease: np.ndarray
    gene_edges: dict[tuple[int, int], tuple[EdgeEvidence, ...]]
    """(disease, gene) -> the association edges behind it."""
    finding_index: dict[str, int] = field(default_factory=dict)
    disease_index: dict[str, int] = field(default_factory=dict)
    gene_index: dict[str, int] = field(default_factory=dict)
    learned: LearnedUpdate | None = None
    """The knowledge update from this deployment's feedback, when one is in use."""
    learned_shares: np.ndarray | None = None

    def __post_init__(self) -> None:
        self.finding_index = {f: i for i, f in enumerate(self.finding_ids)}
        self.disease_index = {d: i for i, d in enumerate(self.disease_ids)}
        self.gene_index = {g: i for i, g in enumerate(self.gene_ids)}
        if self.learned is not None:
            self.learned_shares = self.learned.learned_shares(self.disease_ids)

    @property
    def n_diseases(self) -> int:
        return len(self.disease_ids)

    def log_priors(
        self, config: RankingConfig, *, setting: str = "unknown", age: float | None = None, sex: str | None = None
    ) -> np.ndarray:
        """Normalised log priors for a case's setting, age and sex (see `ranking.priors`), mixed with the
        shares of confirmed diagnoses when a learned update is in use."""
        base = self.priors.log_priors(config, setting, age, sex)
        if self.learned is None or self.learned_shares is None:
            return base
        return mix_log_prior(base, self.learned_shares, self.learned.prior_weight())

    def disease_findings(self, disease: int) -> tuple[np.ndarray, np.ndarray]:
        start, end = self.annotations_by_disease.indptr[disease], self.annotations_by_disease.indptr[disease + 1]
        return self.annotations_by_disease.indices[start:end], self.annotations_by_disease.data[start:end]


def build_knowledge(
    store: GraphStore,
    *,
    default_frequency: float = RankingConfig().default_frequency,
    leave_out: frozenset[tuple[str, str]] = frozenset(),
    learned: LearnedUpdate | None = None,
) -> Knowledge:
    """Compile the store's findings, annotations and exclusions into a `Knowledge`.

    `leave_out` names (disease, finding) annotations to ignore, for experiments on incomplete knowledge;
    `learned` adds the annotations and prior of a knowledge update learned from feedback.
    """
    version = store.graph_version
    if version is None:
        raise GraphModelError("the graph has no version: rebuild it with `cdss kg build`")
    findings, finding_index, ancestors, disease_parents = _finding_hierarchy(store)
    all_diseases = {c.id: c for c in store.iter_nodes(label=NodeLabel.DISEASE)}
    extra = learned.edges() if learned is not None else ()
    gathered = _gather_annotations(
        store, finding_index, default_frequency=default_frequency, leave_out=leave_out, extra=extra
    )
    for (disease, finding), evidence in _same_conditions(all_diseases.values(), findings, version).items():
        key = (disease, finding_index[finding])
        if key not in gathered.annotation_edges:
            gathered.frequencies[key].append(1.0)
        gathered.annotation_edges[key].append(evidence)

    disease_ids = sorted({d for d, _ in gathered.annotation_edges})
    disease_index = {d: i for i, d in enumerate(disease_ids)}
    concepts = {d: all_diseases[d] for d in disease_ids if d in all_diseases}
    annotations, sex_csc, exclusions = _matrices(gathered, disease_index, len(findings))
    has_term = (annotations.astype(bool).astype(np.int32) @ ancestors.astype(bool).astype(np.int32)).astype(bool)
    counts = np.asarray(has_term.sum(axis=0)).ravel()
    background = np.clip(counts / max(len(disease_ids), 1), 0.5 / max(len(disease_ids), 1), 1.0)
    tiers = [disease_tier(concepts[d]) if d in concepts else RARE for d in disease_ids]
    csc = annotations.tocsc()
    csc.sort_indices()
    genes, gene_diseases, gene_edges = _gene_associations(store, disease_index)
    return Knowledge(
        graph_version=version,
        finding_ids=[c.id for c in findings],
        finding_names=[c.name for c in findings],
        disease_ids=disease_ids,
        disease_names=[concepts[d].name if d in concepts else d for d in disease_ids],
        ancestors=ancestors,
        descendants=ancestors.T.tocsr(),
        background=background,
        ic=-np.log(background),
        annotations=csc,
        annotations_by_disease=annotations,
        annotation_sex=sex_csc,
        exclusions=exclusions.tocsc(),
        askable=np.array([c.attributes.get("evidence_kind") not in NOT_ASKABLE_KINDS for c in findings], dtype=bool),
        tiers=tiers,
        priors=PriorTable(disease_ids, all_diseases, disease_parents, tiers),
        urgent=urgent_diseases(disease_ids, concepts),
        onset_years=onset_years(disease_ids, concepts),
        annotation_edges={(disease_index[d], f): tuple(v) for (d, f), v in gathered.annotation_edges.items()},
        exclusion_edges={
            (disease_index[d], f): tuple(v) for (d, f), v in gathered.exclusion_edges.items() if d in disease_index
        },
        gene_ids=[c.id for c in genes],
        gene_symbols=[c.name for c in genes],
        gene_diseases=gene_diseases,
        genes_per_disease=np.asarray(gene_diseases.sum(axis=1)).ravel(),
        gene_edges=gene_edges,
        learned=learned,
    )


def _finding_hierarchy(store: GraphStore):
    """Findings sorted by id, their index, the ancestor closure, and each disease's parents."""
    findings = sorted(store.iter_nodes(label=NodeLabel.FINDING), key=lambda c: c.id)
    finding_index = {c.id: i for i, c in enumerate(findings)}
    parents: list[list[int]] = [[] for _ in findings]
    disease_parents: dict[str, list[str]] = defaultdict(list)
    for edge in store.iter_edges(edge_type=EdgeType.IS_A):
        child, parent = finding_index.get(edge.start), finding_index.get(edge.end)
        if child is not None and parent is not None:
            parents[child].append(parent)
        elif child is None and parent is None:
            disease_parents[edge.start].append(edge.end)
    return findings, finding_index, ancestor_closure(parents), disease_parents


@dataclass
class _Gathered:
    """Per (disease, finding index): the frequencies stated, the sexes, and the edges for and against."""

    frequencies: dict[tuple[str, int], list[float]] = field(default_factory=lambda: defaultdict(list))
    sexes: dict[tuple[str, int], set[int]] = field(default_factory=lambda: defaultdict(set))
    annotation_edges: dict[tuple[str, int], list[EdgeEvidence]] = field(default_factory=lambda: defaultdict(list))
    exclusion_edges: dict[tuple[str, int], list[EdgeEvidence]] = field(default_factory=lambda: defaultdict(list))


def _gather_annotations(
    store: GraphStore,
    finding_index: dict[str, int],
    *,
    default_frequency: float,
    leave_out: frozenset[tuple[str, str]],
    extra: Iterable[Edge] = (),
) -> _Gathered:
    out = _Gathered()
    for edge in chain(store.iter_edges(edge_type=EdgeType.HAS_FINDING), extra):
        finding = finding_index.get(edge.end)
        if finding is None or edge.provenance.source in CURATED_EXCLUDED_SOURCES or (edge.start, edge.end) in leave_out:
            continue
        key = (edge.start, finding)
        frequency = edge.attributes.get("frequency")
        if isinstance(frequency, int | float) and frequency <= 0:
            # Seen in none of the patients studied: as good as a curated exclusion.
            out.exclusion_edges[key].append(edge_evidence(edge))
            continue
        # A statement without a frequency still says the finding is typical: it counts at the default,
        # so a survey's low reason-for-visit share cannot outvote a curated "present" from another source.
        out.frequencies[key].append(float(frequency) if isinstance(frequency, int | float) else default_frequency)
        out.annotation_edges[key].append(edge_evidence(edge))
        sex = edge.attributes.get("sex")
        given = sex if isinstance(sex, list) else [sex] if sex else []
        out.sexes[key].update(SEX_CODES.get(str(s).lower(), 0) for s in given)
    for edge in store.iter_edges(edge_type=EdgeType.EXCLUDES_FINDING):
        finding = finding_index.get(edge.end)
        if finding is not None and not edge.attributes.get("contradicted"):
            out.exclusion_edges[(edge.start, finding)].append(edge_evidence(edge))
    return out


def _gene_associations(store: GraphStore, disease_index: dict[str, int]):
    """The genes sorted by id, diseases x genes as a CSC matrix, and the edges behind each (disease, gene)."""
    genes = sorted(store.iter_nodes(label=NodeLabel.GENE), key=lambda c: c.id)
    gene_index = {c.id: i for i, c in enumerate(genes)}
    edges: dict[tuple[int, int], list[EdgeEvidence]] = defaultdict(list)
    for edge in store.iter_edges(edge_type=EdgeType.ASSOCIATED_WITH, start_label=NodeLabel.DISEASE):
        disease, gene = disease_index.get(edge.start), gene_index.get(edge.end)
        if disease is not None and gene is not None:
            edges[(disease, gene)].append(edge_evidence(edge))
    rows = np.array([d for d, _ in edges], dtype=np.int64)
    columns = np.array([g for _, g in edges], dtype=np.int64)
    matrix = sparse.csc_matrix((np.ones(len(rows)), (rows, columns)), shape=(len(disease_index), len(genes)))
    matrix.sort_indices()
    return genes, matrix, {key: tuple(v) for key, v in edges.items()}


def _matrices(gathered: _Gathered, disease_index: dict[str, int], n_findings: int):
    """diseases x findings: annotation frequencies (CSR), their sex codes (sorted CSC), exclusions (CSR)."""
    keys = sorted(gathered.annotation_edges, key=lambda k: (disease_index[k[0]], k[1]))
    rows = np.array([disease_index[d] for d, _ in keys], dtype=np.int64)
    cols = np.array([f for _, f in keys], dtype=np.int64)
    values = np.array([max(gathered.frequencies[k]) for k in keys])
    sexes = gathered.sexes
    sex_values = np.array([next(iter(sexes[k])) if len(sexes[k]) == 1 else 0 for k in keys], dtype=np.int8)
    shape = (len(disease_index), n_findings)
    annotations = sparse.csr_matrix((values, (rows, cols)), shape=shape)
    # Sex codes ride in a twin matrix, offset by one so that "any sex" is stored too.
    sex_matrix = sparse.csr_matrix((sex_values.astype(np.int16) + 1, (rows, cols)), shape=shape)
    sex_csc = sex_matrix.tocsc()
    sex_csc.sort_indices()
    sex_csc.data = sex_csc.data - 1
    excluded = [(disease_index[d], f) for d, f in gathered.exclusion_edges if d in disease_index]
    exclusions = sparse.csr_matrix(
        (np.ones(len(excluded), dtype=np.int8), ([d for d, _ in excluded], [f for _, f in excluded])), shape=shape
    )
    return annotations, sex_csc, exclusions


def _same_conditions(diseases, findings, graph_version: str) -> dict[tuple[str, str], EdgeEvidence]:
    """(disease, finding) pairs naming one condition: a shared UMLS CUI, else equal preferred names."""
    by_cui: dict[str, list[str]] = defaultdict(list)
    by_name: dict[str, list[str]] = defaultdict(list)
    for finding in findings:
        for xref in finding.xrefs:
            if xref.startswith("UMLS:"):
                by_cui[xref].append(finding.id)
        by_name[normalize_term(finding.name)].append(finding.id)
    pairs: dict[tuple[str, str], EdgeEvidence] = {}
    for disease in diseases:
        reasons: dict[str, str] = {}
        for xref in disease.xrefs:
            for finding in by_cui.get(xref, ()):
                reasons.setdefault(finding, f"both are {xref}")
        for finding in by_name.get(normalize_term(disease.name), ()):
            reasons.setdefault(finding, "same preferred name")
        for finding, reason in reasons.items():
            pairs[(disease.id, finding)] = EdgeEvidence(
                type=IDENTITY,
                start=disease.id,
                end=finding,
                source="cross-references",
                version=graph_version,
                license=f"derived from the sources' own identifiers ({reason})",
            )
    return pairs
