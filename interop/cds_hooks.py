"""CDS Hooks 2.0 (cds-hooks.hl7.org): the discovery document and the cards cdss answers with.

Two services: `patient-view` gives the differential for the open chart, `order-select` checks a drafted
MedicationRequest against it. Cards are built from the same answers the JSON API gives, so they carry the same
evidence; they are decision support for a clinician, and every card says so.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from interop.fhir_bundle import read_prefetch
from interop.fhir_codes import coding_curie

DIFFERENTIAL = "cdss-differential"
TREATMENT_CHECK = "cdss-treatment-check"
HOOKS = {DIFFERENTIAL: "patient-view", TREATMENT_CHECK: "order-select"}
SUMMARY_CHARS = 140
"""A card's summary must stay under 140 characters (the spec's Card.summary)."""
NOT_A_DIAGNOSIS = "Decision support for a clinician, not a diagnosis: check every suggestion against the patient."
CARD_NAMESPACE = uuid.UUID("6d1e4c3a-9a5f-4c1e-8f8e-2b7d9c0a1f00")
"""Card and suggestion ids are uuid5 of the hook instance and what they are about, so a retried call gives the
same ids."""
PATIENT_TOKEN = "{{context.patientId}}"
PREFETCH = {
    "patient": f"Patient/{PATIENT_TOKEN}",
    "conditions": f"Condition?patient={PATIENT_TOKEN}",
    "observations": f"Observation?patient={PATIENT_TOKEN}",
    "medicationStatements": f"MedicationStatement?patient={PATIENT_TOKEN}",
    "medicationRequests": f"MedicationRequest?patient={PATIENT_TOKEN}&status=active",
    "allergies": f"AllergyIntolerance?patient={PATIENT_TOKEN}",
    "notes": f"DocumentReference?patient={PATIENT_TOKEN}&status=current",
    "reports": f"DiagnosticReport?patient={PATIENT_TOKEN}",
}
REQUIRED_PREFETCH = ("patient",)
TREATMENTS_SUGGESTED = 3
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"


def discovery() -> dict:
    """`GET /cds-services`: the services, their hooks and the prefetch templates they ask for."""
    usage = (
        "Send the service's API key as 'Authorization: Bearer <key>', or an HS256 JWT signed with the shared "
        "secret the deployment configures. The patient prefetch is required and the others are read when sent: "
        "cdss does not call back the FHIR server."
    )
    return {
        "services": [
            {
                "hook": "patient-view",
                "id": DIFFERENTIAL,
                "title": "cdss differential diagnosis",
                "description": "Ranked differential diagnoses for the open chart, with the evidence for and "
                "against each, can't-miss diagnoses flagged, and treatment options. " + NOT_A_DIAGNOSIS,
                "prefetch": PREFETCH,
                "usageRequirements": usage,
            },
            {
                "hook": "order-select",
                "id": TREATMENT_CHECK,
                "title": "cdss treatment check",
                "description": "Checks a drafted MedicationRequest against the differential: is the drug an "
                "option for the leading diagnoses, is it curated as not indicated, contraindicated for a known "
                "condition, or ruled out by a recorded allergy. " + NOT_A_DIAGNOSIS,
                "prefetch": PREFETCH,
                "usageRequirements": usage,
            },
        ]
    }


def markdown_text(text: object) -> str:
    """Text safe to place in a card's markdown: markup characters escaped, no raw HTML, one line."""
    flat = " ".join(str(text).split())
    return re.sub(r"([\\`*_{}\[\]()<>#+!|~])", r"\\\1", flat)


def short(text: str, limit: int = SUMMARY_CHARS - 1) -> str:
    """`text` cut at a word boundary to fit a card summary."""
    if len(text) <= limit:
        return text
    return text[: limit - 1].rsplit(" ", 1)[0].rstrip(",;:") + "…"


def card_id(hook_instance: str, *parts: str) -> str:
    return str(uuid.uuid5(CARD_NAMESPACE, "/".join((hook_instance, *parts))))


def _source(answer: Mapping[str, Any], page_url: str) -> dict:
    return {"label": f"cdss, graph {answer['versions'].get('graph') or 'unknown'}", "url": page_url}


def _percent(diagnosis: Mapping[str, Any]) -> str:
    return f"{100 * diagnosis['probability']:.0f}%"


