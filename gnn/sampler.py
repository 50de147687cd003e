"""Heterogeneous neighbour sampling in plain PyTorch, for `LinkLoader` where pyg-lib and torch-sparse are missing.

PyG's `NeighborSampler` calls compiled kernels from pyg-lib or torch-sparse, which have no wheels for
some of the machines we train on (CI among them). This sampler does the same "directional" sampling in
torch: from the seed nodes, hop by hop, at most `fanout[hop]` incoming edges per node and relation,
drawn without replacement; the nodes first reached in a hop are the next hop's frontier. Messages then
flow from the outermost hop towards the seeds, which is all a `len(fanout)`-layer encoder reads.

Its output is what `LinkLoader.filter_fn` (and `NodeLoader.filter_fn`) read, so a batch looks the same
as one from `LinkNeighborLoader`: node ids per type with the seeds first, local edge indices per
relation, and the seed links re-indexed into the batch as `edge_label_index`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import NamedTuple

import torch
from torch import Tensor
from torch_geometric.data import HeteroData
from torch_geometric.sampler import (
    BaseSampler,
    EdgeSamplerInput,
    HeteroSamplerOutput,
    NegativeSampling,
    NodeSamplerInput,
)

from gnn.data import Relation


class Adjacency(NamedTuple):
    """One relation's edges grouped by destination (CSC): `sources[colptr[v]:colptr[v + 1]]` point into v."""

    colptr: Tensor
    sources: Tensor
    edge_ids: Tensor
    """Each entry's position in the relation's `edge_index`, so edge attributes can be looked up."""


def csc(edge_index: Tensor, num_destinations: int) -> Adjacency:
    order = torch.argsort(edge_index[1], stable=True)
    counts = torch.bincount(edge_index[1], minlength=num_destinations)
    colptr = torch.cat([counts.new_zeros(1), counts.cumsum(0)])
    return Adjacency(colptr, edge_index[0][order], order)


def pick_incoming(adjacency: Adjacency, targets: Tensor, fanout: int, generator: torch.Generator) -> Tensor:
    """Positions in `adjacency` of at most `fanout` incoming edges per target, without replacement (-1: all).

    Every candidate edge gets a random key; a stable sort by target after a sort by key puts each
    target's edges in random order, and the first `fanout` of each are kept. The cost is the sum of
    the targets' degrees, as with a per-node shuffle, but in a few tensor operations.
    """
    starts = adjacency.colptr[targets]
    counts = adjacency.colptr[targets + 1] - starts
    owner = torch.repeat_interleave(torch.arange(targets.numel()), counts)
    first = torch.cumsum(counts, 0) - counts
    candidates = starts[owner] + torch.arange(owner.numel()) - first[owner]
    if fanout < 0 or not bool((counts > fanout).any()):
        return candidates
    order = torch.argsort(torch.rand(owner.numel(), generator=generator))
    order = order[torch.argsort(owner[order], stable=True)]
    rank = torch.arange(order.numel()) - first[owner[order]]
    return torch.sort(candidates[order[rank < fanout]]).values


def local_index(nodes: Tensor, ids: Tensor) -> Tensor:
    """Where each of `ids` sits in `nodes` (every id must be there)."""
    values, order = torch.sort(nodes)
    return order[torch.searchsorted(values, ids)]


