"""CURIEs: one spelling per vocabulary, and the IRI each one stands for.

Sources spell prefixes differently (`MIM:`, `MSH:`, `ORDO:`, `SNOMEDCT_US:`);
the graph stores one canonical prefix per vocabulary so that an id from any
source finds the same node.
"""

from __future__ import annotations

import re
from functools import lru_cache
from urllib.parse import quote

from cdss.errors import InvalidCurieError

_CURIE = re.compile(r"^([A-Za-z][A-Za-z0-9_.\-]*):(\S+)$")

# Spelling seen in a source (upper-cased) -> canonical prefix.
_PREFIX_ALIASES: dict[str, str] = {
    "HP": "HP",
    "HPO": "HP",
    "OMIM": "OMIM",
    "MIM": "OMIM",
    "OMIMPS": "OMIMPS",
    "ORPHA": "ORPHA",
    "ORPHANET": "ORPHA",
    "ORDO": "ORPHA",
    "DECIPHER": "DECIPHER",
    "DOID": "DOID",
    "SYMP": "SYMP",
    "ICD10CM": "ICD10CM",
    "ICD-10-CM": "ICD10CM",
    "ICD10": "ICD10",
    "ICD-10": "ICD10",
    "ICD9CM": "ICD9CM",
    "ICD9CM_2005": "ICD9CM",
    "ICD-9-CM": "ICD9CM",
    "ICDO": "ICDO",
    "MESH": "MESH",
    "MSH": "MESH",
    "UMLS": "UMLS",
    "UMLS_CUI": "UMLS",
    "SNOMEDCT": "SNOMEDCT",
    "SNOMEDCT_US": "SNOMEDCT",
    "SCTID": "SNOMEDCT",
    "NCI": "NCIT",
    "NCIT": "NCIT",
    "DRUGBANK": "DRUGBANK",
    "DB": "DRUGBANK",
    "RXNORM": "RXNORM",
    "RXCUI": "RXNORM",
    "MEDLINEPLUS": "MEDLINEPLUS",
    "GARD": "GARD",
    "KEGG": "KEGG",
    "MEDDRA": "MEDDRA",
    "MONDO": "MONDO",
    "EFO": "EFO",
    "DRUGCENTRAL": "DRUGCENTRAL",
    "NCBIGENE": "NCBIGene",
    "DDXPLUS": "DDXPLUS",
    "CDSS": "CDSS",
    "RECORD": "RECORD",
}

# DO spells SNOMED with its release date in the prefix (SNOMEDCT_US_2023_03_01).
_DATED_PREFIX = re.compile(r"^(SNOMEDCT_US|ICD10CM|ICD9CM)_\d{4}_\d{2}_\d{2}$")

_OBO_PURL = "http://purl.obolibrary.org/obo/"
_IRI_TEMPLATES: dict[str, str] = {
    "HP": _OBO_PURL + "HP_{}",
    "DOID": _OBO_PURL + "DOID_{}",
    "SYMP": _OBO_PURL + "SYMP_{}",
    "MONDO": _OBO_PURL + "MONDO_{}",
    "OMIM": "https://omim.org/entry/{}",
    "ORPHA": "http://www.orpha.net/ORDO/Orphanet_{}",
    "DECIPHER": "https://www.deciphergenomics.org/syndrome/{}",
    "ICD10CM": "http://purl.bioontology.org/ontology/ICD10CM/{}",
    "DRUGBANK": "https://go.drugbank.com/drugs/{}",
    "MESH": "http://id.nlm.nih.gov/mesh/{}",
    "MESH.PA": "http://id.nlm.nih.gov/mesh/{}",
    "UMLS": "https://uts.nlm.nih.gov/uts/umls/concept/{}",
    "CDSS": "https://w3id.org/cdss/concept/{}",
}


@lru_cache(maxsize=1 << 16)
def split_curie(value: str) -> tuple[str, str]:
    """Split and canonicalise a CURIE into (prefix, local id)."""
    if not isinstance(value, str):
        raise InvalidCurieError(repr(value), "not a string")
    match = _CURIE.match(value.strip())
    if match is None:
        raise InvalidCurieError(value)
    raw_prefix, local = match.groups()
    upper = raw_prefix.upper()
    dated = _DATED_PREFIX.match(upper)
    if dated:
        upper = dated.group(1)
    prefix = _PREFIX_ALIASES.get(upper, upper)
    if prefix == "ORPHA" and local.startswith("Orphanet_"):
        local = local.removeprefix("Orphanet_")
    return prefix, local


def normalize_curie(value: str) -> str:
    """Return the canonical spelling of a CURIE, e.g. `MIM:219700` -> `OMIM:219700`."""
    prefix, local = split_curie(value)
    return f"{prefix}:{local}"


def is_curie(value: str) -> bool:
    """True when `value` looks like `PREFIX:local`."""
    return isinstance(value, str) and _CURIE.match(value.strip()) is not None


def curie_to_iri(curie: str) -> str:
    """The IRI for a CURIE: OBO PURLs for OBO vocabularies, identifiers.org otherwise."""
    prefix, local = split_curie(curie)
    template = _IRI_TEMPLATES.get(prefix)
    if template is None:
        return f"https://identifiers.org/{prefix.lower()}:{quote(local, safe='')}"
    return template.format(quote(local, safe=""))
