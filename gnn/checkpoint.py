"""Checkpoints: the weights with the config, the graph version, the metrics and the node counts they fit.

A checkpoint made on one graph version refuses to load on another: node
indices would no longer mean the same concepts.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import torch

from cdss.errors import GraphModelError
from cdss.model_files import load_model_file, save_model_file
from gnn.data import NODE_TYPES, GraphExport

FORMAT = "cdss-gnn-1"


def ids_digest(export: GraphExport) -> str:
    digest = hashlib.sha256()
    for node_type in NODE_TYPES:
        digest.update(node_type.encode())
        digest.update("\n".join(export.ids[node_type]).encode())
    return digest.hexdigest()[:16]


def model_version(checkpoint: dict) -> str:
    return f"gnn-{checkpoint['config']['encoder']}-{checkpoint['weights_digest']}"


def save_checkpoint(
    path: Path, *, model: torch.nn.Module, config: dict, export: GraphExport, metrics: dict, in_dims: dict[str, int]
) -> dict:
    state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
    digest = hashlib.sha256()
    for key in sorted(state):
        digest.update(key.encode())
        digest.update(state[key].numpy().tobytes())
    checkpoint = {
        "format": FORMAT,
        "state_dict": state,
        "config": config,
        "graph_version": export.graph_version,
        "ids_digest": ids_digest(export),
        "text_features": export.text,
        "node_counts": {t: export.count(t) for t in NODE_TYPES},
        "in_dims": in_dims,
        "metrics": metrics,
        "weights_digest": digest.hexdigest()[:12],
    }
    save_model_file(path, checkpoint)
    return checkpoint


def load_checkpoint(path: Path, *, graph_version: str | None) -> dict:
    """Read a checkpoint; refuse one made for another graph version, naming both."""
    checkpoint = load_model_file(path, format=FORMAT, kind="GNN checkpoint", train="cdss gnn train")
    if graph_version is not None and checkpoint["graph_version"] != graph_version:
        raise GraphModelError(
            f"the GNN model at {path} was trained on graph {checkpoint['graph_version']}, "
            f"but the graph is now {graph_version}: retrain it with `cdss gnn train`"
        )
    return checkpoint
