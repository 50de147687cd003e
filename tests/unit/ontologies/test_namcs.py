"""The NAMCS/NHAMCS source: reading survey files, mapping reasons and diagnoses, the statistics it derives."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cdss.errors import SourceError, SourceParseError
from cdss.types import Concept, EdgeType, NodeLabel
from kg.assembly import assemble
from ontologies.model import ByXref, SourceData, SourceRelease
from ontologies.namcs import SURVEYS, Survey, icd10cm_code, load_namcs, read_survey, rfv_table
from ontologies.visit_statistics import MIN_N, derive_visit_statistics
from ontologies.visits import SYMPTOM, RfvRow, Visits, code_prefixes, diagnosis_candidates

RELEASE = SourceRelease(name="namcs_nhamcs", version="test", license="public domain")


@pytest.mark.parametrize(
    ("raw", "code"),
    [("J189", "J18.9"), ("R51-", "R51"), ("J18-", "J18"), (b"N390", "N39.0"), ("-9", None), ("ZZZ1", None), ("", None)],
)
def test_survey_diagnoses_become_icd10cm_codes(raw, code):
    assert icd10cm_code(raw) == code


def test_code_prefixes_and_candidates_prefer_curated_then_xref_then_the_category():
    assert code_prefixes("K35.80") == ["K35.80", "K35.8", "K35"]
    candidates = diagnosis_candidates("K35.8", {"K35": "DOID:8337"})
    assert candidates == (ByXref("ICD10CM:K35.8"), "DOID:8337", ByXref("ICD10CM:K35"), "ICD10CM:K35")


def test_the_curated_reason_table_is_complete_and_consistent():
    table = rfv_table()
    assert len(table) >= 839
    assert table[14400].finding == "HP:0012735"  # cough
    assert table[10100].finding == "HP:0001945"  # fever
    assert table[48000].kind == "administrative"  # progress visit
    assert table[26250].kind == "condition"  # asthma named as the reason
    for row in table.values():
        if row.kind != SYMPTOM:
            assert row.finding is None and row.parent is None, row
        assert not (row.finding and row.parent), row


def _visits(rows: list[tuple]) -> Visits:
    """rows: (setting, age, sex, weight, [rfv...], primary diagnosis)."""
    n = len(rows)
    rfv = np.full((n, 5), -9, dtype=np.int64)
    diagnoses = np.full((n, 5), "", dtype=object)
    for i, (_, _, _, _, reasons, diagnosis) in enumerate(rows):
        rfv[i, : len(reasons)] = reasons
        diagnoses[i, 0] = diagnosis
    return Visits(
        setting=np.array([r[0] for r in rows], dtype=np.int8),
        year=np.full(n, 2018, dtype=np.int16),
        age=np.array([r[1] for r in rows], dtype=np.float64),
        sex=np.array([r[2] for r in rows], dtype=np.int8),
        weight=np.array([r[3] for r in rows], dtype=np.float64),
        rfv=rfv,
        diagnoses=diagnoses,
    )


COUGH, FEVER, DYSURIA, PROGRESS = 14400, 10100, 16500, 48000
RFV = {
    COUGH: RfvRow(COUGH, "Cough", "HP:0012735", None, SYMPTOM),
    FEVER: RfvRow(FEVER, "Fever", "HP:0001945", None, SYMPTOM),
    DYSURIA: RfvRow(DYSURIA, "Painful urination", "HP:0100518", None, SYMPTOM),
    PROGRESS: RfvRow(PROGRESS, "Progress visit", None, None, "administrative"),
}


def _graph_sources(visits: Visits) -> list[SourceData]:
    """A disease vocabulary with ICD-10-CM cross-references, an ICD-10-CM category, and the survey."""
    vocab = SourceData(release=SourceRelease(name="disease_ontology", version="t", license="CC0"))
    vocab.concepts = [
        Concept("DOID:552", NodeLabel.DISEASE, "pneumonia", xrefs=("ICD10CM:J18",)),
        Concept("DOID:0080784", NodeLabel.DISEASE, "urinary tract infection", xrefs=("ICD10CM:N39.0",)),
        Concept("ICD10CM:J18", NodeLabel.DISEASE, "Pneumonia, unspecified organism"),
        Concept("ICD10CM:I10", NodeLabel.DISEASE, "Essential (primary) hypertension"),
        *(Concept(f, NodeLabel.FINDING, f) for f in ("HP:0012735", "HP:0001945", "HP:0100518")),
    ]
    survey = SourceData(release=RELEASE)
    survey.derive = lambda lookup: derive_visit_statistics(
        lookup,
        visits=visits,
        rfv=RFV,
        overrides={},
        release=RELEASE,
        surveys=("NHAMCS-ED 2018",),
        finding_of=lambda code: f"RFV:{code}",
    )
    return [vocab, survey]


def test_reason_profiles_and_visit_shares_land_on_the_cross_referenced_diseases():
    rows = []
    # 20 pneumonia visits in the ED: all cough, half fever.
    rows += [(0, 40, 0, 100.0, [COUGH, FEVER] if i % 2 else [COUGH], "J18.9") for i in range(20)]
    # 10 UTI visits: dysuria; 3 of them with fever (below the minimum n of an edge).
    rows += [(0, 30, 0, 100.0, [DYSURIA, FEVER] if i < 3 else [DYSURIA], "N39.0") for i in range(10)]
    # Follow-up visits for hypertension with no complaint: they count for nothing.
    rows += [(0, 60, 1, 100.0, [PROGRESS], "I10") for _ in range(30)]
    graph = assemble(_graph_sources(_visits(rows)))
    edges = {(e.start, e.end): e for e in graph.edges if e.type == EdgeType.HAS_FINDING}
    cough = edges[("DOID:552", "HP:0012735")]
    assert cough.attributes["frequency_n"] == 20 and cough.attributes["frequency_m"] == 20
    assert cough.attributes["frequency_weighted_raw"] == 1.0
    # Smoothed towards the category (all J18 visits cough too), so it stays near 1; the interval holds it.
    low, high = cough.attributes["frequency_ci95"]
    assert low <= cough.attributes["frequency"] <= high
    fever = edges[("DOID:552", "HP:0001945")]
    assert fever.attributes["frequency_n"] == 10
    assert 0.3 < fever.attributes["frequency"] < 0.7
    assert ("DOID:0080784", "HP:0100518") in edges
    assert ("DOID:0080784", "HP:0001945") not in edges, f"3 visits is below the minimum n of {MIN_N}"
    assert not any(start == "ICD10CM:J18" for start, _ in edges), "the DO term citing J18 takes the visits"
    nodes = {n.id: n for n in graph.nodes}
    assert nodes["DOID:552"].attributes["visit_n_ed"] == 20
    assert nodes["DOID:552"].attributes["visit_share_ed"] == pytest.approx(20 / 30)
    assert "visit_share_ed" not in nodes["ICD10CM:I10"].attributes, "follow-up visits without a complaint"
    assert len(nodes["DOID:552"].attributes["visit_strata"]) == len(
        nodes["DOID:552"].attributes["visit_share_by_stratum"]
    )


def test_a_small_disease_is_pulled_towards_its_category():
    """Two J18 visits alone say cough in 100%; the other J18 code's 40 visits say 10%: the estimate sits between."""
    rows = [(0, 40, 0, 100.0, [COUGH], "J18.0") for _ in range(5)]
    rows += [(0, 40, 0, 100.0, [COUGH] if i < 4 else [FEVER], "J18.9") for i in range(40)]
    vocab, survey = _graph_sources(_visits(rows))
    vocab.concepts.append(Concept("DOID:12375", NodeLabel.DISEASE, "bronchopneumonia", xrefs=("ICD10CM:J18.0",)))
    graph = assemble([vocab, survey])
    edge = next(e for e in graph.edges if e.start == "DOID:12375" and e.end == "HP:0012735")
    assert edge.attributes["frequency_weighted_raw"] == 1.0
    assert 0.3 < edge.attributes["frequency"] < 0.9


