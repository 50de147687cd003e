"""Does the FHIR path rank a case as the JSON path does? Measured on published vignettes (offline only).

Each vignette is read once by the NLP pipeline; its findings are then sent two ways, as text plus HPO ids and
as a Bundle coded with SNOMED CT and LOINC (`interop.encode`), and the two top-k lists are compared.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date

from cdss.errors import NothingToRankError
from cdss.progress import progress
from interop.encode import bundle_for, structured_case
from interop.fhir_bundle import read_bundle
from interop.fhir_case import case_from_resources
from interop.fhir_codes import SYSTEM_PREFIXES
from nlp.measurements import patient_of
from ranking import Engine


@dataclass(slots=True)
class Agreement:
    cases: int = 0
    same_order: int = 0
    same_set: int = 0
    nothing_to_rank: int = 0
    codings: Counter = field(default_factory=Counter)
    """Observations sent, by code system (SNOMED CT, HPO, LOINC)."""
    not_used: Counter = field(default_factory=Counter)
    differing: list[dict] = field(default_factory=list)

    def to_dict(self) -> dict:
        ranked = self.cases - self.nothing_to_rank
        return {
            "cases": self.cases,
            "ranked": ranked,
            "nothing_to_rank": self.nothing_to_rank,
            "same_top_k_in_order": self.same_order,
            "same_top_k_as_a_set": self.same_set,
            "share_same_in_order": round(self.same_order / ranked, 4) if ranked else None,
            "observations_by_system": dict(sorted(self.codings.items())),
            "not_used_by_reason": dict(self.not_used.most_common(10)),
            "differing": self.differing[:20],
        }


def _system(observation: dict) -> str:
    codings = observation["code"]["coding"]
    return SYSTEM_PREFIXES.get(codings[0]["system"], "other") if codings else "text only"


def compare_paths(
    engine: Engine,
    vignettes: Iterable[tuple[str, str]],
    *,
    terms: Mapping[str, tuple[str, str]],
    today: date,
    top_k: int = 5,
    show_progress: bool | None = None,
    keep: Callable[[str, dict], None] | None = None,
) -> Agreement:
    """Rank each (id, text) vignette as JSON and as a FHIR Bundle and count where the top `top_k` agree.
    `keep(id, bundle)` sees every Bundle sent (to save an example)."""
    out = Agreement()
    for case_id, text in progress(list(vignettes), desc="vignettes as JSON and FHIR", enabled=show_progress):
        out.cases += 1
        [mentions] = list(engine.mentions([text]))
        patient = patient_of(text)
        bundle = bundle_for(text, mentions, patient, engine.store, today=today)
        if keep is not None:
            keep(case_id, bundle)
        read = case_from_resources(read_bundle(bundle), engine.store, terms=terms, today=today, case_id=case_id)
        out.codings.update(
            _system(e["resource"]) for e in bundle["entry"] if e["resource"]["resourceType"] == "Observation"
        )
        out.not_used.update(n["reason"] for n in read.not_used)
        try:
            as_json = engine.rank(structured_case(text, mentions, patient, case_id), top_k=top_k)
        except NothingToRankError:
            out.nothing_to_rank += 1
            continue
        as_fhir = engine.rank(read.case, top_k=top_k)
        first = [d.id for d in as_json.diagnoses[:top_k]]
        second = [d.id for d in as_fhir.diagnoses[:top_k]]
        out.same_order += first == second
        out.same_set += set(first) == set(second)
        if first != second:
            out.differing.append({"id": case_id, "json": first, "fhir": second})
    return out
