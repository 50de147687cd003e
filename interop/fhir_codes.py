"""FHIR code systems -> the CURIE prefixes the graph's cross-references use.

Each row is the canonical URI (or OID) a FHIR coding's `system` carries, as HL7 lists it for the code system
(HL7 Terminology, "External Code Systems": terminology.hl7.org/external_terminologies.html), and the prefix our
graph normalises that vocabulary to (`cdss.curies`).
"""

from __future__ import annotations

from cdss.curies import normalize_curie
from cdss.errors import InvalidCurieError

SYSTEM_PREFIXES: dict[str, str] = {
    # SNOMED CT: terminology.hl7.org/CodeSystem-v3-snomed-CT.html (URI and OID 2.16.840.1.113883.6.96)
    "http://snomed.info/sct": "SNOMEDCT",
    "urn:oid:2.16.840.1.113883.6.96": "SNOMEDCT",
    # LOINC: terminology.hl7.org/CodeSystem-v3-loinc.html
    "http://loinc.org": "LOINC",
    "urn:oid:2.16.840.1.113883.6.1": "LOINC",
    # ICD-10-CM: terminology.hl7.org/CodeSystem-icd10CM.html
    "http://hl7.org/fhir/sid/icd-10-cm": "ICD10CM",
    "urn:oid:2.16.840.1.113883.6.90": "ICD10CM",
    # ICD-10 (WHO): terminology.hl7.org/CodeSystem-icd10.html
    "http://hl7.org/fhir/sid/icd-10": "ICD10",
    # ICD-9-CM: terminology.hl7.org/CodeSystem-icd9cm.html
    "http://hl7.org/fhir/sid/icd-9-cm": "ICD9CM",
    # RxNorm: terminology.hl7.org/CodeSystem-v3-rxNorm.html
    "http://www.nlm.nih.gov/research/umls/rxnorm": "RXNORM",
    "urn:oid:2.16.840.1.113883.6.88": "RXNORM",
    # UMLS: terminology.hl7.org/CodeSystem-v3-umls.html
    "http://www.nlm.nih.gov/research/umls": "UMLS",
    # MeSH: terminology.hl7.org/CodeSystem-MSH.html
    "urn:oid:2.16.840.1.113883.6.177": "MESH",
    "http://id.nlm.nih.gov/mesh": "MESH",
    # HPO: terminology.hl7.org/CodeSystem-HPO.html; phenopackets on FHIR also use the OBO PURL
    "http://human-phenotype-ontology.org": "HP",
    "http://purl.obolibrary.org/obo/hp.owl": "HP",
    # Orphanet: terminology.hl7.org/CodeSystem-ORDO.html (Orphanet Rare Disease Ontology)
    "http://www.orpha.net": "ORPHA",
    # OMIM: terminology.hl7.org/CodeSystem-OMIM.html
    "http://www.omim.org": "OMIM",
    "https://omim.org": "OMIM",
    # MONDO, the Disease Ontology and the Symptom Ontology: their OBO PURLs (obofoundry.org/ontology/mondo,
    # /doid, /symp)
    "http://purl.obolibrary.org/obo/mondo.owl": "MONDO",
    "http://purl.obolibrary.org/obo/doid.owl": "DOID",
    "http://purl.obolibrary.org/obo/symp.owl": "SYMP",
    # DrugBank: terminology.hl7.org/NamingSystem-drugbank.html
    "http://www.drugbank.ca": "DRUGBANK",
    "https://go.drugbank.com": "DRUGBANK",
}


SYSTEM_OF_PREFIX: dict[str, str] = {}
for _system, _prefix in SYSTEM_PREFIXES.items():
    SYSTEM_OF_PREFIX.setdefault(_prefix, _system)
"""Prefix -> the first (canonical) system listed for it, for coding a concept the way an EHR would."""


def concept_coding(curie: str) -> dict | None:
    """A FHIR coding for a graph CURIE, or None when its vocabulary has no FHIR system (DDXPLUS, RFV ...)."""
    prefix, _, local = curie.partition(":")
    system = SYSTEM_OF_PREFIX.get(prefix)
    if system is None:
        return None
    return {"system": system, "code": curie if prefix == "HP" else local}


def coding_curie(system: str | None, code: str | None) -> str | None:
    """The CURIE a coding stands for, or None when its system is not one the graph cross-references."""
    prefix = SYSTEM_PREFIXES.get((system or "").rstrip("/"))
    if prefix is None or not code or not code.strip():
        return None
    local = code.strip()
    if local.upper().startswith(prefix + ":"):
        local = local[len(prefix) + 1 :]
    try:
        return normalize_curie(f"{prefix}:{local}")
    except InvalidCurieError:
        return None
