"""Mini-batches of target links, each with the message-passing subgraph sampled around its ends.

`link_loader` uses PyG's `LinkNeighborLoader` where pyg-lib or torch-sparse can sample, and otherwise
`LinkLoader` over our pure-torch `HeteroNeighborSampler`; both sample the same way (directional,
without replacement, the links' ends first), so the batches mean the same.

A `LinkLoader` takes one link type, so an epoch has one loader per target relation, and the loaders
are stepped together (`paired_batches`): each optimiser step scores a batch of every relation, the
smaller relations cut into as many batches as the largest. Each step then weighs the relations
equally, as the full-batch loss does, rather than the largest relation's tail ending the epoch alone.

For distributed training (`gnn.distributed`), `sharded_batches` deals each rank its share of the
epoch's labelled links, as `DistributedSampler` deals a dataset: one permutation every rank draws
alike, taken round-robin, so the shards are disjoint and together cover the epoch. Every rank then
cuts its share into as many steps as one process would take over the whole epoch, so the ranks
together take each step on one process's batch and stay in step for the gradient all-reduce.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from itertools import zip_longest

import numpy as np
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
    batch_size: int | None = None,
    batches: Sequence[Sequence[int]] | None = None,
    seed: int,
) -> LinkLoader:
    """Shuffled batches of the given labelled links of one relation, each with its sampled subgraph.

    A batch is a `HeteroData` subgraph of `data` (local indices, `n_id` per node type) whose
    `batch[relation].edge_label_index` and `.edge_label` are the batch's links and labels, and whose
    `input_id` are their positions in `links`. Give `batches` (positions in `links`, one list per
    batch) instead of `batch_size` to choose the batches and their order.
    """
    if (batch_size is None) == (batches is None):
        raise ValueError(f"give batch_size or batches, not both or neither (got {batch_size!r} and {batches!r})")
    common = {"edge_label_index": (relation, links), "edge_label": labels}
    if batches is None:
        common |= {"batch_size": batch_size, "shuffle": True, "generator": torch.Generator().manual_seed(seed)}
    else:
        common |= {"batch_sampler": [list(batch) for batch in batches]}
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
    steps = step_count(positives, batch_size)
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


def shard(count: int, *, rank: int, world_size: int, seed: int) -> Tensor:
    """This rank's positions among `count` items: a permutation every rank draws alike, dealt round-robin.

    Shards differ in size by at most one, are disjoint and together hold every item (no padding, unlike
    `DistributedSampler`'s default, so no link is scored twice in an epoch).
    """
    if not 0 <= rank < world_size:
        raise ValueError(f"rank must be in [0, {world_size}), got {rank}")
    return torch.randperm(count, generator=torch.Generator().manual_seed(seed))[rank::world_size]


def step_count(positives: dict[Relation, Tensor], batch_size: int) -> int:
    """Optimiser steps in an epoch: the largest relation's positives cut into batches of `batch_size`."""
    return max((math.ceil(p.shape[1] / batch_size) for p in positives.values() if p.shape[1]), default=0)


def sharded_batches(
    data: HeteroData,
    positives: dict[Relation, Tensor],
    negatives: dict[Relation, Tensor],
    *,
    batch_size: int,
    fanout: Sequence[int],
    seed: int,
    rank: int,
    world_size: int,
) -> Iterator[list[tuple[Relation, HeteroData]]]:
    """This rank's share of one epoch's steps: exactly `step_count` steps, each a list of (relation, batch).

    Every rank must be given the same links (the same seed draws them) and takes `step_count` steps,
    so the ranks stay in step; a step whose share of a relation is empty leaves that relation out,
    and a rank whose whole share ran out takes the step with an empty list.
    """
    steps = step_count(positives, batch_size)
    iterators = []
    for offset, relation in enumerate(sorted(r for r, p in positives.items() if p.shape[1])):
        count = positives[relation].shape[1]
        links = torch.cat([positives[relation], negatives[relation]], dim=1).cpu()
        labels = torch.cat([torch.ones(count), torch.zeros(negatives[relation].shape[1])])
        mine = shard(links.shape[1], rank=rank, world_size=world_size, seed=seed + offset)
        # tensor_split leaves any empty chunks at the end, so batch k of every relation is step k.
        chunks = [chunk.tolist() for chunk in torch.tensor_split(mine, steps) if chunk.numel()]
        sampler_seed = int(np.random.SeedSequence([seed, offset, rank]).generate_state(1)[0])
        loader = link_loader(data, relation, links, labels, fanout=fanout, batches=chunks, seed=sampler_seed)
        iterators.append((relation, iter(loader)))
    for _ in range(steps):
        step = [(relation, next(batches, None)) for relation, batches in iterators]
        yield [(relation, batch) for relation, batch in step if batch is not None]
