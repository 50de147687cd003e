"""FHIR resources -> the engine's `Case`, with every item used or set aside listed and the reason given.

Codes map through the graph's cross-references (`kg.lookup.resolve`): SNOMED CT, ICD-10-CM, RxNorm, HPO,
ORPHA, OMIM ... whatever the graph's sources cross-reference. A LOINC-coded `valueQuantity` is read by
`nlp.coded_values` against the same reference ranges as a value in a note, and its outcome stands for an HPO
finding through the same LOINC2HPO table the NLP pipeline uses. Free text (DocumentReference attachments,
DiagnosticReport conclusions) becomes the case's text, which the NLP pipeline reads as any note.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping, Sequence
from datetime import date

from fhir.resources.R4B.resource import Resource

from cdss.errors import NotFoundError
from cdss.types import NodeLabel
from interop.fhir_codes import coding_curie
from interop.fhir_reader import CaseReader, FhirCase, coded, codes_of, reference, status_code
from kg.lookup import drug_named, resolve
from kg.store import GraphStore
from nlp.coded_values import read_coded
from nlp.measurements import NORMAL, OUTCOME_WORDS, Patient

SNOMED = "http://snomed.info/sct"
YES_NO = "http://terminology.hl7.org/CodeSystem/v2-0136"
INTERPRETATION = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"
# Answers that say whether the coded finding is there: SNOMED CT qualifier values 52101004 |Present|,
# 410515003 |Known present|, 373066001 |Yes|, 2667000 |Absent|, 410516002 |Known absent|, 373067005 |No|;
# HL7 v2 table 0136 (Y/N); v3 ObservationInterpretation POS/DET and NEG/ND.
PRESENT = {(SNOMED, "52101004"), (SNOMED, "410515003"), (SNOMED, "373066001"), (YES_NO, "Y")}
PRESENT |= {(INTERPRETATION, "POS"), (INTERPRETATION, "DET")}
ABSENT = {(SNOMED, "2667000"), (SNOMED, "410516002"), (SNOMED, "373067005"), (YES_NO, "N")}
ABSENT |= {(INTERPRETATION, "NEG"), (INTERPRETATION, "ND")}
LOINC = "http://loinc.org"
BLOOD_PRESSURE = "85354-9"
SYSTOLIC, DIASTOLIC = "8480-6", "8462-4"
# Encounter.class (v3 ActCode) -> the care setting whose survey priors apply.
SETTINGS = {"EMER": "ed", "AMB": "primary_care"}
VOID = {"entered-in-error", "cancelled"}
NOT_CURRENT = {"inactive", "remission", "resolved"}
UNCONFIRMED = {"unconfirmed", "provisional", "differential"}
TAKING = {"active", "intended", "on-hold", "draft", "unknown"}


def _age(birth: object, today: date) -> float | None:
    """Age from a FHIR date (a year or year-month alone counts from its first day): whole years from two years
    on, as the priors' age bands take it; to the day below, where months matter."""
    if isinstance(birth, date):
        born = birth
    elif isinstance(birth, str) and birth[:4].isdigit():
        parts = [int(p) for p in birth.split("-")] + [1, 1]
        born = date(parts[0], parts[1], parts[2])
    else:
        return None
    years = today.year - born.year - ((today.month, today.day) < (born.month, born.day))
    if not 0 <= years <= 130:
        return None
    return float(years) if years >= 2 else round((today - born).days / 365.25, 2)


def _patient(reader: CaseReader, resource: Resource, ref: str) -> None:
    if any(u["as"] == "patient" for u in reader.out.used):
        reader.skip(ref, "a second Patient: the first one is the patient")
        return
    sex = resource.gender if resource.gender in ("female", "male") else None
    age = _age(resource.birthDate, reader.today)
    reader.patient = Patient(age=age, sex=sex)
    reader.use(ref, "patient", age=age, sex=sex)
    if resource.gender and sex is None:
        reader.skip(ref, f"gender {resource.gender!r}: the priors know female and male only", field="gender")


def _encounter(reader: CaseReader, resource: Resource, ref: str) -> None:
    code = getattr(resource.class_fhir, "code", None)
    if code in SETTINGS and reader.setting == "unknown":
        reader.setting = SETTINGS[code]
        reader.use(ref, "care setting", setting=reader.setting)
    else:
        reader.skip(ref, f"encounter class {code!r} chooses no care setting (EMER and AMB do)")


