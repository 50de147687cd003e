"""Benchmark: the ranking engine on the full graph, without NLP.

Cases are simulated patients (rare diseases with 5 findings, noise and
imprecision, plus 2 absent findings; DDXPlus conditions; image-model outputs),
each a different case, ranked end to end: CURIEs resolved against the store,
scores, contributions with evidence, treatments and next questions.

Prints the time to load the engine, per-case latency (p50/p95/p99) and batch
throughput in cases per second.

    python benchmarks/rank_cases.py [--store URL] [--cases 1000]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from cdss.settings import load_settings
from ranking import Engine, parse_case
from ranking.study.simulate import Simulator
from runtime import load_engine, open_graph


def case_dicts(engine: Engine, count: int) -> list[dict]:
    simulator = Simulator(engine.knowledge, seed=42)
    rare = simulator.rare_cases(diseases=count // 2, k=5, noise=1, imprecision=0.5, negatives=2)
    common = simulator.common_cases(per_condition=max(1, count // 4 // 49 + 1), k=5, negatives=2)
    cases = []
    for i, simulated in enumerate(rare + common):
        case = {
            "id": f"bench-{i}",
            "present": [o.finding for o in simulated.observations if o.probability == 1],
            "absent": [o.finding for o in simulated.observations if o.probability == 0],
        }
        if i % 4 == 0:
            case["image_findings"] = [{"label": "Consolidation", "probability": 0.8, "model": "chexnet"}]
        cases.append(case)
    return cases[:count]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", help="graph store URL (default: CDSS_STORE)")
    parser.add_argument("--cases", type=int, default=1000)
    args = parser.parse_args()
    settings = load_settings()
    store = open_graph(settings, args.store)
    started = time.perf_counter()
    engine = load_engine(store, settings)
    print(f"engine loaded in {time.perf_counter() - started:.1f} s: {engine.knowledge.n_diseases:,} diseases")
    cases = [parse_case(c) for c in case_dicts(engine, args.cases)]
    half = len(cases) // 2

    latencies = []
    for case in cases[:half]:
        began = time.perf_counter()
        engine.rank(case, top_k=10)
        latencies.append((time.perf_counter() - began) * 1000)
    p50, p95, p99 = np.percentile(latencies, [50, 95, 99])
    print(
        f"one case at a time ({len(latencies)} different cases): p50 {p50:.1f} ms, p95 {p95:.1f} ms, "
        f"p99 {p99:.1f} ms (target p95 <= 20 ms); mean {statistics.mean(latencies):.1f} ms"
    )

    batch = cases[half:]
    began = time.perf_counter()
    results = list(engine.rank_many(batch, top_k=10))
    seconds = time.perf_counter() - began
    errors = sum(1 for r in results if isinstance(r, Exception))
    print(f"batch of {len(batch)} other cases: {len(batch) / seconds:.0f} cases/s (target >= 200), {errors} refused")


if __name__ == "__main__":
    main()
