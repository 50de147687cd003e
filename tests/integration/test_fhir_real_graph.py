"""The FHIR path on the graph built from every source: published vignettes and visit notes, sent as a Bundle
coded in SNOMED CT and LOINC, rank as the same cases sent as text plus HPO findings."""

from __future__ import annotations

from datetime import date

import pytest

from interop.study import compare_paths
from nlp.temporality import read_notes
from ranking.study.real_cases import json_lines
from runtime import load_engine

pytestmark = pytest.mark.integration

CASES = 25


@pytest.fixture(scope="module")
def engine(real_pipeline):
    store, _, settings = real_pipeline
    return load_engine(store, settings, with_nlp=True)


def test_bundles_from_published_cases_rank_like_their_json(engine, all_sources):
    sources = all_sources.data_dir / "sources"
    vignettes = [
        (str(d["id"]), d["text"])
        for _, d in json_lines(sources / "clinical-vignettes-craftmd" / "craftmd_vignettes.jsonl")
    ][:CASES]
    notes = read_notes(sources / "clinical-text-aci-bench", {"valid.csv"})
    visits = [(encounter, text) for (_, encounter), text in sorted(notes.items())][:CASES]
    report = compare_paths(
        engine, vignettes + visits, terms=engine.reader.measurement_terms, today=date(2026, 11, 29), top_k=5
    ).to_dict()
    assert report["ranked"] >= CASES, report
    assert report["same_top_k_in_order"] == report["ranked"], report["differing"]
    assert report["observations_by_system"]["SNOMEDCT"] > report["observations_by_system"]["HP"] > 0
    assert report["observations_by_system"]["LOINC"] > 0
