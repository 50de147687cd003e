"""PharmacotherapyDB: physician-curated drug -> disease pairs.

Disease-modifying pairs (DM) become `TREATS`, symptomatic ones (SYM)
`PALLIATES`, and curated non-indications (NOT) `NOT_INDICATED_FOR`: an
explicit negative, kept as gold for evaluation.
"""

from __future__ import annotations

from pathlib import Path

from cdss.errors import SourceParseError
from cdss.types import Concept, EdgeType, NodeLabel
from ontologies.files import csv_records
from ontologies.model import Link, SourceData, SourceRelease

SOURCE = "pharmacotherapydb"
INDICATIONS = "indications.tsv"
DRUGS = "drugs.tsv"
DISEASES = "diseases.tsv"

CATEGORY_EDGES = {
    "DM": EdgeType.TREATS,
    "SYM": EdgeType.PALLIATES,
    "NOT": EdgeType.NOT_INDICATED_FOR,
}


def _int(value: str, path: Path, line: int, column: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise SourceParseError(path, line, f"{column} {value!r} is not an integer") from None


def load_pharmacotherapydb(folder: Path, release: SourceRelease) -> SourceData:
    """Its drugs and diseases as concepts, and one link per curated pair."""
    data = SourceData(release=release)
    for line, row in csv_records(folder / DRUGS, source=SOURCE, columns=("drugbank_id", "drug")):
        if not row["drugbank_id"].startswith("DB"):
            raise SourceParseError(folder / DRUGS, line, f"expected a DrugBank id, found {row['drugbank_id']!r}")
        data.concepts.append(
            Concept(id=f"DRUGBANK:{row['drugbank_id']}", label=NodeLabel.DRUG, name=row["drug"], sources=(SOURCE,))
        )
    for line, row in csv_records(folder / DISEASES, source=SOURCE, columns=("doid_id", "disease")):
        if not row["doid_id"].startswith("DOID:"):
            raise SourceParseError(folder / DISEASES, line, f"expected a DOID, found {row['doid_id']!r}")
        data.concepts.append(
            Concept(id=row["doid_id"], label=NodeLabel.DISEASE, name=row["disease"], sources=(SOURCE,))
        )

    path = folder / INDICATIONS
    columns = ("doid_id", "drugbank_id", "category", "n_curators", "n_resources")
    for line, row in csv_records(path, source=SOURCE, columns=columns):
        edge_type = CATEGORY_EDGES.get(row["category"])
        if edge_type is None:
            raise SourceParseError(path, line, f"unknown category {row['category']!r}: expected DM, SYM or NOT")
        data.links.append(
            Link.between(
                edge_type,
                f"DRUGBANK:{row['drugbank_id']}",
                row["doid_id"],
                release.provenance(evidence=("physician curated",)),
                {
                    "category": row["category"],
                    "n_curators": _int(row["n_curators"], path, line, "n_curators"),
                    "n_resources": _int(row["n_resources"], path, line, "n_resources"),
                },
            )
        )
    return data
