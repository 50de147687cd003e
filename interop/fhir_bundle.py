"""Reading FHIR resources: a Bundle, or the prefetch of a CDS Hooks call.

Every resource is validated with `fhir.resources`' R4B models (FHIR 4.3, which reads R4 content for the
resources cdss uses). A resource that is not valid FHIR is refused with the place it sits (`Bundle.entry[2]`);
a valid one of a type cdss does not read is kept and later listed as not used, never dropped silently.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fhir.resources.R4B import get_fhir_model_class
from fhir.resources.R4B.resource import Resource
from pydantic import ValidationError

from cdss.errors import FhirInputError

BUNDLE_TYPES = frozenset(
    {
        "document",
        "message",
        "transaction",
        "transaction-response",
        "batch",
        "batch-response",
        "history",
        "searchset",
        "collection",
    }
)
"""The Bundle.type codes of FHIR R4 (hl7.org/fhir/R4/valueset-bundle-type.html)."""
MAX_ENTRIES = 5000


def _problem(error: ValidationError) -> str:
    first = error.errors(include_url=False, include_input=False)[0]
    at = ".".join(str(part) for part in first["loc"]) or "(the resource)"
    return f"{at}: {first['msg']}"


def read_resource(data: Any, where: str) -> Resource:
    """One FHIR resource, validated against its R4B model; FhirInputError names `where` it failed."""
    if not isinstance(data, Mapping):
        raise FhirInputError(
            f"{where} must be a FHIR resource (a JSON object), got {type(data).__name__}", location=where
        )
    resource_type = data.get("resourceType")
    if not isinstance(resource_type, str) or not resource_type:
        raise FhirInputError(f"{where} has no resourceType", location=where)
    try:
        model = get_fhir_model_class(resource_type)
    except (KeyError, ValueError):
        raise FhirInputError(f"{where}: {resource_type!r} is not a FHIR resource type", location=where) from None
    if resource_type == "Bundle":
        return _bundle(data, where, model)
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise FhirInputError(f"{where} is not a valid {resource_type}: {_problem(error)}", location=where) from None


def _bundle(data: Mapping[str, Any], where: str, model: type[Resource]) -> Resource:
    if data.get("type") not in BUNDLE_TYPES:
        raise FhirInputError(
            f"{where}.type must be one of {sorted(BUNDLE_TYPES)}, got {data.get('type')!r}", location=f"{where}.type"
        )
    entries = data.get("entry") or []
    if not isinstance(entries, list):
        raise FhirInputError(f"{where}.entry must be a list", location=f"{where}.entry")
    if len(entries) > MAX_ENTRIES:
        raise FhirInputError(f"{where} has {len(entries)} entries; at most {MAX_ENTRIES} are read", location=where)
    for i, entry in enumerate(entries):
        if isinstance(entry, Mapping) and entry.get("resource") is not None:
            # Checked one by one first: the error then names the entry, and an unknown type is refused cleanly.
            read_resource(entry["resource"], f"{where}.entry[{i}].resource")
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise FhirInputError(f"{where} is not a valid Bundle: {_problem(error)}", location=where) from None


def bundle_resources(bundle: Resource) -> list[Resource]:
    """The resources a Bundle holds, the entries of nested Bundles (a searchset inside a collection) included."""
    out: list[Resource] = []
    for entry in getattr(bundle, "entry", None) or []:
        resource = entry.resource
        if resource is None:
            continue
        out.extend(bundle_resources(resource) if resource.get_resource_type() == "Bundle" else [resource])
    return out


def read_bundle(data: Any) -> list[Resource]:
    """The resources of a posted Bundle; anything else is a FhirInputError that says what was expected."""
    if not isinstance(data, Mapping) or data.get("resourceType") != "Bundle":
        got = data.get("resourceType") if isinstance(data, Mapping) else type(data).__name__
        raise FhirInputError(f"expected a FHIR Bundle, got {got!r}", location="Bundle")
    return bundle_resources(read_resource(data, "Bundle"))


def read_prefetch(prefetch: Any) -> tuple[list[Resource], list[dict]]:
    """The resources of a CDS Hooks prefetch, and a note for each key the client could not fill.

    A prefetch value is a resource, a (searchset) Bundle, null when there is nothing to send, or an
    OperationOutcome when the client failed to fetch it (cds-hooks.hl7.org, "Prefetch")."""
    if not isinstance(prefetch, Mapping):
        raise FhirInputError(f"prefetch must be an object of prefetch keys, got {type(prefetch).__name__}")
    resources: list[Resource] = []
    unfilled: list[dict] = []
    for key in sorted(prefetch):
        value = prefetch[key]
        if value is None:
            continue
        resource = read_resource(value, f"prefetch.{key}")
        if resource.get_resource_type() == "OperationOutcome":
            unfilled.append({"prefetch": key, "reason": "the client could not fetch it (an OperationOutcome)"})
            continue
        resources.extend(bundle_resources(resource) if resource.get_resource_type() == "Bundle" else [resource])
    return resources, unfilled
