"""Clinician feedback on an answer or a record: checked against what was answered, then stored."""

from __future__ import annotations

from cdss.errors import InputError, NotFoundError
from cdss.settings import Settings
from cdss.types import NodeLabel
from kg.lookup import resolve
from kg.store import GraphStore
from learning.feedback_store import OPEN_VERDICTS, FeedbackItem, FeedbackStore, StoredAnswer, check_item
from ranking.case import Case
from runtime.answers import visible_record

KINDS = {"diagnosis": NodeLabel.DISEASE, "treatment": NodeLabel.DRUG}
PLURALS = {"diagnosis": "diagnoses", "treatment": "treatments"}


def learning_case(case: Case | None, result: dict) -> dict:
    """What learning needs of a case: the observations the ranking used (finding ids and probabilities), age,
    sex and setting when the case is at hand (a FHIR answer keeps its observations only); never its text."""
    observations = [{"finding": o["finding"], "probability": o["probability"]} for o in result.get("observations", [])]
    case = case or Case()
    return {"observations": observations, "age": case.age, "sex": case.sex, "setting": case.setting}


def _known(store: GraphStore, curie: str, kind: str, where: str) -> str:
    try:
        matches = [c for c, _ in resolve(store, curie) if c.label == KINDS[kind]]
    except NotFoundError:
        matches = []
    if len(matches) != 1:
        raise InputError(f"{where}: {curie!r} is not one known {KINDS[kind].value.lower()} of this graph")
    return matches[0].id


def _items(raw: list[dict], store: GraphStore, answer: StoredAnswer | None) -> list[FeedbackItem]:
    items = []
    for n, item in enumerate(raw):
        where = f"items[{n}]"
        kinds = [k for k in KINDS if item.get(k)]
        if len(kinds) != 1:
            raise InputError(f"{where}: name either a diagnosis or a treatment, not {' and '.join(kinds) or 'neither'}")
        kind = kinds[0]
        parsed = FeedbackItem(item[kind], kind, item["verdict"], item.get("reason") or None)
        check_item(parsed, where)
        if answer is None and parsed.verdict != "final_diagnosis":
            raise InputError(f"{where}: feedback on a record is a final_diagnosis; got {parsed.verdict!r}")
        if answer is not None and parsed.verdict not in OPEN_VERDICTS:
            listed = answer.diagnoses if kind == "diagnosis" else answer.treatments
            if parsed.target not in listed:
                raise InputError(
                    f"{where}: {parsed.target!r} was not among the answer's {PLURALS[kind]}; "
                    + ("use final_diagnosis for one it did not list" if kind == "diagnosis" else "use treatment_given")
                )
            items.append(parsed)
        else:
            items.append(FeedbackItem(_known(store, parsed.target, kind, where), kind, parsed.verdict, parsed.reason))
    return items


def give_feedback(
    feedback: FeedbackStore,
    store: GraphStore,
    body: dict,
    *,
    key_id: str | None,
    admin: bool,
    settings: Settings,
    versions: dict,
) -> dict:
    """Store feedback on one answer (by request id) or one ingested record (by its id); a key gives feedback on
    its own answers and records only, unless it is an admin key, and anything else reads as not found."""
    request_id, record_id = body.get("request_id"), body.get("record_id")
    if (request_id is None) == (record_id is None):
        raise InputError("give either request_id (a recommendation) or record_id (an ingested record)")
    if request_id is not None:
        answer = feedback.answer(request_id)
        if not admin and answer.key_id != key_id:
            raise NotFoundError(
                f"no answer with request id {request_id!r}: feedback refers to a recommendation's X-Request-ID"
            )
        stored = feedback.add(
            _items(body["items"], store, answer), key_id=key_id, versions=answer.versions, request_id=request_id
        )
        answer_versions = answer.versions
    else:
        node = visible_record(store, settings, record_id, key_id=key_id, admin=admin)
        stored = feedback.add(_items(body["items"], store, None), key_id=key_id, versions=versions, record_node=node.id)
        answer_versions = versions
    return {
        "stored": sum(new for _, new in stored),
        "duplicates": sum(not new for _, new in stored),
        "feedback_ids": [i for i, _ in stored],
        "versions": answer_versions,
    }
