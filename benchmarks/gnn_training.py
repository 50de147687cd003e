"""Benchmark: GNN training to the best validation epoch, full batch beside mini-batch, and learned scores for one case.

Trains the deployed configuration (the same 5% validation hold-back as `cdss gnn train`) full-batch
and in mini-batches (`--batch-size`, `--fanout`), on the CPU and, when one is present, on CUDA, in one
run so the figures sit side by side. Each training runs in a fresh process, so that its peak memory is
its own:

- on CUDA, `torch.cuda.max_memory_allocated`: the most the tensors held on the device at once;
- on the CPU, the process's peak resident set (`getrusage` ru_maxrss), printed with how much it grew
  during training; the rest is the interpreter, torch and the graph export, the same in both modes.

Then times the per-case work the ranking engine adds: centred log-odds of a case's findings against
every disease, and the ranked drugs for the leading one (with the CPU full-batch model).

With `--nproc N` it compares processes instead: mini-batch training on one process and on N
(`gnn.distributed`, gloo on the CPU), same seed, batch size and epoch budget, side by side: the
best validation AUROC of each, seconds per epoch (validation included, from the second epoch on, so
start-up is left out), and their ratio. Each process gets `torch.get_num_threads() // N` threads. The
CPU seconds per epoch (every process together, start-up included) show the work apart from the wait,
which on a shared machine can differ a lot.

    python benchmarks/gnn_training.py [--store URL] [--max-epochs N] [--patience N] [--batch-size N] [--fanout 10,5]
    python benchmarks/gnn_training.py --synthetic --batch-size 64 --max-epochs 60 --patience 30 --cases 50  # smoke test
    OMP_NUM_THREADS=1 python benchmarks/gnn_training.py --nproc 2 --max-epochs 4  # 1 process beside 2
"""

from __future__ import annotations

import argparse
import multiprocessing
import resource
import statistics
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

from gnn.checkpoint import save_checkpoint
from gnn.data import GraphExport, export_graph
from gnn.score import GnnLinkScorer
from gnn.splits import random_edge_split
from gnn.train import DEFAULT_TRAINING, TrainConfig, train_link_model


def synthetic_export(folder: Path) -> GraphExport:
    """The tests' small synthetic graph (`tests/gnn_graph.py`): minutes of setup become a second."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from kg import open_store
    from tests.gnn_graph import write_gnn_graph

    with open_store(str(write_gnn_graph(folder / "graph.sqlite"))) as store:
        return export_graph(store)


def store_export(store_url: str | None) -> GraphExport:
    from cdss.settings import load_settings
    from gnn.data import cached_export
    from runtime import open_graph

    settings = load_settings()
    return cached_export(open_graph(settings, store_url), settings.data_dir / "gnn")


def train_once(export: GraphExport, config: TrainConfig, device: str, checkpoint: Path | None) -> dict:
    """One training, run in its own process: its timings and its peak memory (see the module docstring)."""
    split = random_edge_split(export, seed=config.seed, valid=0.05, test=0.0)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    if device == "cuda":
        torch.cuda.reset_peak_memory_stats()
    result, tensors = train_link_model(export, split, config, device=torch.device(device), show_progress=False)
    if device == "cuda":
        memory = f"{torch.cuda.max_memory_allocated() / 2**20:,.0f} MiB CUDA allocated"
    else:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        memory = f"{peak / 1024:,.0f} MiB RSS (+{(peak - before) / 1024:,.0f} training)"
    if checkpoint is not None:
        save_checkpoint(
            checkpoint, model=result.model, config=config.to_dict(), export=export, metrics={}, in_dims=tensors.in_dims
        )
    return {
        "epochs": len(result.history),
        "epoch_seconds": epoch_seconds(result.history),
        "best_auroc": result.best_auroc,
        "best_epoch": result.best_epoch,
        "per_epoch": result.seconds / max(len(result.history), 1),
        "to_best": result.seconds_to_best,
        "memory": memory,
        "threads": torch.get_num_threads(),
    }


def epoch_seconds(history: list[dict]) -> float:
    """Mean seconds an epoch takes, validation included, from the second epoch on (start-up left out)."""
    stamps = [row["seconds"] for row in history]
    if len(stamps) < 2:
        return stamps[0] if stamps else 0.0
    return (stamps[-1] - stamps[0]) / (len(stamps) - 1)


def children_cpu_seconds() -> float:
    """CPU time (user and system) of this process's finished child processes: the trainings run in them."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def in_fresh_process(*args) -> dict:
    with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn")) as pool:
        return pool.submit(train_once, *args).result()


