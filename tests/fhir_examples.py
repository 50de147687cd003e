"""FHIR Bundles and CDS Hooks calls for the tests, shaped like the examples of the CDS Hooks 2.0 specification
(cds-hooks.hl7.org: a patient-view call with `hookInstance`, `context.userId`/`patientId` and a prefetch of a
Patient and searchset Bundles; an order-select call with `selections` and `draftOrders`)."""

from __future__ import annotations

import base64

SNOMED, LOINC, RXNORM = "http://snomed.info/sct", "http://loinc.org", "http://www.nlm.nih.gov/research/umls/rxnorm"
PATIENT_ID = "1288992"
HOOK_INSTANCE = "d1577c69-dfbe-44ad-ba6d-3e05e953b2ea"


def coded(system: str, code: str, display: str = "") -> dict:
    return {"coding": [{"system": system, "code": code, **({"display": display} if display else {})}]}


def patient(**extra) -> dict:
    return {"resourceType": "Patient", "id": PATIENT_ID, "gender": "male", "birthDate": "1974-12-25", **extra}


def observation(i: str, code: dict, **value) -> dict:
    return {"resourceType": "Observation", "id": i, "status": "final", "code": code, **value}


def note(i: str, text: str) -> dict:
    data = base64.b64encode(text.encode("utf-8")).decode("ascii")
    return {
        "resourceType": "DocumentReference",
        "id": i,
        "status": "current",
        "content": [{"attachment": {"contentType": "text/plain", "data": data}}],
    }


def searchset(*resources: dict) -> dict:
    return {"resourceType": "Bundle", "type": "searchset", "entry": [{"resource": r} for r in resources]}


def collection(*resources: dict) -> dict:
    return {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": r} for r in resources]}


def pneumonia_findings() -> list[dict]:
    """Fever (a LOINC temperature), cough and dyspnea (SNOMED CT), no rash: pneumonia leads on the test graph."""
    return [
        observation("temp", coded(LOINC, "8310-5", "Body temperature"), valueQuantity={"value": 38.9, "code": "Cel"}),
        observation("cough", coded(SNOMED, "49727002", "Cough")),
        observation("dyspnea", coded(SNOMED, "267036007", "Dyspnea")),
        observation("rash", coded(SNOMED, "271807003"), valueCodeableConcept=coded(SNOMED, "373067005", "No")),
    ]


def patient_view(prefetch: dict | None, **extra) -> dict:
    call = {
        "hookInstance": HOOK_INSTANCE,
        "hook": "patient-view",
        "context": {"userId": "Practitioner/example", "patientId": PATIENT_ID},
        **extra,
    }
    return call if prefetch is None else {**call, "prefetch": prefetch}


def order_select(prefetch: dict, drug: dict) -> dict:
    draft = {
        "resourceType": "MedicationRequest",
        "id": "draft-1",
        "status": "draft",
        "intent": "order",
        "medicationCodeableConcept": drug,
        "subject": {"reference": f"Patient/{PATIENT_ID}"},
    }
    return {
        "hookInstance": HOOK_INSTANCE,
        "hook": "order-select",
        "context": {
            "userId": "PractitionerRole/123",
            "patientId": PATIENT_ID,
            "selections": ["MedicationRequest/draft-1"],
            "draftOrders": collection(draft),
        },
        "prefetch": prefetch,
    }
