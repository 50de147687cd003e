"""The Flask API over a hand-built graph with the real engine and NLP pipeline: auth, errors, privacy, schema."""

from __future__ import annotations

import json
import logging

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from api import create_app
from api.limits import RateLimiter
from cdss.settings import load_settings
from tests.api_app import ranking_graph_app
from tests.openapi_check import OpenApiCheckedClient, check_answer, documented_response
from tests.ranking_graph import MARFAN_FEATURES

MARKER = "ZQXJ-unique-marker-4417"


@pytest.fixture(scope="module")
def api(tmp_path_factory):
    app, services = ranking_graph_app(tmp_path_factory.mktemp("api"))
    keys = {scope: services.keys.create(f"test {scope}", [scope])[1] for scope in ("read", "ingest", "admin")}
    yield app, services, keys
    services.close()


@pytest.fixture(scope="module")
def client(api):
    return api[0].test_client()


def auth(api, scope: str = "read") -> dict:
    return {"Authorization": f"Bearer {api[2][scope]}"}


def error_of(response) -> dict:
    assert response.mimetype == "application/json"
    return response.get_json()["error"]


def test_health_is_public_and_readiness_reports_the_loaded_parts(client):
    assert client.get("/healthz").get_json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.get_json() | {"error": None} == {
        "ready": True,
        "graph": True,
        "engine": True,
        "nlp": True,
        "audit": True,
        "error": None,
    }


def test_readiness_is_false_until_the_graph_is_loaded(tmp_path):
    env = {"CDSS_DATA_DIR": str(tmp_path), "CDSS_STORE": str(tmp_path / "nothing.sqlite"), "CDSS_API_NLP": "0"}
    app = create_app(load_settings(env), background=False)
    app.test_client_class = OpenApiCheckedClient
    client = app.test_client()
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.get_json()["ready"] is False and "nothing.sqlite" in response.get_json()["error"]
    assert str(tmp_path) not in response.get_json()["error"], "no path in a body that needs no key"
    key = app.extensions["cdss"].keys.create("t", ["read"])[1]
    down = client.get("/v1/graph/stats", headers={"X-API-Key": key})
    assert down.status_code == 503 and error_of(down)["code"] == "not_ready"


def test_every_v1_endpoint_needs_a_valid_key_with_the_right_scope(api, client):
    missing = client.get("/v1/diseases?q=pneumonia")
    assert missing.status_code == 401 and "API key is required" in error_of(missing)["message"]
    forged = client.get("/v1/diseases?q=pneumonia", headers={"X-API-Key": "cdss_000000000000_forged"})
    assert forged.status_code == 401
    assert client.get("/v1/diseases?q=pneumonia", headers={"X-API-Key": api[2]["read"]}).status_code == 200
    body = {"records": [{"id": "r1", "text": "Fever."}]}
    denied = client.post("/v1/records", json=body, headers=auth(api, "read"))
    assert denied.status_code == 403 and "'ingest' scope" in error_of(denied)["message"]


def test_a_revoked_key_stops_working(api, client):
    services = api[1]
    key, token = services.keys.create("short-lived", ["read"])
    assert client.get("/v1/graph/stats", headers={"X-API-Key": token}).status_code == 200
    services.keys.revoke(key.id)
    response = client.get("/v1/graph/stats", headers={"X-API-Key": token})
    assert response.status_code == 401 and "revoked" in error_of(response)["message"]
    assert all(token not in json.dumps(k.to_dict()) for k in services.keys.list())


def test_recommendations_carry_evidence_versions_and_the_notice(api, client):
    body = {
        "findings": [{"id": "HP:0001945"}, {"id": "HP:0012735"}, {"id": "HP:0000988", "status": "absent"}],
        "image_findings": [
            {"label": "Consolidation", "probability": 0.91, "model": "chexnet"},
            {"label": "Not a CheXpert label", "probability": 0.5, "model": "chexnet"},
        ],
        "top_k": 3,
    }
    response = client.post("/v1/recommendations", json=body, headers=auth(api))
    assert response.status_code == 200, response.get_json()
    data = response.get_json()
    assert "not a diagnosis" in data["notice"]
    assert data["diagnoses"][0]["id"] in {"DOID:552", "ORPHA:300"}
    evidence = [e for d in data["diagnoses"] for c in d["contributions"] for e in c.get("evidence", [])]
    assert evidence and all({"source", "version", "license"} <= set(e) for e in evidence)
    assert data["unknown_image_labels"] == ["Not a CheXpert label"]
    assert data["versions"]["graph"] and data["versions"]["nlp"]
    assert response.headers["X-Request-ID"]


