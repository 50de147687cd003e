"""DrugCentral (2016 dump): drug indications and drug identifier maps.

Each DrugCentral drug becomes a concept with its DrugBank, RxNorm, MeSH and
UMLS ids as cross-references, so unification can join it to the drug
dictionary and LabeledIn. Indications name the disease by DOID, UMLS CUI and
SNOMED CT, tried in that order against the graph's disease nodes.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from cdss.errors import SourceParseError
from cdss.types import Concept, EdgeType, NodeLabel
from ontologies.files import csv_records
from ontologies.model import ByName, Endpoint, Link, SourceData, SourceRelease

SOURCE = "drugcentral"
INDICATIONS = "drug_indication.tsv"
IDENTIFIERS = "identifiers.tsv"
PHARM_CLASSES = "pharm_class.tsv"

# DrugCentral identifier type -> our CURIE prefix (others are not useful for linking).
ID_TYPES = {
    "DRUGBANK_ID": "DRUGBANK",
    "RXNORM": "RXNORM",
    "MESH_DESCRIPTOR_UI": "MESH",
    "MESH_SUPPLEMENTAL_RECORD_UI": "MESH",
    "UMLSCUI": "UMLS",
    "UNII": "UNII",
}
# Pharmacologic class vocabularies worth keeping as drug attributes.
CLASS_TYPES = {
    "EPC": "established_pharmacologic_classes",
    "MoA": "mechanisms_of_action",
    "PA": "mesh_pharmacological_actions",
}


def _drug_id(value: str, path: Path, line: int) -> str:
    if not value.isdigit():
        raise SourceParseError(path, line, f"DRUG_ID {value!r} is not a DrugCentral id")
    return f"DRUGCENTRAL:{value}"


def load_drugcentral(folder: Path, release: SourceRelease) -> SourceData:
    data = SourceData(release=release)
    names: dict[str, str] = {}
    xrefs: dict[str, set[str]] = defaultdict(set)
    classes: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))

    path = folder / IDENTIFIERS
    for line, row in csv_records(path, source=SOURCE, columns=("DRUG_ID", "DRUG_NAME", "ID_TYPE", "IDENTIFIER")):
        drug = _drug_id(row["DRUG_ID"], path, line)
        names.setdefault(drug, row["DRUG_NAME"])
        prefix = ID_TYPES.get(row["ID_TYPE"])
        if prefix and row["IDENTIFIER"]:
            xrefs[drug].add(f"{prefix}:{row['IDENTIFIER']}")

    class_path = folder / PHARM_CLASSES
    for line, row in csv_records(class_path, source=SOURCE, columns=("DRUG_ID", "TYPE", "CLASS")):
        attribute = CLASS_TYPES.get(row["TYPE"])
        if attribute:
            classes[_drug_id(row["DRUG_ID"], class_path, line)][attribute].add(row["CLASS"])

    path = folder / INDICATIONS
    columns = ("DRUG_ID", "DRUG_NAME", "INDICATION_FDB", "UMLS_CUI", "SNOMEDCT_CUI", "DOID")
    without_disease_id = 0
    for line, row in csv_records(path, source=SOURCE, columns=columns):
        drug = _drug_id(row["DRUG_ID"], path, line)
        names.setdefault(drug, row["DRUG_NAME"])
        candidates: tuple[Endpoint, ...] = tuple(
            candidate
            for candidate in (
                row["DOID"] or None,
                f"UMLS:{row['UMLS_CUI']}" if row["UMLS_CUI"] else None,
                f"SNOMEDCT:{row['SNOMEDCT_CUI']}" if row["SNOMEDCT_CUI"] else None,
                ByName(row["INDICATION_FDB"]) if row["INDICATION_FDB"] else None,
            )
            if candidate
        )
        if not candidates:
            without_disease_id += 1
            continue
        data.links.append(
            Link(
                EdgeType.TREATS,
                (drug,),
                candidates,
                release.provenance(evidence=("drug label indication (OMOP/FDB)",)),
                {"relation": "indication", "indication": row["INDICATION_FDB"]},
            )
        )

    for drug in sorted(names):
        attributes = {key: sorted(values) for key, values in sorted(classes.get(drug, {}).items())}
        data.concepts.append(
            Concept(
                id=drug,
                label=NodeLabel.DRUG,
                name=names[drug],
                xrefs=tuple(sorted(xrefs.get(drug, ()))),
                sources=(SOURCE,),
                attributes=attributes,
            )
        )
    if without_disease_id:
        data.notes.append(f"{without_disease_id} indications name no disease id and were left out")
    return data
