"""LabeledIn: drug indications read from FDA drug labels, keyed by RxNorm and UMLS.

Drugs become concepts keyed by RxNorm (unified with DrugCentral and the drug
dictionary); diseases are named by UMLS CUI and attached through the
cross-references of existing disease nodes.
"""

from __future__ import annotations

from pathlib import Path

from cdss.errors import SourceParseError
from cdss.types import Concept, EdgeType, NodeLabel
from ontologies.files import csv_records
from ontologies.model import ByName, Link, SourceData, SourceRelease

SOURCE = "labeledin"
INDICATIONS = "labeledin-indications.tsv"
COLUMNS = ("rxnorm_id", "disease_cui", "n_labels", "expert", "crowd", "disease_mesh_name", "rxnorm_name")


def load_labeledin(folder: Path, release: SourceRelease) -> SourceData:
    data = SourceData(release=release)
    path = folder / INDICATIONS
    names: dict[str, str] = {}
    combinations = 0
    for line, row in csv_records(path, source=SOURCE, columns=COLUMNS):
        rxnorm, cui = row["rxnorm_id"], row["disease_cui"]
        if ";" in rxnorm:
            # A combination product's indication is not an indication of each ingredient alone.
            combinations += 1
            continue
        if not rxnorm.isdigit():
            raise SourceParseError(path, line, f"rxnorm_id {rxnorm!r} is not an RxNorm id")
        if not (cui.startswith("C") and cui[1:].isdigit()):
            raise SourceParseError(path, line, f"disease_cui {cui!r} is not a UMLS CUI")
        try:
            counts = {k: int(row[k]) for k in ("n_labels", "expert", "crowd")}
        except ValueError as exc:
            raise SourceParseError(path, line, f"expected integer counts ({exc})") from None
        names.setdefault(f"RXNORM:{rxnorm}", row["rxnorm_name"])
        disease = (f"UMLS:{cui}", ByName(row["disease_mesh_name"])) if row["disease_mesh_name"] else (f"UMLS:{cui}",)
        data.links.append(
            Link(
                EdgeType.TREATS,
                (f"RXNORM:{rxnorm}",),
                disease,
                release.provenance(evidence=("FDA drug label",)),
                {"relation": "indication", "indication": row["disease_mesh_name"], **counts},
            )
        )
    for drug_id in sorted(names):
        data.concepts.append(
            Concept(id=drug_id, label=NodeLabel.DRUG, name=names[drug_id] or drug_id, sources=(SOURCE,))
        )
    if combinations:
        data.notes.append(f"{combinations} indications of combination products (several RxNorm ids) left out")
    return data