def _provenance(evidence: Sequence[Mapping[str, Any]]) -> str:
    """The first two edges behind a score as "source version (licence)"."""
    return "; ".join(
        f"{markdown_text(e['source'])} {markdown_text(e['version'])} ({markdown_text(e['license'])})"
        for e in evidence[:2]
    )


def _evidence_lines(diagnosis: Mapping[str, Any]) -> list[str]:
    lines = []
    for c in diagnosis["contributions"][:6]:
        sources = _provenance(c["evidence"])
        side = "for" if c["log_lr"] > 0 else "against" if c["log_lr"] < 0 else "neutral"
        lines.append(
            f"  - {markdown_text(c['name'])} ({c['observed']}): {side}, log-LR {c['log_lr']:+.2f}"
            + (f"; {sources}" if sources else "")
        )
    return lines


def _differential_detail(answer: Mapping[str, Any], fhir: Mapping[str, Any] | None) -> str:
    lines = [f"**{NOT_A_DIAGNOSIS}**", ""]
    for d in answer["diagnoses"]:
        flag = " — **can't miss**" if d.get("urgent") else ""
        lines.append(f"{d['rank']}. **{markdown_text(d['name'])}** ({markdown_text(d['id'])}), {_percent(d)}{flag}")
        lines += _evidence_lines(d)
    not_used = (fhir or {}).get("not_used", [])
    if not_used:
        lines += ["", f"Not used ({len(not_used)}):"]
        lines += [
            f"- {markdown_text(n.get('resource') or n.get('prefetch'))}: {markdown_text(n['reason'])}"
            for n in not_used[:10]
        ]
    versions = ", ".join(f"{k} {markdown_text(v)}" for k, v in answer["versions"].items() if v)
    return "\n".join([*lines, "", f"Versions: {versions}."])


def _medication_request(option: Mapping[str, Any], patient_id: str, rxnorm: str | None) -> dict:
    coding = [{"system": RXNORM, "code": rxnorm, "display": option["name"]}] if rxnorm else []
    target = option["for"]
    return {
        "resourceType": "MedicationRequest",
        "status": "draft",
        "intent": "proposal",
        "subject": {"reference": f"Patient/{patient_id}"},
        "medicationCodeableConcept": {"coding": coding, "text": option["name"]},
        "reasonCode": [{"text": target["name"]}],
    }


def differential_cards(
    answer: Mapping[str, Any],
    *,
    hook_instance: str,
    patient_id: str,
    page_url: str,
    rxnorm_of: Mapping[str, str],
) -> list[dict]:
    """The patient-view cards: the differential (a warning when a can't-miss diagnosis is in it), one card per
    can't-miss diagnosis, and the treatment options for the leading diagnoses as suggestions."""
    diagnoses = answer["diagnoses"]
    if not diagnoses:
        return []
    source = _source(answer, page_url)
    links = [{"label": "Full differential in cdss", "url": page_url, "type": "absolute"}]
    urgent = [d for d in diagnoses if d.get("urgent")]
    listed = ", ".join(f"{d['name']} {_percent(d)}" for d in diagnoses[:3])
    cards = [
        {
            "uuid": card_id(hook_instance, "differential"),
            "summary": short(f"Differential: {listed}"),
            "indicator": "warning" if urgent else "info",
            "detail": _differential_detail(answer, answer.get("fhir")),
            "source": source,
            "links": links,
        }
    ]
    for d in urgent:
        reason = d["urgent"].get("reason") or "a can't-miss diagnosis"
        cards.append(
            {
                "uuid": card_id(hook_instance, "cant-miss", d["id"]),
                "summary": short(f"Can't miss: {d['name']} ({_percent(d)}), {reason}"),
                "indicator": "warning",
                "detail": f"**{NOT_A_DIAGNOSIS}**\n\n{markdown_text(d['urgent'].get('citation', ''))}",
                "source": source,
                "links": links,
            }
        )
    cards += _treatment_cards(answer, hook_instance, patient_id, source, rxnorm_of)
    return cards


