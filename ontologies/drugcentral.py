"""DrugCentral (2016 dump): drug indications, identifier maps, pharmacologic classes and drug targets.

Each DrugCentral drug becomes a concept with its DrugBank, RxNorm, MeSH and
UMLS ids as cross-references, so unification can join it to the drug
dictionary and LabeledIn. Indications name the disease by DOID, UMLS CUI and
SNOMED CT, tried in that order against the graph's disease nodes.

Pharmacologic classes become `PharmacologicClass` nodes joined by `IN_CLASS`.
FDA's classes are NDF-RT concepts (`NDFRT:N...`); a MeSH pharmacological action
gets `MESH.PA:D...`, because the drug dictionary already has Drug nodes under
the same MeSH descriptor ids. Efficacy targets become `TARGETS` edges to genes
named `HGNC.SYMBOL:<symbol>`, one per gene of a multi-component target; a merge
rule joins them to HPO's NCBI Gene nodes. Targets of non-human proteins
(bacterial, viral, parasite) are left out: Gene nodes are human genes.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from cdss.curies import normalize_curie
from cdss.errors import InvalidCurieError, SourceParseError
from cdss.types import Concept, EdgeType, NodeLabel
from ontologies.files import csv_records
from ontologies.model import ByName, Endpoint, Link, SourceData, SourceRelease

SOURCE = "drugcentral"
INDICATIONS = "drug_indication.tsv"
IDENTIFIERS = "identifiers.tsv"
PHARM_CLASSES = "pharm_class.tsv"
TARGETS = "drug_target.tsv"

# DrugCentral identifier type -> our CURIE prefix (others are not useful for linking).
ID_TYPES = {
    "DRUGBANK_ID": "DRUGBANK",
    "RXNORM": "RXNORM",
    "MESH_DESCRIPTOR_UI": "MESH",
    "MESH_SUPPLEMENTAL_RECORD_UI": "MESH",
    "UMLSCUI": "UMLS",
    "UNII": "UNII",
}
# Pharmacologic class vocabularies kept as drug attributes too (the ranking reads them).
CLASS_ATTRIBUTES = {
    "EPC": "established_pharmacologic_classes",
    "MoA": "mechanisms_of_action",
    "PA": "mesh_pharmacological_actions",
}
# Class vocabularies that become PharmacologicClass nodes -> the prefix of their ids. Physiologic effects (PE)
# and ChEBI roles ("orphan drug") describe what a drug does or is used for, not a class it belongs to.
CLASS_PREFIXES = {"EPC": "NDFRT", "MoA": "NDFRT", "Chemical/Ingredient": "NDFRT", "PA": "MESH.PA"}
CLASS_COLUMNS = ("DRUG_ID", "TYPE", "CLASS_SOURCE_ID", "CLASS", "SOURCE")
TARGET_COLUMNS = (
    "DRUG_ID",
    "TARGET_NAME",
    "TARGET_FAMILY",
    "UNIPROT",
    "GENE",
    "SWISSPROT",
    "ACTION_TYPE",
    "SOURCE",
    "REFERENCE",
)
HUMAN_PROTEIN = "_HUMAN"


def _drug_id(value: str, path: Path, line: int) -> str:
    if not value.isdigit():
        raise SourceParseError(path, line, f"DRUG_ID {value!r} is not a DrugCentral id")
    return f"DRUGCENTRAL:{value}"


def _identifiers(path: Path) -> tuple[dict[str, str], dict[str, set[str]]]:
    """Each drug's name and the cross-references worth linking on."""
    names: dict[str, str] = {}
    xrefs: dict[str, set[str]] = defaultdict(set)
    for line, row in csv_records(path, source=SOURCE, columns=("DRUG_ID", "DRUG_NAME", "ID_TYPE", "IDENTIFIER")):
        drug = _drug_id(row["DRUG_ID"], path, line)
        names.setdefault(drug, row["DRUG_NAME"])
        prefix = ID_TYPES.get(row["ID_TYPE"])
        if prefix and row["IDENTIFIER"]:
            xrefs[drug].add(f"{prefix}:{row['IDENTIFIER']}")
    return names, xrefs


def _class_id(row: dict[str, str], prefix: str, path: Path, line: int) -> str:
    try:
        return normalize_curie(f"{prefix}:{row['CLASS_SOURCE_ID']}")
    except InvalidCurieError:
        raise SourceParseError(path, line, f"CLASS_SOURCE_ID {row['CLASS_SOURCE_ID']!r} is not a class id") from None


