"""HPO's gene annotations: the genes of its annotated diseases, and of the phenotypes those diseases show.

`genes_to_phenotype.txt` lists each disease's own phenotype annotations together with the gene HPO ties the
disease to (OMIM's and Orphanet's disease-gene links); `phenotype_to_genes.txt` states the same disease-gene
pairs again for every ancestor of each annotated term. Genes become `Gene` nodes (`NCBIGene:<id>`, named by
their HGNC symbol). Disease `ASSOCIATED_WITH` Gene edges come from the disease ids of both files. Finding
`ASSOCIATED_WITH` Gene edges come from the direct annotations of `genes_to_phenotype.txt` only: the propagated
file would add about a million edges that the `IS_A` hierarchy already implies. Each finding edge lists the
graph diseases behind it (`diseases`), so a learner can drop the edges that only a held-out disease supports.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass, field, replace
from itertools import takewhile
from pathlib import Path

from cdss.curies import normalize_curie
from cdss.errors import InvalidCurieError, SourceParseError
from cdss.types import Concept, EdgeType, NodeLabel
from ontologies.files import text_lines, tsv_rows
from ontologies.hpo import release_from_obo
from ontologies.model import Derived, GraphLookup, Link, SourceData, SourceRelease
from ontologies.obo import parse_obo_lines

SOURCE = "hpo_genes"
GENES_TO_PHENOTYPE = ("ncbi_gene_id", "gene_symbol", "hpo_id", "hpo_name", "frequency", "disease_id")
PHENOTYPE_TO_GENES = ("hpo_id", "hpo_name", "ncbi_gene_id", "gene_symbol", "disease_id")
NO_SYMBOL = "-"
DISEASE_EVIDENCE = "disease-gene association (OMIM, Orphanet) as HPO annotates it"
FINDING_EVIDENCE = "direct HPO annotation of a disease associated with the gene"
DISEASE = frozenset({NodeLabel.DISEASE})
FINDING = frozenset({NodeLabel.FINDING})


def release_from_obo_header(obo_path: Path) -> SourceRelease:
    """The HPO release the gene files belong to, from hp.obo's header alone (the gene files name none)."""
    with closing(text_lines(obo_path, source=SOURCE)) as lines:
        doc = parse_obo_lines(takewhile(lambda line: not line.startswith("["), lines), obo_path)
    return replace(release_from_obo(doc), name=SOURCE)


@dataclass(slots=True)
class _Annotations:
    """What the two files say, gathered by gene, disease-gene pair and term-gene pair."""

    symbols: dict[str, str] = field(default_factory=dict)
    """Gene id -> HGNC symbol ("" where the file gives none)."""
    disease_genes: dict[tuple[str, str], int] = field(default_factory=lambda: defaultdict(int))
    """(disease, gene) -> how many rows of genes_to_phenotype.txt state the pair (the disease's direct
    annotations, inheritance included; 0 when only phenotype_to_genes.txt does)."""
    term_genes: dict[tuple[str, str], set[str]] = field(default_factory=lambda: defaultdict(set))
    """(HPO term, gene) -> the diseases whose direct annotations tie them."""


def _rows(path: Path, columns: tuple[str, ...]) -> Iterator[tuple[int, dict[str, str]]]:
    """The rows of a gene file under its exact header; a malformed row names its line."""
    header_seen = False
    for lineno, fields in tsv_rows(path, source=SOURCE):
        if not header_seen:
            if tuple(fields) != columns:
                raise SourceParseError(path, lineno, f"expected the header columns {' | '.join(columns)}")
            header_seen = True
            continue
        if len(fields) != len(columns):
            raise SourceParseError(path, lineno, f"expected {len(columns)} tab-separated columns, found {len(fields)}")
        yield lineno, dict(zip(columns, fields, strict=True))
    if not header_seen:
        raise SourceParseError(path, None, "empty file: expected a header row")


