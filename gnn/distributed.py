"""Distributed mini-batch training: N processes on this host, gradients all-reduced by DistributedDataParallel.

`train_distributed` starts `nproc` processes as torchrun would on one host (spawned, one rank each,
`gloo` on the CPU and `nccl` with one GPU per rank on CUDA) and waits for them. Every rank holds the
graph on the CPU, draws the same epoch (links scored unseen, their negatives) from the same seed, and
trains on its own shard of it (`gnn.minibatch.sharded_batches`): the ranks take the steps one process
would take, each on its share of that step's batch, so the optimisation follows the single-process
one at the same batch size. DDP averages the gradients, so the replicas stay identical.

Rank 0 alone validates on the whole graph after each epoch (`gnn.train.Validation`), tells the others
when to stop, and saves the best epoch's checkpoint in the usual format, so the ranking and
`GnnLinkScorer` load it unchanged. Same seed and same `nproc`, same weights.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist
from torch import Tensor, nn
from torch.nn.parallel import DistributedDataParallel
from torch_geometric.data import HeteroData

from cdss.errors import ConfigError
from cdss.progress import progress
from gnn.checkpoint import load_checkpoint, save_checkpoint
from gnn.data import GraphExport, Relation
from gnn.splits import Split
from gnn.train import (
    GraphTensors,
    Stepper,
    TrainConfig,
    TrainResult,
    Validation,
    batch_loss,
    build_model,
    corrupt,
    graph_tensors,
    hetero_data,
    relation_counts,
    supervised_edges,
)


@dataclass(frozen=True, slots=True, kw_only=True)
class Launch:
    """What every rank is told: how many there are, where to meet, and where rank 0 saves."""

    nproc: int
    backend: str
    device_type: str
    rendezvous: str
    checkpoint: Path
    threads: int
    show_progress: bool | None
    trace: Path | None


def backend_for(device_type: str) -> str:
    """`nccl` between GPUs, `gloo` between CPU processes."""
    return "nccl" if device_type == "cuda" else "gloo"


def materialise(model: nn.Module, tensors: GraphTensors) -> None:
    """Fix the lazy (-1) input sizes with a forward pass over one node of each type and no edges.

    The sizes depend only on the feature widths, so no rank has to encode the whole graph for them.
    """
    if model.encoder_name == "shallow":
        return
    x = {t: v[:1] for t, v in tensors.x.items()}
    edges = {r: torch.empty((2, 0), dtype=torch.long) for r in tensors.edge_index}
    model.eval()
    with torch.no_grad():
        model.encode(x, edges)


def weights_digest(model: nn.Module) -> str:
    """A short hash of every parameter's bytes: equal digests, equal replicas."""
    digest = hashlib.sha256()
    for name, value in sorted(model.state_dict().items()):
        digest.update(name.encode())
        digest.update(value.detach().float().cpu().numpy().tobytes())
    return digest.hexdigest()[:16]


class StepLoss(nn.Module):
    """The mini-batch loss as a module's `forward`, so that DDP sees each step go through it.

    DDP prepares its gradient all-reduce in `forward`; the link model's `encode` and `decoder` would
    bypass it. A rank whose share of a step is empty still takes part, with a zero loss.
    """

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, batches: list[tuple[Relation, HeteroData]]) -> Tensor:
        if not batches:
            return sum(p.sum() for p in self.model.parameters()) * 0.0
        return batch_loss(self.model, batches)


def _rank_epoch(
    step_loss: DistributedDataParallel,
    stepper: Stepper,
    data: HeteroData,
    scored: dict[Relation, np.ndarray],
    export: GraphExport,
    config: TrainConfig,
    *,
    epoch: int,
    rank: int,
    world_size: int,
    trace: dict | None,
) -> float:
    """This rank's steps of one epoch; the mean loss over every rank's steps."""
    from gnn.minibatch import sharded_batches

    generator = torch.Generator().manual_seed(config.seed + epoch)
    positives = {r: torch.from_numpy(e) for r, e in scored.items()}
    negatives = {r: corrupt(p, relation_counts(export, r), generator) for r, p in positives.items()}
    steps = sharded_batches(
        data,
        positives,
        negatives,
        batch_size=config.batch_size,
        fanout=config.fanout,
        seed=config.seed + epoch,
        rank=rank,
        world_size=world_size,
    )
    losses = []
    for batches in steps:
        losses.append(stepper.step(step_loss, [(r, b.to(stepper.device)) for r, b in batches]))
        if trace is not None:
            _trace_step(trace, epoch, batches, positives, step_loss.module.model)
    total = torch.tensor([sum(losses), len(losses)], dtype=torch.float64, device=_comm_device(stepper.device))
    dist.all_reduce(total)
    return float(total[0] / total[1]) if total[1] else 0.0


