"""A tiny hand-built graph where the right order of diseases is known by construction.

Findings (under one root):     Phenotypic abnormality
                                 |- Seizure <- Focal-onset seizure
                                 |- Fever, Cough, Dyspnea, Hearing impairment
                                 |- Pulmonary consolidation, Pneumonia (the phenotype)
                                 |- Rash <- DDXPlus-style "What colour is the rash?" (a follow-up)
                                 |- Arachnodactyly, Ectopia lentis, Aortic root aneurysm, Tall stature,
                                    Pectus excavatum, Intellectual disability

Diseases:
- OMIM:100001 seizure syndrome A: focal-onset seizure 0.9, hearing impairment 0.5 (adult onset)
- OMIM:100002 seizure syndrome B: seizure 0.8, fever 0.1; curated NOT hearing impairment
- DOID:552 pneumonia (a DDXPlus condition): fever, cough, dyspnea (no frequency); same UMLS CUI as
  the Pneumonia phenotype
- ORPHA:300 rare lung disease: pulmonary consolidation 0.9, cough 0.5, dyspnea 0.5
- DOID:900 fever disease: fever 1.0, rash 0.3; a child of DOID:552 in the hierarchy
- OMIM:100003 rash syndrome: rash 0.9, "rash colour" 0.9, fever 0.9
- Marfan syndrome and its look-alikes, each tied to its gene (HPO's disease-gene associations):
  OMIM:154700 Marfan syndrome (FBN1), OMIM:236200 homocystinuria (CBS), OMIM:609192 and OMIM:610168
  Loeys-Dietz syndromes 1 (TGFBR1) and 2 (TGFBR2), and ORPHA:60030 Loeys-Dietz syndrome (both TGFBR genes).
  Homocystinuria is annotated more strongly with the shared skeletal and eye findings, so Marfan's five
  cardinal features alone put it first; with a reported FBN1 variant Marfan syndrome leads. Ectopia lentis
  is also tied to FBN1 (a Finding-Gene edge, which the ranking does not read). ACE is a gene only
  DrugCentral knows (id HGNC.SYMBOL:ACE), tied to no disease.

Drugs: amoxicillin treats pneumonia and is contraindicated in OMIM:100002; azithromycin treats
pneumonia and is a curated non-indication for the rare lung disease, which prednisone treats;
paracetamol palliates the fever disease. Doxycycline is a guideline first-line treatment of
pneumonia; oxygen (a medical gas) has only a drug-label indication for it.

The rare lung disease is flagged can't-miss (`urgent`).

Some nodes carry the codes an EHR sends (SNOMED CT, RxNorm), so FHIR input can be mapped through the graph's
cross-references as it is on the real graph; amoxicillin carries its FDA pharmacologic class.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from cdss.types import Concept, Edge, EdgeType, NodeLabel, Provenance
from kg import open_store

HPO = Provenance("hpo", "2099-01-01", "HPO licence", ("PCS",), ("PMID:1",))
DO = Provenance("disease_ontology", "test", "CC0 1.0")
DDX = Provenance("ddxplus", "test", "CC BY 4.0")
PTDB = Provenance("pharmacotherapydb", "v1.0", "CC0 1.0")
DC = Provenance("drugcentral", "2016", "CC BY 4.0")
HPO_GENES = Provenance("hpo_genes", "2099-01-01", "HPO licence", ("disease-gene association",), ("OMIM:154700",))

FINDINGS = {
    "HP:0000118": "Phenotypic abnormality",
    "HP:0001250": "Seizure",
    "HP:0007359": "Focal-onset seizure",
    "HP:0001945": "Fever",
    "HP:0012735": "Cough",
    "HP:0002094": "Dyspnea",
    "HP:0000365": "Hearing impairment",
    "HP:0032177": "Pulmonary consolidation",
    "HP:0002090": "Pneumonia",
    "HP:0000988": "Skin rash",
    "DDXPLUS:E_130": "What color is the rash?",
    "HP:0001166": "Arachnodactyly",
    "HP:0001083": "Ectopia lentis",
    "HP:0002616": "Aortic root aneurysm",
    "HP:0000098": "Tall stature",
    "HP:0000767": "Pectus excavatum",
    "HP:0001249": "Intellectual disability",
}
FINDING_PARENTS = {
    "HP:0001250": "HP:0000118",
    "HP:0007359": "HP:0001250",
    "HP:0001945": "HP:0000118",
    "HP:0012735": "HP:0000118",
    "HP:0002094": "HP:0000118",
    "HP:0000365": "HP:0000118",
    "HP:0032177": "HP:0000118",
    "HP:0002090": "HP:0000118",
    "HP:0000988": "HP:0000118",
    "DDXPLUS:E_130": "HP:0000988",
    **{f: "HP:0000118" for f in ("HP:0001166", "HP:0001083", "HP:0002616", "HP:0000098", "HP:0000767", "HP:0001249")},
}
DISEASES = [
    Concept(
        "OMIM:100001",
        NodeLabel.DISEASE,
        "Seizure syndrome A",
        sources=("hpo",),
        attributes={"clinical_course": ["HP:0003581"]},
    ),
    Concept("OMIM:100002", NodeLabel.DISEASE, "Seizure syndrome B", sources=("hpo",)),
    Concept(
        "DOID:552", NodeLabel.DISEASE, "pneumonia", xrefs=("UMLS:C0032285",), sources=("ddxplus", "disease_ontology")
    ),
    Concept(
        "ORPHA:300",
        NodeLabel.DISEASE,
        "Rare lung disease",
        sources=("hpo",),
        attributes={"urgent": True, "urgent_reason": "it kills within days", "urgent_citation": "A guideline 2099"},
    ),
    Concept("DOID:900", NodeLabel.DISEASE, "Fever disease", sources=("disease_ontology",)),
    Concept("OMIM:100003", NodeLabel.DISEASE, "Rash syndrome", sources=("hpo",)),
    Concept("ICD10CM:J18", NodeLabel.DISEASE, "Pneumonia, unspecified organism", sources=("icd10cm",)),
    Concept("OMIM:154700", NodeLabel.DISEASE, "Marfan syndrome", sources=("hpo",)),
    Concept("OMIM:236200", NodeLabel.DISEASE, "Homocystinuria due to CBS deficiency", sources=("hpo",)),
    Concept("OMIM:609192", NodeLabel.DISEASE, "Loeys-Dietz syndrome 1", sources=("hpo",)),
    Concept("OMIM:610168", NodeLabel.DISEASE, "Loeys-Dietz syndrome 2", sources=("hpo",)),
    Concept("ORPHA:60030", NodeLabel.DISEASE, "Loeys-Dietz syndrome", sources=("hpo",)),
]
GENES = [
    Concept("NCBIGene:2200", NodeLabel.GENE, "FBN1", xrefs=("HGNC.SYMBOL:FBN1",), sources=("hpo_genes",)),
    Concept("NCBIGene:875", NodeLabel.GENE, "CBS", xrefs=("HGNC.SYMBOL:CBS",), sources=("hpo_genes",)),
    Concept("NCBIGene:7046", NodeLabel.GENE, "TGFBR1", xrefs=("HGNC.SYMBOL:TGFBR1",), sources=("hpo_genes",)),
    Concept("NCBIGene:7048", NodeLabel.GENE, "TGFBR2", xrefs=("HGNC.SYMBOL:TGFBR2",), sources=("hpo_genes",)),
    Concept("HGNC.SYMBOL:ACE", NodeLabel.GENE, "ACE", sources=("drugcentral",)),
]
DISEASE_GENES = [
    ("OMIM:154700", "NCBIGene:2200"),
    ("OMIM:236200", "NCBIGene:875"),
    ("OMIM:609192", "NCBIGene:7046"),
    ("OMIM:610168", "NCBIGene:7048"),
    ("ORPHA:60030", "NCBIGene:7046"),
    ("ORPHA:60030", "NCBIGene:7048"),
]
MARFAN_LIKE = [
    ("OMIM:154700", {"HP:0001083": 0.5, "HP:0002616": 0.7, "HP:0001166": 0.5, "HP:0000098": 0.5, "HP:0000767": 0.4}),
    ("OMIM:236200", {"HP:0001083": 0.9, "HP:0001166": 0.8, "HP:0000098": 0.8, "HP:0000767": 0.5, "HP:0001249": 0.6}),
    ("OMIM:609192", {"HP:0002616": 0.9, "HP:0001166": 0.5, "HP:0000767": 0.5}),
    ("OMIM:610168", {"HP:0002616": 0.9, "HP:0001166": 0.5, "HP:0000767": 0.5, "HP:0000098": 0.3}),
    ("ORPHA:60030", {"HP:0002616": 0.9, "HP:0001166": 0.5}),
]
"""Each disease's annotations (finding -> frequency)."""
MARFAN_FEATURES = ["HP:0001166", "HP:0001083", "HP:0002616", "HP:0000098", "HP:0000767"]
"""Marfan syndrome's cardinal features: arachnodactyly, ectopia lentis, aortic root aneurysm, tall stature and
pectus excavatum. Alone they put homocystinuria first; with a reported FBN1 variant, Marfan syndrome."""
EHR_CODES = {
    "HP:0001945": ("SNOMEDCT:386661006",),
    "HP:0012735": ("SNOMEDCT:49727002",),
    "HP:0002094": ("SNOMEDCT:267036007",),
    "HP:0000988": ("SNOMEDCT:271807003",),
    "OMIM:100002": ("SNOMEDCT:84757009",),
    "DRUGBANK:DB01060": ("RXNORM:723",),
    "DRUGBANK:DB00207": ("RXNORM:18631",),
    "DRUGBANK:DB00254": ("RXNORM:3640",),
}
"""Node -> SNOMED CT or RxNorm codes (the real graph has these as cross-references of the same concepts)."""
DRUG_CLASSES = {"DRUGBANK:DB01060": {"established_pharmacologic_classes": ["Penicillin-class Antibacterial"]}}
DRUGS = {
    "DRUGBANK:DB01060": "Amoxicillin",
    "DRUGBANK:DB00207": "Azithromycin",
    "DRUGBANK:DB00635": "Prednisone",
    "DRUGBANK:DB00316": "Acetaminophen",
    "DRUGBANK:DB00254": "Doxycycline",
    "DRUGBANK:DB09140": "Oxygen",
}
GUIDELINE = Provenance("cdss_curated", "cdss tables test", "CC0 1.0", ("guideline",), ("A guideline 2099",))


