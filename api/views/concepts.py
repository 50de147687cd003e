from __future__ import annotations

from flask import Blueprint

from api.models import DiseaseResponse, RelatedQuery, RelatedResponse, SearchQuery, SearchResponse
from api.operations import operation
from api.services import Services
from cdss.types import NodeLabel
from runtime import answers

blueprint = Blueprint("concepts", __name__, url_prefix="/v1")


@operation(
    blueprint,
    "/diseases/<curie>",
    summary="One disease: codes, findings, treatments, provenance",
    response=DiseaseResponse,
)
def get_disease(services: Services, curie: str) -> dict:
    """Every edge listed with its source, source version and licence."""
    with services.engine_in_use() as engine:
        return answers.disease_page(engine.store, curie)


@operation(
    blueprint,
    "/diseases/<curie>/related",
    summary="Related diseases, each with why",
    query=RelatedQuery,
    response=RelatedResponse,
)
def related_diseases(services: Services, curie: str, query: RelatedQuery) -> dict:
    """Ranked by shared findings (information-content weighted), shared treatments and ontology proximity."""
    with services.engine_in_use() as engine:
        return engine.related(curie, limit=query.limit)


def _search(label: NodeLabel, path: str, summary: str, description: str) -> None:
    """One search endpoint per label; they differ only in which nodes they search."""

    def view(services: Services, query: SearchQuery) -> dict:
        with services.engine_in_use() as engine:
            return answers.search(engine.store, label, query.q, limit=query.limit)

    view.__name__ = f"search_{path.strip('/')}"
    view.__doc__ = description
    operation(blueprint, path, summary=summary, query=SearchQuery, response=SearchResponse)(view)


_search(
    NodeLabel.DISEASE,
    "/diseases",
    "Search diseases by name, synonym or code",
    "Codes (CURIEs such as ICD10CM:J18.9 or OMIM:219700) resolve through cross-references.",
)
_search(NodeLabel.FINDING, "/findings", "Search findings (symptoms, signs, phenotypes)", "By name, synonym or code.")
_search(NodeLabel.DRUG, "/drugs", "Search drugs", "By name, synonym or code (DrugBank, RxNorm, MeSH).")
