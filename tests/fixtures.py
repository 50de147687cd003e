"""Tiny source files that the tests write themselves, and source specs that read them."""

from __future__ import annotations

import json
from pathlib import Path

from ontologies import SourceSpec
from ontologies.ddxplus import load_ddxplus
from ontologies.disease_ontology import load_disease_ontology
from ontologies.drugcentral import load_drugcentral
from ontologies.drugs import concepts_from_dictionary
from ontologies.hpo import load_hpo
from ontologies.hpo_genes import load_hpo_genes
from ontologies.icd10cm import load_icd10cm
from ontologies.labeledin import load_labeledin
from ontologies.model import SourceRelease
from ontologies.pharmacotherapydb import load_pharmacotherapydb
from ontologies.symptom_ontology import load_symptom_ontology

HP_OBO = """\
format-version: 1.2
data-version: hp/releases/2099-01-01
property_value: terms:license https://hpo.jax.org/app/license

[Term]
id: HP:0000001
name: All

[Term]
id: HP:0000118
name: Phenotypic abnormality
is_a: HP:0000001 ! All

[Term]
id: HP:0000005
name: Mode of inheritance
is_a: HP:0000001 ! All

[Term]
id: HP:0000007
name: Autosomal recessive inheritance
is_a: HP:0000005 ! Mode of inheritance

[Term]
id: HP:0001250
name: Seizure
synonym: "Seizures" EXACT plural_form []
synonym: "Fits" RELATED layperson []
synonym: "Convulsions" BROAD []
synonym: "Old name" EXACT obsolete_synonym []
xref: UMLS:C0036572
xref: SNOMEDCT_US:91175000
is_a: HP:0000118 ! Phenotypic abnormality

[Term]
id: HP:0007359
name: Focal-onset seizure
alt_id: HP:0002384
def: "A seizure that starts in one \\"hemisphere\\"." [PMID:1]
is_a: HP:0001250 ! Seizure

[Term]
id: HP:0001945
name: Fever
is_a: HP:0000118

[Term]
id: HP:0012735
name: Cough
is_a: HP:0000118

[Term]
id: HP:0031797
name: Clinical course
is_a: HP:0000001

[Term]
id: HP:0003577
name: Congenital onset
is_a: HP:0031797

[Term]
id: HP:0000999
name: Obsolete thing
is_obsolete: true

[Typedef]
id: part_of
name: part of
"""

HPOA_HEADER = "\t".join(
    [
        "database_id",
        "disease_name",
        "qualifier",
        "hpo_id",
        "reference",
        "evidence",
        "onset",
        "frequency",
        "sex",
        "modifier",
        "aspect",
        "biocuration",
    ]
)
HPOA_ROWS = [
    "OMIM:100100\tTest syndrome\t\tHP:0001250\tPMID:1\tPCS\t\t3/4\t\t\tP\tHPO:x",
    "OMIM:100100\tTest syndrome\t\tHP:0001250\tPMID:2\tPCS\t\t1/4\tMALE\t\tP\tHPO:x",
    "OMIM:100100\tTest syndrome\t\tHP:0002384\tOMIM:100100\tTAS\tHP:0003577\tHP:0040281\t\t\tP\tHPO:x",
    "OMIM:100100\tTest syndrome\tNOT\tHP:0001945\tOMIM:100100\tTAS\t\t\t\t\tP\tHPO:x",
    "OMIM:100100\tTest syndrome\t\tHP:0000007\tOMIM:100100\tTAS\t\t\t\t\tI\tHPO:x",
    "ORPHA:558\tOther disease\t\tHP:0001945\tORPHA:558\tTAS\t\t40%\t\t\tP\tHPO:x",
    "ORPHA:558\tOther disease\t\tHP:0009999\tORPHA:558\tTAS\t\t\t\t\tP\tHPO:x",
    "ORPHA:558\tOther disease\t\tHP:0001250\tORPHA:558\tTAS\t\t1/4\t\t\tP\tHPO:x",
    "OMIM:200200\tClaimed twice\t\tHP:0001945\tOMIM:200200\tTAS\t\t\t\t\tP\tHPO:x",
    "OMIM:300300\tSubtype one\t\tHP:0001250\tOMIM:300300\tTAS\t\t\t\t\tP\tHPO:x",
    "OMIM:300301\tSubtype two\t\tHP:0001250\tOMIM:300301\tTAS\t\t\t\t\tP\tHPO:x",
]
PHENOTYPE_HPOA = "#description: tiny\n#version: 2099-01-01\n" + HPOA_HEADER + "\n" + "\n".join(HPOA_ROWS) + "\n"

