"""Vital signs and lab values: reading them, their ranges, LOINC2HPO, and the mentions they become."""

from __future__ import annotations

import csv
import io

import pytest

from cdss.errors import SourceParseError
from cdss.types import Assertion, MentionMethod
from kg import open_store
from nlp import build_pipeline, extract_mentions
from nlp.coded_values import read_coded
from nlp.loinc2hpo import FILE, outcome_terms, read_loinc2hpo
from nlp.measurement_tables import analytes, reference_ranges
from nlp.measurements import Patient, find_measurements, patient_of
from nlp.resources import read_resource_text


def read(text: str, patient: Patient | None = None) -> list[tuple]:
    return [(m.analyte, m.value, m.outcome, m.problem is not None) for m in find_measurements(text, patient)]


def test_vital_signs_in_prose_and_in_lists():
    prose = (
        "Her temperature is 38.3°C (101°F), pulse is 110/min, respirations are 22/min, blood pressure is "
        "85/50 mm Hg, and oxygen saturation of 92 percent while breathing ambient air."
    )
    assert read(prose, Patient(age=40)) == [
        ("temperature", 38.3, "H", False),
        ("heart_rate", 110.0, "H", False),
        ("respiratory_rate", 22.0, "H", False),
        ("blood_pressure", 85.0, "L", False),
        ("oxygen_saturation", 92.0, "L", False),
    ]
    listed = read("Vitals: T 98.6 F, HR 72, BP 150/95, RR 16, SpO2 99% RA, BMI 33 kg/m2", Patient(age=40))
    assert [(a, o) for a, _, o, _ in listed] == [
        ("temperature", "N"),
        ("heart_rate", "N"),
        ("blood_pressure", "H"),
        ("respiratory_rate", "N"),
        ("oxygen_saturation", "N"),
        ("bmi", "H"),
    ]
    assert listed[0][1] == pytest.approx(37.0), "Fahrenheit is converted"


def test_lab_values_with_units_conversions_and_table_layout():
    table = (
        "Hemoglobin 9.1 g/dL\nLeukocyte count 14,500/mm3\nPlatelet count 90 x 10^9/L\nNa+ 128 mEq/L\nGlucose 7 mmol/L"
    )
    found = {m.analyte: m for m in find_measurements(table, Patient(age=50, sex="female"))}
    assert found["hemoglobin"].outcome == "L" and "12.0-16.0 g/dL (female" in found["hemoglobin"].range
    assert found["leukocytes"].value == pytest.approx(14.5) and found["leukocytes"].outcome == "H"
    assert found["platelets"].value == 90 and found["platelets"].outcome == "L"
    assert found["sodium"].outcome == "L"
    micro, greek = find_measurements("WBC 12.1 K/µL, platelets 300 x 10^3/μL")
    assert (micro.value, micro.outcome, greek.value, greek.outcome) == (pytest.approx(12.1), "H", 300, "N")
    assert found["glucose"].value == pytest.approx(126.1, abs=0.1) and found["glucose"].outcome == "N"
    assert "7 mmol/L = 126.1 mg/dL" in found["glucose"].reason


@pytest.mark.parametrize(
    "text",
    [
        "WBC 12-15",  # a range
        "temp of one hundred and two",  # a number in words
        "Temperature 400",  # impossible
        "Glucose 5.5",  # no unit, and mg/dL (the only bare reading allowed) makes it impossible
        "CRP 12",  # no unit, and mg/L and mg/dL are both in use
        "Potassium 4.1 g/dL",  # a unit the analyte is not measured in
        "BP 120",  # half a blood pressure
    ],
)
def test_values_that_cannot_be_read_are_reported_and_not_used(text):
    found = list(find_measurements(text))
    assert all(m.problem and m.outcome is None for m in found), found


def test_values_in_urine_or_csf_are_not_read_as_blood():
    text = "Serum sodium 131 mEq/L\nUrinalysis:\nGlucose 300 mg/dL\nWBC 12,000/mm3\n\nCSF: glucose 20 mg/dL"
    found = list(find_measurements(text))
    assert [(m.analyte, m.outcome) for m in found] == [
        ("sodium", "L"),
        ("glucose", None),
        ("leukocytes", None),
        ("glucose", None),
    ]
    assert "urinalysis" in found[1].problem and "csf" in found[3].problem
    [blood] = find_measurements("Urine culture sent. Serum glucose 300 mg/dL")
    assert blood.outcome == "H", "the specimen named last is blood"


def test_a_normal_saturation_on_oxygen_is_not_evidence():
    [on_oxygen] = find_measurements("SpO2 97% on 4 L nasal cannula")
    [room_air] = find_measurements("SpO2 97% on room air")
    assert on_oxygen.outcome is None and "oxygen" in on_oxygen.problem
    assert room_air.outcome == "N"
    [low] = find_measurements("SpO2 85% on 2L")
    assert low.outcome == "L"


def test_ranges_follow_age_and_sex_and_say_which_they_used():
    [child] = find_measurements("respiratory rate 26", Patient(age=4))
    [adult] = find_measurements("respiratory rate 26", Patient(age=40))
    assert child.outcome == "N" and "age 3-6" in child.range
    assert adult.outcome == "H"
    [unknown] = find_measurements("heart rate 105")
    assert "age not given: the adult range" in unknown.reason
    [either] = find_measurements("hemoglobin 12.5 g/dL")
    assert either.outcome == "N" and "sex not given" in either.reason
    assert patient_of("A 3-month-old girl with fever") == Patient(age=0.25, sex="female")
    assert patient_of("A 58-year-old man presents") == Patient(age=58.0, sex="male")


