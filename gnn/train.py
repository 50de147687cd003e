"""Training link models: full-batch or mini-batch, fresh type-constrained negatives every epoch, early stopping.

Each epoch scores links the encoder did not pass messages over (`supervised_edges`):
a share of the training links at random, and every link of a share of the training
diseases, which the model then meets as it will meet a disease it has never seen
linked (no degree, no neighbours of that relation). Scoring the very links it just
passed messages over teaches a model to look for the link itself, which a held-out
link never offers.

With `batch_size` set, each epoch's scored links are cut into mini-batches, each scored on the
subgraph sampled around its links from that epoch's message-passing graph (`gnn.minibatch`), so the
encoder never holds the whole graph; the scored links stay out of the graph it samples from.
Validation still encodes the whole graph. `gnn.distributed` runs the mini-batches on several processes.

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
from gnn.data import NODE_TYPES, TARGETS, GraphExport, Relation, disease_side, node_features, reverse
from gnn.model import GraphLinkModel, ShallowLinkModel
from gnn.splits import Split, drop_pairs


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
    supervised_share: float = 0.3
    """Share of training links scored each epoch without being passed messages over (0: score every
    training link with all of them in the graph, as before)."""
    unseen_disease_share: float = 0.3
    """Share of training diseases each epoch whose every link is scored unseen."""
    degree_skip: bool = True
    """Pass each node's log-degrees straight to the decoder as well (`GraphLinkModel`'s `degree_dims`)."""
    batch_size: int | None = None
    """Positive links of the largest target relation per mini-batch, each with its negative (None: full
    batch). Mini-batches let the method scale past one device's memory."""
    fanout: tuple[int, ...] = (10, 5)
    """Mini-batches only: neighbours sampled per node, relation and hop (-1: all); one entry per hop."""

    def __post_init__(self) -> None:
        # A config read back from JSON (checkpoints, reports) holds the fanout as a list.
        object.__setattr__(self, "fanout", tuple(int(k) for k in self.fanout))
        if self.batch_size is not None and self.batch_size < 1:
            raise ValueError(f"batch_size must be at least 1 or None, got {self.batch_size}")
        if not self.fanout or any(k < -1 for k in self.fanout):
            raise ValueError(f"fanout must list one count of at least -1 per hop, got {list(self.fanout)}")

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

    def summary(self) -> dict:
        """The figures a checkpoint and a report keep about how training went."""
        return {
            "encoder": self.config.encoder,
            "best_epoch": self.best_epoch,
            "epochs_run": len(self.history),
            "best_valid_auroc": round(self.best_auroc, 4),
            "seconds_to_best": round(self.seconds_to_best, 1),
            "seconds": round(self.seconds, 1),
            "device": self.device,
            "stopped_by_time_budget": self.stopped_by_time,
        }


def pick_device(prefer: str | None = None) -> torch.device:
    if prefer:
        return torch.device(prefer)
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def hetero_data(export: GraphExport, message_passing: dict[Relation, np.ndarray]) -> HeteroData:
    """A message-passing graph as PyG `HeteroData`: node features, every relation and its reverse."""
    data = HeteroData()
    features = node_features(export, message_passing)
    for node_type in NODE_TYPES:
        data[node_type].x = torch.from_numpy(features[node_type])
    for relation, edges in sorted(message_passing.items()):
        forward = torch.from_numpy(edges)
        data[relation].edge_index = forward
        data[reverse(relation)].edge_index = forward.flip(0)
    return data


def graph_tensors(
    export: GraphExport,
    split: Split,
    device: torch.device,
    *,
    message_passing: dict[Relation, np.ndarray] | None = None,
) -> GraphTensors:
    """What a model sees of the split: its message-passing edges, or the given subset of them."""
    data = hetero_data(export, split.message_passing if message_passing is None else message_passing).to(device)
    return GraphTensors(dict(data.x_dict), dict(data.edge_index_dict))


def supervised_edges(
    export: GraphExport, split: Split, config: TrainConfig, rng: np.random.Generator
) -> tuple[dict[Relation, np.ndarray], dict[Relation, np.ndarray]]:
    """One epoch's (message-passing edges, links to score): the scored links and every edge beside them
    are taken out of the graph the encoder sees (`drop_pairs`)."""
    unseen = rng.random(export.count("disease")) < config.unseen_disease_share
    scored = {}
    for relation in TARGETS:
        edges = split.train[relation]
        pick = unseen[edges[disease_side(relation)]] | (rng.random(edges.shape[1]) < config.supervised_share)
        scored[relation] = edges[:, pick]
    return drop_pairs(split.message_passing, scored), scored