def _stata_zip(path: Path, frame: pd.DataFrame) -> Path:
    buffer = io.BytesIO()
    frame.to_stata(buffer, write_index=False, version=118)
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("visits.dta", buffer.getvalue())
    return path


def _frame(n: int) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "AGE": [30] * n,
            "SEX": [1] * n,
            "PATWT": [1000.0] * n,
            "RFV1": [COUGH] * n,
            "RFV2": [FEVER] * n,
            "RFV3": [-9] * n,
            "RFV4": [-9] * n,
            "RFV5": [-9] * n,
            "DIAG1": ["J189"] * n,
            "DIAG2": ["-9"] * n,
            "DIAG3": ["-9"] * n,
            "DIAG4": ["-9"] * n,
            "DIAG5": ["-9"] * n,
        }
    )


def test_a_stata_survey_file_is_read(tmp_path):
    path = _stata_zip(tmp_path / "ED.zip", _frame(3))
    visits = read_survey(path, Survey("ED.zip", "ed", 2018, "stata"))
    assert len(visits) == 3
    assert visits.diagnoses[0, 0] == "J18.9" and visits.diagnoses[0, 1] == ""
    assert visits.rfv[0, :2].tolist() == [COUGH, FEVER]
    assert visits.sex.tolist() == [0, 0, 0]


def test_bad_survey_files_name_the_problem(tmp_path):
    broken = tmp_path / "broken.zip"
    broken.write_bytes(b"not a zip at all")
    with pytest.raises(SourceParseError, match=r"broken\.zip.*zip"):
        read_survey(broken, Survey("broken.zip", "ed", 2018, "stata"))
    lacking = _stata_zip(tmp_path / "lacking.zip", _frame(2).drop(columns=["PATWT"]))
    with pytest.raises(SourceParseError, match="PATWT"):
        read_survey(lacking, Survey("lacking.zip", "ed", 2018, "stata"))


def test_the_source_goes_on_without_a_missing_or_corrupt_year(tmp_path):
    good = SURVEYS[0]
    (tmp_path / good.file).parent.mkdir(parents=True)
    _stata_zip(tmp_path / good.file, _frame(6))
    corrupt = SURVEYS[1]
    (tmp_path / corrupt.file).write_bytes(b"PK\x03\x04 truncated")
    data = load_namcs(tmp_path, RELEASE)
    notes = "\n".join(data.notes)
    assert f"{corrupt.file} could not be read" in notes
    assert f"{SURVEYS[4].file} is missing" in notes
    assert "6 visits read from NHAMCS-ED 2018" in notes
    assert data.derive is not None


def test_no_readable_survey_file_is_an_error_naming_the_folder(tmp_path):
    with pytest.raises(SourceError, match="no survey file"):
        load_namcs(tmp_path, RELEASE)
