from __future__ import annotations

from flask import Blueprint, current_app

from api.models import Health, ModelsResponse, Readiness, StatsResponse
from api.openapi import docs_page, openapi_document
from api.operations import operation
from api.services import Services
from runtime import answers

blueprint = Blueprint("system", __name__)


@operation(blueprint, "/v1/graph/stats", summary="The graph's counts and version", response=StatsResponse)
def graph_stats(services: Services) -> dict:
    """Nodes by label, edges by type and by source, and what each source contributed."""
    with services.engine_in_use() as engine:
        return engine.store.stats().to_dict()


@operation(blueprint, "/v1/models", summary="The loaded models and their metrics", response=ModelsResponse)
def models(services: Services) -> dict:
    """The graph, ranking, NLP and link-model versions, with the link model's training metrics."""
    with services.engine_in_use() as engine:
        return {**answers.loaded_models(engine), "image_models": answers.hosted_image_models(services.image_models)}


@operation(blueprint, "/healthz", summary="Liveness", response=Health, scope=None)
def healthz(services: Services) -> dict:
    """Answers as soon as the process serves requests."""
    return {"status": "ok"}


@operation(
    blueprint,
    "/readyz",
    summary="Readiness: the graph, the NLP pipeline and the models are loaded",
    response=Readiness,
    scope=None,
)
def readyz(services: Services) -> tuple[dict, int]:
    """503 until everything is loaded, or when loading failed (the error says why)."""
    state = services.readiness()
    return state, 200 if state["ready"] else 503


@blueprint.get("/openapi.json")
def openapi() -> dict:
    return openapi_document(current_app)


@blueprint.get("/docs")
def docs() -> str:
    return docs_page(openapi_document(current_app))
