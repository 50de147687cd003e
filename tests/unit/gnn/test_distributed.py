"""Distributed training: shards dealt by rank, a real 2-process gloo run, its checkpoint and its determinism.

The two spawned runs (one through `train_distributed`, one through `cdss gnn train --nproc 2`) take most
of this file's time: each rank imports torch and PyG afresh.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from cdss.errors import ConfigError
from gnn.checkpoint import load_checkpoint
from gnn.data import DIAGNOSIS, TARGETS, export_graph
from gnn.distributed import check_launch, train_distributed
from gnn.minibatch import shard, sharded_batches, step_count
from gnn.score import GnnLinkScorer
from gnn.splits import random_edge_split
from gnn.train import TrainConfig, corrupt, hetero_data, relation_counts
from kg import open_store
from tests.gnn_graph import write_gnn_graph

# Every training link is scored every epoch (no share held unseen), so each epoch's shards must cover them all.
CONFIG = TrainConfig(
    hidden=16,
    max_epochs=2,
    patience=10,
    seed=3,
    batch_size=48,
    fanout=(3, 2),
    supervised_share=0.0,
    unseen_disease_share=0.0,
)


@pytest.fixture(scope="module")
def graph(tmp_path_factory):
    return write_gnn_graph(tmp_path_factory.mktemp("gnn-ddp") / "graph.sqlite")


@pytest.fixture(scope="module")
def export(graph):
    with open_store(str(graph)) as store:
        return export_graph(store)


@pytest.fixture(scope="module")
def split(export):
    """The split `cdss gnn train` makes: 5% of links held back for validation, no test share."""
    return random_edge_split(export, seed=CONFIG.seed, valid=0.05, test=0.0)


@pytest.fixture(scope="module")
def run(export, split, tmp_path_factory):
    """One 2-process gloo run with every rank's trace: (result, checkpoint path, traces by rank)."""
    folder = tmp_path_factory.mktemp("ddp-run")
    (folder / "trace").mkdir()
    result, _ = train_distributed(
        export, split, CONFIG, nproc=2, checkpoint=folder / "gnn.pt", device=torch.device("cpu"), trace=folder / "trace"
    )
    traces = [json.loads((folder / "trace" / f"rank{rank}.json").read_text()) for rank in range(2)]
    return result, folder / "gnn.pt", traces


def _pairs(edges) -> set[tuple[int, int]]:
    edges = np.asarray(edges)
    return set(zip(edges[0].tolist(), edges[1].tolist(), strict=True))


def test_shards_are_disjoint_even_and_cover_every_item():
    shards = [shard(101, rank=rank, world_size=3, seed=5) for rank in range(3)]
    together = torch.cat(shards)
    assert sorted(together.tolist()) == list(range(101))
    assert {len(s) for s in shards} == {33, 34}
    assert torch.equal(shards[1], shard(101, rank=1, world_size=3, seed=5)), "every rank draws the same deal"
    assert not torch.equal(shards[1], shard(101, rank=1, world_size=3, seed=6))
    with pytest.raises(ValueError, match="rank must be in \\[0, 3\\), got 3"):
        shard(10, rank=3, world_size=3, seed=0)


def test_every_rank_takes_the_steps_one_process_would_and_together_score_each_link_once(export, split):
    data = hetero_data(export, split.message_passing)
    positives = {r: torch.from_numpy(split.train[r]) for r in TARGETS}
    generator = torch.Generator().manual_seed(0)
    negatives = {r: corrupt(p, relation_counts(export, r), generator) for r, p in positives.items()}
    steps = step_count(positives, 40)
    seen = {r: [] for r in TARGETS}
    for rank in range(2):
        taken = list(
            sharded_batches(data, positives, negatives, batch_size=40, fanout=(2,), seed=0, rank=rank, world_size=2)
        )
        assert len(taken) == steps == int(np.ceil(positives[DIAGNOSIS].shape[1] / 40))
        for step in taken:
            for relation, batch in step:
                seen[relation].append(batch[relation].input_id)
    for relation in TARGETS:
        positions = torch.cat(seen[relation])
        assert sorted(positions.tolist()) == list(range(2 * positives[relation].shape[1])), relation


