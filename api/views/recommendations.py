from __future__ import annotations

from flask import Blueprint

from api.models import RecommendationRequest, RecommendationResponse
from api.operations import operation
from api.services import Services
from interop.image_input import image_from_base64
from runtime import answers

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
        return answers.recommend(engine, case, top_k=body.top_k, images=images)