def test_text_is_read_with_assertions_and_offsets(api, client):
    text = "Cough and fever for three days. No skin rash."
    data = client.post("/v1/recommendations", json={"text": text}, headers=auth(api)).get_json()
    found = {(m["concept_id"], m["assertion"]) for m in data["mentions"]}
    assert ("HP:0001945", "present") in found and ("HP:0000988", "negated") in found
    fever = next(m for m in data["mentions"] if m["concept_id"] == "HP:0001945")
    assert text[fever["start"] : fever["end"]].lower() == "fever"


def test_a_measured_value_reaches_the_client_with_its_reading(api, client):
    text = "Temperature 36.9 C. Cough."
    data = client.post("/v1/recommendations", json={"text": text}, headers=auth(api)).get_json()
    [measured] = [m for m in data["mentions"] if m["method"] == "measurement"]
    assert (measured["concept_id"], measured["assertion"]) == ("HP:0001945", "negated"), "normal: fever absent"
    reading = measured["measurement"]
    assert (reading["value"], reading["unit"], reading["outcome"]) == (36.9, "°C", "normal")
    assert reading["range"] == "35.0-37.9 °C" and "CDC" in reading["range_source"]


def test_bad_input_gets_a_json_error_that_names_the_field_without_echoing_it(api, client):
    bad = client.post(
        "/v1/recommendations", json={"findings": [{"id": f"not a curie {MARKER}"}], "top_k": 0}, headers=auth(api)
    )
    assert bad.status_code == 422
    error = error_of(bad)
    assert "findings.0.id" in error["message"] and "top_k" in error["message"]
    assert MARKER not in bad.get_data(as_text=True)
    unknown = client.post("/v1/recommendations", json={"finding": []}, headers=auth(api))
    assert unknown.status_code == 422 and "finding" in error_of(unknown)["message"]
    nothing = client.post("/v1/recommendations", json={}, headers=auth(api))
    assert nothing.status_code == 422 and "nothing to rank" in error_of(nothing)["message"]
    unknown_curie = client.post("/v1/recommendations", json={"findings": [{"id": "HP:9999999"}]}, headers=auth(api))
    assert unknown_curie.status_code == 422


def test_a_request_is_checked_once_by_its_model_and_the_shared_case_rules(api, client):
    blank = client.post(
        "/v1/recommendations", json={"findings": [{"id": "HP:0001945"}], "medications": [" "]}, headers=auth(api)
    )
    assert blank.status_code == 422 and "medications.0" in error_of(blank)["message"]
    label = {"findings": [{"id": "HP:0001945"}], "image_findings": [{"label": "  ", "probability": 0.5}]}
    unlabelled = client.post("/v1/recommendations", json=label, headers=auth(api))
    assert unlabelled.status_code == 422 and "image_findings.0.label" in error_of(unlabelled)["message"]
    both = {"findings": [{"id": "hp:0001945"}, {"id": "HP:0001945", "status": "absent"}]}
    contradiction = client.post("/v1/recommendations", json=both, headers=auth(api))
    assert contradiction.status_code == 422
    assert "HP:0001945 both present and absent" in error_of(contradiction)["message"], "CURIEs are normalised first"


def test_genes_are_ranked_on_and_an_unknown_gene_is_reported_back_not_dropped(api, client):
    body = {
        "findings": [{"id": f} for f in MARFAN_FEATURES],
        "genes": ["FBN1", {"gene": "NOTAGENE1", "acmg": "pathogenic"}],
        "top_k": 3,
    }
    data = client.post("/v1/recommendations", json=body, headers=auth(api)).get_json()
    first = data["diagnoses"][0]
    assert (first["id"], first["genotype"]["symbol"], first["genotype"]["acmg"]) == (
        "OMIM:154700",
        "FBN1",
        "likely_pathogenic",
    )
    assert first["genotype"]["evidence"][0]["source"] == "hpo_genes"
    assert data["genes"] == [{"input": "FBN1", "id": "NCBIGene:2200", "symbol": "FBN1", "acmg": "likely_pathogenic"}]
    assert data["unknown_genes"] == ["NOTAGENE1"]
    assert "genes not in the graph, not used: NOTAGENE1" in data["notes"]
    only_unknown = client.post("/v1/recommendations", json={"genes": ["NOTAGENE1"]}, headers=auth(api))
    assert only_unknown.status_code == 422
    assert "genes not in the graph: NOTAGENE1" in error_of(only_unknown)["message"]


