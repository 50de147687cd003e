"""FHIR R4 input and the CDS Hooks service over the test graph, through HTTP with every answer checked against
the OpenAPI document; errors are OperationOutcomes (FHIR) or the CDS Hooks statuses, never a 500."""

from __future__ import annotations

import json
import logging
import time

import jwt
import pytest

from tests import fhir_examples as fx
from tests.api_app import ranking_graph_app

SECRET = "a-shared-secret-of-at-least-32-bytes!!"
FEVER = [("8310-5", "H", "HP:0001945"), ("8310-5", "N", "HP:0001945")]
MARKER = "ZQXJ-unique-marker-8812"


@pytest.fixture(scope="module")
def api(tmp_path_factory):
    env = {"CDSS_CDS_HOOKS_JWT_SECRET": SECRET, "CDSS_CDS_HOOKS_ISSUERS": "https://ehr.example.org"}
    app, services = ranking_graph_app(tmp_path_factory.mktemp("fhir-api"), env=env, loinc2hpo=FEVER)
    key = services.keys.create("ehr", ["read"])[1]
    yield app, services, {"Authorization": f"Bearer {key}"}
    services.close()


@pytest.fixture(scope="module")
def client(api):
    return api[0].test_client()


def _fhir(client, headers, bundle, **query):
    path = "/v1/fhir/recommendations" + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")
    data = bundle if isinstance(bundle, bytes | str) else json.dumps(bundle)
    return client.post(path, data=data, headers={**headers, "Content-Type": "application/fhir+json"})


def test_a_bundle_ranks_like_the_same_case_sent_as_json(api, client):
    _, _, headers = api
    bundle = fx.collection(fx.patient(), *fx.pneumonia_findings(), fx.note("n1", "Three days of productive cough."))
    answer = _fhir(client, headers, bundle, top_k=5)
    assert answer.status_code == 200, answer.get_json()
    body = answer.get_json()
    as_json = {
        "text": "Three days of productive cough.",
        "findings": [
            {"id": "HP:0001945"},
            {"id": "HP:0012735"},
            {"id": "HP:0002094"},
            {"id": "HP:0000988", "status": "absent"},
        ],
        "age": 51,
        "sex": "male",
        "top_k": 5,
    }
    same = client.post("/v1/recommendations", json=as_json, headers=headers).get_json()
    assert [d["id"] for d in body["diagnoses"]] == [d["id"] for d in same["diagnoses"]]
    assert body["diagnoses"][0]["id"] == "DOID:552"
    roles = {u["resource"]: u["as"] for u in body["fhir"]["used"]}
    assert roles["Observation/temp"] == "finding present" and roles["Patient/1288992"] == "patient"


@pytest.mark.parametrize(
    ("bundle", "status", "expression", "text"),
    [
        (fx.collection({"resourceType": "Foo"}), 422, "Bundle.entry[0].resource", "'Foo' is not a FHIR resource type"),
        (
            fx.collection({"resourceType": "Condition", "code": {"text": "x"}}),
            422,
            "Bundle.entry[0].resource",
            "subject",
        ),
        ({"resourceType": "Patient", "id": "x"}, 422, "body.resourceType", "Bundle"),
        ("{not json", 422, None, "not valid JSON"),
        (b"{" + b" " * (11 * 1024 * 1024) + b"}", 413, None, "bytes this server accepts"),
    ],
)
def test_bad_fhir_input_is_an_operation_outcome(api, client, bundle, status, expression, text):
    response = _fhir(client, api[2], bundle)
    assert response.status_code == status and response.mimetype == "application/fhir+json"
    outcome = response.get_json()
    assert outcome["resourceType"] == "OperationOutcome"
    issues = outcome["issue"]
    assert any(text in i["diagnostics"] for i in issues), issues
    if expression:
        assert any(expression in e for i in issues for e in i.get("expression", [])), issues


def test_the_discovery_document_lists_both_services_with_their_prefetch(client):
    services = {s["id"]: s for s in client.get("/cds-services").get_json()["services"]}
    assert services["cdss-differential"]["hook"] == "patient-view"
    assert services["cdss-treatment-check"]["hook"] == "order-select"
    assert services["cdss-differential"]["prefetch"]["patient"] == "Patient/{{context.patientId}}"


def _prefetch(*extra: dict) -> dict:
    return {
        "patient": fx.patient(),
        "observations": fx.searchset(*fx.pneumonia_findings()),
        "conditions": None,
        "allergies": fx.searchset(*extra),
    }