def _treatment_cards(
    answer: Mapping[str, Any], hook_instance: str, patient_id: str, source: dict, rxnorm_of: Mapping[str, str]
) -> list[dict]:
    options = [t for t in answer["treatments"] if not t["already_taking"]][:TREATMENTS_SUGGESTED]
    if not options:
        return []
    suggestions = [
        {
            "label": short(f"Draft {t['name']} for {t['for']['name']} ({t['evidence_grade']})", 100),
            "uuid": card_id(hook_instance, "suggest", t["drug"], t["for"]["id"]),
            "actions": [
                {
                    "type": "create",
                    "description": f"Draft an order for {t['name']}",
                    "resource": _medication_request(t, patient_id, rxnorm_of.get(t["drug"])),
                }
            ],
        }
        for t in options
    ]
    lines = [f"**{NOT_A_DIAGNOSIS}**", ""]
    for t in options:
        grade = markdown_text(t["evidence_grade"])
        target = markdown_text(t["for"]["name"])
        lines.append(f"- **{markdown_text(t['name'])}** for {target}: {grade}; {_provenance(t['evidence'])}")
    # What a prescriber must know (an allergy, a contraindication, a curated non-indication), once per drug;
    # products that are no treatment at all (vehicles, nutrients) stay in the JSON answer.
    held = {t["drug"]: t for t in answer["treatments_left_out"] if "not a treatment" not in t["reason"]}
    if held:
        lines += ["", "Left out:"]
        lines += [f"- {markdown_text(t['name'])}: {markdown_text(t['reason'])}" for t in list(held.values())[:5]]
    return [
        {
            "uuid": card_id(hook_instance, "treatments"),
            "summary": short(f"Treatment options: {', '.join(t['name'] for t in options)}"),
            "indicator": "info",
            "detail": "\n".join(lines),
            "source": source,
            "suggestions": suggestions,
            "selectionBehavior": "any",
        }
    ]


def check_cards(checks: Sequence[Mapping[str, Any]], *, hook_instance: str, page_url: str, graph: str) -> list[dict]:
    """The order-select cards: per drafted drug, a warning when something speaks against it, else what it is
    an option for (or that nothing curated links it to the leading diagnoses)."""
    source = {"label": f"cdss, graph {graph}", "url": page_url}
    cards = []
    for check in checks:
        drug = check["drug"]
        name = drug["name"] or drug["input"]
        if not check["checked"]:
            summary, indicator, lines = f"{name}: not a drug cdss knows; not checked", "info", []
        else:
            summary, indicator, lines = _check_summary(check, name)
        cards.append(
            {
                "uuid": card_id(hook_instance, "check", drug["id"] or drug["input"]),
                "summary": short(summary),
                "indicator": indicator,
                "detail": "\n".join([f"**{NOT_A_DIAGNOSIS}**", "", *lines]),
                "source": source,
            }
        )
    return cards


def _check_summary(check: Mapping[str, Any], name: str) -> tuple[str, str, list[str]]:
    against = [f"contraindicated for {c['name']} ({c['source']} {c['version']})" for c in check["contraindicated_for"]]
    against += [t["reason"] for t in check["held_back"]]
    if check["allergy"]:
        against.insert(0, check["allergy"])
    lines = [f"- {markdown_text(a)}" for a in dict.fromkeys(against)]
    leading = ", ".join(f"{d['name']} {_percent(d)}" for d in check["diagnoses"])
    lines.append(f"\nLeading diagnoses: {markdown_text(leading)}.")
    if against:
        return f"{name}: {against[0]}", "warning", lines
    if check["indicated_for"]:
        best = check["indicated_for"][0]
        return f"{name} is an option for {best['for']['name']} ({best['evidence_grade']})", "info", lines
    return f"{name}: no curated indication for the leading diagnoses ({leading})", "info", lines


def drafted_drugs(draft_orders: Mapping[str, Any] | None, selections: Sequence[str]) -> list[tuple[str, str]]:
    """(MedicationRequest reference, its drug as a CURIE or text) for the selected draft orders (all, when the
    client selects none)."""
    if not draft_orders:
        return []
    chosen = set(selections)
    out = []
    for i, resource in enumerate(read_prefetch({"draftOrders": draft_orders})[0]):
        if resource.get_resource_type() != "MedicationRequest":
            continue
        ref = f"MedicationRequest/{resource.id}" if resource.id else f"MedicationRequest[{i}]"
        if chosen and ref not in chosen:
            continue
        codeable = resource.medicationCodeableConcept
        codes = [coding_curie(c.system, c.code) for c in (codeable.coding or [])] if codeable else []
        drug = next((c for c in codes if c), None) or (codeable.text if codeable else None)
        if drug:
            out.append((ref, drug))
    return out