def test_a_two_process_gloo_run_deals_disjoint_shards_covering_the_training_links(run, split):
    _, _, traces = run
    assert [t["rank"] for t in traces] == [0, 1]
    epochs = traces[0]["epochs"]
    assert len(epochs) == CONFIG.max_epochs
    for epoch in epochs:
        for relation in TARGETS:
            key = "__".join(relation)
            first, second = (set(t["epochs"][epoch][key]["positions"]) for t in traces)
            assert first and second and not first & second, (epoch, relation)
            assert first | second == set(range(2 * split.train[relation].shape[1])), "positives and negatives"
            positives = [tuple(pair) for t in traces for pair in t["epochs"][epoch][key]["positives"]]
            assert len(positives) == len(set(positives)) and set(positives) == _pairs(split.train[relation])


def test_the_replicas_hold_the_same_weights_after_every_step(run):
    _, _, traces = run
    first, second = (t["digests"] for t in traces)
    assert len(first) == len(second) > 2
    assert first == second
    assert len(set(first)) == len(first), "every step moves the weights, so equal digests mean synchronised steps"
    assert traces[0]["final_digest"] == traces[1]["final_digest"]


def test_rank_zero_saves_a_checkpoint_the_single_process_scorer_loads(run, export):
    result, path, _ = run
    checkpoint = load_checkpoint(path, graph_version=export.graph_version)
    training = checkpoint["metrics"]["training"]
    assert (training["processes"], training["backend"], training["epochs_run"]) == (2, "gloo", CONFIG.max_epochs)
    assert checkpoint["config"]["batch_size"] == CONFIG.batch_size
    scorer = GnnLinkScorer.load(path, export)
    direct = GnnLinkScorer(result.model, export, version="direct")
    findings, diseases = export.ids["finding"][:5], export.ids["disease"]
    assert np.allclose(scorer.finding_log_odds(findings, diseases), direct.finding_log_odds(findings, diseases))
    assert 0.0 < result.best_auroc <= 1.0 and result.best_epoch in (1, 2)


def test_the_train_command_on_two_processes_repeats_the_same_weights(run, graph, tmp_path, monkeypatch):
    from click.testing import CliRunner

    from cli import cli

    monkeypatch.setenv("CDSS_STORE", str(graph))
    monkeypatch.setenv("CDSS_DATA_DIR", str(tmp_path))
    out = tmp_path / "gnn.pt"
    options = ["--hidden", "16", "--max-epochs", "2", "--patience", "10", "--seed", "3", "--device", "cpu"]
    shares = ["--supervised-share", "0", "--unseen-diseases", "0", "--batch-size", "48", "--fanout", "3,2"]
    result = CliRunner().invoke(cli, ["gnn", "train", "--out", str(out), "--nproc", "2", *options, *shares])
    assert result.exit_code == 0, (result.output, result.exception)
    again = load_checkpoint(out, graph_version=None)
    first = load_checkpoint(run[1], graph_version=None)
    assert again["weights_digest"] == first["weights_digest"]
    untimed = [
        [{k: v for k, v in row.items() if k != "seconds"} for row in c["metrics"]["history"]] for c in (first, again)
    ]
    assert untimed[0] == untimed[1]


def test_distributed_training_refuses_what_cannot_run(graph, tmp_path, monkeypatch):
    with pytest.raises(ConfigError, match="needs mini-batches: give a batch size"):
        check_launch(TrainConfig(), nproc=2, device_type="cpu")
    with pytest.raises(ConfigError, match="batch size 3 is smaller than the 4 processes"):
        check_launch(TrainConfig(batch_size=3), nproc=4, device_type="cpu")
    from click.testing import CliRunner

    from cli import cli

    monkeypatch.setenv("CDSS_STORE", str(graph))
    monkeypatch.setenv("CDSS_DATA_DIR", str(tmp_path))
    refused = CliRunner().invoke(cli, ["gnn", "train", "--out", str(tmp_path / "m.pt"), "--nproc", "2"])
    assert refused.exit_code == 2 and "needs mini-batches" in refused.output and "Traceback" not in refused.output
    assert not (tmp_path / "m.pt").exists()