ICD_XML = """\
<?xml version="1.0" encoding="utf-8"?>
<ICD10CM.tabular>
  <version>2099</version>
  <chapter>
    <name>10</name>
    <desc>Diseases of the respiratory system (J00-J99)</desc>
    <section id="J09-J18">
      <desc>Influenza and pneumonia (J09-J18)</desc>
      <diag>
        <name>J18</name>
        <desc>Pneumonia, unspecified organism</desc>
        <excludes1><note>congenital pneumonia (P23.0)</note></excludes1>
        <diag>
          <name>J18.9</name>
          <desc>Pneumonia, unspecified organism</desc>
          <inclusionTerm><note>Pneumonia NOS</note></inclusionTerm>
        </diag>
      </diag>
    </section>
    <section id="J95">
      <desc>Intraoperative and postprocedural complications (J95)</desc>
      <diag><name>J95</name><desc>Postprocedural respiratory complications</desc></diag>
    </section>
  </chapter>
  <chapter>
    <name>18</name>
    <desc>Symptoms, signs and abnormal clinical and laboratory findings, not elsewhere classified (R00-R99)</desc>
    <section id="R50-R69">
      <desc>General symptoms and signs (R50-R69)</desc>
      <diag>
        <name>R50</name>
        <desc>Fever of other and unknown origin</desc>
        <diag>
          <name>R50.9</name>
          <desc>Fever, unspecified</desc>
          <inclusionTerm><note>Pyrexia NOS</note></inclusionTerm>
        </diag>
      </diag>
    </section>
  </chapter>
  <chapter>
    <name>19</name>
    <desc>Injury, poisoning and certain other consequences of external causes (S00-T88)</desc>
    <section id="S20-S29">
      <desc>Injuries to the thorax (S20-S29)</desc>
      <diag>
        <name>S22</name>
        <desc>Fracture of rib(s), sternum and thoracic spine</desc>
        <diag><name>S22.3</name><desc>Fracture of one rib</desc></diag>
      </diag>
    </section>
  </chapter>
  <chapter>
    <name>21</name>
    <desc>Factors influencing health status and contact with health services (Z00-Z99)</desc>
    <section id="Z00-Z13">
      <desc>Persons encountering health services (Z00-Z13)</desc>
      <diag><name>Z00</name><desc>General examination</desc></diag>
    </section>
  </chapter>
</ICD10CM.tabular>
"""
ICD_FILE_NAME = "icd10cm-tabular-April-1-2099.xml"

DRUG_DICTIONARY = {
    "drug_variant_to_canonical": {
        "amoxicillin": ["amoxicillin"],
        "amoxil": ["amoxicillin"],
        "amoxicillin sodium": ["amoxicillin sodium"],
        "acetaminophen": ["acetaminophen"],
        "paracetamol": ["acetaminophen"],
        "mystery": ["mystery drug"],
    },
    "drug_canonical_to_data": {
        "amoxicillin": {
            "name": "Amoxicillin",
            "drugbank_id": "DB01060",
            "mesh_id": "D000900",
            "formula": "C16H19N3O5S",
        },
        "amoxicillin sodium": {"name": "Amoxicillin Sodium", "mesh_id": "D000900"},
        "acetaminophen": {"name": "Acetaminophen", "mesh_id": "D058633", "synonyms": ["calpol"]},
        "mystery drug": {"name": "Mystery"},
    },
    "drug_variant_to_variant_data": {"amoxil": {"is_brand": True}},
}