def test_a_name_takes_only_its_own_value():
    found = read("Temperature is normal, and heart rate is 120/min.")
    assert found == [("heart_rate", 120.0, "H", False)]
    [between] = find_measurements("Temperature on day 3 was 39 C")
    assert between.outcome is None and between.problem, "a number in between is not taken for the temperature"
    assert read("K 5.9 and T 38.5") == [("potassium", 5.9, "H", False), ("temperature", 38.5, "H", False)]
    assert read("T38 vertebra") == [], "a name must end at a word boundary"


def test_tables_are_consistent_and_cite_a_source_per_row():
    keys = {a.loinc for a in analytes()}
    for row in reference_ranges():
        assert row.loinc in keys and row.source, row
    rows = list(csv.DictReader(io.StringIO(read_resource_text("loinc2hpo_overrides.tsv")), delimiter="\t"))
    assert all(r["reason"] for r in rows)
    for analyte in analytes():
        assert analyte.unit in analyte.factors and all(b in analyte.factors for b in analyte.bare), analyte.key
        assert any(r.loinc == analyte.loinc for r in reference_ranges()), f"{analyte.key} has no range"


LOINC2HPO = (
    "loincId\tloincScale\toutcome\thpoTermId\tsupplementalTermId\tcuration\tcomment\n"
    "8310-5\tQn\tH\tHP:0001945\t.\tx\t.\n"
    "8310-5\tQn\tN\tHP:0004370\t.\tx\t.\n"
    "3040-3\tQn\tH\tHP:0033478\t.\tx\t.\n"
    "1234-5\tOrd\tPOS\tHP:0000001\t.\tx\t.\n"
)


def test_loinc2hpo_with_our_corrections(tmp_path):
    path = tmp_path / FILE
    path.parent.mkdir(parents=True)
    path.write_text(LOINC2HPO)
    assert read_loinc2hpo(path) == {
        ("8310-5", "H"): "HP:0001945",
        ("8310-5", "N"): "HP:0004370",
        ("3040-3", "H"): "HP:0033478",
    }
    terms, notes = outcome_terms(tmp_path)
    assert not notes and terms[("8310-5", "H")].origin == "LOINC2HPO"
    assert terms[("8310-5", "N")].hpo == "HP:0001945", "our row: a normal temperature is fever absent"
    assert terms[("3040-3", "H")].hpo == "HP:0032932", "serum lipase is not lipoprotein lipase"
    assert ("59408-5", "H") not in terms
    _, missing = outcome_terms(tmp_path / "elsewhere")
    assert "no LOINC2HPO file" in missing[0]
    path.write_text("loincId\toutcome\n")
    with pytest.raises(SourceParseError, match="loincScale"):
        read_loinc2hpo(path)


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory):
    from kg import build_graph
    from tests.fixtures import tiny_source_specs, write_tiny_sources

    root = tmp_path_factory.mktemp("measure-graph")
    specs = tiny_source_specs(write_tiny_sources(root / "sources"))
    build_graph(store_url=str(root / "g.sqlite"), sources_dir=root, sources=specs, show_progress=False)
    (root / FILE).parent.mkdir(parents=True)
    (root / FILE).write_text(LOINC2HPO)
    with open_store(str(root / "g.sqlite")) as store:
        return build_pipeline(store, terms=outcome_terms(root)[0])


def test_measurements_become_asserted_mentions_with_their_reading(pipeline):
    text = "No fever reported, but temperature of 39.2 C. Yesterday temp 37.1 C. WBC 14,000/mm3."
    mentions = extract_mentions(pipeline, text, max_chars=10_000)
    measured = [m for m in mentions if m.method == MentionMethod.MEASUREMENT]
    assert [(m.text, m.concept_id, m.assertion) for m in measured] == [
        ("temperature of 39.2 C.", "HP:0001945", Assertion.PRESENT),
        ("temp 37.1 C.", "HP:0001945", Assertion.NEGATED),
        ("WBC 14,000/mm3", None, Assertion.PRESENT),
    ]
    high, normal, unmapped = (m.measurement for m in measured)
    assert high["outcome"] == "high" and high["range"] == "35.0-37.9 °C" and "CDC" in high["range_source"]
    assert normal["asserts"] == "absent" and "override" in normal["finding_mapping"]
    assert "no finding for a high leukocytes" in unmapped["problem"], "the tiny graph has no Leukocytosis"
    assert measured[0].to_dict()["measurement"]["value"] == 39.2


def test_a_coded_value_reads_like_the_same_value_in_text():
    patient = Patient(age=40, sex="male")
    [in_text] = list(find_measurements("Temperature 38.9 °C.", patient))
    coded = read_coded("8310-5", 38.9, "Cel", patient)
    assert (coded.value, coded.outcome, coded.range) == (in_text.value, in_text.outcome, in_text.range)
    assert read_coded("8310-5", 101.2, "[degF]", patient).outcome == "H"
    pressure = read_coded("85354-9", 150, "mm[Hg]", patient, second=95)
    assert (pressure.value, pressure.second, pressure.outcome) == (150, 95, "H")
    assert read_coded("6690-2", 15.2, "kg", patient).problem == "unit 'kg' is not one leukocytes is measured in"
    assert "not a possible" in read_coded("8310-5", 380, "Cel", patient).problem
    assert read_coded("99999-9", 1.0, "kg", patient) is None
