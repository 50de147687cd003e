from __future__ import annotations

from flask import Blueprint, g

from api.feedback_models import FeedbackRequest, FeedbackResponse
from api.operations import operation
from api.services import Services
from runtime.feedback import give_feedback

blueprint = Blueprint("feedback", __name__, url_prefix="/v1")


@operation(
    blueprint,
    "/feedback",
    method="POST",
    summary="Say which suggestions were right: confirmed, rejected, final diagnosis, treatment given or declined",
    scope="ingest",
    body=FeedbackRequest,
    response=FeedbackResponse,
)
def feedback(services: Services, body: FeedbackRequest) -> dict:
    """Feedback on a recommendation (its request_id) or on an ingested record (a final diagnosis). Sending the
    same feedback again stores nothing new. Reasons are de-identified and sealed before they are stored; the
    audit log records which key gave it. `cdss learn` learns from confirmed and final diagnoses."""
    with services.engine_in_use() as engine:
        return give_feedback(
            services.feedback,
            engine.store,
            body.model_dump(),
            key_id=g.get("key_id"),
            admin="admin" in g.get("key_scopes", ()),
            settings=services.settings,
            versions=engine.versions,
        )