DO_TERMS = """\
id\tlabel\tsubClassOf
"DOID:850"\t"lung disease"\t"disease"
"DOID:552"\t"pneumonia"\t"lung disease"
"DOID:1485"\t"cystic fibrosis"\t"lung disease"
"DOID:9999"\t"test syndrome"\t"lung disease"
"DOID:8888"\t"rival term"\t"lung disease"
"DOID:7777"\t"grouping syndrome"\t"lung disease"
"""
DO_XREFS = """\
id\tlabel\txref
"DOID:552"\t"pneumonia"\t"UMLS_CUI:C0032285"
"DOID:552"\t"pneumonia"\t"MESH:D011014"
"DOID:552"\t"pneumonia"\t"SNOMEDCT_US_2023_03_01:233604007"
"DOID:1485"\t"cystic fibrosis"\t"MIM:100100"
"DOID:1485"\t"cystic fibrosis"\t"ORDO:558"
"DOID:1485"\t"cystic fibrosis"\t"ICD10CM:E84.9"
"DOID:9999"\t"test syndrome"\t"MIM:200200"
"DOID:8888"\t"rival term"\t"MIM:200200"
"DOID:7777"\t"grouping syndrome"\t"MIM:300300"
"DOID:7777"\t"grouping syndrome"\t"MIM:300301"
"""
DO_SYMPTOMS = """\
disease_id\tdisease_label\tsymptom_id\tsymptom_label
DOID:552\tpneumonia\tSYMP:0000613\tfever
DOID:552\tpneumonia\tSYMP:0000614\tcough
DOID:552\tpneumonia\tSYMP:9999999\tnot a term
"""
SYMP_OBO = """\
format-version: 1.2
data-version: releases/2099-02-02/symp.obo
property_value: terms:license https://creativecommons.org/publicdomain/zero/1.0/

[Term]
id: SYMP:0000462
name: symptom

[Term]
id: SYMP:0000613
name: fever
synonym: "pyrexia" EXACT []
is_a: SYMP:0000462 ! symptom

[Term]
id: SYMP:0000614
name: cough
xref: UMLS_CUI:C0010200
is_a: SYMP:0000462 ! symptom

[Term]
id: SYMP:0000124
name: fitting
xref: UMLS_CUI:C0036572
xref: UMLS_ICD9CM_2005_AUI:A0001
is_a: SYMP:0000462 ! symptom

[Term]
id: SYMP:0000003
name: obsolete enteritis
is_obsolete: true
"""
PHARMACOTHERAPY = {
    "indications.tsv": "doid_id\tdrugbank_id\tdisease\tdrug\tcategory\tn_curators\tn_resources\n"
    "DOID:552\tDB01060\tpneumonia\tAmoxicillin\tDM\t3\t2\n"
    "DOID:552\tDB00316\tpneumonia\tAcetaminophen\tSYM\t2\t1\n"
    "DOID:1485\tDB00316\tcystic fibrosis\tAcetaminophen\tNOT\t3\t0\n",
    "drugs.tsv": "drugbank_id\tdrug\tDM\tSYM\tNOT\ttotal\n"
    "DB01060\tAmoxicillin\t1\t0\t0\t1\nDB00316\tAcetaminophen\t0\t1\t1\t2\n",
    "diseases.tsv": "doid_id\tdisease\tDM\tSYM\tNOT\ttotal\n"
    "DOID:552\tpneumonia\t1\t1\t0\t2\nDOID:1485\tcystic fibrosis\t0\t0\t1\t1\n",
    "labeledin-indications.tsv": "rxnorm_id\tdisease_cui\tn_labels\texpert\tcrowd\tdisease_mesh_name\trxnorm_name\n"
    "723\tC0032285\t2\t1\t0\tPneumonia\tAmoxicillin\n"
    "723\tC9999999\t1\t0\t1\tFibrosis, Cystic\tAmoxicillin\n"
    "723\tC8888888\t1\t0\t1\tSomething Unknown\tAmoxicillin\n"
    "10;11\tC0032285\t1\t0\t1\tPneumonia\tcombination\n",
}
DRUGCENTRAL = {
    "identifiers.tsv": "DRUG_ID\tDRUG_NAME\tID_TYPE\tIDENTIFIER\n"
    '192\t"amoxicillin"\t"DRUGBANK_ID"\t"DB01060"\n'
    '192\t"amoxicillin"\t"RXNORM"\t"723"\n'
    '192\t"amoxicillin"\t"KEGG_DRUG"\t"D00229"\n'
    '500\t"mysterycillin"\t"RXNORM"\t"999"\n',
    "drug_indication.tsv": "DRUG_ID\tDRUG_NAME\tINDICATION_FDB\tUMLS_CUI\tSNOMEDCT_CUI\tDOID\n"
    "192\tamoxicillin\tPneumonia\tC0032285\t233604007\tDOID:552\n"
    "192\tamoxicillin\tUrinary Tract Infections\t\t\t\n"
    "500\tmysterycillin\tLung infection\t\t233604007\t\n",
    "pharm_class.tsv": "DRUG_ID\tDRUG_NAME\tTYPE\tCLASS_SOURCE_ID\tCLASS\tSOURCE\n"
    "192\tamoxicillin\tEPC\tN1\tPenicillin-class Antibacterial\tFDA\n"
    "192\tamoxicillin\tPA\tD1\tPenicillins\tMeSH\n"
    "192\tamoxicillin\tPE\tN2\tDecreased Cell Wall Synthesis\tFDA\n",
    "drug_target.tsv": "DRUG_ID\tCHEMBL_ID\tDRUG_NAME\tTARGET_NAME\tTARGET_FAMILY\tUNIPROT\tGENE\tSWISSPROT\t"
    "ACTION_TYPE\tSOURCE\tREFERENCE\n"
    "192\tCHEMBL1082\tamoxicillin\tPenicillin-binding protein 1A\tEnzyme\tP02918\tmrcA\tPBPA_ECOLI\t"
    "INHIBITOR\tCHEMBL\thttps://www.ebi.ac.uk/chembl/compound/inspect/CHEMBL1082\n"
    "192\t\tamoxicillin\tCystic fibrosis transmembrane conductance regulator\tIon channel\tP13569\tCFTR\t"
    "CFTR_HUMAN\tPOSITIVE MODULATOR\tSCIENTIFIC LITERATURE\thttps://example.org/paper\n"
    "500\t\tmysterycillin\tInterferon alpha/beta receptor\tCytokine\tP17181|P48551\tIFNAR1|IFNAR2\t"
    "INAR1_HUMAN|INAR2_HUMAN\tAGONIST\tDRUG LABEL\thttps://example.org/label.pdf\n",
}
HPO_GENES = {
    "genes_to_phenotype.txt": "ncbi_gene_id\tgene_symbol\thpo_id\thpo_name\tfrequency\tdisease_id\n"
    "1080\tCFTR\tHP:0001250\tSeizure\t3/4\tOMIM:100100\n"
    "1080\tCFTR\tHP:0001945\tFever\t-\tOMIM:100100\n"
    "1080\tCFTR\tHP:0000007\tAutosomal recessive inheritance\t-\tOMIM:100100\n"
    "1080\tCFTR\tHP:0001250\tSeizure\t1/4\tORPHA:558\n"
    "6323\tSCN1A\tHP:0001250\tSeizure\t-\tOMIM:300300\n"
    "6323\tSCN1A\tHP:0001250\tSeizure\t-\tOMIM:300301\n",
    "phenotype_to_genes.txt": "hpo_id\thpo_name\tncbi_gene_id\tgene_symbol\tdisease_id\n"
    "HP:0000118\tPhenotypic abnormality\t1080\tCFTR\tOMIM:100100\n"
    "HP:0001250\tSeizure\t1080\tCFTR\tOMIM:100100\n"
    "HP:0000118\tPhenotypic abnormality\t1909\tEDNRA\tOMIM:200200\n",
}
DDXPLUS = {
    "release_conditions.json": {
        "Pneumonia": {
            "cond-name-eng": "Pneumonia",
            "icd10-id": "j18",
            "severity": 3,
            "symptoms": {"E_91": {}, "E_201": {}},
            "antecedents": {"E_204": {}},
        },
        "URTI": {
            "cond-name-eng": "URTI",
            "icd10-id": "j06.9",
            "severity": 5,
            "symptoms": {"E_91": {}},
            "antecedents": {},
        },
    },
    "release_evidences.json": {
        "E_91": {"question_en": "Feverish?", "is_antecedent": False, "data_type": "B"},
        "E_201": {"question_en": "Coughing?", "is_antecedent": False, "data_type": "B"},
        "E_204": {"question_en": "Been abroad lately?", "is_antecedent": True, "data_type": "C"},
    },
}
FOLDERS = {
    "disease-ontology": {"HumanDO.tsv": DO_TERMS, "allXREFinDO.tsv": DO_XREFS, "DO-disease-symptom.tsv": DO_SYMPTOMS},
    "symptom-ontology": {"symp.obo": SYMP_OBO},
    "pharmacotherapydb": PHARMACOTHERAPY,
    "drugcentral-2016": DRUGCENTRAL,
    "hpo-genes": HPO_GENES,
    "ddxplus": {name: json.dumps(content) for name, content in DDXPLUS.items()},
}


