"""Tiny source files that the tests write themselves, and source specs that read them."""

from __future__ import annotations

from pathlib import Path

from ontologies import SourceSpec
from ontologies.drugs import concepts_from_dictionary
from ontologies.hpo import load_hpo
from ontologies.icd10cm import load_icd10cm
from ontologies.model import SourceRelease

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


def write_tiny_sources(folder: Path) -> dict[str, Path]:
    """Write the tiny HPO, HPOA and ICD-10-CM files into `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = {
        "hp.obo": folder / "hp.obo",
        "phenotype.hpoa": folder / "phenotype.hpoa",
        "icd": folder / ICD_FILE_NAME,
    }
    paths["hp.obo"].write_text(HP_OBO, encoding="utf-8")
    paths["phenotype.hpoa"].write_text(PHENOTYPE_HPOA, encoding="utf-8")
    paths["icd"].write_text(ICD_XML, encoding="utf-8")
    return paths


def tiny_source_specs(paths: dict[str, Path]) -> list[SourceSpec]:
    """Source specs with the real parsers, reading the tiny files."""
    drug_release = SourceRelease(name="drug_dictionary", version="test", license="test licence")
    common = {"citation": "test fixture", "homepage": "https://example.org", "package": None}
    return [
        SourceSpec(
            name="hpo",
            title="tiny HPO",
            license="HPO",
            load=lambda _: load_hpo(paths["hp.obo"], paths["phenotype.hpoa"]),
            **common,
        ),
        SourceSpec(name="icd10cm", title="tiny ICD", license="PD", load=lambda _: load_icd10cm(paths["icd"]), **common),
        SourceSpec(
            name="drug_dictionary",
            title="tiny drugs",
            license="MIT",
            load=lambda _: concepts_from_dictionary(DRUG_DICTIONARY, drug_release),
            **common,
        ),
    ]