def _trace_step(
    trace: dict,
    epoch: int,
    batches: list[tuple[Relation, HeteroData]],
    positives: dict[Relation, Tensor],
    model: nn.Module,
) -> None:
    """Which links this rank scored (positions in the epoch's labelled links), and the weights after the step."""
    shares = trace["epochs"].setdefault(str(epoch), {})
    for relation, batch in batches:
        store = shares.setdefault("__".join(relation), {"positions": [], "positives": []})
        positions = batch[relation].input_id.tolist()
        count = positives[relation].shape[1]
        store["positions"] += positions
        store["positives"] += [positives[relation][:, p].tolist() for p in positions if p < count]
    trace["digests"].append(weights_digest(model))


def _comm_device(device: torch.device) -> torch.device:
    return device if device.type == "cuda" else torch.device("cpu")


def _run_rank(rank: int, export: GraphExport, split: Split, config: TrainConfig, launch: Launch) -> None:
    """One rank's training, from joining the group to (rank 0) saving the checkpoint."""
    dist.init_process_group(launch.backend, init_method=launch.rendezvous, rank=rank, world_size=launch.nproc)
    try:
        _train_rank(rank, export, split, config, launch)
    finally:
        dist.destroy_process_group()


def _train_rank(rank: int, export: GraphExport, split: Split, config: TrainConfig, launch: Launch) -> None:
    started = time.perf_counter()
    torch.set_num_threads(launch.threads)
    device = torch.device(f"cuda:{rank}") if launch.device_type == "cuda" else torch.device("cpu")
    if device.type == "cuda":
        torch.cuda.set_device(device)
    torch.manual_seed(config.seed)
    tensors = graph_tensors(export, split, torch.device("cpu"))
    model = build_model(export, tensors, config)
    materialise(model, tensors)
    model.to(device)
    # Every rank starts from the same weights (DDP also broadcasts rank 0's); dropout differs by rank.
    step_loss = DistributedDataParallel(
        StepLoss(model), device_ids=[rank] if device.type == "cuda" else None, find_unused_parameters=True
    )
    torch.manual_seed(config.seed + rank)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.learning_rate)
    stepper = Stepper(optimizer, torch.amp.GradScaler("cuda", enabled=device.type == "cuda"), device)
    validation = None
    if rank == 0:
        on_device = GraphTensors(
            {t: v.to(device) for t, v in tensors.x.items()}, {r: e.to(device) for r, e in tensors.edge_index.items()}
        )
        validation = Validation.of(export, split, on_device, config, started)
    rng = np.random.default_rng(config.seed)
    inductive = config.supervised_share > 0 or config.unseen_disease_share > 0
    trace = {"rank": rank, "epochs": {}, "digests": []} if launch.trace is not None else None
    result = TrainResult(model=model, config=config, device=f"{launch.nproc} x {device.type} ({launch.backend})")
    epochs = range(1, config.max_epochs + 1)
    shown = launch.show_progress if rank == 0 else False
    desc = f"training {config.encoder} on {launch.nproc} processes"
    for epoch in progress(epochs, desc=desc, enabled=shown, unit="epoch"):
        model.train()
        message, links = (split.message_passing, split.train)
        if inductive:
            message, links = supervised_edges(export, split, config, rng)
        data = hetero_data(export, message)
        loss = _rank_epoch(
            step_loss,
            stepper,
            data,
            links,
            export,
            config,
            epoch=epoch,
            rank=rank,
            world_size=launch.nproc,
            trace=trace,
        )
        stop = torch.tensor([validation.after_epoch(model, result, epoch, loss) if validation else False])
        stop = stop.to(_comm_device(device))
        dist.broadcast(stop, src=0)
        if bool(stop.item()):
            break
    if trace is not None:
        trace["final_digest"] = weights_digest(model)
        (launch.trace / f"rank{rank}.json").write_text(json.dumps(trace))
    if validation is not None:
        validation.finish(model, result)
        summary = {**result.summary(), "processes": launch.nproc, "backend": launch.backend}
        save_checkpoint(
            launch.checkpoint,
            model=model,
            config=config.to_dict(),
            export=export,
            metrics={"training": summary, "history": result.history},
            in_dims=tensors.in_dims,
        )


