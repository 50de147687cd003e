"""POST /v1/feedback on the real app, and the feedback and learning commands over what it stored."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from cdss.errors import CryptoError, NotFoundError
from cdss.sealing import DataKeyring
from cli import cli
from runtime.learning import feedback_cases
from tests.api_app import ranking_graph_app

BODY = {"findings": [{"id": "HP:0001945"}, {"id": "HP:0012735"}], "top_k": 2}


@pytest.fixture
def api(tmp_path):
    app, services = ranking_graph_app(tmp_path)
    tokens = {
        "clinician": services.keys.create("clinician", ["read", "ingest"])[1],
        "other": services.keys.create("other clinic", ["read", "ingest"])[1],
        "reader": services.keys.create("reader", ["read"])[1],
    }
    yield app.test_client(), services, tokens, tmp_path
    services.close()


def headers(tokens, who="clinician"):
    return {"Authorization": f"Bearer {tokens[who]}"}


def recommend(client, tokens, who="clinician"):
    response = client.post("/v1/recommendations", json=BODY, headers=headers(tokens, who))
    assert response.status_code == 200
    data = response.get_json()
    assert data["request_id"] == response.headers["X-Request-ID"]
    return data


def test_feedback_is_stored_once_with_the_answers_versions_and_audited(api):
    client, services, tokens, _ = api
    answer = recommend(client, tokens)
    top = answer["diagnoses"][0]["id"]
    body = {
        "request_id": answer["request_id"],
        "items": [
            {"diagnosis": top, "verdict": "confirmed", "reason": "Dr. Jonathan Whitfield agreed on 03/14/2025"},
            {"diagnosis": "OMIM:154700", "verdict": "final_diagnosis"},
        ],
    }
    first = client.post("/v1/feedback", json=body, headers=headers(tokens))
    assert first.status_code == 200, first.get_json()
    assert first.get_json()["stored"] == 2 and first.get_json()["versions"] == answer["versions"]
    again = client.post("/v1/feedback", json=body, headers=headers(tokens)).get_json()
    assert (again["stored"], again["duplicates"], again["feedback_ids"]) == (0, 2, first.get_json()["feedback_ids"])
    clinician = next(k.id for k in services.keys.list() if k.name == "clinician")
    rows = list(services.feedback.rows())
    assert len(rows) == 2 and {r.key_id for r in rows} == {clinician}
    reason = next(r.reason for r in rows if r.reason)
    assert "Whitfield" not in reason and "03/14/2025" not in reason and "[NAME]" in reason
    raw = services.feedback.path.read_bytes()
    assert b"Whitfield" not in raw and b"agreed" not in raw
    audited = [json.loads(line) for line in services.settings.audit_log.read_text().splitlines()]
    feedback_lines = [line for line in audited if line["endpoint"] == "/v1/feedback"]
    assert feedback_lines and all(line["key_id"] == clinician for line in feedback_lines)


def test_counting_feedback_unseals_no_reason(api, monkeypatch):
    client, services, tokens, _ = api
    answer = recommend(client, tokens)
    item = {"diagnosis": answer["diagnoses"][0]["id"], "verdict": "confirmed", "reason": "seen in clinic"}
    assert (
        client.post(
            "/v1/feedback", json={"request_id": answer["request_id"], "items": [item]}, headers=headers(tokens)
        ).status_code
        == 200
    )
    stranger = DataKeyring(path=services.feedback.keyring.path, active="other", keys={"other": b"o" * 32})
    monkeypatch.setattr(services.feedback, "keyring", stranger)
    with pytest.raises(CryptoError):
        list(services.feedback.rows())
    assert services.feedback.stats()["by_verdict"]["confirmed"] >= 1


@pytest.mark.parametrize(
    ("item", "message"),
    [
        ({"diagnosis": "OMIM:610168", "verdict": "confirmed"}, "was not among the answer's diagnoses"),
        ({"diagnosis": "HP:0001945", "verdict": "final_diagnosis"}, "is not one known disease"),
        ({"diagnosis": "DOID:552", "verdict": "treatment_given"}, "does not apply to a diagnosis"),
        ({"verdict": "confirmed"}, "either a diagnosis or a treatment"),
    ],
)
def test_feedback_that_does_not_fit_the_answer_is_refused_by_name(api, item, message):
    client, _, tokens, _ = api
    answer = recommend(client, tokens)
    response = client.post(
        "/v1/feedback", json={"request_id": answer["request_id"], "items": [item]}, headers=headers(tokens)
    )
    assert response.status_code == 422 and message in response.get_json()["error"]["message"]


def test_unknown_or_another_keys_answer_reads_as_not_found(api):
    client, _, tokens, _ = api
    item = [{"diagnosis": "DOID:552", "verdict": "rejected"}]
    unknown = client.post("/v1/feedback", json={"request_id": "0" * 32, "items": item}, headers=headers(tokens))
    assert unknown.status_code == 404 and "no answer with request id" in unknown.get_json()["error"]["message"]
    theirs = recommend(client, tokens, "other")
    response = client.post(
        "/v1/feedback", json={"request_id": theirs["request_id"], "items": item}, headers=headers(tokens)
    )
    assert response.status_code == 404 and response.get_json()["error"]["message"] == unknown.get_json()["error"][
        "message"
    ].replace("0" * 32, theirs["request_id"])
    assert (
        client.post(
            "/v1/feedback", json={"request_id": theirs["request_id"], "items": item}, headers=headers(tokens, "reader")
        ).status_code
        == 403
    )


def test_stats_export_learn_and_rollback_read_what_the_api_stored(api, monkeypatch):
    client, services, tokens, folder = api
    for _ in range(12):
        answer = recommend(client, tokens)
        body = {
            "request_id": answer["request_id"],
            "items": [{"diagnosis": "OMIM:100003", "verdict": "final_diagnosis"}],
        }
        assert client.post("/v1/feedback", json=body, headers=headers(tokens)).status_code == 200
    for name in ("CDSS_DATA_DIR", "CDSS_STORE", "CDSS_RECORD_ID_KEY"):
        monkeypatch.setenv(
            name,
            {
                "CDSS_DATA_DIR": str(folder / "data"),
                "CDSS_STORE": services.settings.store,
                "CDSS_RECORD_ID_KEY": "k" * 40,
            }[name],
        )
    runner = CliRunner()
    stats = json.loads(runner.invoke(cli, ["feedback", "stats", "--json"]).output)
    assert stats["feedback"] == 12 and stats["by_verdict"] == {"final_diagnosis": 12} and stats["answers_kept"] == 12
    unanswered = recommend(client, tokens)["request_id"]
    assert "forgot 0 answers" in runner.invoke(cli, ["feedback", "purge", "--older-than", "1"]).output
    assert services.feedback.purge_answers(before="9999") == 1
    with pytest.raises(NotFoundError):
        services.feedback.answer(unanswered)
    exported = runner.invoke(cli, ["feedback", "export"]).output.splitlines()
    assert len(exported) == 12 and json.loads(exported[0])["target"] == "OMIM:100003"
    learned = runner.invoke(cli, ["learn", "--json", "--validation-share", "0.3"])
    assert learned.exit_code == 0, learned.output
    report = json.loads(learned.output)
    assert report["learned_from"] + report["evaluation"]["held_out_cases"] == 12
    status = json.loads(runner.invoke(cli, ["learn", "status", "--json"]).output)
    assert report["candidate"] in status["kept"] and status["current"] == report["in_use"]
    if report["promoted"]:
        rolled = runner.invoke(cli, ["learn", "rollback"])
        assert rolled.exit_code == 0 and "in use now: none" in rolled.output
    nothing = runner.invoke(cli, ["learn", "rollback"])
    assert nothing.exit_code != 0 and "nothing to roll back" in nothing.output


def test_a_final_diagnosis_for_an_ingested_record_becomes_a_labelled_case(api):
    client, services, tokens, _ = api
    note = {"records": [{"id": "visit-7", "text": "Fever and cough for three days. No skin rash."}]}
    assert client.post("/v1/records", json=note, headers=headers(tokens)).status_code == 200
    item = {"diagnosis": "DOID:552", "verdict": "final_diagnosis"}
    given = client.post("/v1/feedback", json={"record_id": "visit-7", "items": [item]}, headers=headers(tokens))
    assert given.status_code == 200 and given.get_json()["stored"] == 1
    cases = feedback_cases(services.feedback, services.store)
    assert [c.diseases for c in cases] == [frozenset({"DOID:552"})]
    assert dict(cases[0].observations) == {"HP:0001945": 1.0, "HP:0012735": 1.0, "HP:0000988": 0.0}
    theirs = client.post(
        "/v1/feedback", json={"record_id": "visit-7", "items": [item]}, headers=headers(tokens, "other")
    )
    assert theirs.status_code == 404 and "that this API key may read" in theirs.get_json()["error"]["message"]
    wrong = {"diagnosis": "DOID:552", "verdict": "confirmed"}
    refused = client.post("/v1/feedback", json={"record_id": "visit-7", "items": [wrong]}, headers=headers(tokens))
    assert (
        refused.status_code == 422
        and "feedback on a record is a final_diagnosis" in refused.get_json()["error"]["message"]
    )