def test_patient_view_cards_carry_the_differential_evidence_and_suggestions(api, client):
    response = client.post("/cds-services/cdss-differential", json=fx.patient_view(_prefetch()), headers=api[2])
    assert response.status_code == 200, response.get_json()
    cards = response.get_json()["cards"]
    differential = cards[0]
    assert differential["summary"].startswith("Differential: pneumonia") and len(differential["summary"]) < 140
    assert "not a diagnosis" in differential["detail"] and "log-LR" in differential["detail"]
    assert differential["source"]["label"].startswith("cdss, graph ")
    assert differential["links"][0]["type"] == "absolute"
    treatments = next(c for c in cards if c.get("suggestions"))
    action = treatments["suggestions"][0]["actions"][0]
    assert action["type"] == "create" and action["resource"]["resourceType"] == "MedicationRequest"
    assert treatments["selectionBehavior"] == "any"
    again = client.post("/cds-services/cdss-differential", json=fx.patient_view(_prefetch()), headers=api[2])
    assert [c["uuid"] for c in again.get_json()["cards"]] == [c["uuid"] for c in cards]


def test_a_cant_miss_diagnosis_gives_a_warning(api, client):
    lung = fx.observation("cons", {"text": "Pulmonary consolidation"})
    prefetch = {"patient": fx.patient(), "observations": fx.searchset(lung, *fx.pneumonia_findings()[1:3])}
    cards = client.post("/cds-services/cdss-differential", json=fx.patient_view(prefetch), headers=api[2])
    warnings = [c for c in cards.get_json()["cards"] if c["indicator"] == "warning"]
    assert any(c["summary"].startswith("Can't miss: Rare lung disease") for c in warnings)


def test_order_select_warns_of_an_allergy_and_confirms_an_indication(api, client):
    allergy = {
        "resourceType": "AllergyIntolerance",
        "id": "a1",
        "patient": {"reference": "Patient/1288992"},
        "code": {"text": "Penicillin"},
    }
    amoxicillin = {"text": "Amoxicillin 500 mg tablet"}
    cards = client.post(
        "/cds-services/cdss-treatment-check", json=fx.order_select(_prefetch(allergy), amoxicillin), headers=api[2]
    ).get_json()["cards"]
    assert cards[0]["indicator"] == "warning" and "allergy" in cards[0]["summary"]
    doxycycline = fx.coded(fx.RXNORM, "3640", "Doxycycline")
    cards = client.post(
        "/cds-services/cdss-treatment-check", json=fx.order_select(_prefetch(), doxycycline), headers=api[2]
    ).get_json()["cards"]
    assert cards[0]["indicator"] == "info" and cards[0]["summary"].startswith("Doxycycline is an option for pneumonia")


def test_cds_hooks_errors_follow_the_spec(api, client):
    headers = api[2]
    missing = client.post("/cds-services/cdss-differential", json=fx.patient_view(None), headers=headers)
    assert missing.status_code == 412 and "does not fetch" in missing.get_json()["error"]["message"]
    wrong_hook = client.post("/cds-services/cdss-treatment-check", json=fx.patient_view(_prefetch()), headers=headers)
    assert (
        wrong_hook.status_code == 422 and "answers the 'order-select' hook" in wrong_hook.get_json()["error"]["message"]
    )
    unknown = client.post("/cds-services/nope", json=fx.patient_view(_prefetch()), headers=headers)
    assert unknown.status_code == 404
    assert client.post("/cds-services/cdss-differential", json=fx.patient_view(_prefetch())).status_code == 401


def _token(**claims) -> str:
    now = int(time.time())
    base = {
        "iss": "https://ehr.example.org",
        "aud": "http://localhost/cds-services/cdss-differential",
        "iat": now,
        "exp": now + 300,
        "jti": "j1",
    }
    return jwt.encode({**base, **claims}, SECRET, algorithm="HS256")


@pytest.mark.parametrize(
    ("claims", "status", "text"),
    [
        ({}, 200, None),
        ({"exp": int(time.time()) - 3600}, 401, "expired"),
        ({"aud": "https://elsewhere.example.org/cds-services/x"}, 401, "its aud must be"),
        ({"iss": "https://rogue.example.org"}, 401, "is not one this deployment accepts"),
    ],
)
def test_a_cds_client_may_sign_a_jwt_with_the_shared_secret(client, claims, status, text):
    headers = {"Authorization": f"Bearer {_token(**claims)}"}
    response = client.post("/cds-services/cdss-differential", json=fx.patient_view(_prefetch()), headers=headers)
    assert response.status_code == status
    if text:
        assert text in response.get_json()["error"]["message"]


def test_no_record_text_or_patient_identifier_reaches_the_logs(api, client, caplog):
    _, services, headers = api
    bundle = fx.collection(fx.patient(name=[{"family": MARKER}]), fx.note("n1", f"{MARKER} has a cough."))
    prefetch = {"patient": fx.patient(id=MARKER), "notes": fx.searchset(fx.note("n2", f"Seen by {MARKER}."))}
    with caplog.at_level(logging.DEBUG):
        assert _fhir(client, headers, bundle).status_code == 200
        assert _fhir(client, headers, json.dumps(bundle)[:-3]).status_code == 422
        view = fx.patient_view(prefetch, context={"userId": MARKER, "patientId": MARKER})
        assert client.post("/cds-services/cdss-differential", json=view, headers=headers).status_code == 200
    assert caplog.records and MARKER not in caplog.text
    assert MARKER not in services.settings.audit_log.read_text()
