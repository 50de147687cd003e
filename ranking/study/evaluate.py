"""`cdss eval diagnosis`: how often the right disease comes first, in the top 3 and the top 10.

The rank of the true disease is pessimistic: every disease scoring at least
as high counts as above it. Metrics are reported micro (over cases) and
macro (averaged per disease first), with a PNG of the rank distributions.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np

from cdss.progress import progress
from ranking.config import RankingConfig
from ranking.diagnosis import score_observations
from ranking.knowledge import Knowledge
from ranking.likelihood import LikelihoodModel
from ranking.observations import IMAGE
from ranking.study.simulate import SimulatedCase, Simulator

TOPS = (1, 3, 10)
RARE_GRID = {"k": (1, 3, 5, 10), "noise": (0, 1, 2), "imprecision": (0.0, 0.5)}
HEADLINE = {"k": 5, "noise": 1, "imprecision": 0.5}


def rank_of_truth(model: LikelihoodModel, case: SimulatedCase) -> int:
    scores = score_observations(model, case.observations)
    truth = scores.total[case.disease]
    return int((scores.total >= truth).sum())


def metrics(cases: Sequence[SimulatedCase], ranks: Sequence[int]) -> dict:
    ranks_array = np.asarray(ranks)
    by_disease: dict[int, list[int]] = defaultdict(list)
    for case, rank in zip(cases, ranks, strict=True):
        by_disease[case.disease].append(rank)

    def summary(values: np.ndarray) -> dict:
        return {**{f"top{n}": float((values <= n).mean()) for n in TOPS}, "mrr": float((1.0 / values).mean())}

    micro = summary(ranks_array) if len(ranks_array) else {}
    per_disease = [summary(np.asarray(v)) for v in by_disease.values()]
    macro = {key: float(np.mean([p[key] for p in per_disease])) for key in micro} if per_disease else {}
    return {
        "cases": len(ranks_array),
        "diseases": len(by_disease),
        "micro": {k: round(v, 4) for k, v in micro.items()},
        "macro": {k: round(v, 4) for k, v in macro.items()},
        "median_rank": float(np.median(ranks_array)) if len(ranks_array) else None,
    }


def _ranks(model: LikelihoodModel, cases: Sequence[SimulatedCase], label: str, show: bool | None) -> list[int]:
    return [rank_of_truth(model, c) for c in progress(cases, desc=label, enabled=show, unit="case")]


HostedImage = Callable[[str, bool, np.random.Generator], tuple[float, float | None] | None]
"""(finding, shown, rng) -> a hosted image model's calibrated probability of `finding` on a real test image that
shows it (or, with shown False, a normal one), and the model's reference (its training prevalence, or None);
None when no hosted model reads that finding."""


def _with_image(case: SimulatedCase, read: tuple[float, float | None]) -> SimulatedCase:
    probability, reference = read

    def changed(o):
        return replace(o, probability=probability, reference=reference if reference is not None else o.reference)

    observations = tuple(changed(o) if o.origin == IMAGE else o for o in case.observations)
    return SimulatedCase(case.disease, observations, case.setting)


def _hosted_image_ablation(
    model: LikelihoodModel,
    cases: Sequence[SimulatedCase],
    hosted_image: HostedImage,
    seed: int,
    show_progress: bool | None,
) -> dict:
    """The image cases whose finding a hosted model reads, ranked without the image, with a real image showing
    the finding, and with a real normal image, each read by the hosted model."""
    rng = np.random.default_rng([seed, 23])
    variants: dict[str, list[SimulatedCase]] = {
        "without image": [],
        "with an image showing it": [],
        "with a normal image": [],
    }
    for case in cases:
        finding = next(o.finding for o in case.observations if o.origin == IMAGE)
        shown, normal = hosted_image(finding, True, rng), hosted_image(finding, False, rng)
        if shown is None or normal is None:
            continue
        variants["without image"].append(case.without(IMAGE))
        variants["with an image showing it"].append(_with_image(case, shown))
        variants["with a normal image"].append(_with_image(case, normal))
    out: dict = {"cases": len(variants["without image"])}
    for name, chosen in variants.items():
        out[name] = metrics(chosen, _ranks(model, chosen, f"hosted image: {name}", show_progress)) if chosen else None
    return out


def evaluate_diagnosis(
    knowledge: Knowledge,
    config: RankingConfig,
    *,
    diseases: int = 500,
    per_condition: int = 20,
    seed: int = 0,
    image_findings: set[str] = frozenset(),
    hosted_image: HostedImage | None = None,
    show_progress: bool | None = None,
    log: Callable[[str], None] = lambda _: None,
) -> dict:
    """Every table of the evaluation, as one JSON-ready dict (ranks included, for the plot)."""
    started = time.perf_counter()
    model = LikelihoodModel(knowledge, config)
    simulator = Simulator(knowledge, seed=seed)
    report: dict = {"config": {"seed": seed, "diseases": diseases, "ranking": config.version}, "rare": []}
    headline_ranks: list[int] = []
    for k in RARE_GRID["k"]:
        for noise in RARE_GRID["noise"]:
            for imprecision in RARE_GRID["imprecision"]:
                cases = simulator.rare_cases(diseases=diseases, k=k, noise=noise, imprecision=imprecision)
                ranks = _ranks(model, cases, f"rare k={k} noise={noise} imprecision={imprecision}", show_progress)
                row = {"k": k, "noise": noise, "imprecision": imprecision, **metrics(cases, ranks)}
                report["rare"].append(row)
                log(f"rare k={k} noise={noise} imprecision={imprecision}: {row['micro']}")
                if {"k": k, "noise": noise, "imprecision": imprecision} == HEADLINE:
                    headline_ranks = ranks

    ablation_cases = simulator.rare_cases(diseases=diseases, negatives=2, **HEADLINE)
    variants = {
        "full model": config,
        "without ontology propagation": replace(config, ontology=False),
        "without negatives (absent findings, exclusions)": replace(config, negatives=False),
    }
    report["ablations"] = {"setting": {**HEADLINE, "negatives": 2}, "results": {}}
    ablation_ranks = {}
    for name, variant in variants.items():
        ranks = _ranks(LikelihoodModel(knowledge, variant), ablation_cases, name, show_progress)
        ablation_ranks[name] = ranks
        report["ablations"]["results"][name] = metrics(ablation_cases, ranks)
        log(f"ablation {name}: {report['ablations']['results'][name]['micro']}")

    report["common"] = []
    common_ranks: list[int] = []
    for k in (3, 5, 8):
        for negatives in (0, 2):
            cases = simulator.common_cases(per_condition=per_condition, k=k, negatives=negatives)
            ranks = _ranks(model, cases, f"DDXPlus k={k} negatives={negatives}", show_progress)
            report["common"].append({"k": k, "negatives": negatives, **metrics(cases, ranks)})
            log(f"DDXPlus k={k} negatives={negatives}: {report['common'][-1]['micro']}")
            if (k, negatives) == (5, 0):
                common_ranks = ranks

    image_cases = simulator.image_cases(
        image_findings, diseases=diseases, k=3, noise=1, image_reference=config.image_reference
    )
    with_image = _ranks(model, image_cases, "with image evidence", show_progress)
    without_image = _ranks(model, [c.without(IMAGE) for c in image_cases], "without image evidence", show_progress)
    report["image_ablation"] = {
        "setting": {"k": 3, "noise": 1, "image_probability": "uniform 0.6-0.95"},
        "with image evidence": metrics(image_cases, with_image),
        "without image evidence": metrics(image_cases, without_image),
    }
    if hosted_image is not None:
        report["hosted_image_model"] = _hosted_image_ablation(model, image_cases, hosted_image, seed, show_progress)
        log(f"hosted image model: {report['hosted_image_model']}")
    report["seconds"] = round(time.perf_counter() - started, 1)
    report["_ranks"] = {
        f"rare k={HEADLINE['k']} noise={HEADLINE['noise']} imprecision={HEADLINE['imprecision']}": headline_ranks,
        **{f"ablation: {name}": ranks for name, ranks in ablation_ranks.items()},
        "DDXPlus k=5": common_ranks,
        "image cases, with image": with_image,
        "image cases, without image": without_image,
    }
    return report


def plot_ranks(report: dict, path: Path) -> None:
    """Cumulative share of cases with the true disease at or above each rank, per case set."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 5))
    cutoffs = np.arange(1, 51)
    for label, ranks in report["_ranks"].items():
        if ranks:
            values = np.asarray(ranks)
            ax.plot(cutoffs, [(values <= n).mean() for n in cutoffs], label=f"{label} (n={len(values)})")
    for n in TOPS:
        ax.axvline(n, color="grey", linewidth=0.5, linestyle=":")
    ax.set_xlabel("rank of the true disease (at most)")
    ax.set_ylabel("share of simulated cases")
    ax.set_ylim(0, 1)
    ax.set_xscale("log")
    ax.legend(fontsize=7, loc="lower right")
    ax.set_title("cdss diagnosis ranking on simulated cases")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