@pytest.mark.parametrize(
    ("genes", "field"),
    [
        ([{"gene": "FBN1", "acmg": "VUS"}], "genes.0.object.acmg"),
        ([{"gene": "FBN1", "zygosity": "heterozygous"}], "genes.0.object.zygosity"),
        (["FBN1", 2200], "genes.1.symbol"),
        (["TGF BR2"], "genes.0.symbol"),
        (["FBN1"] * 101, "genes"),
        (["HP:0001083"], "genes[0]: 'HP:0001083' is a Finding, not a gene"),
    ],
)
def test_bad_genes_get_an_error_naming_the_field(api, client, genes, field):
    body = {"findings": [{"id": "HP:0001166"}], "genes": genes}
    response = client.post("/v1/recommendations", json=body, headers=auth(api))
    assert response.status_code == 422 and field in error_of(response)["message"]


def test_transport_errors_are_json_too(api, client):
    not_json = client.post("/v1/recommendations", data="fever", content_type="text/plain", headers=auth(api))
    assert not_json.status_code == 415 and error_of(not_json)["code"] == "unsupported_media_type"
    broken = client.post("/v1/recommendations", data="{", content_type="application/json", headers=auth(api))
    assert broken.status_code == 422 and "not valid JSON" in error_of(broken)["message"]
    records = {"records": [{"id": "r", "text": "x" * 1_100_000}]}
    too_big = client.post("/v1/records", json=records, headers=auth(api, "ingest"))
    assert too_big.status_code == 413 and error_of(too_big)["code"] == "payload_too_large"
    image_sized = client.post("/v1/recommendations", json={"text": "x" * 17_000_000}, headers=auth(api))
    assert image_sized.status_code == 413, "a body that may carry images has the image limit (16 MB)"
    assert error_of(client.get("/v1/nowhere", headers=auth(api)))["code"] == "not_found"
    wrong = client.delete("/v1/recommendations", headers=auth(api))
    assert wrong.status_code == 405 and "POST" in wrong.headers["Allow"]


def test_a_crash_answers_500_with_a_request_id_and_no_traceback(api, client, monkeypatch, caplog):
    def explode():
        raise RuntimeError(f"internal detail {MARKER}")

    monkeypatch.setattr(api[1].engine.store, "stats", explode)
    with caplog.at_level(logging.DEBUG):
        response = client.get("/v1/graph/stats", headers=auth(api))
    assert response.status_code == 500
    body = response.get_data(as_text=True)
    assert "Traceback" not in body and MARKER not in body
    assert error_of(response)["request_id"] == response.headers["X-Request-ID"]
    assert "RuntimeError" in caplog.text and MARKER not in caplog.text


