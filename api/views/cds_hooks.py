from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, request

from api.fhir_models import CdsDiscovery, CdsHooksRequest, CdsHooksResponse
from api.operations import operation
from api.services import Services
from cdss.errors import InputError, NotFoundError, NothingToRankError, PreconditionFailedError
from interop.cds_hooks import (
    DIFFERENTIAL,
    HOOKS,
    REQUIRED_PREFETCH,
    check_cards,
    differential_cards,
    discovery,
    drafted_drugs,
)
from runtime import answers

blueprint = Blueprint("cds_hooks", __name__)
TOP_K = 5


@operation(blueprint, "/cds-services", summary="CDS Hooks discovery", response=CdsDiscovery, scope=None)
def cds_discovery(services: Services) -> dict:
    """The services (patient-view differential, order-select treatment check) and their prefetch templates."""
    return discovery()


@operation(
    blueprint,
    "/cds-services/<service_id>",
    method="POST",
    summary="Call a CDS Hooks service",
    body=CdsHooksRequest,
    response=CdsHooksResponse,
    statuses=("412",),
    jwt=True,
)
def cds_service(services: Services, service_id: str, body: CdsHooksRequest) -> dict:
    """Cards for the hook: the differential with its evidence, can't-miss warnings and treatment suggestions
    (patient-view), or a check of the drafted medication (order-select). A chart with nothing to rank on gets
    no card. 412 when the prefetch is missing: cdss does not call the client's FHIR server."""
    hook = HOOKS.get(service_id)
    if hook is None:
        raise NotFoundError(f"no CDS service {service_id!r}; GET /cds-services lists them")
    if body.hook != hook:
        raise InputError(f"the service {service_id!r} answers the {hook!r} hook, not {body.hook!r}")
    missing = [k for k in REQUIRED_PREFETCH if body.prefetch is None or k not in body.prefetch]
    if missing:
        raise PreconditionFailedError(
            f"the prefetch lacks {', '.join(missing)}; cdss does not fetch from the FHIR server, so send the "
            "prefetch GET /cds-services asks for"
        )
    today = datetime.now(UTC).date()
    page = request.host_url
    with services.engine_in_use() as engine:
        if service_id == DIFFERENTIAL:
            try:
                answer = answers.prefetch_recommend(engine, body.prefetch, top_k=TOP_K, today=today)
            except NothingToRankError:
                return {"cards": []}
            rxnorm = answers.rxnorm_codes(engine.store, [t["drug"] for t in answer["treatments"]])
            cards = differential_cards(
                answer,
                hook_instance=body.hookInstance,
                patient_id=body.context.patientId,
                page_url=page,
                rxnorm_of=rxnorm,
            )
            return {"cards": cards}
        case = answers.prefetch_case(engine, body.prefetch, today=today)
        drafts = drafted_drugs(body.context.draftOrders, body.context.selections)
        checks = [answers.treatment_check(engine, case, drug, top_k=TOP_K) for _, drug in drafts]
        graph = engine.store.graph_version or "unknown"
    return {"cards": check_cards(checks, hook_instance=body.hookInstance, page_url=page, graph=graph)}
