"""Reading FHIR Bundles and CDS Hooks prefetch: invalid content is refused with where it is, nothing is lost."""

from __future__ import annotations

import pytest

from cdss.errors import FhirInputError
from interop.fhir_bundle import read_bundle, read_prefetch


def _bundle(*resources: dict, kind: str = "collection") -> dict:
    return {"resourceType": "Bundle", "type": kind, "entry": [{"resource": r} for r in resources]}


PATIENT = {"resourceType": "Patient", "id": "p1", "gender": "female"}
COUGH = {"resourceType": "Observation", "id": "o1", "status": "final", "code": {"text": "cough"}}


def test_a_bundle_gives_its_resources_nested_searchsets_included():
    resources = read_bundle(_bundle(PATIENT, _bundle(COUGH, kind="searchset")))
    assert [(r.get_resource_type(), r.id) for r in resources] == [("Patient", "p1"), ("Observation", "o1")]


@pytest.mark.parametrize(
    ("data", "message", "location"),
    [
        (_bundle({"resourceType": "Foo"}), "'Foo' is not a FHIR resource type", "Bundle.entry[0].resource"),
        (_bundle(PATIENT, {"resourceType": "Condition", "code": {"text": "x"}}), "subject", "Bundle.entry[1].resource"),
        (_bundle(COUGH, kind="nonsense"), "Bundle.type must be one of", "Bundle.type"),
        (PATIENT, "expected a FHIR Bundle, got 'Patient'", "Bundle"),
        ([], "expected a FHIR Bundle, got 'list'", "Bundle"),
        (
            _bundle({"resourceType": "Observation", "status": "final", "code": {}, "valueQuantity": {"value": "x"}}),
            "valueQuantity.value",
            "Bundle.entry[0].resource",
        ),
    ],
)
def test_invalid_content_is_refused_naming_where(data, message, location):
    with pytest.raises(FhirInputError) as info:
        read_bundle(data)
    assert message in str(info.value) and info.value.location == location


def test_a_prefetch_key_may_be_null_and_an_operation_outcome_is_listed_as_unfilled():
    outcome = {"resourceType": "OperationOutcome", "issue": [{"severity": "error", "code": "timeout"}]}
    resources, unfilled = read_prefetch({"patient": PATIENT, "conditions": None, "notes": outcome})
    assert [r.id for r in resources] == ["p1"]
    assert unfilled == [{"prefetch": "notes", "reason": "the client could not fetch it (an OperationOutcome)"}]
    with pytest.raises(FhirInputError, match=r"prefetch\.patient"):
        read_prefetch({"patient": {"resourceType": "Nope"}})
