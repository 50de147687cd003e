"""`cdss eval cases`: the differential on cases somebody else wrote, beside baselines ranked the same way.

Two formats:

- `phenopacket`: JSON lines with `case_id`, `observed_hpo`, `excluded_hpo` and
  `diagnosis_ids` (OMIM); observed terms are present findings, excluded ones
  absent. The gold is the graph node each diagnosis id names (as an id or a
  cross-reference).
- `vignette`: JSON lines with `id`, `text` and one `gold` name, ranked from the
  text alone through the NLP pipeline; the gold name is matched to graph
  diseases by `MATCHING`.

Every method ranks every case from the same observations, and is scored by
the rank of its best gold disease (a miss beyond `DEPTH`). Metrics are micro
(over cases) and macro (averaged per diagnosis first, since some diagnoses
have hundreds of cases).
"""

from __future__ import annotations

import json
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from cdss.errors import CdssError, InputError
from cdss.types import Concept, Mention, NodeLabel
from kg.lookup import resolve
from kg.resolution import name_variants
from kg.store import GraphStore
from ranking.case import Case

FORMATS = ("phenopacket", "vignette")
MATCHING = (
    "The gold name matches a graph disease when, after normalisation (case, accents, punctuation, possessives; "
    "'Arthritis, Rheumatoid' turned round; a final plural s dropped), it equals the disease's preferred name or one "
    "of its synonyms. Every IS_A descendant of a matched disease counts too (a more specific diagnosis is still "
    "right). A case whose gold names no graph disease counts as a miss. The rank is the best rank of any gold disease."
)
TOPS = (1, 3, 10)
DEPTH = 100
"""How far down a ranking a gold diagnosis is looked for."""


@dataclass(frozen=True, slots=True)
class EvalCase:
    """A case to rank, its gold diseases, and what to group it by."""

    id: str
    case: Case
    gold: frozenset[str]
    gold_label: str
    key: str
    """The diagnosis, for macro averages and cross-validation folds."""
    subset: str = ""


@dataclass(frozen=True, slots=True)
class Ranked:
    """One method's answer for one case: (disease, rank, score), best first."""

    diseases: tuple[tuple[str, int, float], ...]
    error: str | None = None

    def gold_rank(self, gold: frozenset[str]) -> int | None:
        """The gold's rank, counting every disease that scores as high as it (ties go against the method)."""
        score = self.gold_score(gold)
        if score is None:
            return None
        return max(rank for _, rank, other in self.diseases if other >= score)

    def gold_score(self, gold: frozenset[str]) -> float | None:
        return max((score for disease, _, score in self.diseases if disease in gold), default=None)


Ranker = Callable[[EvalCase, list[Mention] | None], Ranked]
"""A method: ranks one case from its observations (and the mentions found in its text)."""


def json_lines(path: Path) -> Iterable[tuple[int, Any]]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise InputError(f"cannot read cases from {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise InputError(f"{path} is not UTF-8 text") from None
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            yield number, json.loads(line)
        except json.JSONDecodeError as exc:
            raise InputError(f"{path} line {number} is not JSON: {exc.msg}") from None


GOLD_MATCHING_RULES = (
    "a vignette's gold name matches a graph disease when, after normalisation (case, accents, punctuation, "
    "possessives, 'Arthritis, Rheumatoid' turned round, a final plural s), it equals the disease's name or one of "
    "its synonyms; every IS_A descendant of a matched disease counts as the gold too; a gold that names no graph "
    "disease makes the vignette a miss. A phenopacket's gold is its OMIM or Orphanet ids, as the graph has them."
)


@dataclass(slots=True)
class GoldIndex:
    """Disease names and synonyms, and the disease hierarchy, for matching gold names."""

    by_name: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    children: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))

    @classmethod
    def build(cls, diseases: Iterable[Concept], is_a: Iterable[tuple[str, str]]) -> GoldIndex:
        index = cls()
        known = set()
        for disease in diseases:
            known.add(disease.id)
            for name in (disease.name, *disease.synonyms):
                for variant in name_variants(name):
                    index.by_name[variant].add(disease.id)
        for child, parent in is_a:
            if child in known and parent in known:
                index.children[parent].add(child)
        return index

    @classmethod
    def from_store(cls, store: GraphStore) -> GoldIndex:
        from cdss.types import EdgeType

        return cls.build(
            store.iter_nodes(label=NodeLabel.DISEASE),
            ((e.start, e.end) for e in store.iter_edges(edge_type=EdgeType.IS_A)),
        )

    def named(self, gold: str) -> set[str]:
        """Diseases whose name or synonym is the gold name."""
        return {d for variant in name_variants(gold) for d in self.by_name.get(variant, ())}

    def below(self, diseases: Iterable[str]) -> set[str]:
        """The diseases and every disease below them."""
        found = set(diseases)
        stack = list(found)
        while stack:
            for child in self.children.get(stack.pop(), ()):
                if child not in found:
                    found.add(child)
                    stack.append(child)
        return found

    def matches(self, gold: str) -> set[str]:
        """The named diseases and every disease below them."""
        return self.below(self.named(gold))


