"""Training an image classifier: augmentation, AdamW with a one-cycle schedule, early stopping on the
validation AUROC (the best epoch's weights are kept), fixed seeds.

Runs on CUDA with mixed precision when there is a GPU and on the CPU otherwise. On the CPU the
same seed gives the same weights; cuDNN is asked for deterministic kernels on CUDA.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

import numpy as np
import torch
from torch import Tensor, nn
from torch.nn import functional

from cdss.errors import ConfigError
from cdss.progress import progress
from imaging.augment import Augment
from imaging.datasets import ImageSet, Split
from imaging.metrics import binary_figures
from imaging.network import SmallResNet, build_network


@dataclass(frozen=True, slots=True, kw_only=True)
class TrainConfig:
    encoder: str = "resnet8"
    epochs: int = 30
    batch_size: int = 64
    learning_rate: float = 3e-3
    weight_decay: float = 1e-4
    dropout: float = 0.2
    patience: int = 8
    """Stop after this many epochs without a better validation AUROC."""
    seed: int = 0
    max_seconds: float | None = None
    """Stop after this much wall time even if validation still improves (keeps CPU runs to minutes)."""
    augment: Augment = field(default_factory=Augment)

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(slots=True)
class TrainResult:
    network: SmallResNet
    config: TrainConfig
    mean: float
    std: float
    history: list[dict] = field(default_factory=list)
    best_epoch: int = 0
    best_auroc: float = 0.0
    seconds: float = 0.0
    device: str = "cpu"
    stopped_by_time: bool = False

    def summary(self) -> dict:
        epochs = max(len(self.history), 1)
        return {
            "best_epoch": self.best_epoch,
            "best_valid_auroc": round(self.best_auroc, 5),
            "epochs_run": len(self.history),
            "seconds": round(self.seconds, 1),
            "seconds_per_epoch": round(self.seconds / epochs, 2),
            "device": self.device,
            "stopped_by_time": self.stopped_by_time,
        }


def pick_device(prefer: str | None = None) -> torch.device:
    if prefer:
        return torch.device(prefer)
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def mean_auroc(probs: np.ndarray, targets: np.ndarray, *, multilabel: bool) -> float:
    """The validation score: mean one-vs-rest AUROC over classes (or labels) that have both outcomes."""
    columns = targets > 0.5 if multilabel else targets[:, None] == np.arange(probs.shape[1])
    if not multilabel and probs.shape[1] == 2:
        columns = columns[:, 1:]
        probs = probs[:, 1:]
    aurocs = [binary_figures(columns[:, k], probs[:, k])["auroc"] for k in range(columns.shape[1])]
    known = [a for a in aurocs if a is not None]
    return float(np.mean(known)) if known else 0.0


def _normalise(images: Tensor, mean: float, std: float) -> Tensor:
    return (images.float().div(255).unsqueeze(1) - mean) / std


@torch.no_grad()
def predict_logits(network: nn.Module, split: Split, mean: float, std: float, device: torch.device) -> np.ndarray:
    network.eval()
    images = torch.from_numpy(split.images)
    parts = [network(_normalise(images[i : i + 256].to(device), mean, std)) for i in range(0, len(images), 256)]
    return torch.cat(parts).float().cpu().double().numpy() if parts else np.zeros((0, 1))


def _loss(logits: Tensor, targets: Tensor, multilabel: bool) -> Tensor:
    if multilabel:
        return functional.binary_cross_entropy_with_logits(logits.float(), targets.float())
    return functional.cross_entropy(logits.float(), targets.long())


def _check(data: ImageSet, input_size: int) -> None:
    for name in ("train", "val"):
        part = data.split(name)
        if len(part) == 0 or part.images.shape[1:] != (input_size, input_size):
            raise ConfigError(
                f"{data.name} {name} split: {len(part)} images of shape {part.images.shape[1:]}, "
                f"expected at least one of {input_size}x{input_size}"
            )


@dataclass(slots=True)
class _Fit:
    """What one training pass needs besides the network and the data."""

    optimizer: torch.optim.Optimizer
    schedule: torch.optim.lr_scheduler.LRScheduler
    scaler: torch.amp.GradScaler
    generator: torch.Generator
    augment: Augment
    batch_size: int
    mean: float
    std: float
    multilabel: bool


def _train_epoch(network: nn.Module, images: Tensor, targets: Tensor, fit: _Fit) -> float:
    """One pass over the training images in a seeded random order; the mean loss."""
    network.train()
    device = images.device
    order = torch.randperm(len(images), generator=fit.generator).to(device)
    losses = []
    for start in range(0, len(images), fit.batch_size):
        batch = order[start : start + fit.batch_size]
        pixels = fit.augment(images[batch].float().div(255).unsqueeze(1), fit.generator)
        fit.optimizer.zero_grad(set_to_none=True)
        with torch.autocast(device_type=device.type, dtype=torch.float16, enabled=fit.scaler.is_enabled()):
            loss = _loss(network((pixels - fit.mean) / fit.std), targets[batch], fit.multilabel)
        fit.scaler.scale(loss).backward()
        fit.scaler.step(fit.optimizer)
        fit.scaler.update()
        fit.schedule.step()
        losses.append(float(loss.detach()))
    return float(np.mean(losses))


def _validate(network: nn.Module, data: ImageSet, fit: _Fit, device: torch.device) -> tuple[float, float]:
    """(validation loss, validation mean AUROC)."""
    logits = torch.from_numpy(predict_logits(network, data.val, fit.mean, fit.std, device))
    probs = (logits.sigmoid() if data.multilabel else logits.softmax(dim=1)).numpy()
    loss = float(_loss(logits, torch.from_numpy(data.val.targets), data.multilabel))
    return loss, mean_auroc(probs, data.val.targets, multilabel=data.multilabel)


def train_network(
    data: ImageSet,
    *,
    input_size: int,
    config: TrainConfig,
    device: torch.device | None = None,
    show_progress: bool | None = None,
    log: Callable[[str], None] = lambda _: None,
) -> TrainResult:
    """Fit a network on `data.train`, choosing the epoch by `data.val`; the test split is not touched."""
    _check(data, input_size)
    started = time.perf_counter()
    device = device or pick_device()
    torch.manual_seed(config.seed)
    if device.type == "cuda":
        torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark = True, False
    images = torch.from_numpy(data.train.images).to(device)
    targets = torch.from_numpy(data.train.targets).to(device)
    network = build_network(config.encoder, input_size=input_size, outputs=len(data.labels), dropout=config.dropout)
    network = network.to(device)
    optimizer = torch.optim.AdamW(network.parameters(), lr=config.learning_rate, weight_decay=config.weight_decay)
    # One-cycle needs a few steps to warm up in; a run of one or two batches gets ten scheduled.
    steps = max(config.epochs * -(-len(images) // config.batch_size), 10)
    fit = _Fit(
        optimizer=optimizer,
        schedule=torch.optim.lr_scheduler.OneCycleLR(optimizer, config.learning_rate, total_steps=steps, pct_start=0.2),
        scaler=torch.amp.GradScaler("cuda", enabled=device.type == "cuda"),
        generator=torch.Generator().manual_seed(config.seed),
        augment=config.augment,
        batch_size=config.batch_size,
        mean=float(data.train.images.mean() / 255),
        std=float(data.train.images.std() / 255) or 1.0,
        multilabel=data.multilabel,
    )
    result = TrainResult(network=network, config=config, mean=fit.mean, std=fit.std, device=str(device))
    best_state: dict[str, Tensor] = {}
    stale = 0
    for epoch in progress(
        range(1, config.epochs + 1), desc=f"training {data.name}", enabled=show_progress, unit="epoch"
    ):
        loss = _train_epoch(network, images, targets, fit)
        valid_loss, score = _validate(network, data, fit, device)
        seconds = time.perf_counter() - started
        result.history.append(
            {
                "epoch": epoch,
                "loss": round(loss, 5),
                "valid_loss": round(valid_loss, 5),
                "valid_auroc": round(score, 5),
                "seconds": round(seconds, 2),
            }
        )
        if score > result.best_auroc or not best_state:
            result.best_auroc, result.best_epoch, stale = score, epoch, 0
            best_state = {k: v.detach().clone() for k, v in network.state_dict().items()}
        else:
            stale += 1
            if stale >= config.patience:
                break
        if config.max_seconds is not None and seconds > config.max_seconds:
            result.stopped_by_time = True
            break
    network.load_state_dict(best_state)
    network.eval()
    result.seconds = time.perf_counter() - started
    log(f"{data.name}: best validation AUROC {result.best_auroc:.4f} at epoch {result.best_epoch}")
    return result
