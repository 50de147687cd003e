"""A small synthetic graph with learnable structure, for the GNN tests.

Three disease families, each with its own pool of findings and its own drugs:
a disease has most findings of its family's pool, and its family's drugs
treat it. Each family has genes its diseases are associated with and its
drugs target, and one pharmacologic class. Families share one IS_A parent disease. Held-out links can be
recovered from the structure, so a working model scores them high quickly.
Names are random letters: distinct, as real names are, but they say nothing
about a node's family, so only the structure can be learned.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from cdss.types import Concept, Edge, EdgeType, NodeLabel, Provenance
from kg import open_store

HPO = Provenance("hpo", "test", "test licence")
PTDB = Provenance("pharmacotherapydb", "test", "CC0 1.0")
DC = Provenance("drugcentral", "test", "CC BY 4.0")
FAMILIES = 5
DISEASES_PER_FAMILY = 16
FINDINGS_PER_FAMILY = 10
DRUGS_PER_FAMILY = 5
GENES_PER_FAMILY = 3


def _name(rng: np.random.Generator) -> str:
    return "".join(rng.choice(list("abcdefghijklmnopqrstuvwxyz"), size=int(rng.integers(6, 12))))


def write_gnn_graph(path: Path, *, seed: int = 0, version: str = "gnn-test") -> Path:
    rng = np.random.default_rng(seed)
    store = open_store(str(path), create=True)
    nodes, edges = [], []
    for family in range(FAMILIES):
        parent = f"DOID:9{family:03d}"
        nodes.append(Concept(parent, NodeLabel.DISEASE, _name(rng), sources=("disease_ontology",)))
        findings = [f"HP:{family:02d}{i:05d}" for i in range(FINDINGS_PER_FAMILY)]
        nodes += [Concept(f, NodeLabel.FINDING, _name(rng), sources=("hpo",)) for f in findings]
        drugs = [f"DRUGBANK:DB{family:02d}{i:03d}" for i in range(DRUGS_PER_FAMILY)]
        nodes += [Concept(d, NodeLabel.DRUG, _name(rng)) for d in drugs]
        genes = [f"NCBIGene:{family}{i:04d}" for i in range(GENES_PER_FAMILY)]
        nodes += [Concept(g, NodeLabel.GENE, _name(rng).upper(), sources=("hpo_genes",)) for g in genes]
        drug_class = f"NDFRT:N{family:09d}"
        nodes.append(Concept(drug_class, NodeLabel.PHARMACOLOGIC_CLASS, _name(rng), attributes={"class_type": "EPC"}))
        for drug in drugs:
            edges.append(Edge(EdgeType.IN_CLASS, drug, drug_class, DC))
            edges.append(Edge(EdgeType.TARGETS, drug, genes[int(rng.integers(GENES_PER_FAMILY))], DC))
        for i in range(DISEASES_PER_FAMILY):
            disease = f"OMIM:{family}{i:05d}"
            nodes.append(Concept(disease, NodeLabel.DISEASE, _name(rng), sources=("hpo",)))
            edges.append(Edge(EdgeType.IS_A, disease, parent, HPO))
            edges.append(Edge(EdgeType.ASSOCIATED_WITH, disease, genes[i % GENES_PER_FAMILY], HPO))
            for finding in findings:
                if rng.random() < 0.8:
                    edges.append(Edge(EdgeType.HAS_FINDING, disease, finding, HPO, {"frequency": 0.5}))
            for drug in drugs:
                if rng.random() < 0.5:
                    source = PTDB if rng.random() < 0.5 else DC
                    edges.append(Edge(EdgeType.TREATS, drug, disease, source))
        edges.append(Edge(EdgeType.NOT_INDICATED_FOR, drugs[0], f"OMIM:{(family + 1) % FAMILIES}00000", PTDB))
    store.upsert_nodes(nodes)
    store.upsert_edges(edges)
    store.set_meta({"graph_version": version})
    store.close()
    return path
