"""Mini-batches of target links, each with the message-passing subgraph sampled around its ends.

`link_loader` uses PyG's `LinkNeighborLoader` where pyg-lib or torch-sparse can sample, and otherwise
`LinkLoader` over our pure-torch `HeteroNeighborSampler`; both sample the same way (directional,
without replacement, the links' ends first), so the batches mean the same.

A `LinkLoader` takes one link type, so an epoch has one loader per target relation, and the loaders
are stepped together (`paired_batches`): each optimiser step scores a batch of every relation, the
smaller relations cut into as many batches as the largest. Each step then weighs the relations
equally, as the full-batch loss does, rather than the largest relation's tail ending the epoch alone.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from itertools import zip_longest

import torch
import torch_geometric.typing
from torch import Tensor
from torch_geometric.data import HeteroData
from torch_geometric.loader import LinkLoader, LinkNeighborLoader

from gnn.data import Relation
from gnn.sampler import HeteroNeighborSampler


def sampler_backend() -> str:
    """Which sampler `link_loader` will use, and why."""
    if torch_geometric.typing.WITH_PYG_LIB:
        return "pyg-lib (LinkNeighborLoader)"
    if torch_geometric.typing.WITH_TORCH_SPARSE:
        return "torch-sparse (LinkNeighborLoader)"
    return "pure torch (LinkLoader with HeteroNeighborSampler: neither pyg-lib nor torch-sparse is installed)"


def link_loader(
    data: HeteroData,
    relation: Relation,
    links: Tensor,
    labels: Tensor,
    *,
    fanout: Sequence[int],
    batch_size: int,
    seed: int,
) -> LinkLoader:
    """Shuffled batches of the given labelled links of one relation, each with its sampled subgraph.

    A batch is a `HeteroData` subgraph of `data` (local indices, `n_id` per node type) whose
    `batch[relation].edge_label_index` and `.edge_label` are the batch's links and labels.
    """
    common = {
        "edge_label_index": (relation, links),
        "edge_label": labels,
        "batch_size": batch_size,
        "shuffle": True,
        "generator": torch.Generator().manual_seed(seed),
    }
    if torch_geometric.typing.WITH_PYG_LIB or torch_geometric.typing.WITH_TORCH_SPARSE:
        return LinkNeighborLoader(data, num_neighbors=list(fanout), **common)
    return LinkLoader(data, link_sampler=HeteroNeighborSampler(data, fanout=fanout, seed=seed), **common)


def paired_batches(
    data: HeteroData,
    positives: dict[Relation, Tensor],
    negatives: dict[Relation, Tensor],
    *,
    batch_size: int,
    fanout: Sequence[int],
    seed: int,
) -> Iterator[list[tuple[Relation, HeteroData]]]:
    """One epoch's steps: per step, a (relation, batch) for each relation that still has links.

    `batch_size` is the positive links of the largest relation per step (each with its negative);
    every other relation is cut into the same number of steps.
    """
    sizes = {r: p.shape[1] for r, p in positives.items() if p.shape[1]}
    if not sizes:
        return
    steps = max(math.ceil(n / batch_size) for n in sizes.values())
    loaders = []
    for offset, (relation, count) in enumerate(sorted(sizes.items())):
        links = torch.cat([positives[relation], negatives[relation]], dim=1).cpu()
        labels = torch.cat([torch.ones(count), torch.zeros(negatives[relation].shape[1])])
        size = math.ceil(links.shape[1] / steps)
        loaders.append(
            (relation, link_loader(data, relation, links, labels, fanout=fanout, batch_size=size, seed=seed + offset))
        )
    relations = [r for r, _ in loaders]
    for step in zip_longest(*(loader for _, loader in loaders)):
        yield [(r, batch) for r, batch in zip(relations, step, strict=True) if batch is not None]
