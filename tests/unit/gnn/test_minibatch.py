"""Mini-batch training: the pure-torch neighbour sampler, the loader factory, and training through them."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
import torch_geometric.typing
from torch_geometric.loader import LinkNeighborLoader
from torch_geometric.sampler import EdgeSamplerInput, NegativeSampling

from gnn.data import DIAGNOSIS, TARGETS, TREATMENT, export_graph
from gnn.minibatch import link_loader, sampler_backend
from gnn.sampler import HeteroNeighborSampler
from gnn.splits import random_edge_split
from gnn.train import TrainConfig, hetero_data, supervised_edges, train_link_model
from kg import open_store
from tests.gnn_graph import write_gnn_graph

FANOUT = (3, 2)


@pytest.fixture(scope="module")
def export(tmp_path_factory):
    path = write_gnn_graph(tmp_path_factory.mktemp("gnn") / "graph.sqlite")
    with open_store(str(path)) as store:
        return export_graph(store)


@pytest.fixture(scope="module")
def split(export):
    return random_edge_split(export, seed=0)


@pytest.fixture(scope="module")
def data(export, split):
    return hetero_data(export, split.message_passing)


@pytest.fixture
def no_compiled_sampler(monkeypatch):
    """As on CI: neither pyg-lib nor torch-sparse, whatever this machine has."""
    monkeypatch.setattr(torch_geometric.typing, "WITH_PYG_LIB", False)
    monkeypatch.setattr(torch_geometric.typing, "WITH_TORCH_SPARSE", False)


def _pairs(edges: torch.Tensor | np.ndarray) -> set[tuple[int, int]]:
    edges = torch.as_tensor(edges)
    return set(zip(edges[0].tolist(), edges[1].tolist(), strict=True))


def _sample(data, links: np.ndarray, *, seed: int = 0):
    sampler = HeteroNeighborSampler(data, fanout=FANOUT, seed=seed)
    edges = torch.from_numpy(links)
    return sampler.sample_from_edges(EdgeSamplerInput(None, edges[0], edges[1], input_type=DIAGNOSIS))


def test_every_sampled_node_keeps_at_most_the_fanout_of_each_relation_per_hop(data, split):
    out = _sample(data, split.train[DIAGNOSIS][:, :20])
    for relation in data.edge_types:
        destinations = out.col[relation]
        hop_ends = np.cumsum(out.num_sampled_nodes[relation[2]])
        degree = torch.bincount(data[relation].edge_index[1], minlength=data[relation[2]].num_nodes)
        received = torch.bincount(destinations, minlength=len(out.node[relation[2]]))
        for hop, limit in enumerate([*FANOUT, 0]):
            rows = slice(hop_ends[hop - 1] if hop else 0, hop_ends[hop])
            expected = degree[out.node[relation[2]][rows]].clamp(max=limit)
            # Without replacement: every neighbour when there are fewer than the fanout, else exactly that many.
            assert torch.equal(received[rows], expected), (relation, hop)


def test_the_sampler_returns_only_real_edges_once_each_with_their_ids(data, split):
    out = _sample(data, split.train[DIAGNOSIS][:, :20])
    for relation in data.edge_types:
        head, _, tail = relation
        found = torch.stack([out.node[head][out.row[relation]], out.node[tail][out.col[relation]]])
        assert torch.equal(found, data[relation].edge_index[:, out.edge[relation]])
        assert len(_pairs(found)) == found.shape[1], "no edge is drawn twice"


def test_the_same_seed_draws_the_same_subgraph(data, split):
    links = split.train[DIAGNOSIS][:, :20]
    first, again, other = _sample(data, links), _sample(data, links), _sample(data, links, seed=1)
    for relation in data.edge_types:
        assert torch.equal(first.edge[relation], again.edge[relation])
    for node_type in data.node_types:
        assert torch.equal(first.node[node_type], again.node[node_type])
    assert any(not torch.equal(first.edge[r], other.edge[r]) for r in data.edge_types), "another seed, another draw"


def test_each_batch_holds_its_links_ends_first_and_labels_them_in_place(data, split, no_compiled_sampler):
    links = torch.from_numpy(split.train[DIAGNOSIS])
    labels = (torch.arange(links.shape[1]) % 2).float()
    loader = link_loader(data, DIAGNOSIS, links, labels, fanout=FANOUT, batch_size=32, seed=0)
    seen = 0
    for batch in loader:
        store, picked = batch[DIAGNOSIS], batch[DIAGNOSIS].input_id
        ends = torch.stack(
            [batch["disease"].n_id[store.edge_label_index[0]], batch["finding"].n_id[store.edge_label_index[1]]]
        )
        assert torch.equal(ends, links[:, picked]) and torch.equal(store.edge_label, labels[picked])
        seeds = batch["disease"].num_sampled_nodes[0]
        assert set(batch["disease"].n_id[:seeds].tolist()) == set(links[0, picked].tolist())
        seen += picked.numel()
    assert seen == links.shape[1]


def _sampled_links(data, relation, links: torch.Tensor) -> set[tuple[int, int]]:
    """Every (head, tail) pair of the relation's node types that any batch passes messages over."""
    head, _, tail = relation
    found = set()
    for batch in link_loader(data, relation, links, torch.ones(links.shape[1]), fanout=(-1, -1), batch_size=64, seed=0):
        for edge_type in (r for r in batch.edge_types if (r[0], r[2]) in {(head, tail), (tail, head)}):
            local = batch[edge_type].edge_index
            ends = torch.stack([batch[edge_type[0]].n_id[local[0]], batch[edge_type[2]].n_id[local[1]]])
            found |= _pairs(ends if edge_type[0] == head else ends.flip(0))
    return found


