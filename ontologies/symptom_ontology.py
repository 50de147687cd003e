"""The Symptom Ontology (symp.obo): symptoms and signs, unified with HPO findings."""

from __future__ import annotations

from pathlib import Path

from cdss.types import NodeLabel
from ontologies.model import SourceData, SourceRelease
from ontologies.obo import parse_obo
from ontologies.obo_concepts import concepts_from_terms

SOURCE = "symptom_ontology"
FILE = "symp.obo"

# SYMP's ICD-9 "AUI" cross-references name UMLS atoms, not concepts; they would never match anything.
_SKIPPED_XREF_PREFIXES = ("UMLS_ICD9CM_2005_AUI:",)


def load_symptom_ontology(folder: Path, release: SourceRelease) -> SourceData:
    """Every live SYMP term as a finding, with its hierarchy."""
    doc = parse_obo(folder / FILE, source=SOURCE)
    live = {term_id for term_id, term in doc.terms.items() if not term.is_obsolete}
    return concepts_from_terms(
        doc,
        live,
        label=NodeLabel.FINDING,
        release=release,
        keep_xref=lambda x: not x.startswith(_SKIPPED_XREF_PREFIXES),
    )