def _condition(reader: CaseReader, resource: Resource, ref: str) -> None:
    verification, clinical = status_code(resource.verificationStatus), status_code(resource.clinicalStatus)
    if verification in VOID:
        reader.skip(ref, f"verificationStatus {verification}")
    elif verification in UNCONFIRMED:
        reader.skip(ref, f"verificationStatus {verification}: not a confirmed condition")
    elif clinical in NOT_CURRENT:
        reader.skip(ref, f"clinicalStatus {clinical}: not a current condition")
    elif (concept := reader.concept(resource.code, ref)) is not None:
        reader.state(concept, ref, present=verification != "refuted", via="Condition.code")


def _presence(codeables: Sequence) -> bool | None:
    codes = {code for codeable in codeables for code in codes_of(codeable)}
    return True if codes & PRESENT else False if codes & ABSENT else None


def _observation(reader: CaseReader, resource: Resource, ref: str) -> None:
    if resource.status in VOID:
        reader.skip(ref, f"status {resource.status}")
        return
    if resource.valueQuantity is not None or resource.component:
        _measured(reader, resource, ref)
        return
    if isinstance(resource.valueString, str) and resource.valueString.strip():
        label = getattr(resource.code, "text", None)
        reader.texts.append(f"{label}: {resource.valueString}" if label else resource.valueString)
        reader.use(ref, "note text", via="Observation.valueString")
        return
    interpretation = _presence(resource.interpretation or [])
    value = resource.valueCodeableConcept
    answer = _presence([value]) if value is not None else None
    if value is not None and answer is None:
        # The code asks ("Symptom", "Finding") and the value answers with the finding.
        if (concept := reader.concept(value, ref)) is not None:
            reader.state(concept, ref, present=interpretation is not False, via="Observation.valueCodeableConcept")
        return
    if resource.valueBoolean is not None:
        answer = resource.valueBoolean
    if resource.dataAbsentReason is not None and answer is None:
        reader.skip(ref, "no value (dataAbsentReason)")
        return
    present = answer if answer is not None else interpretation is not False
    if (concept := reader.concept(resource.code, ref)) is not None:
        reader.state(concept, ref, present=present, via="Observation.code")


def _quantity(resource: Resource) -> tuple[str | None, float | None, str, float | None]:
    """(LOINC code, value, unit, second value): a blood pressure panel's components count as one value."""
    loincs = [code for system, code in codes_of(resource.code) if system == LOINC]
    parts = {
        code: c.valueQuantity
        for c in resource.component or []
        for system, code in codes_of(c.code)
        if system == LOINC and c.valueQuantity is not None
    }
    if SYSTOLIC in parts and DIASTOLIC in parts:
        systolic, diastolic = parts[SYSTOLIC], parts[DIASTOLIC]
        unit = systolic.code or systolic.unit or ""
        return BLOOD_PRESSURE, float(systolic.value), unit, float(diastolic.value)
    quantity = resource.valueQuantity
    if quantity is None or quantity.value is None:
        return (loincs[0] if loincs else None), None, "", None
    return (loincs[0] if loincs else None), float(quantity.value), quantity.code or quantity.unit or "", None


def _measured(reader: CaseReader, resource: Resource, ref: str) -> None:
    loinc, value, unit, second = _quantity(resource)
    if loinc is None or value is None:
        reader.skip(
            ref,
            "a measured value needs a LOINC code and a number",
            codes=coded(resource.code),
        )
        return
    reading = read_coded(loinc, value, unit, reader.patient, second=second)
    if reading is None:
        reader.skip(ref, f"LOINC {loinc} is not an analyte cdss reads values of", codes=[f"LOINC:{loinc}"])
        return
    if reading.problem or reading.outcome is None:
        reader.skip(ref, reading.problem or "no reading", measurement=reading.to_dict())
        return
    term = reader.terms.get(f"{loinc}|{reading.outcome}")
    concept = reader.store.get_node(term[0]) if term else None
    if concept is None:
        reader.skip(
            ref, f"no finding for a {OUTCOME_WORDS[reading.outcome]} {reading.analyte}", measurement=reading.to_dict()
        )
        return
    reader.state(concept, ref, present=reading.outcome != NORMAL, via=f"LOINC:{loinc} {reading.reason}")


def _medication_name(reader: CaseReader, codeable, ref: str) -> str | None:
    for system, code in codes_of(codeable):
        curie = coding_curie(system, code)
        try:
            drugs = [c for c, _ in resolve(reader.store, curie)] if curie else []
        except NotFoundError:
            drugs = []
        if drugs and drugs[0].label == NodeLabel.DRUG:
            return drugs[0].id
    text = getattr(codeable, "text", None) or next((c.display for c in codeable.coding or [] if c.display), None)
    if not text:
        reader.skip(ref, "its medication has no code in the graph and no name", codes=coded(codeable))
        return None
    drug = drug_named(reader.store, text)
    return drug.id if drug is not None else text