def _classes(path: Path, data: SourceData) -> dict[str, dict[str, set[str]]]:
    """PharmacologicClass concepts and IN_CLASS links into `data`; returns the drug attributes kept as well."""
    attributes: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    classes: dict[str, Concept] = {}
    left_out = 0
    for line, row in csv_records(path, source=SOURCE, columns=CLASS_COLUMNS):
        drug, kind = _drug_id(row["DRUG_ID"], path, line), row["TYPE"]
        if kind in CLASS_ATTRIBUTES:
            attributes[drug][CLASS_ATTRIBUTES[kind]].add(row["CLASS"])
        prefix = CLASS_PREFIXES.get(kind)
        if prefix is None:
            left_out += 1
            continue
        if not row["CLASS"]:
            raise SourceParseError(path, line, f"class {row['CLASS_SOURCE_ID']!r} has no name")
        class_id = _class_id(row, prefix, path, line)
        classes.setdefault(
            class_id,
            Concept(
                id=class_id,
                label=NodeLabel.PHARMACOLOGIC_CLASS,
                name=row["CLASS"],
                sources=(SOURCE,),
                attributes={"class_type": kind},
            ),
        )
        data.links.append(
            Link.between(EdgeType.IN_CLASS, drug, class_id, data.release.provenance(evidence=(row["SOURCE"],)))
        )
    data.concepts.extend(classes[k] for k in sorted(classes))
    if left_out:
        data.notes.append(f"{left_out} class rows of other kinds (physiologic effects, ChEBI roles) left out")
    return attributes


def _targets(path: Path, data: SourceData) -> None:
    """A TARGETS link from the drug to every gene of each human efficacy target, and the genes as concepts."""
    symbols: set[str] = set()
    non_human = 0
    for line, row in csv_records(path, source=SOURCE, columns=TARGET_COLUMNS):
        drug = _drug_id(row["DRUG_ID"], path, line)
        if not all(protein.endswith(HUMAN_PROTEIN) for protein in row["SWISSPROT"].split("|")):
            non_human += 1
            continue
        genes = row["GENE"].split("|")
        if not all(genes) or any(ch.isspace() for ch in row["GENE"]):
            raise SourceParseError(path, line, f"GENE {row['GENE']!r} is not a |-separated list of gene symbols")
        references = (row["REFERENCE"],) if row["REFERENCE"] else ()
        provenance = data.release.provenance(evidence=(row["SOURCE"],), references=references)
        attributes = {
            "action_type": row["ACTION_TYPE"],
            "target_names": [row["TARGET_NAME"]],
            "target_family": row["TARGET_FAMILY"],
            "uniprot": row["UNIPROT"].split("|"),
        }
        for gene in genes:
            symbols.add(gene)
            data.links.append(Link.between(EdgeType.TARGETS, drug, f"HGNC.SYMBOL:{gene}", provenance, attributes))
    data.concepts.extend(
        Concept(id=f"HGNC.SYMBOL:{s}", label=NodeLabel.GENE, name=s, sources=(SOURCE,)) for s in sorted(symbols)
    )
    if non_human:
        data.notes.append(
            f"{non_human} targets that are not human proteins (bacterial, viral, parasite) left out: "
            "Gene nodes are human genes"
        )


def _indications(path: Path, names: dict[str, str], data: SourceData) -> None:
    """TREATS links by the disease's DOID, UMLS CUI, SNOMED CT id or name; drugs named here join `names`."""
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
                data.release.provenance(evidence=("drug label indication (OMOP/FDB)",)),
                {"relation": "indication", "indication": row["INDICATION_FDB"]},
            )
        )
    if without_disease_id:
        data.notes.append(f"{without_disease_id} indications name no disease id and were left out")


def load_drugcentral(folder: Path, release: SourceRelease) -> SourceData:
    data = SourceData(release=release)
    names, xrefs = _identifiers(folder / IDENTIFIERS)
    classes = _classes(folder / PHARM_CLASSES, data)
    _indications(folder / INDICATIONS, names, data)
    _targets(folder / TARGETS, data)
    data.concepts.extend(
        Concept(
            id=drug,
            label=NodeLabel.DRUG,
            name=names[drug],
            xrefs=tuple(sorted(xrefs.get(drug, ()))),
            sources=(SOURCE,),
            attributes={key: sorted(values) for key, values in sorted(classes.get(drug, {}).items())},
        )
        for drug in sorted(names)
    )
    return data
