"""Genotype as evidence: the genes a patient's genetic test reports a variant in, each with its ACMG class.

As in LIRICAL (Robinson et al., AJHG 2020), a disease tied to a gene that carries a reported variant gets

    LR = P(a variant reported in the gene | the disease) / P(the same | any other cause)

A test of the disease's gene finds the causal variant in a share s of its patients (`causal_gene_yield`,
split evenly among the disease's genes) and, like anyone's, a rare damaging variant with probability b
(`gene_background`): LR = (s + (1 - s) b) / b = 1 + s (1 - b) / b. A variant that is not pathogenic is as
likely under any cause (LR 1), so with p its probability of being pathogenic from its ACMG class
(`acmg_probabilities`, Tavtigian et al. 2018) the ratio is p x that + (1 - p) = 1 + p s (1 - b) / b.

A disease takes its best reported gene. A disease tied to none keeps LR 1: LIRICAL lowers those only when an
exome was run and found nothing in their genes, which a case does not say. Zygosity and the mode of
inheritance are not read.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from cdss.curies import is_curie, split_curie
from cdss.errors import InputError, NotFoundError
from cdss.json_fields import json_fields
from cdss.types import Concept, NodeLabel
from kg.lookup import gene_named, resolve
from kg.store import GraphStore
from ranking.case import ReportedGene
from ranking.config import RankingConfig
from ranking.knowledge import EdgeEvidence, Knowledge

SYMBOL_PREFIX = "HGNC.SYMBOL"


@dataclass(frozen=True, slots=True)
class ResolvedGene:
    """A reported gene found in the graph: what was given, the gene's id and symbol, and the variant's class."""

    given: str
    id: str
    symbol: str
    acmg: str

    def to_dict(self) -> dict:
        return json_fields(self, rename={"given": "input"})


@dataclass(frozen=True, slots=True)
class GenotypeContribution:
    """Why a diagnosis gained from the genotype: its best reported gene, the variant's class and the edges."""

    gene: str
    symbol: str
    acmg: str
    pathogenic_probability: float
    disease_genes: int
    """How many genes the disease is tied to; the causal yield is shared among them."""
    log_lr: float
    evidence: tuple[EdgeEvidence, ...]

    def to_dict(self) -> dict:
        return json_fields(self, rounded={"log_lr": 4})


def likelihood_ratio(
    pathogenic: float | np.ndarray, share: float | np.ndarray, background: float
) -> float | np.ndarray:
    """LR of a reported variant for a disease whose causal variant a test of this gene finds with probability
    `share`; floats or numpy arrays alike."""
    return 1.0 + pathogenic * share * (1.0 - background) / background


def resolve_genes(store: GraphStore, genes: Sequence[ReportedGene]) -> tuple[list[ResolvedGene], list[str]]:
    """The reported genes the graph knows, and what was given for those it does not (reported back, not
    dropped). A name for several genes, or a CURIE of something else, is an `InputError` naming the item."""
    resolved, unknown = [], []
    for i, reported in enumerate(genes):
        concept = _gene(store, reported.gene, f"genes[{i}]")
        if concept is None:
            unknown.append(reported.gene)
        else:
            resolved.append(ResolvedGene(reported.gene, concept.id, concept.name, reported.acmg))
    return resolved, unknown


def _gene(store: GraphStore, given: str, where: str) -> Concept | None:
    if is_curie(given) and split_curie(given)[0] != SYMBOL_PREFIX:
        try:
            matches = [c for c, _ in resolve(store, given)]
        except NotFoundError:
            return None
        genes = [c for c in matches if c.label == NodeLabel.GENE]
        if not genes:
            raise InputError(f"{where}: {given!r} is a {matches[0].label}, not a gene")
    else:
        genes = gene_named(store, split_curie(given)[1] if is_curie(given) else given)
    if len(genes) > 1:
        raise InputError(f"{where}: {given!r} names several genes ({', '.join(g.id for g in genes[:5])}); use an id")
    return genes[0] if genes else None


def tied(k: Knowledge, genes: Sequence[ResolvedGene]) -> list[ResolvedGene]:
    """The genes tied to at least one disease the ranking knows: the only ones that can change a score."""
    diseases_per_gene = np.diff(k.gene_diseases.indptr)
    return [g for g in genes if g.id in k.gene_index and diseases_per_gene[k.gene_index[g.id]] > 0]


def genotype_log_lr(
    k: Knowledge, config: RankingConfig, genes: Sequence[ResolvedGene]
) -> tuple[np.ndarray, np.ndarray]:
    """Per disease: ln LR of its best reported gene (0 for a disease tied to none), and that gene's position
    in `genes` (-1 for none)."""
    best = np.zeros(k.n_diseases)
    position = np.full(k.n_diseases, -1)
    matrix = k.gene_diseases
    for i, gene in enumerate(genes):
        column = k.gene_index.get(gene.id)
        if column is None:
            continue
        diseases = matrix.indices[matrix.indptr[column] : matrix.indptr[column + 1]]
        share = config.causal_gene_yield / k.genes_per_disease[diseases]
        log_lr = np.log(likelihood_ratio(config.pathogenic_probability(gene.acmg), share, config.gene_background))
        better = log_lr > best[diseases]
        best[diseases[better]] = log_lr[better]
        position[diseases[better]] = i
    return best, position


def explain(
    k: Knowledge, config: RankingConfig, gene: ResolvedGene, disease: int, log_lr: float
) -> GenotypeContribution:
    """The genotype's part in one disease's score, with the disease-gene edges behind it."""
    return GenotypeContribution(
        gene=gene.id,
        symbol=gene.symbol,
        acmg=gene.acmg,
        pathogenic_probability=config.pathogenic_probability(gene.acmg),
        disease_genes=int(k.genes_per_disease[disease]),
        log_lr=log_lr,
        evidence=k.gene_edges.get((disease, k.gene_index[gene.id]), ()),
    )