def test_rate_limit_per_key_answers_429_with_retry_after(api, client, monkeypatch):
    monkeypatch.setattr(api[1], "limiter", RateLimiter(2))
    statuses = [client.get("/v1/graph/stats", headers=auth(api)).status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
    limited = client.get("/v1/graph/stats", headers=auth(api))
    assert int(limited.headers["Retry-After"]) >= 1
    assert client.get("/v1/graph/stats", headers=auth(api, "admin")).status_code == 200, "other keys unaffected"


def test_search_finds_by_name_and_by_code(api, client):
    by_name = client.get("/v1/diseases?q=pneumonia&limit=5", headers=auth(api)).get_json()
    assert "DOID:552" in [r["id"] for r in by_name["results"]]
    by_code = client.get("/v1/diseases?q=UMLS:C0032285", headers=auth(api)).get_json()
    assert by_code["results"][0]["id"] == "DOID:552"
    assert client.get("/v1/findings?q=cough", headers=auth(api)).get_json()["results"][0]["id"] == "HP:0012735"
    assert client.get("/v1/drugs?q=amoxicillin", headers=auth(api)).get_json()["results"][0]["name"] == "Amoxicillin"
    empty = client.get("/v1/diseases?q=", headers=auth(api))
    assert empty.status_code == 422 and "q" in error_of(empty)["message"]


def test_a_disease_lists_its_findings_and_treatments_with_provenance(api, client):
    data = client.get("/v1/diseases/DOID:552", headers=auth(api)).get_json()
    assert data["disease"]["name"] == "pneumonia" and "UMLS:C0032285" in data["codes"]
    assert {"HP:0001945", "HP:0012735"} <= {f["id"] for f in data["findings"]}
    assert data["treatments"] and all(t["license"] and t["source_version"] for t in data["treatments"])
    assert client.get("/v1/diseases/DOID:0000000", headers=auth(api)).status_code == 404
    related = client.get("/v1/diseases/DOID:552/related?limit=3", headers=auth(api)).get_json()
    assert related["related"] and all(r["why"] for r in related["related"])


def test_records_are_ingested_idempotently_under_hashed_ids(api, client):
    body = {"records": [{"id": "MRN-12345", "text": "Fever and cough. No rash."}]}
    first = client.post("/v1/records", json=body, headers=auth(api, "ingest")).get_json()
    again = client.post("/v1/records", json=body, headers=auth(api, "ingest")).get_json()
    assert (first["new"], again["new"], again["replaced"]) == (1, 0, 1)
    assert first["record_ids"] == again["record_ids"] and "MRN-12345" not in first["record_ids"][0]
    twice = {"records": [{"id": "a", "text": "x"}, {"id": "a", "text": "y"}]}
    assert client.post("/v1/records", json=twice, headers=auth(api, "ingest")).status_code == 422


def test_record_text_and_ids_never_reach_the_logs(api, client, caplog):
    settings_ = api[1].settings
    note = f"Patient {MARKER} has fever and cough; no rash."
    with caplog.at_level(logging.DEBUG):
        client.post("/v1/recommendations", json={"text": note}, headers=auth(api))
        client.post("/v1/records", json={"records": [{"id": MARKER, "text": note}]}, headers=auth(api, "ingest"))
        client.post("/v1/recommendations", json={"text": note, "top_k": 1000}, headers=auth(api))
        client.post("/v1/recommendations", data=note, content_type="application/json", headers=auth(api))
    assert caplog.records, "the requests were logged"
    assert MARKER not in caplog.text
    audit = settings_.audit_log.read_text()
    assert MARKER not in audit
    last = json.loads(audit.strip().splitlines()[-1])
    assert {"time", "key_id", "endpoint", "input_hmac_sha256", "versions", "returned_ids"} <= set(last)


def test_cors_is_off_unless_configured(api, client):
    response = client.get("/healthz", headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in response.headers


def test_the_openapi_document_describes_every_route(api, client):
    document = client.get("/openapi.json").get_json()
    assert document["openapi"].startswith("3.1")
    routes = {
        rule.rule.replace("<", "{").replace(">", "}")
        for rule in api[0].url_map.iter_rules()
        if rule.endpoint not in ("static", "web.static", "web.page") and rule.rule not in ("/openapi.json", "/docs")
    }
    assert routes == set(document["paths"])
    assert document["paths"]["/v1/records"]["post"]["x-required-scope"] == "ingest"
    page = client.get("/docs").get_data(as_text=True)
    assert all(path in page for path in document["paths"])


def test_the_test_client_refuses_an_answer_or_a_status_the_document_does_not_describe(api, client):
    """The check every other API test relies on: it fails on a wrong field, a wrong type, or an unlisted status."""
    document = client.get("/openapi.json").get_json()
    sent = client.post("/v1/recommendations", json={"findings": [{"id": "HP:0001945"}]}, headers=auth(api))
    assert sent.status_code == 200
    answer = sent.get_json()
    ok = documented_response(document, "/v1/recommendations", "POST", 200)
    check_answer(document, ok, answer, "kept")
    for broken in ({k: v for k, v in answer.items() if k != "diagnoses"}, {**answer, "diagnoses": "none"}):
        with pytest.raises(AssertionError, match="breaks its OpenAPI schema"):
            check_answer(document, ok, broken, "broken")
    with pytest.raises(AssertionError, match="does not list"):
        documented_response(document, "/v1/recommendations", "POST", 418)
    assert documented_response(document, "/not/documented", "GET", 200) is None


def test_generated_requests_conform_to_the_schema(api, client):
    """Over a thousand generated requests across every operation: none crashes, each answers as documented.

    Drives schemathesis's strategies with hypothesis directly (its pytest plugin does not run under pytest 9).
    """
    document = client.get("/openapi.json").get_json()
    schema = schemathesis.openapi.from_wsgi("/openapi.json", api[0])
    headers = {**auth(api, "admin"), "X-API-Key": api[2]["admin"]}
    # Known credentials: schemathesis sends them instead of generating its own.
    schema.config.update(headers=headers)
    # A request can fit the schema and still be unusable (unknown concepts, nothing to rank): that is a 422.
    acceptance = schema.config.checks.positive_data_acceptance
    acceptance.expected_statuses = [*acceptance.expected_statuses, "422"]
    sent = []
    for result in schema.get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy())
        @settings(max_examples=160, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
        def check(case):
            sent.append(case.operation.label)
            case.call_and_validate(headers=headers)

        check()
    assert len(sent) >= 1000
    assert len(set(sent)) == sum(len(methods) for methods in document["paths"].values())


def test_keys_are_managed_from_the_command_line_and_stored_as_hashes(isolated_env):
    from click.testing import CliRunner

    from cli import cli

    runner = CliRunner()
    created = runner.invoke(cli, ["keys", "create", "ward 7 EHR", "--scope", "read", "--scope", "ingest"])
    assert created.exit_code == 0, created.output
    token = created.stdout.strip().splitlines()[-1]
    key_id = token.split("_")[1]
    listed = runner.invoke(cli, ["keys", "list", "--json"])
    assert json.loads(listed.stdout)[0] | {"created": None} == {
        "id": key_id,
        "name": "ward 7 EHR",
        "scopes": ["read", "ingest"],
        "created": None,
        "revoked": None,
    }
    database = (isolated_env / "api_keys.sqlite").read_bytes()
    assert token.split("_", 2)[2].encode() not in database, "the secret (which may hold underscores) is not stored"
    assert runner.invoke(cli, ["keys", "revoke", key_id]).exit_code == 0
    assert json.loads(runner.invoke(cli, ["keys", "list", "--json"]).stdout)[0]["revoked"]
    missing = runner.invoke(cli, ["keys", "revoke", "nope"])
    assert missing.exit_code != 0 and "no API key with id 'nope'" in missing.output
    bad = runner.invoke(cli, ["keys", "create", "x", "--scope", "root"])
    assert bad.exit_code != 0


def test_a_store_that_goes_away_makes_readiness_false_and_calls_503(api, client, monkeypatch):
    from cdss.errors import StoreError

    store = api[1].store

    def unavailable(*_, **__):
        raise StoreError(f"Neo4j at {store.location} is unavailable: connection refused")

    monkeypatch.setattr(store, "ping", lambda: False)
    monkeypatch.setattr(store, "stats", unavailable)
    ready = client.get("/readyz")
    assert ready.status_code == 503 and "does not answer" in ready.get_json()["error"]
    assert store.location not in ready.get_json()["error"]
    down = client.get("/v1/graph/stats", headers=auth(api))
    assert down.status_code == 503 and error_of(down)["code"] == "store_error"
    assert store.location in error_of(down)["message"]
    monkeypatch.undo()
    assert client.get("/readyz").status_code == 200, "ready again once the store answers"


def test_a_graph_rebuilt_underneath_makes_the_worker_unready_until_reloaded(api, client):
    store = api[1].store
    loaded = store.graph_version
    store.set_meta({"graph_version": "rebuilt-elsewhere"})
    try:
        ready = client.get("/readyz")
        assert ready.status_code == 503 and "rebuilt-elsewhere" in ready.get_json()["error"]
    finally:
        store.set_meta({"graph_version": loaded})
    assert client.get("/readyz").status_code == 200
