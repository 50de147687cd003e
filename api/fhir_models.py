"""Request and response models of the FHIR and CDS Hooks endpoints (what the OpenAPI document shows of them).

The FHIR content itself is checked by `interop.fhir_bundle` with the FHIR models; these models check the
envelope and describe the answers.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from api.models import RecommendationResponse, Strict


class FhirBundleIn(BaseModel):
    """A FHIR R4 Bundle (any type); its resources are validated one by one, and the answer lists each."""

    resourceType: Literal["Bundle"]
    type: str
    entry: list[dict[str, Any]] = Field(default_factory=list)
    model_config = ConfigDict(extra="allow")


class FhirQuery(Strict):
    top_k: int = Field(10, ge=1, le=100)


class FhirReport(BaseModel):
    used: list[dict[str, Any]]
    """Each resource used: as what (patient, finding present, condition, medication, note text ...) and the concept."""
    not_used: list[dict[str, Any]]
    """Each resource (or part) not used, with the reason: nothing is dropped silently."""


class FhirRecommendationResponse(RecommendationResponse):
    fhir: FhirReport


class OperationOutcomeIssue(BaseModel):
    severity: Literal["fatal", "error", "warning", "information"]
    code: str
    details: dict[str, Any] | None = None
    diagnostics: str
    expression: list[str] | None = None


class OperationOutcome(BaseModel):
    """A FHIR OperationOutcome: how the FHIR endpoints answer an error."""

    resourceType: Literal["OperationOutcome"]
    id: str | None = None
    issue: list[OperationOutcomeIssue]


class CdsContext(BaseModel):
    patientId: str = Field(min_length=1, max_length=200)
    userId: str | None = None
    encounterId: str | None = None
    selections: list[str] = Field(default_factory=list, max_length=100)
    draftOrders: dict[str, Any] | None = None
    model_config = ConfigDict(extra="allow")


class CdsHooksRequest(BaseModel):
    """A CDS Hooks 2.0 service call: the hook, its instance, the context and the prefetched FHIR data."""

    hook: str
    hookInstance: str = Field(min_length=1, max_length=200)
    context: CdsContext
    prefetch: dict[str, Any] | None = None
    fhirServer: str | None = None
    fhirAuthorization: dict[str, Any] | None = None
    model_config = ConfigDict(extra="allow")


class CdsSource(BaseModel):
    label: str
    url: str | None = None


class CdsLink(BaseModel):
    label: str
    url: str
    type: Literal["absolute", "smart"]


class CdsAction(BaseModel):
    type: Literal["create", "update", "delete"]
    description: str
    resource: dict[str, Any] | None = None


class CdsSuggestion(BaseModel):
    label: str
    uuid: str | None = None
    actions: list[CdsAction] = Field(default_factory=list)


class CdsCard(BaseModel):
    uuid: str | None = None
    summary: str = Field(max_length=139)
    detail: str | None = None
    indicator: Literal["info", "warning", "critical"]
    source: CdsSource
    suggestions: list[CdsSuggestion] | None = None
    selectionBehavior: Literal["at-most-one", "any"] | None = None
    links: list[CdsLink] | None = None


class CdsHooksResponse(BaseModel):
    cards: list[CdsCard]


class CdsService(BaseModel):
    hook: str
    id: str
    title: str | None = None
    description: str
    prefetch: dict[str, str] | None = None
    usageRequirements: str | None = None


class CdsDiscovery(BaseModel):
    services: list[CdsService]
