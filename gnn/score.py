"""Learned link scores for the ranking engine, from a trained checkpoint.

Node embeddings are computed once when the scorer loads; scoring a case is a
few small matrix products. Diagnosis scores are log-odds centred per finding
(how much likelier this disease-finding link is than the finding's average
link), so adding them to the ranking moves diseases relative to each other
and leaves the overall scale alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from cdss.errors import GraphModelError
from gnn.checkpoint import ids_digest, load_checkpoint, model_version
from gnn.data import DIAGNOSIS, NODE_TYPES, TARGETS, TREATMENT, GraphExport, cached_export
from gnn.model import relation_key
from gnn.splits import Split, full_split
from gnn.train import TrainConfig, build_model, embeddings, graph_tensors
from kg.store import GraphStore


class GnnLinkScorer:
    """Implements `ranking.LinkScorer` from a trained model and the graph it was trained on."""

    def __init__(
        self,
        model: torch.nn.Module,
        export: GraphExport,
        *,
        version: str,
        metrics: dict | None = None,
        split: Split | None = None,
    ) -> None:
        """`split` names the edges the model may see; a deployed model sees the whole graph."""
        self.version = version
        self.metrics = metrics or {}
        tensors = graph_tensors(export, split or full_split(export), torch.device("cpu"))
        z = embeddings(model.cpu(), tensors)
        self.z = {t: z[t].float().numpy() for t in NODE_TYPES}
        self.weight = {r: model.decoder.weights[relation_key(r)].detach().float().numpy() for r in TARGETS}
        with torch.no_grad():
            self.bias = {
                (r, side): model.decoder.bias(z, r, side).float().numpy() for r in TARGETS for side in ("head", "tail")
            }
        self.index = export.index
        self.ids = export.ids
        self._aligned: tuple[int, np.ndarray, np.ndarray] | None = None

    @classmethod
    def load(cls, path: Path, export: GraphExport) -> GnnLinkScorer:
        """From a checkpoint; refused when it was made for another graph or other node features."""
        checkpoint = load_checkpoint(path, graph_version=export.graph_version)
        return cls._from_checkpoint(checkpoint, export)

    @classmethod
    def from_store(cls, path: Path, store: GraphStore, folder: Path) -> GnnLinkScorer:
        """From a checkpoint, with the graph exported (or read from `folder`) the way the model was trained."""
        checkpoint = load_checkpoint(path, graph_version=store.graph_version)
        export = cached_export(store, folder, text=bool(checkpoint.get("text_features", False)))
        return cls._from_checkpoint(checkpoint, export)

    @classmethod
    def _from_checkpoint(cls, checkpoint: dict, export: GraphExport) -> GnnLinkScorer:
        if checkpoint["ids_digest"] != ids_digest(export):
            raise GraphModelError("the GNN checkpoint does not match this graph's nodes: retrain with `cdss gnn train`")
        if bool(checkpoint.get("text_features", False)) != export.text:
            raise GraphModelError(
                f"the GNN checkpoint was trained {'with' if checkpoint.get('text_features') else 'without'} name "
                "embeddings and the graph export given is not: export it the same way (`GnnLinkScorer.from_store`)"
            )
        config = TrainConfig(**checkpoint["config"])
        tensors = graph_tensors(export, full_split(export), torch.device("cpu"))
        model = build_model(export, tensors, config)
        if config.encoder != "shallow":
            with torch.no_grad():
                model.encode(tensors.x, tensors.edge_index)
        model.load_state_dict(checkpoint["state_dict"])
        return cls(model, export, version=model_version(checkpoint), metrics=checkpoint.get("metrics"))

    def _diseases(self, disease_ids: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """Positions of the given disease ids in the embedding table (cached for the last list asked)."""
        if self._aligned is None or self._aligned[0] != id(disease_ids):
            rows = np.array([self.index["disease"].get(d, -1) for d in disease_ids])
            self._aligned = (id(disease_ids), rows, rows >= 0)
        return self._aligned[1], self._aligned[2]

    def finding_log_odds(self, finding_ids: Sequence[str], disease_ids: Sequence[str]) -> np.ndarray:
        rows, known = self._diseases(disease_ids)
        out = np.zeros((len(finding_ids), len(disease_ids)))
        findings = [self.index["finding"].get(f) for f in finding_ids]
        present = [i for i, f in enumerate(findings) if f is not None]
        if not present:
            return out
        # The product term only: a finding's own bias cancels in the centring, and a disease's bias (how
        # richly it is annotated) is a popularity prior the ranking already has in its own terms.
        query = self.z["finding"][[findings[i] for i in present]] * self.weight[DIAGNOSIS]
        logits = query @ self.z["disease"][rows[known]].T
        out[np.ix_(present, np.flatnonzero(known))] = logits - logits.mean(axis=1, keepdims=True)
        return out

    def treatment_score(self, drug_id: str, disease_id: str) -> float | None:
        drug, disease = self.index["drug"].get(drug_id), self.index["disease"].get(disease_id)
        if drug is None or disease is None:
            return None
        logit = float((self.z["drug"][drug] * self.weight[TREATMENT] * self.z["disease"][disease]).sum())
        logit += self.bias[(TREATMENT, "head")][drug] + self.bias[(TREATMENT, "tail")][disease]
        return 1.0 / (1.0 + np.exp(-logit))

    def drug_logits(self, disease_id: str) -> np.ndarray | None:
        """The treatment logit of every drug (in export order) for one disease."""
        disease = self.index["disease"].get(disease_id)
        if disease is None:
            return None
        product = (self.z["drug"] * self.weight[TREATMENT]) @ self.z["disease"][disease]
        return product + self.bias[(TREATMENT, "head")] + self.bias[(TREATMENT, "tail")][disease]

    def top_findings(self, disease_id: str, *, limit: int = 10) -> list[tuple[str, float]]:
        """The findings the model scores highest for a disease, with their probabilities (biases included)."""
        disease = self.index["disease"].get(disease_id)
        if disease is None:
            return []
        logits = (self.z["finding"] * self.weight[DIAGNOSIS]) @ self.z["disease"][disease]
        logits = logits + self.bias[(DIAGNOSIS, "tail")] + self.bias[(DIAGNOSIS, "head")][disease]
        best = np.argsort(-logits, kind="stable")[:limit]
        return [(self.ids["finding"][i], float(1 / (1 + np.exp(-logits[i])))) for i in best]

    def top_drugs(self, disease_id: str, *, limit: int = 10) -> list[tuple[str, float]]:
        """The drugs the model scores highest for a disease (hypotheses, not curated indications)."""
        logits = self.drug_logits(disease_id)
        if logits is None:
            return []
        best = np.argsort(-logits, kind="stable")[:limit]
        return [(self.ids["drug"][i], float(1 / (1 + np.exp(-logits[i])))) for i in best]
