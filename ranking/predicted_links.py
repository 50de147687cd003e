"""Disease-finding links a link model predicts, added to sparsely annotated diseases and marked as predicted.

A disease with two curated findings cannot explain a patient's third, however typical it is; a link model
that has read the rest of the graph (its genes, its parents, diseases like it) can propose the findings the
curation lacks. Only diseases with at most `max_annotations` curated findings get predictions, only the
model's `per_disease` best findings at `min_probability` or above, and each enters the likelihood model as
an annotation at frequency `frequency` x the model's probability. Every one is cited in an answer as a
prediction: the model, its version and its score, never a source edge.

The background frequencies stay those of the curated annotations, so predictions change only the diseases
they are added to.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Protocol

import numpy as np
from scipy import sparse

from ranking.config import PredictionPolicy
from ranking.knowledge import EdgeEvidence, Knowledge

PREDICTED_SOURCE = "cdss link model"
PREDICTED_LICENSE = "a prediction of cdss's own model: not curated knowledge"


@dataclass(frozen=True, slots=True)
class PredictedLink:
    disease: str
    finding: str
    probability: float


class FindingPredictor(Protocol):
    version: str

    def top_findings(self, disease_id: str, *, limit: int) -> list[tuple[str, float]]:
        """The findings the model scores highest for a disease, with their probabilities."""


def sparse_profile_links(
    knowledge: Knowledge, predictor: FindingPredictor, policy: PredictionPolicy
) -> list[PredictedLink]:
    """The predictions for every disease with at most `policy.max_annotations` curated findings."""
    counts = np.diff(knowledge.annotations_by_disease.indptr)
    out = []
    for disease in np.flatnonzero(counts <= policy.max_annotations).tolist():
        disease_id = knowledge.disease_ids[disease]
        known = set(knowledge.disease_findings(disease)[0].tolist())
        for finding, probability in predictor.top_findings(disease_id, limit=policy.per_disease + len(known)):
            index = knowledge.finding_index.get(finding)
            if index is None or index in known or probability < policy.min_probability:
                continue
            out.append(PredictedLink(disease_id, finding, probability))
            known.add(index)
            if len(known) >= policy.per_disease + counts[disease]:
                break
    return out


def with_predicted_links(
    knowledge: Knowledge, links: Sequence[PredictedLink], *, frequency: float, model: str
) -> Knowledge:
    """A copy of `knowledge` whose annotations include the links, each cited as the model's prediction."""
    fresh = {
        (knowledge.disease_index[link.disease], knowledge.finding_index[link.finding]): link
        for link in links
        if link.disease in knowledge.disease_index and link.finding in knowledge.finding_index
    }
    fresh = {key: link for key, link in fresh.items() if key not in knowledge.annotation_edges}
    if not fresh:
        return knowledge
    keys = sorted(fresh)
    rows, cols = [d for d, _ in keys], [f for _, f in keys]
    shape = knowledge.annotations_by_disease.shape
    added = sparse.csr_matrix(([frequency * fresh[k].probability for k in keys], (rows, cols)), shape=shape)
    annotations = (knowledge.annotations_by_disease + added).tocsr()
    annotations.sort_indices()
    csc = annotations.tocsc()
    csc.sort_indices()
    # Sex codes ride offset by one (see `ranking.knowledge`); a predicted link holds for either sex.
    sex = knowledge.annotation_sex.copy()
    sex.data = sex.data.astype(np.int16) + 1
    sex = (sex + sparse.csc_matrix((np.ones(len(keys), np.int16), (rows, cols)), shape=shape)).tocsc()
    sex.sort_indices()
    sex.data = (sex.data - 1).astype(knowledge.annotation_sex.dtype)
    edges = dict(knowledge.annotation_edges)
    for key in keys:
        link = fresh[key]
        edges[key] = (
            EdgeEvidence(
                type="HAS_FINDING",
                start=link.disease,
                end=link.finding,
                source=PREDICTED_SOURCE,
                version=model,
                license=PREDICTED_LICENSE,
                frequency=frequency * link.probability,
                predicted_probability=link.probability,
            ),
        )
    return replace(
        knowledge, annotations=csc, annotations_by_disease=annotations, annotation_sex=sex, annotation_edges=edges
    )