def build_model(export: GraphExport, tensors: GraphTensors, config: TrainConfig) -> nn.Module:
    if config.encoder == "shallow":
        counts = {t: export.count(t) for t in NODE_TYPES}
        return ShallowLinkModel(counts=counts, targets=list(TARGETS), hidden=config.hidden)
    degree_dims = {t: tensors.in_dims[t] - export.base_features[t].shape[1] for t in NODE_TYPES}
    return GraphLinkModel(
        node_types=list(NODE_TYPES),
        edge_types=sorted(tensors.edge_index),
        in_dims=tensors.in_dims,
        targets=list(TARGETS),
        encoder=config.encoder,
        hidden=config.hidden,
        layers=config.layers,
        dropout=config.dropout,
        degree_dims=degree_dims if config.degree_skip else None,
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


def relation_counts(export: GraphExport, relation: Relation) -> tuple[int, int]:
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


@dataclass(slots=True)
class Stepper:
    """One optimiser step: the loss under autocast, scaled gradients (mixed precision on CUDA only)."""

    optimizer: torch.optim.Optimizer
    scaler: torch.amp.GradScaler
    device: torch.device

    def step(self, loss_of: Callable[..., Tensor], *args) -> float:
        self.optimizer.zero_grad(set_to_none=True)
        with torch.autocast(device_type=self.device.type, dtype=torch.float16, enabled=self.device.type == "cuda"):
            loss = loss_of(*args)
        self.scaler.scale(loss).backward()
        self.scaler.step(self.optimizer)
        self.scaler.update()
        return float(loss.detach())


def _full_batch_loss(
    model: nn.Module,
    seen: GraphTensors,
    scored: dict[Relation, Tensor],
    export: GraphExport,
    generator: torch.Generator,
) -> Tensor:
    z = model.encode(seen.x, seen.edge_index)
    losses = []
    for relation, positives in scored.items():
        if positives.shape[1] == 0:
            continue
        negatives = corrupt(positives, relation_counts(export, relation), generator)
        logits = torch.cat([model.decoder(z, relation, *positives), model.decoder(z, relation, *negatives)])
        labels = torch.cat([torch.ones(positives.shape[1]), torch.zeros(negatives.shape[1])]).to(positives.device)
        losses.append(nn.functional.binary_cross_entropy_with_logits(logits.float(), labels))
    return torch.stack(losses).mean()


def batch_loss(model: nn.Module, batches: list[tuple[Relation, HeteroData]]) -> Tensor:
    """Mean over relations of each batch's loss, every batch scored on its own sampled subgraph."""
    losses = []
    for relation, batch in batches:
        z = model.encode(batch.x_dict, batch.edge_index_dict)
        if model.encoder_name == "shallow":  # free embeddings of every node: pick the batch's rows
            z = {t: z[t][batch[t].n_id] for t in z}
        logits = model.decoder(z, relation, *batch[relation].edge_label_index)
        losses.append(nn.functional.binary_cross_entropy_with_logits(logits.float(), batch[relation].edge_label))
    return torch.stack(losses).mean()


def _minibatch_epoch(
    model: nn.Module,
    stepper: Stepper,
    data: HeteroData,
    scored: dict[Relation, np.ndarray],
    export: GraphExport,
    config: TrainConfig,
    *,
    epoch: int,
) -> float:
    """One optimiser step per batch pair (`paired_batches`); the mean loss of the epoch's steps."""
    from gnn.minibatch import paired_batches

    generator = torch.Generator().manual_seed(config.seed + epoch)
    positives = {r: torch.from_numpy(e) for r, e in scored.items()}
    negatives = {r: corrupt(p, relation_counts(export, r), generator) for r, p in positives.items()}
    steps = paired_batches(
        data, positives, negatives, batch_size=config.batch_size, fanout=config.fanout, seed=config.seed + epoch
    )
    losses = []
    for batches in steps:
        losses.append(stepper.step(batch_loss, model, [(r, b.to(stepper.device)) for r, b in batches]))
    return float(np.mean(losses)) if losses else 0.0


@dataclass(slots=True)
class Validation:
    """After each epoch: validation AUROC on the whole graph, the history row, the best weights, when to stop.

    Shared by single-process and distributed training (where rank 0 alone validates), so both keep and
    stop on the same figures.
    """

    tensors: GraphTensors
    positives: dict[Relation, Tensor]
    negatives: dict[Relation, Tensor]
    config: TrainConfig
    started: float
    best_state: dict[str, Tensor] | None = None
    stale: int = 0

    @classmethod
    def of(
        cls, export: GraphExport, split: Split, tensors: GraphTensors, config: TrainConfig, started: float
    ) -> Validation:
        """Fixed negatives for the split's validation links, drawn on the device the tensors are on."""
        device = next(iter(tensors.x.values())).device
        valid = {r: torch.from_numpy(split.valid[r]).to(device) for r in TARGETS}
        fixed = torch.Generator(device=device).manual_seed(config.seed + 1)
        negatives = {r: corrupt(valid[r], relation_counts(export, r), fixed) for r in TARGETS}
        return cls(tensors, valid, negatives, config, started)

    def after_epoch(self, model: nn.Module, result: TrainResult, epoch: int, loss: float) -> bool:
        """Record the epoch; True when training should stop (patience spent or time budget passed)."""
        aurocs = validation_auroc(model, embeddings(model, self.tensors), self.positives, self.negatives)
        mean_auroc = float(np.mean(list(aurocs.values()))) if aurocs else 0.0
        row = {
            "epoch": epoch,
            "loss": round(loss, 5),
            "valid_auroc": round(mean_auroc, 5),
            **{f"valid_auroc_{r[1]}": round(v, 5) for r, v in aurocs.items()},
            "seconds": round(time.perf_counter() - self.started, 2),
        }
        result.history.append(row)
        if mean_auroc > result.best_auroc:
            result.best_auroc, result.best_epoch, self.stale = mean_auroc, epoch, 0
            result.seconds_to_best = row["seconds"]
            self.best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
        else:
            self.stale += 1
            if self.stale >= self.config.patience:
                return True
        if self.config.max_seconds is not None and row["seconds"] > self.config.max_seconds:
            result.stopped_by_time = True
            return True
        return False

    def finish(self, model: nn.Module, result: TrainResult) -> None:
        """Put the best epoch's weights back into the model and stop the clock."""
        if self.best_state is not None:
            model.load_state_dict(self.best_state)
        result.seconds = time.perf_counter() - self.started


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
    validation = Validation.of(export, split, tensors, config, started)
    # Lazy (-1) input sizes are fixed by one forward pass before the optimiser sees the parameters.
    with torch.no_grad():
        model.encode(tensors.x, tensors.edge_index)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.learning_rate)
    stepper = Stepper(optimizer, torch.amp.GradScaler("cuda", enabled=device.type == "cuda"), device)
    generator = torch.Generator(device=device).manual_seed(config.seed)
    rng = np.random.default_rng(config.seed)
    inductive = config.supervised_share > 0 or config.unseen_disease_share > 0
    if config.batch_size is not None:
        from gnn.minibatch import sampler_backend

        log(f"mini-batches of {config.batch_size} links, fanout {list(config.fanout)}, sampled by {sampler_backend()}")
    result = TrainResult(model=model, config=config, device=str(device))
    epochs = range(1, config.max_epochs + 1)
    for epoch in progress(epochs, desc=f"training {config.encoder}", enabled=show_progress, unit="epoch"):
        model.train()
        message, links = (split.message_passing, split.train)
        if inductive:
            message, links = supervised_edges(export, split, config, rng)
        if config.batch_size is not None:
            loss = _minibatch_epoch(model, stepper, hetero_data(export, message), links, export, config, epoch=epoch)
        else:
            seen = graph_tensors(export, split, device, message_passing=message) if inductive else tensors
            scored = {r: torch.from_numpy(e).to(device) for r, e in links.items()} if inductive else train
            loss = stepper.step(_full_batch_loss, model, seen, scored, export, generator)
        if validation.after_epoch(model, result, epoch, loss):
            break
    log(f"{split.name}/{config.encoder}: best valid AUROC {result.best_auroc:.4f} at epoch {result.best_epoch}")
    validation.finish(model, result)
    return result, tensors
