"""`cdss eval vignettes`: published free-text vignettes, ranked end to end from their text."""

from __future__ import annotations

import json
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from cdss.errors import InputError
from cdss.types import Concept, NodeLabel
from kg.assembly import name_variants
from kg.store import GraphStore
from ranking.case import Case

MATCHING = (
    "The gold name matches a graph disease when, after normalisation (case, accents, punctuation, possessives; "
    "'Arthritis, Rheumatoid' turned round; a final plural s dropped), it equals the disease's preferred name or one "
    "of its synonyms. Every IS_A descendant of a matched disease counts too (a more specific diagnosis is still "
    "right). A vignette whose gold names no graph disease counts as a miss. The rank is the position of the first "
    "matching disease in the differential."
)
GOLD_IN_GRAPH = "gold names a graph disease"
TOPS = (1, 3, 10)
DEPTH = 100
"""How far down the differential a gold diagnosis is looked for."""


@dataclass(frozen=True, slots=True)
class Vignette:
    id: str
    text: str
    gold: str
    subset: str = ""
    category: str = ""


def read_vignettes(path: Path) -> list[Vignette]:
    """Vignettes from JSON lines with `id`, `text` and `gold` (a name or a one-name list)."""
    out = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise InputError(f"cannot read vignettes from {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise InputError(f"{path} is not UTF-8 text") from None
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InputError(f"{path} line {number} is not JSON: {exc.msg}") from None
        gold = data.get("gold") if isinstance(data, dict) else None
        if isinstance(gold, list) and len(gold) == 1:
            gold = gold[0]
        text = data.get("text") if isinstance(data, dict) else None
        if not isinstance(gold, str) or not gold.strip() or not isinstance(text, str) or not text.strip():
            raise InputError(f"{path} line {number}: expected a non-empty 'text' and one 'gold' name")
        out.append(
            Vignette(
                id=str(data.get("id", number)),
                text=text,
                gold=gold.strip(),
                subset=str(data.get("subset", "")),
                category=str(data.get("category", "")),
            )
        )
    return out


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

    def matches(self, gold: str) -> set[str]:
        """The named diseases and every disease below them."""
        found = self.named(gold)
        stack = list(found)
        while stack:
            for child in self.children.get(stack.pop(), ()):
                if child not in found:
                    found.add(child)
                    stack.append(child)
        return found


def gold_rank(ranked: Sequence[tuple[str, int]], gold: set[str]) -> int | None:
    """The best rank of a gold disease among (disease, rank) pairs, or None."""
    return min((rank for disease, rank in ranked if disease in gold), default=None)


def summarise(ranks: Sequence[int | None]) -> dict:
    """Top-k shares over all cases (a missing rank is a miss) and the mean reciprocal rank."""
    n = len(ranks)
    found = np.array([r if r is not None else np.inf for r in ranks], dtype=float)
    out = {"cases": n}
    for k in TOPS:
        out[f"top{k}"] = round(float((found <= k).mean()), 4) if n else 0.0
    out[f"top{DEPTH}"] = round(float((found <= DEPTH).mean()), 4) if n else 0.0
    out["mrr"] = round(float(np.where(np.isfinite(found), 1.0 / found, 0.0).mean()), 4) if n else 0.0
    return out


@dataclass(slots=True)
class VignetteResult:
    vignette: Vignette
    gold_ids: list[str]
    rank: int | None
    top: list[tuple[str, str]]
    error: str | None = None

    def to_dict(self) -> dict:
        return {
            "id": self.vignette.id,
            "gold": self.vignette.gold,
            "subset": self.vignette.subset,
            "gold_ids": self.gold_ids[:20],
            "gold_matched": bool(self.gold_ids),
            "rank": self.rank,
            "top10": [{"id": i, "name": n} for i, n in self.top[:10]],
            "error": self.error,
        }


def evaluate_vignettes(
    vignettes: Sequence[Vignette],
    rank_batch: Callable[[Sequence[Case]], Iterator[object]],
    index: GoldIndex,
    *,
    batch_size: int = 32,
    progress: Callable[[Iterable], Iterable] = lambda items: items,
    groups: Mapping[str, Callable[[set[str]], bool]] | None = None,
) -> tuple[dict, list[VignetteResult]]:
    """Rank every vignette from its text alone and score the gold's position.

    `rank_batch` takes cases and yields, per case, either a ranked result (with
    `.diagnoses`, each having `.id`, `.name` and `.rank`) or an `InputError`.
    `groups` names subsets by a test on the gold's matching diseases; each gets its own metrics.
    """
    started = time.perf_counter()
    results: list[VignetteResult] = []
    for start in progress(range(0, len(vignettes), batch_size)):
        batch = vignettes[start : start + batch_size]
        cases = [Case(id=v.id, text=v.text) for v in batch]
        for vignette, outcome in zip(batch, rank_batch(cases), strict=True):
            gold = index.matches(vignette.gold)
            if isinstance(outcome, InputError):
                results.append(VignetteResult(vignette, sorted(gold), None, [], str(outcome)))
                continue
            top = [(d.id, d.name) for d in outcome.diagnoses]
            rank = gold_rank([(d.id, d.rank) for d in outcome.diagnoses], gold)
            results.append(VignetteResult(vignette, sorted(gold), rank, top))
    report = report_of(results, {GOLD_IN_GRAPH: bool, **(groups or {})})
    report["seconds"] = round(time.perf_counter() - started, 1)
    return report, results


def report_of(results: Sequence[VignetteResult], groups: Mapping[str, Callable[[set[str]], bool]]) -> dict:
    """Metrics over every vignette, per subset of the data set, and per group of golds."""
    by_subset: dict[str, list[int | None]] = defaultdict(list)
    for result in results:
        by_subset[result.vignette.subset].append(result.rank)
    return {
        "all": summarise([r.rank for r in results]),
        "groups": {
            name: summarise([r.rank for r in results if test(set(r.gold_ids))]) for name, test in groups.items()
        },
        "gold_not_in_graph": sum(1 for r in results if not r.gold_ids),
        "refused": sum(1 for r in results if r.error),
        "subsets": {name: summarise(ranks) for name, ranks in sorted(by_subset.items())},
        "matching": MATCHING,
    }


def plot_vignette_ranks(runs: Mapping[str, Sequence[int | None]], path: Path) -> None:
    """Cumulative share of vignettes with the gold at or above each rank, one line per run."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 5))
    cutoffs = np.arange(1, DEPTH + 1)
    for label, ranks in runs.items():
        found = np.array([r if r is not None else np.inf for r in ranks], dtype=float)
        ax.plot(cutoffs, [(found <= n).mean() for n in cutoffs], label=f"{label} (n={len(found)})")
    for n in TOPS:
        ax.axvline(n, color="grey", linewidth=0.5, linestyle=":")
    ax.set_xscale("log")
    ax.set_ylim(0, 1)
    ax.set_xlabel("rank of the gold diagnosis (at most)")
    ax.set_ylabel("share of vignettes")
    ax.set_title("cdss differential on published vignettes, end to end from text")
    ax.legend(fontsize=8, loc="upper left")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