class HeteroNeighborSampler(BaseSampler):
    """Samples each batch's message-passing subgraph from a `HeteroData` graph held on the CPU.

    The adjacency is built once, when the sampler is made: make one per message-passing graph.

    Args:
        data: the graph to sample from; only node counts and `edge_index` are read.
        fanout: incoming edges kept per node, relation and hop; -1 keeps them all.
        seed: seeds the sampler's own generator, so the same calls give the same subgraphs.
    """

    def __init__(self, data: HeteroData, *, fanout: Sequence[int], seed: int = 0) -> None:
        if not fanout or any(k < -1 for k in fanout):
            raise ValueError(f"fanout must list one count of at least -1 per hop, got {list(fanout)}")
        self.fanout = tuple(int(k) for k in fanout)
        self.num_nodes = {t: int(data[t].num_nodes) for t in data.node_types}
        self.adjacency: dict[Relation, Adjacency] = {
            relation: csc(data[relation].edge_index.cpu(), self.num_nodes[relation[2]]) for relation in data.edge_types
        }
        self.generator = torch.Generator().manual_seed(seed)

    def sample_from_edges(
        self, index: EdgeSamplerInput, neg_sampling: NegativeSampling | None = None
    ) -> HeteroSamplerOutput:
        """The subgraph around both ends of the given links; `metadata` as `LinkLoader` reads it unnegated.

        Negatives are not drawn here: the caller passes them in as links labelled 0, so that they are
        the same type-constrained corruptions full-batch training scores.
        """
        if neg_sampling is not None:
            raise ValueError("HeteroNeighborSampler draws no negatives: pass them as links labelled 0")
        if index.input_type is None or index.time is not None:
            raise ValueError("HeteroNeighborSampler samples heterogeneous graphs without time")
        head, _, tail = index.input_type
        if head != tail:
            heads, head_rows = index.row.unique(return_inverse=True)
            tails, tail_rows = index.col.unique(return_inverse=True)
            seeds, label_index = {head: heads, tail: tails}, torch.stack([head_rows, tail_rows])
        else:
            ends, rows = torch.cat([index.row, index.col]).unique(return_inverse=True)
            seeds, label_index = {head: ends}, rows.view(2, -1)
        out = self.sample(seeds)
        out.metadata = (index.input_id, label_index, index.label, index.time)
        return out

    def sample_from_nodes(self, index: NodeSamplerInput, **kwargs) -> HeteroSamplerOutput:
        """The subgraph around the given nodes, which come first in their type's node list, in order."""
        if index.input_type is None or index.time is not None:
            raise ValueError("HeteroNeighborSampler samples heterogeneous graphs without time")
        out = self.sample({index.input_type: index.node})
        out.metadata = (index.input_id, index.time)
        return out

    def sample(self, seeds: dict[str, Tensor]) -> HeteroSamplerOutput:
        """Hop by hop from the seeds (global ids per node type) out to `len(fanout)` hops."""
        empty = torch.empty(0, dtype=torch.long)
        nodes = {t: seeds.get(t, empty).long() for t in self.num_nodes}
        node_counts = {t: [v.numel()] for t, v in nodes.items()}
        edges: dict[Relation, list[tuple[Tensor, Tensor, Tensor]]] = {r: [] for r in self.adjacency}
        frontier = dict(nodes)
        for fanout in self.fanout:
            reached: dict[str, list[Tensor]] = defaultdict(list)
            for relation, adjacency in self.adjacency.items():
                targets = frontier[relation[2]]
                positions = pick_incoming(adjacency, targets, fanout, self.generator)
                destinations = torch.searchsorted(adjacency.colptr, positions, right=True) - 1
                sources = adjacency.sources[positions]
                edges[relation].append((sources, destinations, adjacency.edge_ids[positions]))
                reached[relation[0]].append(sources)
            for node_type in self.num_nodes:
                found = torch.cat(reached[node_type]).unique() if reached[node_type] else empty
                frontier[node_type] = found[~torch.isin(found, nodes[node_type])]
                nodes[node_type] = torch.cat([nodes[node_type], frontier[node_type]])
                node_counts[node_type].append(frontier[node_type].numel())
        row, col, edge_ids = {}, {}, {}
        for (head, name, tail), hops in edges.items():
            sources, destinations, ids = (torch.cat(parts) for parts in zip(*hops, strict=True))
            row[head, name, tail] = local_index(nodes[head], sources)
            col[head, name, tail] = local_index(nodes[tail], destinations)
            edge_ids[head, name, tail] = ids
        return HeteroSamplerOutput(
            node=nodes,
            row=row,
            col=col,
            edge=edge_ids,
            num_sampled_nodes=node_counts,
            num_sampled_edges={r: [part[0].numel() for part in hops] for r, hops in edges.items()},
        )
