"""Train / validation / test splits of the target edges, built so that nothing held out leaks back.

- `random_edge_split`: a share of each target relation's edges is held out.
  The message-passing graph keeps only the training edges, and every other
  edge between a held-out pair (its reverse, a PALLIATES beside a held-out
  TREATS, an exclusion beside a held-out finding) is removed with it.
- `disease_holdout_split`: zero-shot, as in TxGNN. Some diseases are held
  out; every HAS_FINDING, EXCLUDES_FINDING, TREATS and PALLIATES edge of
  theirs is hidden, leaving their names, IS_A edges and genes. Test edges
  are all their target edges.
- `external_split`: Rephetio's external validation. Treatments train on
  PharmacotherapyDB alone; the test set is the DrugCentral and LabeledIn
  indications PharmacotherapyDB does not have.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from gnn.data import (
    DIAGNOSIS,
    DISEASE_RELATIONS,
    HIERARCHY,
    NON_INDICATIONS,
    PALLIATION,
    RELATIONS,
    TARGETS,
    TREATMENT,
    GraphExport,
    Relation,
)

TRAINING_SOURCE = "pharmacotherapydb"
EXTERNAL_SOURCES = frozenset({"drugcentral", "labeledin"})


@dataclass(slots=True)
class Split:
    name: str
    message_passing: dict[Relation, np.ndarray]
    """Forward edges a model may see (reverses are added from these)."""
    train: dict[Relation, np.ndarray]
    valid: dict[Relation, np.ndarray]
    test: dict[Relation, np.ndarray]
    known: dict[Relation, np.ndarray]
    """Every true edge of each target relation (for filtered ranking and for negatives)."""
    notes: dict = field(default_factory=dict)


def message_edges(export: GraphExport) -> dict[Relation, np.ndarray]:
    return {r: export.edges[r] for r in [*RELATIONS, *HIERARCHY.values()]}


def _pair_keys(edges: np.ndarray) -> np.ndarray:
    return edges[0].astype(np.int64) * (1 << 32) + edges[1]


def drop_pairs(edges: dict[Relation, np.ndarray], held: dict[Relation, np.ndarray]) -> dict[Relation, np.ndarray]:
    """Remove, from every relation between the same node types, edges joining a held-out pair."""
    out = dict(edges)
    for relation, pairs in held.items():
        if not pairs.size:
            continue
        head, _, tail = relation
        keys = _pair_keys(pairs)
        for other, other_edges in edges.items():
            if (other[0], other[2]) == (head, tail) and other_edges.size:
                out[other] = out[other][:, ~np.isin(_pair_keys(out[other]), keys)]
            elif (other[0], other[2]) == (tail, head) and other_edges.size and head != tail:
                out[other] = out[other][:, ~np.isin(_pair_keys(out[other][::-1]), keys)]
    return out


def full_split(export: GraphExport) -> Split:
    """Every edge for message passing and nothing held out: what a deployed model sees."""
    return Split("full graph", message_edges(export), {}, {}, {}, {r: export.edges[r] for r in TARGETS})


def random_edge_split(export: GraphExport, *, seed: int = 0, valid: float = 0.1, test: float = 0.1) -> Split:
    rng = np.random.default_rng(seed)
    train, val, tst = {}, {}, {}
    for relation in TARGETS:
        edges = export.edges[relation]
        order = rng.permutation(edges.shape[1])
        n_valid, n_test = int(len(order) * valid), int(len(order) * test)
        val[relation] = edges[:, np.sort(order[:n_valid])]
        tst[relation] = edges[:, np.sort(order[n_valid : n_valid + n_test])]
        train[relation] = edges[:, np.sort(order[n_valid + n_test :])]
    held = {r: np.hstack([val[r], tst[r]]) for r in TARGETS}
    message = drop_pairs(message_edges(export), held)
    return Split("random edges", message, train, val, tst, {r: export.edges[r] for r in TARGETS})


def held_links_split(
    export: GraphExport, held: dict[Relation, np.ndarray], *, seed: int = 0, valid: float = 0.05
) -> Split:
    """Hide the given target links everywhere (the ranking comparison's missing knowledge); the rest trains.

    The held links are the test set; a share of the remaining links is kept
    back for early stopping, as in the deployed model.
    """
    rng = np.random.default_rng(seed)
    held = {r: held.get(r, np.zeros((2, 0), np.int64)) for r in TARGETS}
    train, val = {}, {}
    for relation in TARGETS:
        edges = export.edges[relation]
        rest = edges[:, ~np.isin(_pair_keys(edges), _pair_keys(held[relation]))]
        order = rng.permutation(rest.shape[1])
        n_valid = int(len(order) * valid)
        val[relation] = rest[:, np.sort(order[:n_valid])]
        train[relation] = rest[:, np.sort(order[n_valid:])]
    hidden = {r: np.hstack([held[r], val[r]]) for r in TARGETS}
    message = drop_pairs(message_edges(export), hidden)
    return Split("held links", message, train, val, held, {r: export.edges[r] for r in TARGETS})


def disease_holdout_split(export: GraphExport, *, seed: int = 0, valid: float = 0.05, test: float = 0.1) -> Split:
    rng = np.random.default_rng(seed)
    with_targets = np.union1d(export.edges[DIAGNOSIS][0], export.edges[TREATMENT][1])
    order = rng.permutation(with_targets)
    n_valid, n_test = int(len(order) * valid), int(len(order) * test)
    valid_diseases, test_diseases = set(order[:n_valid].tolist()), set(order[n_valid : n_valid + n_test].tolist())
    held_out = np.array(sorted(valid_diseases | test_diseases))

    def disease_of(relation: Relation) -> np.ndarray:
        return export.edges[relation][0 if relation[0] == "disease" else 1]

    train, val, tst = {}, {}, {}
    for relation in TARGETS:
        diseases = disease_of(relation)
        edges = export.edges[relation]
        val[relation] = edges[:, np.isin(diseases, list(valid_diseases))]
        tst[relation] = edges[:, np.isin(diseases, list(test_diseases))]
        train[relation] = edges[:, ~np.isin(diseases, held_out)]
    message = message_edges(export)
    for relation in DISEASE_RELATIONS:
        message[relation] = message[relation][:, ~np.isin(disease_of(relation), held_out)]
    notes = {"valid_diseases": len(valid_diseases), "test_diseases": len(test_diseases)}
    return Split("held-out diseases", message, train, val, tst, {r: export.edges[r] for r in TARGETS}, notes)


def external_split(export: GraphExport, *, seed: int = 0, valid: float = 0.1) -> Split:
    """Diagnosis trains on a random 90% (validated on the rest); treatment on PharmacotherapyDB alone."""
    rng = np.random.default_rng(seed)
    treats = export.edges[TREATMENT]
    sources = export.edge_sources[TREATMENT]
    in_training = np.array([TRAINING_SOURCE in s for s in sources], dtype=bool)
    external = np.array([bool(EXTERNAL_SOURCES & set(s)) for s in sources], dtype=bool) & ~in_training
    training = treats[:, in_training]
    order = rng.permutation(training.shape[1])
    n_valid = int(len(order) * valid)
    findings = export.edges[DIAGNOSIS]
    finding_order = rng.permutation(findings.shape[1])
    n_finding_valid = int(len(finding_order) * valid)
    train = {
        TREATMENT: training[:, np.sort(order[n_valid:])],
        DIAGNOSIS: findings[:, np.sort(finding_order[n_finding_valid:])],
    }
    val = {
        TREATMENT: training[:, np.sort(order[:n_valid])],
        DIAGNOSIS: findings[:, np.sort(finding_order[:n_finding_valid])],
    }
    tst = {TREATMENT: treats[:, external], DIAGNOSIS: findings[:, :0]}
    message = message_edges(export)
    message[TREATMENT] = train[TREATMENT]
    message[PALLIATION] = _palliates_from(export, TRAINING_SOURCE)
    message = drop_pairs(message, {r: val[r] for r in TARGETS})
    known = {TREATMENT: treats, DIAGNOSIS: findings}
    notes = {"training_treats": int(in_training.sum()), "external_treats": int(external.sum())}
    return Split("external validation", message, train, val, tst, known, notes)


def _palliates_from(export: GraphExport, source: str) -> np.ndarray:
    keep = np.array([source in s for s in export.edge_sources[PALLIATION]], dtype=bool)
    return export.edges[PALLIATION][:, keep] if keep.size else export.edges[PALLIATION]


def hard_negatives(export: GraphExport) -> np.ndarray:
    """PharmacotherapyDB's curated non-indications: drug-disease pairs known not to go together."""
    return export.edges[NON_INDICATIONS]
