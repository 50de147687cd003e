"""Inputs and faults that once answered 500: each is now a JSON 4xx or 503 that says why."""

from __future__ import annotations

import io
import json
import logging

import pytest

from api.logs import configure_logging
from kg.sqlite_store import MAX_SEARCH_TERMS, _fts_query
from tests.api_app import ranking_graph_app

HOSTILE = [
    ("not UTF-8", b'{"text": "caf\xe9 fever"}', "application/json", 422, "not UTF-8 (byte 13)"),
    ("latin-1", b'{"text": "fever"}', "application/json; charset=latin-1", 415, "charset=latin-1"),
    ("nested 10,000 deep", b"[" * 10_000 + b"]" * 10_000, "application/json", 422, "nests deeper than 64"),
    ("nested 100 deep", b'{"text": "fever", "x": ' + b"[" * 100 + b"]" * 100 + b"}", "application/json", 422, "deeper"),
    ("a 5,000-digit number", b'{"top_k": ' + b"9" * 5000 + b"}", "application/json", 422, "too many digits"),
    ("top_k as text", b'{"findings": [{"id": "HP:0001945"}], "top_k": "5"}', "application/json", 422, "top_k"),
    ("top_k as true", b'{"findings": [{"id": "HP:0001945"}], "top_k": true}', "application/json", 422, "top_k"),
]


@pytest.fixture(scope="module")
def api(tmp_path_factory):
    app, services = ranking_graph_app(tmp_path_factory.mktemp("hostile"))
    token = services.keys.create("clinic", ["read", "ingest"])[1]
    yield app.test_client(), services, {"Authorization": f"Bearer {token}"}
    services.close()


@pytest.mark.parametrize(("name", "body", "content_type", "status", "says"), HOSTILE, ids=[h[0] for h in HOSTILE])
def test_hostile_bodies_get_a_json_error_that_says_why(api, name, body, content_type, status, says):
    client, _, headers = api
    response = client.post("/v1/recommendations", data=body, headers={**headers, "Content-Type": content_type})
    assert response.status_code == status and says in response.get_json()["error"]["message"], name


def test_a_number_still_reads_as_a_number(api):
    client, _, headers = api
    body = {"findings": [{"id": "HP:0001945", "confidence": 1}], "age": 40, "top_k": 3}
    response = client.post(
        "/v1/recommendations", json=body, headers={**headers, "Content-Type": "application/json; charset=UTF-8"}
    )
    assert response.status_code == 200


def test_search_terms_are_deduplicated_capped_and_prefixed_from_three_letters():
    assert _fts_query("a a a a fever fev") == '"a" "fever"* "fev"*'
    assert _fts_query(" ".join(f"w{i}xx" for i in range(20))).count('"') == 2 * MAX_SEARCH_TERMS


def test_a_search_of_a_hundred_short_words_is_answered(api):
    client, _, headers = api
    assert client.get("/v1/diseases?q=" + "a+" * 100, headers=headers).status_code == 200


def test_an_unwritable_audit_log_refuses_calls_before_they_run(api, monkeypatch):
    client, services, headers = api
    monkeypatch.setattr(services.audit, "writable", lambda: False)
    ready = client.get("/readyz").get_json()
    assert ready["ready"] is False and ready["audit"] is False and "audit_unwritable" in ready["error"]
    note = {"records": [{"id": "unaudited-1", "text": "Fever."}]}
    refused = client.post("/v1/records", json=note, headers=headers)
    assert refused.status_code == 503 and "audit log cannot be written" in refused.get_json()["error"]["message"]
    monkeypatch.undo()
    assert not [n for n in services.store.iter_nodes() if n.label == "Record"], "nothing was ingested"


def test_an_audit_write_that_fails_after_the_call_is_reported_truthfully(api, monkeypatch):
    client, services, headers = api

    def fail(**_):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(services.audit, "write", fail)
    response = client.get("/v1/diseases?q=pneumonia", headers=headers)
    assert response.status_code == 503
    error = response.get_json()["error"]
    assert error["code"] == "audit_failed" and "was carried out" in error["message"]


def test_a_truncated_graph_file_is_a_503_that_says_so(tmp_path):
    app, services = ranking_graph_app(tmp_path)
    try:
        token = services.keys.create("clinic", ["read"])[1]
        client = app.test_client()
        path = services.store.path
        path.write_bytes(path.read_bytes()[:4096])
        answer = client.get("/v1/diseases?q=pneumonia", headers={"X-API-Key": token})
        assert answer.status_code == 503 and answer.get_json()["error"]["code"] == "store_error"
        ready = client.get("/readyz")
        assert ready.status_code == 503 and str(tmp_path) not in (ready.get_json()["error"] or "")
    finally:
        services.close()


def test_a_graph_file_replaced_underneath_makes_the_worker_unready_and_refuses_writes(tmp_path):
    app, services = ranking_graph_app(tmp_path)
    try:
        token = services.keys.create("clinic", ["read", "ingest"])[1]
        client = app.test_client()
        path = services.store.path
        fresh = path.with_name("rebuilt.sqlite")
        fresh.write_bytes(path.read_bytes())
        fresh.replace(path)
        ready = client.get("/readyz")
        assert ready.status_code == 503 and "replaced or removed" in ready.get_json()["error"]
        note = {"records": [{"id": "after-swap", "text": "Fever and cough."}]}
        refused = client.post("/v1/records", json=note, headers={"X-API-Key": token})
        assert refused.status_code == 503 and "nothing was written" in refused.get_json()["error"]["message"]
    finally:
        services.close()


def test_log_lines_are_json_with_the_route_template_and_no_query_or_path_values(api):
    client, _, headers = api
    stream = io.StringIO()
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    configure_logging("INFO", stream=stream)
    try:
        client.get("/v1/diseases/OMIM:154700/related?limit=3", headers=headers)
        client.get("/v1/diseases?q=zqxj-secret-query", headers=headers)
    finally:
        root.handlers[:], level = saved
        root.setLevel(level)
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    requests = [line for line in lines if "route" in line]
    assert [r["route"] for r in requests] == ["/v1/diseases/<curie>/related", "/v1/diseases"]
    assert all({"time", "level", "request_id", "status", "ms", "key_id"} <= set(r) for r in requests)
    assert "zqxj" not in stream.getvalue() and "154700" not in stream.getvalue()
