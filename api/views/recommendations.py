from __future__ import annotations

from flask import Blueprint, g

from api.models import RecommendationRequest, RecommendationResponse
from api.operations import operation
from api.services import Services
from interop.image_input import image_from_base64
from ranking.case import Case
from runtime import answers
from runtime.feedback import learning_case

blueprint = Blueprint("recommendations", __name__, url_prefix="/v1")


@operation(
    blueprint,
    "/recommendations",
    method="POST",
    summary="Ranked differential diagnoses and treatment options for a record",
    body=RecommendationRequest,
    response=RecommendationResponse,
    uploads=True,
)
def recommendations(services: Services, body: RecommendationRequest) -> dict:
    """Free text, structured findings, image-model outputs and images for the hosted models in; diagnoses with
    per-finding contributions and evidence edges (source, version, licence), treatments, next questions, the
    mentions found in the text, what each hosted model read, and the versions that produced them out. Decision
    support for a clinician, never a diagnosis."""
    case = body.to_case()
    images = [
        answers.predict_image(services.image_models, i.model, image_from_base64(i.image, f"images[{n}].image"))[0]
        for n, i in enumerate(body.images)
    ]
    with services.engine_in_use() as engine:
        result = answers.recommend(engine, case, top_k=body.top_k, images=images)
    return kept_for_feedback(services, result, case)


def kept_for_feedback(services: Services, result: dict, case: Case | None) -> dict:
    """The answer with its request id, kept (sealed) so that `POST /v1/feedback` can refer to it."""
    services.feedback.record_answer(
        request_id=g.request_id, key_id=g.get("key_id"), result=result, case=learning_case(case, result)
    )
    return {**result, "request_id": g.request_id}
