"""De-identification: each identifier type, the output modes, the spaCy component, the commands, the scoring."""

from __future__ import annotations

import json
from datetime import datetime

import pytest
import spacy
from click.testing import CliRunner

from cdss.errors import InputError
from cli import cli
from deid import PhiType, deidentify, find_phi
from deid.component import SPANS_KEY
from deid.dates import shift_date
from deid.evaluate import read_asq_phi, score
from deid.synthetic import planted_note

KEY = b"k" * 40


def found(text: str) -> dict[str, str]:
    return {text[s.start : s.end]: s.type.value for s in find_phi(text)}


@pytest.mark.parametrize(
    ("text", "value", "kind"),
    [
        ("Seen by Dr. Amelia Okafor today.", "Amelia Okafor", "NAME"),
        ("Pt Harold Jennings presents with cough.", "Harold Jennings", "NAME"),
        ("Her daughter Rosalind called.", "Rosalind", "NAME"),
        ("Signed: Miguel Arroyo, MD", "Miguel Arroyo", "NAME"),
        ("Admitted on March 3rd, 2024 with fever.", "March 3rd, 2024", "DATE"),
        ("DOB 07/21/1931.", "07/21/1931", "DATE"),
        ("Follow-up 2024-05-02.", "2024-05-02", "DATE"),
        ("A 93-year-old woman with dyspnea.", "93-year-old", "AGE"),
        ("Lives at 4412 Hawthorne Avenue, Riverside, CA 92501.", "4412 Hawthorne Avenue", "LOCATION"),
        ("Transferred from Lakewood Memorial Hospital.", "Lakewood Memorial Hospital", "LOCATION"),
        ("Treated at St. Agnes's last year.", "St. Agnes's", "LOCATION"),
        ("Call (415) 555-0134 with results.", "(415) 555-0134", "PHONE"),
        ("Fax 212-555-0199 the records.", "212-555-0199", "FAX"),
        ("Write to r.okafor@clinic-mail.org please.", "r.okafor@clinic-mail.org", "EMAIL"),
        ("SSN 536-22-8190 on file.", "536-22-8190", "SSN"),
        ("MRN: 00451287", "00451287", "MRN"),
        ("Medicare beneficiary number 1EG4TE5MK73.", "1EG4TE5MK73", "HEALTH_PLAN"),
        ("Account number 88213490.", "88213490", "ACCOUNT"),
        ("DEA licence BK4419023.", "BK4419023", "LICENSE"),
        ("Pacemaker serial number PX-448812.", "PX-448812", "DEVICE"),
        ("Vehicle plate 7KQA929 recorded.", "7KQA929", "VEHICLE"),
        ("See https://portal.example.org/chart/8812 for images.", "https://portal.example.org/chart/8812", "URL"),
        ("Logged in from 172.16.4.20 at night.", "172.16.4.20", "IP"),
    ],
)
def test_each_safe_harbor_type_is_found_with_its_type(text, value, kind):
    assert found(text).get(value) == kind


@pytest.mark.parametrize(
    "text",
    [
        "A 45-year-old man with Graves disease and Parkinson disease, on vitamin B12 and 500 mg amoxicillin.",
        "Framingham risk score 12%; Marburg virus is unlikely. Platelets 150000/uL, BP 120/80, G3P3003.",
        "Strength 5/5 in all limbs; pain 7/10. Diagnosed in 2019 in Mexico. HbA1c 7.2; COVID-19 negative.",
    ],
)
def test_clinical_text_without_identifiers_is_left_alone(text):
    assert found(text) == {}


def test_tags_and_spans_modes():
    text = "Pt John Whitaker seen 03/14/2023."
    tagged = deidentify(text, mode="tags")
    assert tagged.text == "Pt [NAME] seen [DATE]."
    spans = deidentify(text, mode="spans")
    assert spans.text == text and [(s.start, s.end, s.type) for s in spans.spans] == [
        (3, 16, PhiType.NAME),
        (22, 32, PhiType.DATE),
    ]
    with pytest.raises(InputError, match="unknown de-identification mode 'blur'"):
        deidentify(text, mode="blur")
    with pytest.raises(InputError, match="need the deployment's key"):
        deidentify(text, mode="surrogates")