def _gene(row: dict[str, str], genes: _Annotations, path: Path, line: int) -> str:
    """The row's gene id, its symbol recorded; one id must keep one symbol."""
    raw_id, symbol = row["ncbi_gene_id"], row["gene_symbol"]
    if not raw_id.isdigit():
        raise SourceParseError(path, line, f"ncbi_gene_id {raw_id!r} is not an NCBI Gene id")
    if not symbol or any(ch.isspace() for ch in symbol):
        raise SourceParseError(path, line, f"gene_symbol {symbol!r} is not a gene symbol")
    gene = f"NCBIGene:{raw_id}"
    symbol = "" if symbol == NO_SYMBOL else symbol
    known = genes.symbols.setdefault(gene, symbol)
    if known != symbol:
        raise SourceParseError(path, line, f"{gene} is {symbol!r} here but {known!r} on an earlier row")
    return gene


def _curie(value: str, column: str, path: Path, line: int) -> str:
    try:
        return normalize_curie(value)
    except InvalidCurieError as exc:
        raise SourceParseError(path, line, f"{column}: {exc}") from None


def _read(genes_to_phenotype: Path, phenotype_to_genes: Path) -> _Annotations:
    out = _Annotations()
    for line, row in _rows(genes_to_phenotype, GENES_TO_PHENOTYPE):
        gene = _gene(row, out, genes_to_phenotype, line)
        disease = _curie(row["disease_id"], "disease_id", genes_to_phenotype, line)
        term = _curie(row["hpo_id"], "hpo_id", genes_to_phenotype, line)
        out.disease_genes[(disease, gene)] += 1
        out.term_genes[(term, gene)].add(disease)
    for line, row in _rows(phenotype_to_genes, PHENOTYPE_TO_GENES):
        gene = _gene(row, out, phenotype_to_genes, line)
        disease = _curie(row["disease_id"], "disease_id", phenotype_to_genes, line)
        out.disease_genes.setdefault((disease, gene), 0)
    return out


def load_hpo_genes(genes_to_phenotype: Path, phenotype_to_genes: Path, release: SourceRelease) -> SourceData:
    """Gene nodes and their disease edges; the finding edges are derived once diseases are unified."""
    read = _read(genes_to_phenotype, phenotype_to_genes)
    data = SourceData(release=release)
    for gene, symbol in sorted(read.symbols.items()):
        xrefs = (f"HGNC.SYMBOL:{symbol}",) if symbol else ()
        data.concepts.append(
            Concept(id=gene, label=NodeLabel.GENE, name=symbol or gene, xrefs=xrefs, sources=(SOURCE,))
        )
    for (disease, gene), count in sorted(read.disease_genes.items()):
        provenance = release.provenance(evidence=(DISEASE_EVIDENCE,), references=(disease,))
        data.links.append(
            Link.between(EdgeType.ASSOCIATED_WITH, disease, gene, provenance, {"phenotype_annotations": count})
        )
    unnamed = sum(1 for symbol in read.symbols.values() if not symbol)
    if unnamed:
        data.notes.append(f"{unnamed} genes have no symbol in the files and are named by their NCBI Gene id")

    def derive(lookup: GraphLookup) -> Derived:
        return _finding_links(read.term_genes, lookup, release)

    data.derive = derive
    return data


def _finding_links(term_genes: dict[tuple[str, str], set[str]], lookup: GraphLookup, release: SourceRelease) -> Derived:
    """Finding -> gene links over the unified graph: each lists the graph diseases behind it (a disease id
    that names no node is listed as the file states it)."""
    derived = Derived()
    findings: dict[str, str | None] = {}
    diseases: dict[str, str] = {}
    not_findings: set[str] = set()
    for (term, gene), stated in sorted(term_genes.items()):
        if term not in findings:
            findings[term] = lookup.resolve((term,), FINDING)
        finding = findings[term]
        if finding is None:
            not_findings.add(term)
            continue
        for disease in stated:
            if disease not in diseases:
                diseases[disease] = lookup.resolve((disease,), DISEASE) or disease
        provenance = release.provenance(evidence=(FINDING_EVIDENCE,), references=tuple(sorted(stated)))
        derived.links.append(
            Link.between(
                EdgeType.ASSOCIATED_WITH,
                finding,
                gene,
                provenance,
                {"diseases": sorted({diseases[d] for d in stated})},
            )
        )
    if not_findings:
        derived.notes.append(
            f"{len(not_findings)} annotated HPO terms are not findings in the graph (inheritance, onset, "
            "clinical course); they give no Finding-gene edge"
        )
    return derived
