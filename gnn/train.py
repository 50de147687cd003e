"""Training link models: full-batch, fresh type-constrained negatives every epoch, early stopping.

Runs on CUDA when there is one (with mixed precision) and on the CPU otherwise.
Seeds are fixed; the epoch with the best validation AUROC is kept.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

import numpy as np
import torch
from sklearn.metrics import roc_auc_score
from torch import Tensor, nn
from torch_geometric.data import HeteroData

from cdss.progress import progress
from gnn.data import NODE_TYPES, TARGETS, GraphExport, Relation, node_features, reverse
from gnn.model import GraphLinkModel, ShallowLinkModel
from gnn.splits import Split


@dataclass(frozen=True, slots=True, kw_only=True)
class TrainConfig:
    encoder: str = "sage"
    """sage, gat, hgt, or shallow (no message passing)."""
    hidden: int = 64
    layers: int = 2
    dropout: float = 0.1
    learning_rate: float = 0.01
    max_epochs: int = 300
    patience: int = 20
    seed: int = 0
    max_seconds: float | None = None
    """Stop after this much wall time even if validation still improves (for slow encoders on a CPU)."""

    def to_dict(self) -> dict:
        return asdict(self)


DEFAULT_TRAINING = TrainConfig()


@dataclass(slots=True)
class GraphTensors:
    """What a model sees for one split: features and message-passing edges, both directions."""

    x: dict[str, Tensor]
    edge_index: dict[Relation, Tensor]

    @property
    def in_dims(self) -> dict[str, int]:
        return {t: v.shape[1] for t, v in self.x.items()}


@dataclass(slots=True)
class TrainResult:
    model: nn.Module
    config: TrainConfig
    history: list[dict] = field(default_factory=list)
    best_epoch: int = 0
    best_auroc: float = 0.0
    seconds: float = 0.0
    seconds_to_best: float = 0.0
    device: str = "cpu"
    stopped_by_time: bool = False


def pick_device(prefer: str | None = None) -> torch.device:
    if prefer:
        return torch.device(prefer)
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def hetero_data(export: GraphExport, split: Split) -> HeteroData:
    """The split's message-passing graph as PyG `HeteroData`: node features, every relation and its reverse."""
    data = HeteroData()
    features = node_features(export, split.message_passing)
    for node_type in NODE_TYPES:
        data[node_type].x = torch.from_numpy(features[node_type])
    for relation, edges in sorted(split.message_passing.items()):
        forward = torch.from_numpy(edges)
        data[relation].edge_index = forward
        data[reverse(relation)].edge_index = forward.flip(0)
    return data


def graph_tensors(export: GraphExport, split: Split, device: torch.device) -> GraphTensors:
    data = hetero_data(export, split).to(device)
    return GraphTensors(dict(data.x_dict), dict(data.edge_index_dict))


def build_model(export: GraphExport, tensors: GraphTensors, config: TrainConfig) -> nn.Module:
    if config.encoder == "shallow":
        counts = {t: export.count(t) for t in NODE_TYPES}
        return ShallowLinkModel(counts=counts, targets=list(TARGETS), hidden=config.hidden)
    return GraphLinkModel(
        node_types=list(NODE_TYPES),
        edge_types=sorted(tensors.edge_index),
        in_dims=tensors.in_dims,
        targets=list(TARGETS),
        encoder=config.encoder,
        hidden=config.hidden,
        layers=config.layers,
        dropout=config.dropout,
    )


def corrupt(edges: Tensor, counts: tuple[int, int], generator: torch.Generator) -> Tensor:
    """One negative per positive: half with a random tail, half with a random head, of the right types."""
    heads, tails = edges[0].clone(), edges[1].clone()
    flip = torch.rand(edges.shape[1], generator=generator, device=edges.device) < 0.5
    random_heads = torch.randint(counts[0], (edges.shape[1],), generator=generator, device=edges.device)
    random_tails = torch.randint(counts[1], (edges.shape[1],), generator=generator, device=edges.device)
    heads[flip] = random_heads[flip]
    tails[~flip] = random_tails[~flip]
    return torch.stack([heads, tails])


def _counts(export: GraphExport, relation: Relation) -> tuple[int, int]:
    return export.count(relation[0]), export.count(relation[2])


@torch.no_grad()
def embeddings(model: nn.Module, tensors: GraphTensors) -> dict[str, Tensor]:
    model.eval()
    return model.encode(tensors.x, tensors.edge_index)


