from __future__ import annotations

from flask import Blueprint, g

from api.models import RecordResponse, RecordsRequest, RecordsResponse
from api.operations import operation
from api.services import Services
from nlp.records import RecordInput
from runtime import answers

blueprint = Blueprint("records", __name__, url_prefix="/v1")


@operation(
    blueprint,
    "/records",
    method="POST",
    summary="Ingest records into the graph",
    scope="ingest",
    body=RecordsRequest,
    response=RecordsResponse,
)
def ingest_records(services: Services, body: RecordsRequest) -> dict:
    """Up to 50 records a call. Idempotent by record id: sending a record again replaces its mentions. Ids are
    stored only as keyed hashes and text is not stored unless the deployment turns that on."""
    records = [RecordInput(r.id, r.text) for r in body.records]
    with services.engine_in_use() as engine:
        return answers.ingest(engine, records, settings=services.settings, key_id=g.get("key_id"))


@operation(
    blueprint,
    "/records/<record_id>",
    summary="One ingested record: its mentions and stored text",
    response=RecordResponse,
)
def get_record(services: Services, record_id: str) -> dict:
    """By the id sent at ingest or its `RECORD:` hash. Only the key that ingested a record, or an admin key, can
    read it; to any other key it is not found, exactly as a record that does not exist. The text is the
    de-identified copy, and only where the deployment stores text."""
    with services.engine_in_use() as engine:
        return answers.record_page(
            engine.store,
            services.settings,
            record_id,
            key_id=g.get("key_id"),
            admin="admin" in g.get("key_scopes", ()),
        )
