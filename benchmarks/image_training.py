"""Benchmark: image model training time per epoch on the CPU and, when one is present, on CUDA (with mixed
precision), measured side by side in one run; then the time to predict one image on the CPU.

Trains the dataset's own configuration for a few epochs on its real train split (fetch it first with
`cdss data fetch --source <source>`), then loads the exported model as the API does and times
`ImageModel.predict` on one 1024x1024 greyscale image (resizing included) and on one at the input size.

    python benchmarks/image_training.py [--dataset pneumoniamnist] [--epochs 2] [--predictions 200]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

from cdss.settings import load_settings
from imaging import ImageModel
from imaging.catalog import DATASETS, find_dataset
from imaging.export import save_export
from imaging.study import export_config
from imaging.train import train_network


def _latency_ms(model: ImageModel, pixels: np.ndarray, count: int) -> tuple[float, float]:
    model.predict(pixels)
    times = []
    for _ in range(count):
        began = time.perf_counter()
        model.predict(pixels)
        times.append((time.perf_counter() - began) * 1000)
    times.sort()
    return statistics.median(times), times[int(0.95 * (len(times) - 1))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="pneumoniamnist", choices=sorted(DATASETS))
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--predictions", type=int, default=200)
    args = parser.parse_args()
    spec = find_dataset(args.dataset)
    settings = load_settings()
    started = time.perf_counter()
    data = spec.load(spec.folder(settings.sources_dir), 0)
    print(
        f"{spec.name}: {len(data.train)} training images at {spec.input_size}x{spec.input_size}, "
        f"loaded in {time.perf_counter() - started:.1f} s"
    )
    config = replace(spec.training, epochs=args.epochs, patience=args.epochs, max_seconds=None)
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    results = {}
    for device in devices:
        result = train_network(data, input_size=spec.input_size, config=config, device=torch.device(device))
        results[device] = result
        per_epoch = result.seconds / len(result.history)
        threads = f", {torch.get_num_threads()} CPU threads" if device == "cpu" else ", mixed precision"
        print(
            f"{device}: {per_epoch:.1f} s per epoch (training and validation{threads}), "
            f"{len(data.train) / per_epoch:.0f} images/s; validation AUROC {result.best_auroc:.4f}"
        )
    if "cuda" in results:
        speedup = results["cpu"].seconds / max(results["cuda"].seconds, 1e-9)
        print(f"GPU speed-up per epoch: {speedup:.1f}x")

    cpu = results["cpu"]
    config_json = export_config(spec, config, cpu, temperature=1.0, findings=[], metrics={}, card="benchmark")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"{spec.name}.pt"
        save_export(path, cpu.network.cpu().state_dict(), config_json)
        model = ImageModel.load(path)
    rng = np.random.default_rng(0)
    for side in (1024, spec.input_size):
        pixels = rng.integers(0, 256, (side, side), dtype=np.uint8)
        p50, p95 = _latency_ms(model, pixels, args.predictions)
        print(f"predict one {side}x{side} image on the CPU: p50 {p50:.2f} ms, p95 {p95:.2f} ms")


if __name__ == "__main__":
    main()
