"""Collecting a case from FHIR resources: what each resource became, and what was set aside and why."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

from fhir.resources.R4B.resource import Resource

from cdss.errors import NotFoundError
from cdss.text import normalize_term
from cdss.types import Concept, NodeLabel
from interop.fhir_codes import coding_curie
from kg.lookup import resolve
from kg.store import GraphStore
from nlp.measurements import Patient
from ranking.case import Case, StatedFinding, checked


@dataclass(slots=True)
class FhirCase:
    """The case a set of resources describes, what each resource became, and what was not used and why."""

    case: Case
    used: list[dict] = field(default_factory=list)
    not_used: list[dict] = field(default_factory=list)

    def report(self) -> dict:
        return {"used": self.used, "not_used": self.not_used}


def reference(resource: Resource, index: int) -> str:
    """How an answer names a resource: `Type/id`, or `Type[index]` for one without an id."""
    kind = resource.get_resource_type()
    return f"{kind}/{resource.id}" if resource.id else f"{kind}[{index}]"


def codes_of(codeable) -> list[tuple[str | None, str | None]]:
    return [(c.system, c.code) for c in (getattr(codeable, "coding", None) or [])]


def status_code(value) -> str | None:
    """A status given as a code, or as a CodeableConcept (Condition.clinicalStatus), as its code."""
    if value is None or isinstance(value, str):
        return value
    return next((code for _, code in codes_of(value) if code), None)


@dataclass(slots=True)
class CaseReader:
    store: GraphStore
    terms: Mapping[str, tuple[str, str]]
    today: date
    present: dict[str, float] = field(default_factory=dict)
    absent: dict[str, float] = field(default_factory=dict)
    texts: list[str] = field(default_factory=list)
    medications: list[str] = field(default_factory=list)
    allergies: list[str] = field(default_factory=list)
    patient: Patient = field(default_factory=Patient)
    setting: str = "unknown"
    out: FhirCase = field(default_factory=lambda: FhirCase(Case()))

    def skip(self, ref: str, reason: str, **detail) -> None:
        self.out.not_used.append({"resource": ref, **detail, "reason": reason})

    def use(self, ref: str, role: str, concept: Concept | None = None, **detail) -> None:
        shown = {"concept": concept.id, "name": concept.name} if concept is not None else {}
        self.out.used.append({"resource": ref, "as": role, **shown, **detail})

    def concept(self, codeable, ref: str) -> Concept | None:
        """The graph concept a CodeableConcept names (first coding the graph knows, else its text by name)."""
        tried = []
        display = normalize_term(getattr(codeable, "text", None) or "")
        for system, code in codes_of(codeable):
            curie = coding_curie(system, code)
            tried.append(curie or f"{system}|{code}")
            if curie is None:
                continue
            try:
                matches = [c for c, _ in resolve(self.store, curie)]
            except NotFoundError:
                continue
            named = [c for c in matches if display and normalize_term(c.name) == display]
            return (named or sorted(matches, key=lambda c: c.id))[0]
        text = getattr(codeable, "text", None)
        by_name = self.store.find_by_name(text) if text and text.strip() else []
        if len(by_name) == 1:
            return by_name[0]
        why = "none of its codes is in the graph" if tried else "it has no coding"
        self.skip(ref, f"{why}" + (f", and its text {text!r} names no one concept" if text else ""), codes=tried)
        return None

    def state(self, concept: Concept, ref: str, *, present: bool, via: str) -> None:
        """A finding or disease the record says is there (or not); a drug, gene or drug class here is neither."""
        if concept.label not in (NodeLabel.DISEASE, NodeLabel.FINDING):
            self.skip(ref, f"a {concept.label} is not a finding or condition", concept=concept.id)
            return
        side, other = (self.present, self.absent) if present else (self.absent, self.present)
        if concept.id in other:
            self.skip(ref, f"{concept.id} is also stated {'absent' if present else 'present'}; that one is used")
            return
        side[concept.id] = 1.0
        kind = "condition" if concept.label == NodeLabel.DISEASE else "finding"
        self.use(ref, f"{kind} {'present' if present else 'absent'}", concept, via=via)

    def case(self, case_id: str) -> FhirCase:
        self.out.case = checked(
            Case(
                id=case_id,
                present=tuple(StatedFinding(i, c) for i, c in sorted(self.present.items())),
                absent=tuple(StatedFinding(i, c) for i, c in sorted(self.absent.items())),
                text="\n\n".join(self.texts) if self.texts else None,
                medications=tuple(dict.fromkeys(self.medications)),
                allergies=tuple(dict.fromkeys(self.allergies)),
                age=self.patient.age,
                sex=self.patient.sex,
                setting=self.setting,
            )
        )
        return self.out


def coded(codeable) -> list[str]:
    """A CodeableConcept's codings as `system|code`, for the reasons an answer lists."""
    return [f"{system}|{code}" for system, code in codes_of(codeable)]