def _medication(reader: CaseReader, resource: Resource, ref: str, medications: Mapping[str, Resource]) -> None:
    if resource.status not in TAKING:
        reader.skip(ref, f"status {resource.status}: not a current medication")
        return
    codeable = resource.medicationCodeableConcept
    if codeable is None and resource.medicationReference is not None:
        target = medications.get(resource.medicationReference.reference or "")
        codeable = target.code if target is not None else None
    if codeable is None:
        reader.skip(ref, "its medicationReference names no Medication resource in the Bundle")
        return
    name = _medication_name(reader, codeable, ref)
    if name is not None:
        reader.medications.append(name)
        reader.use(ref, "medication", drug=name)


def _allergy(reader: CaseReader, resource: Resource, ref: str) -> None:
    verification, clinical = status_code(resource.verificationStatus), status_code(resource.clinicalStatus)
    if verification in VOID | {"refuted"}:
        reader.skip(ref, f"verificationStatus {verification}")
        return
    if clinical in NOT_CURRENT:
        reader.skip(ref, f"clinicalStatus {clinical}: not a current allergy")
        return
    name = _medication_name(reader, resource.code, ref) if resource.code is not None else None
    if name is not None:
        reader.allergies.append(name)
        reader.use(ref, "allergy or intolerance", drug=name)


def _attachment_text(attachment) -> str | None:
    content_type = (attachment.contentType or "text/plain").split(";")[0].strip().lower()
    if content_type != "text/plain" or attachment.data is None:
        return None
    data = attachment.data
    try:
        raw = data if isinstance(data, bytes) else base64.b64decode(data, validate=True)
        return raw.decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None


def _document(reader: CaseReader, resource: Resource, ref: str) -> None:
    if resource.status in VOID:
        reader.skip(ref, f"status {resource.status}")
        return
    for i, content in enumerate(resource.content or []):
        text = _attachment_text(content.attachment)
        if text is None:
            kind = content.attachment.contentType or "no content type"
            reader.skip(f"{ref}.content[{i}]", f"only inline text/plain notes are read ({kind}; URLs are not fetched)")
        elif text.strip():
            reader.texts.append(text)
            reader.use(f"{ref}.content[{i}]", "note text")


def _report(reader: CaseReader, resource: Resource, ref: str) -> None:
    if resource.status in VOID:
        reader.skip(ref, f"status {resource.status}")
        return
    if resource.conclusion and resource.conclusion.strip():
        reader.texts.append(resource.conclusion)
        reader.use(ref, "note text", via="DiagnosticReport.conclusion")
    for i, form in enumerate(resource.presentedForm or []):
        text = _attachment_text(form)
        if text and text.strip():
            reader.texts.append(text)
            reader.use(f"{ref}.presentedForm[{i}]", "note text")
    for codeable in resource.conclusionCode or []:
        if (concept := reader.concept(codeable, ref)) is not None:
            reader.state(concept, ref, present=True, via="DiagnosticReport.conclusionCode")


def case_from_resources(
    resources: Sequence[Resource],
    store: GraphStore,
    *,
    terms: Mapping[str, tuple[str, str]],
    today: date,
    case_id: str = "",
) -> FhirCase:
    """The case the resources describe. `terms` maps "LOINC|L/N/H" to (HPO id, origin), the NLP pipeline's
    table; `today` dates the patient's age. Patient and Encounter are read first: a value's range needs them."""
    reader = CaseReader(store, terms, today)
    refs = [reference(r, i) for i, r in enumerate(resources)]
    medications = {ref: r for ref, r in zip(refs, resources, strict=True) if r.get_resource_type() == "Medication"}
    handlers = {
        "Condition": _condition,
        "Observation": _observation,
        "MedicationStatement": lambda rd, r, ref: _medication(rd, r, ref, medications),
        "MedicationRequest": lambda rd, r, ref: _medication(rd, r, ref, medications),
        "AllergyIntolerance": _allergy,
        "DocumentReference": _document,
        "DiagnosticReport": _report,
    }
    first = {"Patient": _patient, "Encounter": _encounter}
    for pass_handlers in (first, handlers):
        for resource, ref in zip(resources, refs, strict=True):
            handler = pass_handlers.get(resource.get_resource_type())
            if handler is not None:
                handler(reader, resource, ref)
    known = set(first) | set(handlers) | {"Medication"}
    for resource, ref in zip(resources, refs, strict=True):
        if resource.get_resource_type() not in known:
            reader.skip(ref, f"cdss does not read {resource.get_resource_type()} resources")
    return reader.case(case_id)
