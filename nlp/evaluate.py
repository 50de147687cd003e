"""`cdss nlp eval`: span-level precision, recall and F1 against an annotated corpus,
and linking accuracy where the gold standard gives MeSH or OMIM ids.

A prediction counts whatever its assertion: "no evidence of pneumonia" still
mentions pneumonia. Our Drug type is compared with the corpus's Chemical, and
Disease and Finding with Disease.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from spacy.language import Language

from kg.store import GraphStore
from nlp.corpora import Document
from nlp.extensions import MENTIONS
from nlp.pipeline import annotate

CORPUS_TYPE = {"Drug": "Chemical", "Disease": "Disease", "Finding": "Disease", "Chemical": "Chemical"}


@dataclass(slots=True)
class Counts:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def to_dict(self) -> dict:
        return {
            "precision": round(self.precision, 4),
            "recall": round(self.recall, 4),
            "f1": round(self.f1, 4),
            "tp": self.tp,
            "fp": self.fp,
            "fn": self.fn,
        }


@dataclass(slots=True)
class EvalReport:
    documents: int
    exact: dict[str, Counts] = field(default_factory=lambda: defaultdict(Counts))
    overlap: dict[str, Counts] = field(default_factory=lambda: defaultdict(Counts))
    linking_correct: int = 0
    linking_correct_any: int = 0
    """Correct if the chosen concept or another concept with the same name has the gold id."""
    linking_total: int = 0
    linking_unmappable: int = 0

    @property
    def linking_accuracy(self) -> float | None:
        return self.linking_correct / self.linking_total if self.linking_total else None

    def to_dict(self) -> dict:
        def table(counts: dict[str, Counts]) -> dict:
            total = Counts(*(sum(getattr(c, k) for c in counts.values()) for k in ("tp", "fp", "fn")))
            return {**{t: c.to_dict() for t, c in sorted(counts.items())}, "overall": total.to_dict()}

        return {
            "documents": self.documents,
            "exact": table(self.exact),
            "overlap": table(self.overlap),
            "linking": {
                "accuracy": None if self.linking_accuracy is None else round(self.linking_accuracy, 4),
                "accuracy_any_same_name": round(self.linking_correct_any / self.linking_total, 4)
                if self.linking_total
                else None,
                "correct": self.linking_correct,
                "evaluated": self.linking_total,
                "gold_ids_not_in_graph": self.linking_unmappable,
            },
        }


def _overlaps(a: tuple[int, int], b: tuple[int, int]) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def evaluate(
    nlp: Language, documents: list[Document], *, max_chars: int, store: GraphStore | None = None
) -> EvalReport:
    """Score the pipeline's mentions against the gold mentions of `documents`."""
    report = EvalReport(documents=len(documents))
    node_ids: dict[str, frozenset[str]] = {}

    def ids_of(concept_id: str) -> frozenset[str]:
        if concept_id not in node_ids:
            node = store.get_node(concept_id) if store is not None else None
            node_ids[concept_id] = frozenset({concept_id, *(node.xrefs if node else ())})
        return node_ids[concept_id]

    known: dict[str, bool] = {}

    def in_graph(curie: str) -> bool:
        if curie not in known:
            known[curie] = store is not None and (store.get_node(curie) is not None or bool(store.find_by_xref(curie)))
        return known[curie]

    docs = annotate(nlp, (d.text for d in documents), max_chars=max_chars)
    for document, doc in zip(documents, docs, strict=True):
        predicted = [
            (
                s.start_char,
                s.end_char,
                CORPUS_TYPE.get(s._.cdss_type or ""),
                s._.cdss_concept,
                (s._.cdss_concept, *s._.cdss_alternates),
            )
            for s in doc.spans.get(MENTIONS, [])
        ]
        predicted = [p for p in predicted if p[2] is not None]
        gold = [(g.start, g.end, g.type) for g in document.mentions]
        gold_set = set(gold)
        predicted_set = {(s, e, t) for s, e, t, _, _ in predicted}
        for kind in {t for *_, t in gold} | {t for _, _, t, _, _ in predicted}:
            g = {x for x in gold_set if x[2] == kind}
            p = {x for x in predicted_set if x[2] == kind}
            report.exact[kind].tp += len(g & p)
            report.exact[kind].fp += len(p - g)
            report.exact[kind].fn += len(g - p)
            report.overlap[kind].tp += sum(1 for x in p if any(_overlaps(x[:2], y[:2]) for y in g))
            report.overlap[kind].fp += sum(1 for x in p if not any(_overlaps(x[:2], y[:2]) for y in g))
            report.overlap[kind].fn += sum(1 for y in g if not any(_overlaps(x[:2], y[:2]) for x in p))
        if store is None:
            continue
        by_span = {(s, e): (concept, named) for s, e, _, concept, named in predicted if concept}
        for mention in document.mentions:
            linked = by_span.get((mention.start, mention.end))
            if linked is None or not mention.ids:
                continue
            if not any(in_graph(i) for i in mention.ids):
                report.linking_unmappable += 1
                continue
            concept, named = linked
            report.linking_total += 1
            report.linking_correct += bool(ids_of(concept) & set(mention.ids))
            report.linking_correct_any += any(ids_of(c) & set(mention.ids) for c in named)
    return report