def read_texts(path: Path) -> list[str]:
    """The `text` of every line of a JSON-lines file of notes or vignettes."""
    out = []
    for number, data in json_lines(path):
        text = data.get("text") if isinstance(data, dict) else None
        if not isinstance(text, str):
            raise InputError(f"{path} line {number}: expected an object with a 'text' string")
        out.append(text)
    return out


def read_vignettes(path: Path, index: GoldIndex) -> list[EvalCase]:
    """Vignettes from JSON lines with `id`, `text` and `gold` (a name or a one-name list)."""
    out = []
    for number, data in json_lines(path):
        gold = data.get("gold") if isinstance(data, dict) else None
        if isinstance(gold, list) and len(gold) == 1:
            gold = gold[0]
        text = data.get("text") if isinstance(data, dict) else None
        if not isinstance(gold, str) or not gold.strip() or not isinstance(text, str) or not text.strip():
            raise InputError(f"{path} line {number}: expected a non-empty 'text' and one 'gold' name")
        case_id = str(data.get("id", number))
        out.append(
            EvalCase(
                id=case_id,
                case=Case(id=case_id, text=text),
                gold=frozenset(index.matches(gold)),
                gold_label=gold.strip(),
                key=gold.strip().casefold(),
                subset=str(data.get("subset", "")),
            )
        )
    return out


def read_phenopackets(path: Path, store: GraphStore, known_findings: set[str], index: GoldIndex) -> list[EvalCase]:
    """Phenopacket cases: observed terms present, excluded ones absent (terms the graph lacks are left out)."""
    out = []
    for number, data in json_lines(path):
        if not isinstance(data, dict) or not isinstance(data.get("diagnosis_ids"), list):
            raise InputError(f"{path} line {number}: expected 'case_id', 'observed_hpo' and 'diagnosis_ids'")
        observed = [t for t in data.get("observed_hpo") or [] if t in known_findings]
        seen = set(observed)
        excluded = [t for t in data.get("excluded_hpo") or [] if t in known_findings and t not in seen]
        gold: set[str] = set()
        for diagnosis in data["diagnosis_ids"]:
            try:
                gold |= {concept.id for concept, _ in resolve(store, str(diagnosis))}
            except CdssError:
                continue
        case_id = str(data.get("case_id", number))
        out.append(
            EvalCase(
                id=case_id,
                case=Case(id=case_id, present=tuple(_stated(observed)), absent=tuple(_stated(excluded))),
                gold=frozenset(index.below(gold)),
                gold_label=", ".join(map(str, data.get("diagnosis_labels") or data["diagnosis_ids"])),
                key="|".join(sorted(map(str, data["diagnosis_ids"]))),
                subset=str(data.get("source", "")).split("/")[0],
            )
        )
    return out


def _stated(ids: Sequence[str]):
    from ranking.case import StatedFinding

    return [StatedFinding(i) for i in ids]


def summarise(ranks: Sequence[int | None], keys: Sequence[str] | None = None) -> dict:
    """Top-k shares and MRR over every case (a missing rank is a miss), and macro over keys when given."""
    n = len(ranks)
    found = np.array([r if r is not None else np.inf for r in ranks], dtype=float)

    def metrics(values: np.ndarray) -> dict:
        out = {f"top{k}": round(float((values <= k).mean()), 4) if len(values) else 0.0 for k in TOPS}
        out["mrr"] = round(float(np.where(np.isfinite(values), 1.0 / values, 0.0).mean()), 4) if len(values) else 0.0
        return out

    summary = {"cases": n, **metrics(found)}
    if keys is not None:
        groups: dict[str, list[float]] = defaultdict(list)
        for key, value in zip(keys, found.tolist(), strict=True):
            groups[key].append(value)
        per_key = [metrics(np.array(v)) for v in groups.values()]
        summary["macro"] = {m: round(float(np.mean([p[m] for p in per_key])), 4) for m in per_key[0]} if per_key else {}
        summary["diagnoses"] = len(groups)
    return summary


