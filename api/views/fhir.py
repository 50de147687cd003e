from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint

from api.fhir_models import FhirBundleIn, FhirQuery, FhirRecommendationResponse, OperationOutcome
from api.operations import operation
from api.services import Services
from api.views.recommendations import kept_for_feedback
from runtime import answers

blueprint = Blueprint("fhir", __name__, url_prefix="/v1/fhir")


@operation(
    blueprint,
    "/recommendations",
    method="POST",
    summary="Ranked differential and treatments for a FHIR R4 Bundle",
    body=FhirBundleIn,
    query=FhirQuery,
    response=FhirRecommendationResponse,
    errors=OperationOutcome,
)
def fhir_recommendations(services: Services, body: FhirBundleIn, query: FhirQuery) -> dict:
    """Patient (age, sex), Encounter (care setting), Condition, Observation (coded findings; LOINC values read
    against reference ranges), MedicationStatement/Request, AllergyIntolerance, DocumentReference (text/plain
    notes) and DiagnosticReport (conclusions) are read; `fhir.used` and `fhir.not_used` list what became of each
    resource. Errors are OperationOutcomes. Decision support for a clinician, never a diagnosis."""
    bundle = body.model_dump(exclude_unset=True)
    today = datetime.now(UTC).date()
    with services.engine_in_use() as engine:
        result = answers.fhir_recommend(engine, bundle, top_k=query.top_k, today=today)
    return kept_for_feedback(services, result, None)