def write_tiny_sources(folder: Path) -> dict[str, Path]:
    """Write tiny versions of every source into `folder`, laid out like the sources dir."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = {
        "hp.obo": folder / "hp.obo",
        "phenotype.hpoa": folder / "phenotype.hpoa",
        "icd": folder / ICD_FILE_NAME,
        "root": folder,
    }
    paths["hp.obo"].write_text(HP_OBO, encoding="utf-8")
    paths["phenotype.hpoa"].write_text(PHENOTYPE_HPOA, encoding="utf-8")
    paths["icd"].write_text(ICD_XML, encoding="utf-8")
    for sub, files in FOLDERS.items():
        (folder / sub).mkdir(exist_ok=True)
        for name, text in files.items():
            (folder / sub / name).write_text(text, encoding="utf-8")
    return paths


def _release(name: str) -> SourceRelease:
    return SourceRelease(name=name, version="test", license="test licence")


def tiny_source_specs(paths: dict[str, Path], *, only_bundled: bool = False) -> list[SourceSpec]:
    """Source specs with the real parsers, reading the tiny files, in the registry's order."""
    root = paths["root"]

    def spec(name: str, read) -> SourceSpec:
        return SourceSpec(
            name=name, title=name, license="test", citation="test", homepage="https://example.org", read=read
        )

    specs = [
        spec("hpo", lambda: load_hpo(paths["hp.obo"], paths["phenotype.hpoa"])),
        spec(
            "hpo_genes",
            lambda: load_hpo_genes(
                root / "hpo-genes" / "genes_to_phenotype.txt",
                root / "hpo-genes" / "phenotype_to_genes.txt",
                _release("hpo_genes"),
            ),
        ),
        spec(
            "disease_ontology", lambda: load_disease_ontology(root / "disease-ontology", _release("disease_ontology"))
        ),
        spec(
            "symptom_ontology", lambda: load_symptom_ontology(root / "symptom-ontology", _release("symptom_ontology"))
        ),
        spec("icd10cm", lambda: load_icd10cm(paths["icd"])),
        spec("drug_dictionary", lambda: concepts_from_dictionary(DRUG_DICTIONARY, _release("drug_dictionary"))),
        spec(
            "pharmacotherapydb",
            lambda: load_pharmacotherapydb(root / "pharmacotherapydb", _release("pharmacotherapydb")),
        ),
        spec("drugcentral", lambda: load_drugcentral(root / "drugcentral-2016", _release("drugcentral"))),
        spec("labeledin", lambda: load_labeledin(root / "pharmacotherapydb", _release("labeledin"))),
        spec("ddxplus", lambda: load_ddxplus(root / "ddxplus", _release("ddxplus"))),
    ]
    bundled = {"hpo", "hpo_genes", "icd10cm", "drug_dictionary"}
    return [s for s in specs if s.name in bundled] if only_bundled else specs