@dataclass(slots=True)
class CaseResult:
    case: EvalCase
    ranked: dict[str, Ranked]

    def rank(self, method: str) -> int | None:
        return self.ranked[method].gold_rank(self.case.gold)

    def to_dict(self, method: str) -> dict:
        answer = self.ranked[method]
        top = answer.diseases[0] if answer.diseases else None
        return {
            "id": self.case.id,
            "gold": self.case.gold_label,
            "gold_ids": sorted(self.case.gold)[:20],
            "gold_rank": self.rank(method),
            "gold_score": answer.gold_score(self.case.gold),
            "top": {"id": top[0], "score": top[2]} if top else None,
            "method": method,
            "error": answer.error,
        }


def evaluate_cases(
    cases: Sequence[EvalCase],
    rankers: Mapping[str, Ranker],
    *,
    mentions: Callable[[Sequence[EvalCase]], Iterable[list[Mention] | None]] = lambda cases: [None] * len(cases),
    known_diseases: set[str] | None = None,
    batch_size: int = 64,
    progress: Callable[[Iterable], Iterable] = lambda items: items,
    groups: Mapping[str, Callable[[EvalCase], bool]] | None = None,
) -> tuple[dict, list[CaseResult]]:
    """Rank every case with every method, from the same observations; score the gold's rank."""
    started = time.perf_counter()
    results: list[CaseResult] = []
    for start in progress(range(0, len(cases), batch_size)):
        batch = cases[start : start + batch_size]
        for case, found in zip(batch, mentions(batch), strict=True):
            results.append(CaseResult(case, {name: ranker(case, found) for name, ranker in rankers.items()}))
    groups = dict(groups or {})
    groups.setdefault("gold in the graph", lambda c: bool(c.gold))
    if known_diseases is not None:
        groups.setdefault("gold known to the ranking", lambda c: bool(c.gold & known_diseases))
    report: dict = {"cases": len(results), "methods": {}, "matching": MATCHING}
    for method in rankers:
        ranks = [r.rank(method) for r in results]
        keys = [r.case.key for r in results]
        report["methods"][method] = {
            "all": summarise(ranks, keys),
            "groups": {
                name: summarise(
                    [rank for rank, r in zip(ranks, results, strict=True) if test(r.case)],
                    [r.case.key for r in results if test(r.case)],
                )
                for name, test in groups.items()
            },
            "refused": sum(1 for r in results if r.ranked[method].error),
        }
    report["gold_absent_from_graph"] = round(sum(1 for r in results if not r.case.gold) / max(len(results), 1), 4)
    if known_diseases is not None:
        report["gold_unknown_to_ranking"] = round(
            sum(1 for r in results if not r.case.gold & known_diseases) / max(len(results), 1), 4
        )
    report["seconds"] = round(time.perf_counter() - started, 1)
    return report, results


def plot_rank_histogram(results: Sequence[CaseResult], methods: Sequence[str], path: Path, title: str) -> None:
    """Per method, how many cases put the gold at rank 1, 2-3, 4-10, 11-100, or missed it."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    bins = [("1", 1, 1), ("2-3", 2, 3), ("4-10", 4, 10), ("11-100", 11, DEPTH), ("miss", None, None)]
    fig, ax = plt.subplots(figsize=(8, 4.5))
    width = 0.8 / max(len(methods), 1)
    for position, method in enumerate(methods):
        ranks = [r.rank(method) for r in results]
        counts = [
            sum(1 for x in ranks if x is None) if low is None else sum(1 for x in ranks if x and low <= x <= high)
            for _, low, high in bins
        ]
        shares = np.array(counts) / max(len(ranks), 1)
        ax.bar(np.arange(len(bins)) + position * width, shares, width, label=method)
    ax.set_xticks(np.arange(len(bins)) + width * (len(methods) - 1) / 2, [b[0] for b in bins])
    ax.set_xlabel("rank of the gold diagnosis")
    ax.set_ylabel("share of cases")
    ax.set_title(title)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def calibration_of(results: Sequence[CaseResult], method: str):
    """Reliability of a method's top score as a probability that the top disease is the gold."""
    from ranking.calibration import reliability

    confidence, correct = [], []
    for result in results:
        answer = result.ranked[method]
        if answer.diseases:
            confidence.append(answer.diseases[0][2])
            correct.append(answer.diseases[0][0] in result.case.gold)
    return reliability(confidence, correct)
