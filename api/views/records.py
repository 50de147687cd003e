from __future__ import annotations

from flask import Blueprint

from api.models import RecordsRequest, RecordsResponse
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
        return answers.ingest(engine, records, settings=services.settings)
