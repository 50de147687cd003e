from __future__ import annotations

from flask import Blueprint

from api.models import DiseaseResponse, RelatedQuery, RelatedResponse, SearchQuery, SearchResponse
from api.operations import operation
from api.services import Services
from cdss.types import NodeLabel

blueprint = Blueprint("concepts", __name__, url_prefix="/v1")


@operation(
    blueprint,
    "/diseases",
    summary="Search diseases by name, synonym or code",
    query=SearchQuery,
    response=SearchResponse,
)
def search_diseases(services: Services, query: SearchQuery) -> dict:
    """Codes (CURIEs such as ICD10CM:J18.9 or OMIM:219700) resolve through cross-references."""
    return services.search(NodeLabel.DISEASE, query)


@operation(
    blueprint,
    "/diseases/<curie>",
    summary="One disease: codes, findings, treatments, provenance",
    response=DiseaseResponse,
)
def get_disease(services: Services, curie: str) -> dict:
    """Every edge listed with its source, source version and licence."""
    return services.disease(curie)


@operation(
    blueprint,
    "/diseases/<curie>/related",
    summary="Related diseases, each with why",
    query=RelatedQuery,
    response=RelatedResponse,
)
def related_diseases(services: Services, curie: str, query: RelatedQuery) -> dict:
    """Ranked by shared findings (information-content weighted), shared treatments and ontology proximity."""
    return services.related(curie, query.limit)


@operation(
    blueprint,
    "/findings",
    summary="Search findings (symptoms, signs, phenotypes)",
    query=SearchQuery,
    response=SearchResponse,
)
def search_findings(services: Services, query: SearchQuery) -> dict:
    """By name, synonym or code."""
    return services.search(NodeLabel.FINDING, query)


@operation(blueprint, "/drugs", summary="Search drugs", query=SearchQuery, response=SearchResponse)
def search_drugs(services: Services, query: SearchQuery) -> dict:
    """By name, synonym or code (DrugBank, RxNorm, MeSH)."""
    return services.search(NodeLabel.DRUG, query)
