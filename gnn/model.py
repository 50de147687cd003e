"""Link models: a heterogeneous message-passing encoder with a DistMult decoder, and a shallow baseline.

Modules take their metadata (node and edge types), feature sizes and target
relations as arguments; nothing is held at module level.

Encoders, chosen by measurement (`cdss gnn eval --encoders`):
- "sage": GraphSAGE per relation, summed over relations (what `to_hetero` makes of SAGEConv).
  This is also R-GCN with mean normalisation: a weight per relation on the neighbour mean plus a
  self term; built as GraphConv per relation it trained to the same scores epoch by epoch, so it is
  not listed twice;
- "gat": graph attention per relation, so neighbours are weighed rather than averaged;
- "hgt": the Heterogeneous Graph Transformer.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch_geometric.nn import GATConv, HeteroConv, HGTConv, SAGEConv

from gnn.data import Relation

ENCODERS = ("sage", "gat", "hgt")
DEGREE_SKIP = 8


def relation_key(relation: Relation) -> str:
    return "__".join(relation)


class DistMult(nn.Module):
    """score(h, r, t) = sum(z_h * w_r * z_t) + b_r,head(z_h) + b_r,tail(z_t).

    One diagonal relation matrix per target relation, plus a linear bias per
    relation and side: how likely a node is to take part in the relation at
    all (its popularity), read from its embedding. Without it a model must
    spend the product term on popularity, and a disease it has never seen
    linked gets no popularity signal at all.
    """

    def __init__(self, targets: list[Relation], hidden: int) -> None:
        super().__init__()
        self.weights = nn.ParameterDict({relation_key(r): nn.Parameter(torch.ones(hidden)) for r in targets})
        self.biases = nn.ModuleDict(
            {f"{relation_key(r)}__{side}": nn.Linear(hidden, 1) for r in targets for side in ("head", "tail")}
        )

    def bias(self, z: dict[str, Tensor], relation: Relation, side: str, rows: Tensor | None = None) -> Tensor:
        """The bias of the given rows (all nodes when None) of the relation's head or tail type."""
        node_type = relation[0] if side == "head" else relation[2]
        features = z[node_type] if rows is None else z[node_type][rows]
        return self.biases[f"{relation_key(relation)}__{side}"](features).squeeze(-1)

    def forward(self, z: dict[str, Tensor], relation: Relation, heads: Tensor, tails: Tensor) -> Tensor:
        head_type, _, tail_type = relation
        product = (z[head_type][heads] * self.weights[relation_key(relation)] * z[tail_type][tails]).sum(dim=-1)
        return product + self.bias(z, relation, "head", heads) + self.bias(z, relation, "tail", tails)

    def against_all(self, z: dict[str, Tensor], relation: Relation, rows: Tensor, *, side: str) -> Tensor:
        """Scores of the given nodes on one side against every node of the other side: (rows, others)."""
        other = "tail" if side == "head" else "head"
        node_type = relation[0] if side == "head" else relation[2]
        other_type = relation[2] if side == "head" else relation[0]
        product = (z[node_type][rows] * self.weights[relation_key(relation)]) @ z[other_type].T
        return product + self.bias(z, relation, side, rows)[:, None] + self.bias(z, relation, other)[None, :]


class GraphLinkModel(nn.Module):
    def __init__(
        self,
        *,
        node_types: list[str],
        edge_types: list[Relation],
        in_dims: dict[str, int],
        targets: list[Relation],
        encoder: str = "sage",
        hidden: int = 64,
        layers: int = 2,
        dropout: float = 0.1,
        degree_dims: dict[str, int] | None = None,
    ) -> None:
        """`degree_dims`: how many trailing input columns of each node type are log-degrees; they reach the
        decoder directly (`DEGREE_SKIP` wide), so its bias can weigh a node's popularity as the degree prior
        does and the message passing only has to learn what popularity does not explain."""
        super().__init__()
        if encoder not in ENCODERS:
            raise ValueError(f"unknown encoder {encoder!r}; choose one of {', '.join(ENCODERS)}")
        self.encoder_name = encoder
        self.dropout = dropout
        self.project = nn.ModuleDict({t: nn.Linear(in_dims[t], hidden) for t in node_types})
        self.degree_dims = {t: (degree_dims or {}).get(t, 0) for t in node_types}
        self.skip = skip = DEGREE_SKIP if any(self.degree_dims.values()) else 0
        self.degree_skip = nn.ModuleDict(
            {t: nn.Linear(max(n, 1), skip) for t, n in self.degree_dims.items()} if skip else {}
        )
        self.convs = nn.ModuleList()
        for _ in range(layers):
            if encoder == "hgt":
                self.convs.append(HGTConv(hidden, hidden, (node_types, edge_types), heads=2))
            elif encoder == "gat":
                self.convs.append(
                    HeteroConv({r: GATConv((-1, -1), hidden, add_self_loops=False) for r in edge_types}, aggr="sum")
                )
            else:
                self.convs.append(HeteroConv({r: SAGEConv((-1, -1), hidden) for r in edge_types}, aggr="sum"))
        self.decoder = DistMult(targets, hidden + skip)

    def encode(self, x: dict[str, Tensor], edge_index: dict[Relation, Tensor]) -> dict[str, Tensor]:
        """Pre-activation residual layers: each adds its messages to the node's own projection.

        Without the skip path, small graphs sit for many epochs on the plateau
        where every score is near zero; with it, the projected features alone
        already separate nodes and message passing refines them.
        """
        z = {t: self.project[t](features) for t, features in x.items()}
        for conv in self.convs:
            h = {t: nn.functional.dropout(torch.relu(v), self.dropout, self.training) for t, v in z.items()}
            out = conv(h, edge_index)
            # A node type that receives no messages keeps its representation.
            z = {t: z[t] + out[t] if t in out else z[t] for t in z}
        if not self.skip:
            return z
        return {t: torch.cat([v, self.degree_skip[t](self._degrees(x[t], t))], dim=-1) for t, v in z.items()}

    def _degrees(self, features: Tensor, node_type: str) -> Tensor:
        count = self.degree_dims[node_type]
        return features[:, -count:] if count else features.new_zeros((features.shape[0], 1))


class ShallowLinkModel(nn.Module):
    """The baseline without message passing: one free embedding per node, the same DistMult decoder."""

    def __init__(self, *, counts: dict[str, int], targets: list[Relation], hidden: int = 64) -> None:
        super().__init__()
        self.embeddings = nn.ModuleDict({t: nn.Embedding(n, hidden) for t, n in counts.items()})
        for embedding in self.embeddings.values():
            nn.init.normal_(embedding.weight, std=0.1)
        self.decoder = DistMult(targets, hidden)
        self.encoder_name = "shallow"

    def encode(self, x: dict[str, Tensor], edge_index: dict[Relation, Tensor]) -> dict[str, Tensor]:
        return {t: e.weight for t, e in self.embeddings.items()}