@torch.no_grad()
def validation_auroc(
    model: nn.Module, z: dict[str, Tensor], positives: dict[Relation, Tensor], negatives: dict[Relation, Tensor]
) -> dict[Relation, float]:
    out = {}
    for relation, pos in positives.items():
        if pos.shape[1] == 0:
            continue
        neg = negatives[relation]
        scores = torch.cat([model.decoder(z, relation, *pos), model.decoder(z, relation, *neg)])
        scores = scores.float().cpu().numpy()
        labels = np.r_[np.ones(pos.shape[1]), np.zeros(neg.shape[1])]
        out[relation] = float(roc_auc_score(labels, scores))
    return out


def train_link_model(
    export: GraphExport,
    split: Split,
    config: TrainConfig = DEFAULT_TRAINING,
    *,
    device: torch.device | None = None,
    show_progress: bool | None = None,
    log: Callable[[str], None] = lambda _: None,
) -> tuple[TrainResult, GraphTensors]:
    started = time.perf_counter()
    device = device or pick_device()
    torch.manual_seed(config.seed)
    np.random.seed(config.seed)
    tensors = graph_tensors(export, split, device)
    model = build_model(export, tensors, config).to(device)
    train = {r: torch.from_numpy(split.train[r]).to(device) for r in TARGETS}
    valid = {r: torch.from_numpy(split.valid[r]).to(device) for r in TARGETS}
    fixed = torch.Generator(device=device).manual_seed(config.seed + 1)
    valid_negatives = {r: corrupt(valid[r], _counts(export, r), fixed) for r in TARGETS}
    # Lazy (-1) input sizes are fixed by one forward pass before the optimiser sees the parameters.
    with torch.no_grad():
        model.encode(tensors.x, tensors.edge_index)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.learning_rate)
    use_amp = device.type == "cuda"
    scaler = torch.amp.GradScaler("cuda", enabled=use_amp)
    generator = torch.Generator(device=device).manual_seed(config.seed)
    result = TrainResult(model=model, config=config, device=str(device))
    best_state: dict[str, Tensor] | None = None
    stale = 0
    epochs = range(1, config.max_epochs + 1)
    for epoch in progress(epochs, desc=f"training {config.encoder}", enabled=show_progress, unit="epoch"):
        model.train()
        optimizer.zero_grad(set_to_none=True)
        with torch.autocast(device_type=device.type, dtype=torch.float16, enabled=use_amp):
            z = model.encode(tensors.x, tensors.edge_index)
            losses = []
            for relation, positives in train.items():
                if positives.shape[1] == 0:
                    continue
                negatives = corrupt(positives, _counts(export, relation), generator)
                logits = torch.cat([model.decoder(z, relation, *positives), model.decoder(z, relation, *negatives)])
                labels = torch.cat([torch.ones(positives.shape[1]), torch.zeros(negatives.shape[1])]).to(device)
                losses.append(nn.functional.binary_cross_entropy_with_logits(logits.float(), labels))
            loss = torch.stack(losses).mean()
        scaler.scale(loss).backward()
        scaler.step(optimizer)
        scaler.update()
        aurocs = validation_auroc(model, embeddings(model, tensors), valid, valid_negatives)
        mean_auroc = float(np.mean(list(aurocs.values()))) if aurocs else 0.0
        row = {
            "epoch": epoch,
            "loss": round(float(loss.detach()), 5),
            "valid_auroc": round(mean_auroc, 5),
            **{f"valid_auroc_{r[1]}": round(v, 5) for r, v in aurocs.items()},
            "seconds": round(time.perf_counter() - started, 2),
        }
        result.history.append(row)
        if mean_auroc > result.best_auroc:
            result.best_auroc, result.best_epoch, stale = mean_auroc, epoch, 0
            result.seconds_to_best = row["seconds"]
            best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
        else:
            stale += 1
            if stale >= config.patience:
                break
        if config.max_seconds is not None and row["seconds"] > config.max_seconds:
            result.stopped_by_time = True
            break
    log(f"{split.name}/{config.encoder}: best valid AUROC {result.best_auroc:.4f} at epoch {result.best_epoch}")
    if best_state is not None:
        model.load_state_dict(best_state)
    result.seconds = time.perf_counter() - started
    return result, tensors
