"""The pipeline component that turns vital signs and lab values into finding mentions.

Each value `nlp.measurements` reads becomes a candidate span over the name,
value and unit ("temperature of 38.3°C"), linked to the HPO term its outcome
stands for (`nlp.loinc2hpo`): a high temperature to Fever, a normal one to
Fever as well, asserted absent by `cdss_context`. A value that cannot be used
(a range, an unknown unit, an impossible number, no term for its outcome) is
still a mention, with no concept and the problem, so it is reported and not
ranked on. Every measurement mention keeps its value, unit, range and reason.
"""

from __future__ import annotations

import json
from pathlib import Path

from spacy.language import Language
from spacy.tokens import Doc, Span

from nlp.extensions import MEASUREMENTS, Link, doc_text, set_candidate_link
from nlp.loinc2hpo import OutcomeTerm
from nlp.measurements import NORMAL, OUTCOME_WORDS, find_measurements, patient_of

METHOD = "measurement"
DETAIL_KEY = "cdss.measurement"
TERMS_FILE = "outcome_terms.json"


def measurement_detail(span: Span) -> dict | None:
    """What the measurement component read for this span, if it is a measurement."""
    return span.doc.user_data.get((DETAIL_KEY, span.start_char, span.end_char))


@Language.factory("cdss_measurements", assigns=["doc.spans"])
def make_measurements(nlp: Language, name: str) -> MeasurementLinker:
    return MeasurementLinker()


class MeasurementLinker:
    def __init__(self) -> None:
        self.terms: dict[str, tuple[str, str]] = {}
        """"LOINC|outcome" -> (HPO id, where the mapping comes from)."""

    def initialize(self, get_examples=None, *, terms: dict[tuple[str, str], OutcomeTerm], known: set[str]) -> None:
        """Keep the outcome terms the graph has as findings."""
        self.terms = {
            f"{loinc}|{outcome}": (t.hpo, t.origin) for (loinc, outcome), t in terms.items() if t.hpo in known
        }

    def __call__(self, doc: Doc) -> Doc:
        text = doc_text(doc)
        patient = patient_of(text)
        spans = []
        for found in find_measurements(text, patient):
            span = doc.char_span(found.start, found.end, label=METHOD, alignment_mode="expand")
            if span is None or any(s.start < span.end and span.start < s.end for s in spans):
                continue
            detail = found.to_dict()
            term = self.terms.get(f"{found.loinc}|{found.outcome}") if found.outcome else None
            if found.outcome and term is None:
                detail["problem"] = f"no finding for a {OUTCOME_WORDS[found.outcome]} {found.analyte}"
            if term is not None:
                detail["finding_mapping"] = term[1]
                detail["asserts"] = "absent" if found.outcome == NORMAL else "present"
            concept = term[0] if term else None
            set_candidate_link(span, Link(concept, "Finding" if concept else None, METHOD, 1.0))
            doc.user_data[(DETAIL_KEY, span.start_char, span.end_char)] = detail
            spans.append(span)
        doc.spans[MEASUREMENTS] = spans
        return doc

    def to_disk(self, path: Path, *, exclude=()) -> None:
        path.mkdir(parents=True, exist_ok=True)
        (path / TERMS_FILE).write_text(json.dumps(self.terms, sort_keys=True), encoding="utf-8")

    def from_disk(self, path: Path, *, exclude=()) -> MeasurementLinker:
        self.terms = {k: tuple(v) for k, v in json.loads((path / TERMS_FILE).read_text(encoding="utf-8")).items()}
        return self