def test_surrogates_are_consistent_within_a_record_and_keep_intervals():
    text = "John Whitaker came on March 1, 2023. Whitaker returned on March 15, 2023. Call 617-555-0101."
    one = deidentify(text, mode="surrogates", key=KEY, record_id="r1")
    again = deidentify(text, mode="surrogates", key=KEY, record_id="r1")
    other = deidentify(text, mode="surrogates", key=KEY, record_id="r2")
    assert one.text == again.text and one.text != other.text
    assert "Whitaker" not in one.text and "617-555-0101" not in one.text
    surname = one.text.split()[1]
    assert one.text.count(surname) == 2
    days = [s for s in one.text.split(". ") if "on " in s]
    dates = [datetime.strptime(d.split(" on ")[1].rstrip("."), "%B %d, %Y") for d in days]
    assert (dates[1] - dates[0]).days == 14 and dates[0].year in (2022, 2023)


def test_shift_date_keeps_the_written_style():
    assert shift_date("March 1, 2023", -1) == "February 28, 2023"
    assert shift_date("03/01/2023", -1) == "02/28/2023"
    assert shift_date("2024-03-01", -1) == "2024-02-29"
    assert shift_date("Jan 2nd", 30) == "Feb 1st"
    assert shift_date("not a date", 3) is None


def test_the_spacy_component_marks_typed_spans():
    import deid.component  # noqa: F401 - registers the factory

    nlp = spacy.blank("en")
    nlp.add_pipe("cdss_deid")
    doc = nlp("Seen by Dr. Amelia Okafor on 03/14/2023 with fever.")
    assert [(s.text, s.label_) for s in doc.spans[SPANS_KEY]] == [("Amelia Okafor", "NAME"), ("03/14/2023", "DATE")]


def test_every_planted_identifier_is_found():
    for seed in range(20):
        note = planted_note(seed)
        tagged = deidentify(note.text).text
        assert not [value for value, _ in note.planted if value in tagged], seed
        assert {t for _, t in note.planted} == set(PhiType)
        assert "pneumonia" in tagged and "fever" in tagged


def test_the_command_reads_text_files_and_json_lines(tmp_path, monkeypatch):
    monkeypatch.setenv("CDSS_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("CDSS_RECORD_ID_KEY", "k" * 40)
    runner = CliRunner()
    assert runner.invoke(cli, ["deid", "Pt John Whitaker seen 03/14/2023."]).output == "Pt [NAME] seen [DATE].\n"
    notes = tmp_path / "notes.jsonl"
    notes.write_text(
        json.dumps({"id": "a", "text": "Call 617-555-0101."}) + "\n" + json.dumps({"id": "b", "text": "no phi"}) + "\n"
    )
    lines = runner.invoke(cli, ["deid", "--in", str(notes), "--json", "--mode", "surrogates"]).output.splitlines()
    first = json.loads(lines[0])
    assert first["id"] == "a" and first["spans"] == [{"start": 5, "end": 17, "type": "PHONE"}]
    assert "617-555-0101" not in first["text"] and json.loads(lines[1]) == {"id": "b", "spans": [], "text": "no phi"}
    both = runner.invoke(cli, ["deid", "text", "--in", str(notes)])
    assert both.exit_code != 0 and "one of them" in both.output


def test_scoring_counts_tokens_per_type(tmp_path):
    folder = tmp_path / "asq"
    folder.mkdir()
    blocks = [
        (
            "Seen by Dr. Lopez at Elm Clinic on May 5, 2023.",
            [("NAME", "Dr. Lopez"), ("GEOGRAPHIC_LOCATION", "Elm Clinic"), ("DATE", "May 5, 2023")],
        ),
        ("Pt with asthma, MRN 44556677, from Kansas.", [("MEDICAL_RECORD_NUMBER", "44556677")]),
        ("Dosing of metformin in CKD?", []),
    ]
    text = "".join(
        "===QUERY===\n"
        + q
        + "\n===PHI_TAGS===\n"
        + "".join(json.dumps({"identifier_type": t, "value": v}) + "\n" for t, v in tags)
        + "\n"
        for q, tags in blocks
    )
    (folder / "synthetic_clinical_queries.txt").write_text(text)
    gold = read_asq_phi(folder)
    assert [len(g.spans) for g in gold] == [3, 1, 0]
    report = score(gold, find_phi)
    assert report["recall"] == 1.0 and report["per_type"]["NAME"]["gold_tokens"] == 1
    nothing = score(gold, lambda text: [])
    assert nothing["recall"] == 0.0 and nothing["precision"] is None