def check_launch(config: TrainConfig, *, nproc: int, device_type: str) -> None:
    """Refuse what cannot run: no mini-batches, fewer links per step than ranks, too few GPUs."""
    if nproc < 1:
        raise ConfigError(f"the number of processes must be at least 1, got {nproc}")
    if device_type not in ("cpu", "cuda"):
        raise ConfigError(f"distributed training runs on cpu or cuda, not {device_type!r}")
    if config.batch_size is None:
        raise ConfigError(f"training on {nproc} processes needs mini-batches: give a batch size (got none)")
    if config.batch_size < nproc:
        raise ConfigError(f"batch size {config.batch_size} is smaller than the {nproc} processes sharing each step")
    if device_type == "cuda" and torch.cuda.device_count() < nproc:
        raise ConfigError(f"{nproc} processes need {nproc} GPUs, this host has {torch.cuda.device_count()}")


def train_distributed(
    export: GraphExport,
    split: Split,
    config: TrainConfig,
    *,
    nproc: int,
    checkpoint: Path,
    device: torch.device | None = None,
    show_progress: bool | None = None,
    trace: Path | None = None,
    log: Callable[[str], None] = lambda _: None,
) -> tuple[TrainResult, GraphTensors]:
    """Train on `nproc` processes; rank 0 saves the checkpoint at `checkpoint`. Returns it as one process would.

    The returned model is the checkpoint's, on the CPU. `trace`, a folder, receives one JSON per rank:
    the links it scored each epoch and a digest of its weights after every step.
    """
    device_type = (device or torch.device("cuda" if torch.cuda.is_available() else "cpu")).type
    check_launch(config, nproc=nproc, device_type=device_type)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="cdss-gnn-ddp-") as folder:
        launch = Launch(
            nproc=nproc,
            backend=backend_for(device_type),
            device_type=device_type,
            rendezvous=(Path(folder) / "rendezvous").as_uri(),
            checkpoint=checkpoint,
            # As torchrun does, the ranks share the cores rather than each taking them all.
            threads=max(1, torch.get_num_threads() // nproc),
            show_progress=show_progress,
            trace=trace,
        )
        from gnn.minibatch import sampler_backend

        log(
            f"{nproc} processes ({launch.backend}, {launch.threads} thread(s) each), mini-batches of "
            f"{config.batch_size} links per step shared between them, fanout {list(config.fanout)}, "
            f"sampled by {sampler_backend()}"
        )
        torch.multiprocessing.start_processes(
            _run_rank, args=(export, split, config, launch), nprocs=nproc, join=True, start_method="spawn"
        )
    saved = load_checkpoint(checkpoint, graph_version=export.graph_version)
    tensors = graph_tensors(export, split, torch.device("cpu"))
    model = build_model(export, tensors, config)
    materialise(model, tensors)
    model.load_state_dict(saved["state_dict"])
    summary = saved["metrics"]["training"]
    result = TrainResult(
        model=model,
        config=config,
        history=saved["metrics"]["history"],
        best_epoch=summary["best_epoch"],
        best_auroc=saved["metrics"]["history"][summary["best_epoch"] - 1]["valid_auroc"]
        if summary["best_epoch"]
        else 0.0,
        seconds=time.perf_counter() - started,
        seconds_to_best=summary["seconds_to_best"],
        device=summary["device"],
        stopped_by_time=summary["stopped_by_time_budget"],
    )
    return result, tensors