def case_latencies(scorer: GnnLinkScorer, export: GraphExport, cases: int) -> list[float]:
    diseases, findings = export.ids["disease"], export.ids["finding"]
    rng = np.random.default_rng(0)
    latencies = []
    for _ in range(cases):
        case = [findings[i] for i in rng.choice(len(findings), size=6, replace=False)]
        began = time.perf_counter()
        learned = scorer.finding_log_odds(case, diseases).sum(axis=0)
        scorer.top_drugs(diseases[int(np.argmax(learned))], limit=15)
        latencies.append((time.perf_counter() - began) * 1000)
    return sorted(latencies)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", help="graph store URL (default: CDSS_STORE)")
    parser.add_argument("--synthetic", action="store_true", help="train on the tests' small synthetic graph")
    parser.add_argument("--max-epochs", type=int, default=DEFAULT_TRAINING.max_epochs)
    parser.add_argument("--patience", type=int, default=DEFAULT_TRAINING.patience)
    parser.add_argument("--batch-size", type=int, default=512, help="positive links per mini-batch")
    parser.add_argument("--fanout", default="10,5", help="neighbours per node, relation and hop")
    parser.add_argument("--cases", type=int, default=500)
    parser.add_argument("--seed", type=int, default=DEFAULT_TRAINING.seed)
    parser.add_argument("--nproc", type=int, help="compare mini-batch training on 1 process and on this many")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="gnn-benchmark-") as folder:
        run(args, Path(folder))


def run(args: argparse.Namespace, folder: Path) -> None:
    started = time.perf_counter()
    export = synthetic_export(folder) if args.synthetic else store_export(args.store)
    print(f"export ready in {time.perf_counter() - started:.1f} s (graph {export.graph_version})")
    full = replace(DEFAULT_TRAINING, max_epochs=args.max_epochs, patience=args.patience, seed=args.seed)
    mini = replace(full, batch_size=args.batch_size, fanout=tuple(int(k) for k in args.fanout.split(",")))
    if args.nproc:
        compare_processes(export, mini, args.nproc, folder)
        return
    modes = {"full batch": full, f"mini-batch {mini.batch_size}, fanout {list(mini.fanout)}": mini}
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    checkpoint = folder / "cpu-full.pt"
    runs = {}
    for device in devices:
        for mode, config in modes.items():
            keep = checkpoint if device == "cpu" and config is full else None
            runs[device, mode] = in_fresh_process(export, config, device, keep)
    header = f"{'device':<7}{'training':<32}{'epochs':>7}  {'best AUROC':>14}  {'s/epoch':>8}  {'s to best':>9}"
    print(f"{header}  peak memory")
    for (device, mode), row in runs.items():
        best = f"{row['best_auroc']:.4f} @{row['best_epoch']}"
        threads = f" ({row['threads']} threads)" if device == "cpu" else ""
        print(
            f"{device:<7}{mode:<32}{row['epochs']:>7}  {best:>14}  {row['per_epoch']:>8.3f}  {row['to_best']:>9.1f}  "
            f"{row['memory']}{threads}"
        )
    if "cuda" in devices:
        for mode in modes:
            cpu, gpu = runs["cpu", mode], runs["cuda", mode]
            print(f"GPU speed-up to the best epoch, {mode}: {cpu['to_best'] / max(gpu['to_best'], 1e-9):.1f}x")

    latencies = case_latencies(GnnLinkScorer.load(checkpoint, export), export, args.cases)
    p95 = latencies[int(0.95 * (len(latencies) - 1))]
    print(
        f"scoring one case (6 findings x {export.count('disease'):,} diseases, then drugs for the leader): "
        f"p50 {statistics.median(latencies):.2f} ms, p95 {p95:.2f} ms"
    )


def compare_processes(export: GraphExport, config: TrainConfig, nproc: int, folder: Path) -> None:
    """Mini-batch training on one process, then on `nproc` (DDP), same seed and budget: AUROC and s/epoch."""
    from gnn.distributed import train_distributed

    print(
        f"{config.max_epochs} epochs at most, batch {config.batch_size}, "
        f"fanout {list(config.fanout)}, seed {config.seed}"
    )
    cpu = children_cpu_seconds()
    one = in_fresh_process(export, config, "cpu", None)
    one["cpu_per_epoch"] = (children_cpu_seconds() - cpu) / one["epochs"]
    split = random_edge_split(export, seed=config.seed, valid=0.05, test=0.0)
    began, cpu = time.perf_counter(), children_cpu_seconds()
    result, _ = train_distributed(
        export, split, config, nproc=nproc, checkpoint=folder / "distributed.pt", device=torch.device("cpu")
    )
    wall = time.perf_counter() - began
    many = {
        "epochs": len(result.history),
        "epoch_seconds": epoch_seconds(result.history),
        "cpu_per_epoch": (children_cpu_seconds() - cpu) / len(result.history),
        "best_auroc": result.best_auroc,
        "best_epoch": result.best_epoch,
        "threads": max(1, torch.get_num_threads() // nproc),
    }
    print(f"{'processes':<24}{'epochs':>7}  {'best valid AUROC':>17}  {'s/epoch':>8}  {'CPU s/epoch':>11}")
    for label, row in ((f"1 ({one['threads']} thread)", one), (f"{nproc}, gloo ({many['threads']} thread each)", many)):
        best = f"{row['best_auroc']:.4f} @{row['best_epoch']}"
        print(f"{label:<24}{row['epochs']:>7}  {best:>17}  {row['epoch_seconds']:>8.1f}  {row['cpu_per_epoch']:>11.1f}")
    print(
        f"AUROC difference ({nproc} - 1): {many['best_auroc'] - one['best_auroc']:+.4f}; "
        f"s/epoch ratio (1 / {nproc}): {one['epoch_seconds'] / max(many['epoch_seconds'], 1e-9):.2f}x; "
        f"{nproc}-process run {wall:.0f} s in all, process start-up included"
    )


if __name__ == "__main__":
    main()