def test_scored_links_and_the_edges_beside_them_are_never_sampled(export, split, no_compiled_sampler):
    config = TrainConfig(supervised_share=0.3, unseen_disease_share=0.2)
    message, scored = supervised_edges(export, split, config, np.random.default_rng(0))
    for relation in TARGETS:
        links = torch.from_numpy(scored[relation])
        assert not _pairs(links) & _sampled_links(hetero_data(export, message), relation, links), relation
        # The check bites: from the split's whole message-passing graph the same batches do sample them.
        assert _pairs(links) & _sampled_links(hetero_data(export, split.message_passing), relation, links)


def test_the_factory_uses_our_sampler_without_pyg_lib_or_torch_sparse(data, split, no_compiled_sampler):
    links = torch.from_numpy(split.train[TREATMENT])
    loader = link_loader(data, TREATMENT, links, torch.ones(links.shape[1]), fanout=FANOUT, batch_size=8, seed=0)
    reason = sampler_backend()
    assert not isinstance(loader, LinkNeighborLoader), reason
    assert isinstance(loader.link_sampler, HeteroNeighborSampler), reason
    assert "neither pyg-lib nor torch-sparse" in reason


def test_negatives_come_labelled_not_from_the_sampler(data, split):
    edges = torch.from_numpy(split.train[DIAGNOSIS][:, :4])
    sampler = HeteroNeighborSampler(data, fanout=FANOUT)
    with pytest.raises(ValueError, match="pass them as links labelled 0"):
        sampler.sample_from_edges(
            EdgeSamplerInput(None, edges[0], edges[1], input_type=DIAGNOSIS), NegativeSampling("binary")
        )


@pytest.mark.parametrize("encoder", ["sage", "gat", "hgt"])
def test_encoders_run_on_a_sample_that_misses_node_types(export, split, data, encoder):
    from gnn.model import DEGREE_SKIP
    from gnn.train import build_model, graph_tensors

    links = torch.from_numpy(split.train[DIAGNOSIS][:, :8])
    batch = next(iter(link_loader(data, DIAGNOSIS, links, torch.ones(8), fanout=(2,), batch_size=8, seed=0)))
    assert batch["pharm_class"].num_nodes == 0, "one hop from diseases and findings reaches no class"
    tensors = graph_tensors(export, split, torch.device("cpu"))
    model = build_model(export, tensors, TrainConfig(encoder=encoder, hidden=8))
    with torch.no_grad():
        model.encode(tensors.x, tensors.edge_index)
        z = model.encode(batch.x_dict, batch.edge_index_dict)
    width = 8 + DEGREE_SKIP
    assert z["pharm_class"].shape == (0, width) and z["disease"].shape[0] == batch["disease"].num_nodes


def test_mini_batch_training_reaches_a_high_validation_auroc(export, split, no_compiled_sampler):
    """Thirty epochs of three mini-batches each: several seconds on one CPU core."""
    config = TrainConfig(
        hidden=32, learning_rate=0.02, max_epochs=30, patience=30, seed=1, batch_size=64, fanout=(5, 3)
    )
    result, _ = train_link_model(export, split, config)
    assert result.best_auroc > 0.85
    assert result.history[0]["valid_auroc"] < result.best_auroc


def test_the_shallow_baseline_reads_its_batch_rows_by_global_node_id(export, split, no_compiled_sampler):
    config = TrainConfig(encoder="shallow", hidden=8, max_epochs=2, seed=1, batch_size=64)
    result, _ = train_link_model(export, split, config)
    assert len(result.history) == 2 and all(np.isfinite(row["loss"]) for row in result.history)


def test_the_mini_batch_config_survives_a_json_round_trip():
    config = TrainConfig(batch_size=256, fanout=(15, 10, 5))
    again = TrainConfig(**json.loads(json.dumps(config.to_dict())))
    assert again == config and again.fanout == (15, 10, 5)
    assert TrainConfig(**{**config.to_dict(), "fanout": [4]}).fanout == (4,)
    with pytest.raises(ValueError, match="fanout"):
        TrainConfig(fanout=())
    with pytest.raises(ValueError, match="batch_size"):
        TrainConfig(batch_size=0)
