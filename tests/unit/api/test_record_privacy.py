"""Records over the API with text storage on: who may read a record back, and that planted PHI reaches no file
and no log line, only its de-identified, sealed copy."""

from __future__ import annotations

import logging
import re
import shutil
from pathlib import Path

import pytest

from cdss.record_ids import hashed_record_id, record_id_key
from cdss.sealing import load_keyring
from deid.spans import PhiType
from deid.synthetic import planted_note
from tests.api_app import ranking_graph_app

NOTE = "Fever and productive cough for three days; chest X-ray shows pneumonia. No skin rash."
DIGIT_TYPES = {PhiType.PHONE, PhiType.FAX, PhiType.SSN}


@pytest.fixture(scope="module")
def api(tmp_path_factory):
    folder = tmp_path_factory.mktemp("records")
    app, services = ranking_graph_app(folder, env={"CDSS_STORE_RECORD_TEXT": "1"})
    keys = {
        name: services.keys.create(f"test {name}", scopes)[1]
        for name, scopes in (("a", ["read", "ingest"]), ("b", ["read", "ingest"]), ("admin", ["admin"]))
    }
    yield app, services, keys, folder
    services.close()


@pytest.fixture(scope="module")
def client(api):
    return api[0].test_client()


def auth(api, key: str) -> dict:
    return {"Authorization": f"Bearer {api[2][key]}"}


def error_of(response) -> dict:
    assert response.mimetype == "application/json"
    return response.get_json()["error"]


def ingest(api, client, record_id: str, text: str, key: str = "a") -> str:
    """The hashed id the record was stored under."""
    sent = client.post("/v1/records", json={"records": [{"id": record_id, "text": text}]}, headers=auth(api, key))
    assert sent.status_code == 200, sent.get_json()
    return sent.get_json()["record_ids"][0]


def test_a_record_is_read_back_only_by_the_key_that_ingested_it_or_an_admin(api, client):
    hashed = ingest(api, client, "ward-7-0001", NOTE)
    mine = client.get("/v1/records/ward-7-0001", headers=auth(api, "a"))
    assert mine.status_code == 200
    data = mine.get_json()
    assert data["record_id"] == hashed and data["text_stored"] and data["deid_mode"] == "surrogates"
    fever = next(m for m in data["mentions"] if m["concept_id"] == "HP:0001945")
    assert fever["name"] == "Fever" and fever["assertion"] == "present" and fever["present"]
    assert all(data["text"][s["start"] : s["end"]].lower() == "fever" for s in fever["spans"])
    assert any(m["concept_id"] == "HP:0000988" and m["assertion"] == "negated" for m in data["mentions"])
    assert client.get(f"/v1/records/{hashed}", headers=auth(api, "a")).get_json() == data
    assert client.get("/v1/records/ward-7-0001", headers=auth(api, "admin")).get_json() == data

    hidden = client.get("/v1/records/ward-7-0001", headers=auth(api, "b"))
    missing = client.get("/v1/records/no-such-record", headers=auth(api, "b"))
    unknown = hashed_record_id("no-such-record", record_id_key(api[1].settings))
    assert hidden.status_code == missing.status_code == 404
    assert error_of(hidden)["message"].replace(hashed, "<id>") == error_of(missing)["message"].replace(unknown, "<id>")
    assert client.get("/v1/records/no-such-record", headers=auth(api, "admin")).status_code == 404


def occurs(needle: str, blob: str) -> bool:
    """Whether `needle` is in `blob`. A short number is looked for as a whole number only: five digits turn up
    by chance inside the hex digests of the audit log."""
    if needle.isdigit() and len(needle) < 8:
        return re.search(rf"(?<![0-9A-Za-z]){needle}(?![0-9A-Za-z])", blob) is not None
    return needle in blob


def test_planted_identifiers_reach_no_file_and_no_log_line(api, client, caplog):
    notes = {f"planted-{seed}": planted_note(seed) for seed in (0, 1)}
    with caplog.at_level(logging.DEBUG):
        for record_id, note in notes.items():
            ingest(api, client, record_id, note.text)
        stored = {r: client.get(f"/v1/records/{r}", headers=auth(api, "a")).get_json() for r in notes}
        for note in notes.values():
            ranked = client.post("/v1/recommendations", json={"text": note.text}, headers=auth(api, "a"))
            assert ranked.status_code == 200
    needles = {value for note in notes.values() for value, _ in note.planted}
    needles |= {re.sub(r"\D", "", v) for note in notes.values() for v, kind in note.planted if kind in DIGIT_TYPES}

    settings = api[1].settings
    files = {p for p in api[3].rglob("*") if p.is_file()} | {p for p in settings.data_dir.rglob("*") if p.is_file()}
    graph = Path(settings.store)
    assert {graph, settings.audit_log, settings.api_keys, settings.data_key_file} <= files
    assert caplog.records, "the requests were logged"
    blobs = {str(p): p.read_bytes().decode("latin-1") for p in sorted(files)} | {"the logs": caplog.text}
    leaks = [(where, n) for where, blob in blobs.items() for n in sorted(needles) if occurs(n, blob)]
    assert not leaks

    for record_id, page in stored.items():
        assert page["text_stored"] and page["deid_mode"] == "surrogates"
        assert "pneumonia" in page["text"] and "fever" in page["text"]
        assert not [n for n in needles if occurs(n, page["text"])], record_id
        assert any(m["concept_id"] == "HP:0001945" and m["present"] for m in page["mentions"])


def test_a_wrong_data_key_answers_a_json_error_and_keeps_the_record(api, client, tmp_path):
    hashed = ingest(api, client, "ward-7-0002", NOTE)
    keyring = api[1].settings.data_key_file
    kept = keyring.read_bytes()
    shutil.copyfile(load_keyring(tmp_path / "other-keys.json").path, keyring)
    try:
        wrong = client.get("/v1/records/ward-7-0002", headers=auth(api, "a"))
    finally:
        keyring.write_bytes(kept)
    assert wrong.status_code == 503
    error = error_of(wrong)
    assert error["code"] == "crypto_error" and "cannot unseal" in error["message"] and hashed in error["message"]
    assert "Traceback" not in wrong.get_data(as_text=True)
    assert api[1].store.get_node(hashed) is not None
    assert client.get("/v1/records/ward-7-0002", headers=auth(api, "a")).status_code == 200
