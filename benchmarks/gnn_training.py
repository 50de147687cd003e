"""Benchmark: GNN training to the best validation epoch, and learned scores for one case.

Trains the deployed configuration (the same 5% validation hold-back as
`cdss gnn train`) on the full graph, on the CPU and, when one is present, on
CUDA, in one run so the speed-up is a ratio measured side by side. Then
times the per-case work the ranking engine adds: centred log-odds of a case's
findings against every disease, and the ranked drugs for the leading one.

    python benchmarks/gnn_training.py [--store URL] [--max-epochs 300] [--cases 500]
"""

from __future__ import annotations

import argparse
import statistics
import time
from dataclasses import replace

import numpy as np
import torch

from cdss.settings import load_settings
from gnn.data import cached_export
from gnn.score import GnnLinkScorer
from gnn.splits import random_edge_split
from gnn.train import DEFAULT_TRAINING, train_link_model
from runtime import open_graph


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", help="graph store URL (default: CDSS_STORE)")
    parser.add_argument("--max-epochs", type=int, default=DEFAULT_TRAINING.max_epochs)
    parser.add_argument("--cases", type=int, default=500)
    args = parser.parse_args()
    settings = load_settings()
    store = open_graph(settings, args.store)
    started = time.perf_counter()
    export = cached_export(store, settings.data_dir / "gnn")
    print(f"export ready in {time.perf_counter() - started:.1f} s (graph {export.graph_version})")
    config = replace(DEFAULT_TRAINING, max_epochs=args.max_epochs)
    split = random_edge_split(export, seed=config.seed, valid=0.05, test=0.0)
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    results = {}
    for device in devices:
        result, _ = train_link_model(export, split, config, device=torch.device(device), show_progress=False)
        results[device] = result
        per_epoch = result.seconds / max(len(result.history), 1)
        print(
            f"{device}: best validation AUROC {result.best_auroc:.4f} at epoch {result.best_epoch}; "
            f"{result.seconds_to_best:.0f} s to best, {result.seconds:.0f} s in all, {per_epoch:.2f} s/epoch "
            f"({torch.get_num_threads()} CPU threads)"
        )
    if "cuda" in results:
        cpu, gpu = results["cpu"], results["cuda"]
        print(f"GPU speed-up to the best epoch: {cpu.seconds_to_best / max(gpu.seconds_to_best, 1e-9):.1f}x")

    scorer = GnnLinkScorer(results["cpu"].model, export, version="benchmark")
    diseases = export.ids["disease"]
    rng = np.random.default_rng(0)
    findings = export.ids["finding"]
    latencies = []
    for _ in range(args.cases):
        case = [findings[i] for i in rng.choice(len(findings), size=6, replace=False)]
        began = time.perf_counter()
        learned = scorer.finding_log_odds(case, diseases).sum(axis=0)
        scorer.top_drugs(diseases[int(np.argmax(learned))], limit=15)
        latencies.append((time.perf_counter() - began) * 1000)
    latencies.sort()
    p95 = latencies[int(0.95 * (len(latencies) - 1))]
    print(
        f"scoring one case (6 findings x {len(diseases):,} diseases, then drugs for the leader): "
        f"p50 {statistics.median(latencies):.2f} ms, p95 {p95:.2f} ms"
    )


if __name__ == "__main__":
    main()