def _has(disease: str, finding: str, frequency: float | None, provenance: Provenance = HPO) -> Edge:
    attributes = {} if frequency is None else {"frequency": frequency}
    return Edge(EdgeType.HAS_FINDING, disease, finding, provenance, attributes)


def _coded(concept: Concept) -> Concept:
    codes = EHR_CODES.get(concept.id, ())
    return replace(concept, xrefs=concept.xrefs + codes) if codes else concept


def write_ranking_graph(path: Path) -> Path:
    store = open_store(str(path), create=True)
    findings = [Concept(i, NodeLabel.FINDING, n, sources=("hpo",)) for i, n in FINDINGS.items()]
    findings = [
        Concept(c.id, c.label, c.name, xrefs=("UMLS:C0032285",), sources=c.sources) if c.id == "HP:0002090" else c
        for c in findings
    ]
    findings = [
        Concept(c.id, c.label, c.name, sources=("ddxplus",), attributes={"evidence_kind": "characterisation"})
        if c.id.startswith("DDXPLUS:")
        else c
        for c in findings
    ]
    drugs = [Concept(i, NodeLabel.DRUG, n, attributes=DRUG_CLASSES.get(i, {})) for i, n in DRUGS.items()]
    store.upsert_nodes([_coded(c) for c in findings + DISEASES + drugs + GENES])
    edges = [Edge(EdgeType.IS_A, child, parent, HPO) for child, parent in FINDING_PARENTS.items()]
    edges += [
        _has("OMIM:100001", "HP:0007359", 0.9),
        _has("OMIM:100001", "HP:0000365", 0.5),
        _has("OMIM:100002", "HP:0001250", 0.8),
        _has("OMIM:100002", "HP:0001945", 0.1),
        Edge(EdgeType.EXCLUDES_FINDING, "OMIM:100002", "HP:0000365", HPO),
        _has("DOID:552", "HP:0001945", None, DDX),
        _has("DOID:552", "HP:0012735", None, DDX),
        _has("DOID:552", "HP:0002094", None, DO),
        _has("DOID:552", "HP:0002090", 0.9, GUIDELINE),
        _has("ORPHA:300", "HP:0032177", 0.9),
        _has("ORPHA:300", "HP:0012735", 0.5),
        _has("ORPHA:300", "HP:0002094", 0.5),
        _has("DOID:900", "HP:0001945", 1.0, DO),
        _has("DOID:900", "HP:0000988", 0.3, DO),
        _has("OMIM:100003", "HP:0000988", 0.9),
        _has("OMIM:100003", "DDXPLUS:E_130", 0.9),
        _has("OMIM:100003", "HP:0001945", 0.9),
        Edge(EdgeType.IS_A, "DOID:900", "DOID:552", DO),
        Edge(EdgeType.TREATS, "DRUGBANK:DB01060", "DOID:552", PTDB),
        Edge(EdgeType.TREATS, "DRUGBANK:DB00207", "DOID:552", DC),
        Edge(EdgeType.TREATS, "DRUGBANK:DB00635", "ORPHA:300", DC),
        Edge(EdgeType.NOT_INDICATED_FOR, "DRUGBANK:DB00207", "ORPHA:300", PTDB),
        Edge(EdgeType.TREATS, "DRUGBANK:DB00207", "ORPHA:300", DC),
        Edge(EdgeType.CONTRAINDICATED_FOR, "DRUGBANK:DB01060", "OMIM:100002", DC),
        Edge(EdgeType.PALLIATES, "DRUGBANK:DB00316", "DOID:900", PTDB),
        Edge(EdgeType.TREATS, "DRUGBANK:DB00254", "DOID:552", GUIDELINE, {"line": "first"}),
        Edge(EdgeType.TREATS, "DRUGBANK:DB09140", "DOID:552", DC),
        Edge(EdgeType.ASSOCIATED_WITH, "HP:0001083", "NCBIGene:2200", HPO_GENES),
    ]
    edges += [_has(disease, finding, f) for disease, found in MARFAN_LIKE for finding, f in found.items()]
    edges += [Edge(EdgeType.ASSOCIATED_WITH, disease, gene, HPO_GENES) for disease, gene in DISEASE_GENES]
    store.upsert_edges(edges)
    store.set_meta({"graph_version": "ranking-test"})
    store.close()
    return path
