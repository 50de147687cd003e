from __future__ import annotations

from flask import Blueprint

from api.models import RecommendationRequest, RecommendationResponse
from api.operations import operation
from api.services import Services
from runtime import answers

blueprint = Blueprint("recommendations", __name__, url_prefix="/v1")


@operation(
    blueprint,
    "/recommendations",
    method="POST",
    summary="Ranked differential diagnoses and treatment options for a record",
    body=RecommendationRequest,
    response=RecommendationResponse,
)
def recommendations(services: Services, body: RecommendationRequest) -> dict:
    """Free text, structured findings and image-model outputs in; diagnoses with per-finding contributions and
    evidence edges (source, version, licence), treatments, next questions, the mentions found in the text and
    the versions that produced them out. Decision support for a clinician, never a diagnosis."""
    case = body.to_case()
    with services.engine_in_use() as engine:
        return answers.recommend(engine, case, top_k=body.top_k)
