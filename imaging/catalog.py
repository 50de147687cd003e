"""The datasets an image model can be trained on: where each comes from, how its images are fitted to the
input, its labels, the findings they stand for (imaging/findings.tsv) and its training settings."""

from __future__ import annotations

import csv
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from cdss.curies import normalize_curie
from cdss.errors import ConfigError, InvalidCurieError, SourceParseError
from imaging.augment import Augment
from imaging.datasets import KERMANY_LABELS, NIH_LABELS, ImageSet, load_kermany, load_medmnist, load_nih1000
from imaging.train import TrainConfig
from ontologies.cxr import cxr_label_map
from ontologies.registry import SourceSpec, find_source

FINDINGS_TABLE = "findings.tsv"
FINDINGS_COLUMNS = ("dataset", "label", "classes", "finding", "why")


@dataclass(frozen=True, slots=True, kw_only=True)
class DatasetSpec:
    name: str
    source: str
    """The registry source whose folder holds the images (`cdss data fetch --source <source>`)."""
    task: str
    modality: str
    """"CXR" (chest X-ray) or "US" (ultrasound)."""
    input_size: int
    fit: str
    """How an image of another shape is brought to the input: see `imaging.pixels.FITS`."""
    labels: tuple[str, ...]
    multilabel: bool
    positive: str | None
    """For two classes: the one the headline figures are about (the one a finding stands for)."""
    load: Callable[[Path, int], ImageSet]
    """(source folder, seed) -> the image set with its splits."""
    training: TrainConfig

    @property
    def source_spec(self) -> SourceSpec:
        return find_source(self.source)

    def folder(self, sources_dir: Path) -> Path:
        spec = self.source_spec
        return sources_dir / (spec.folder or spec.name)


_PNEUMONIA = ("normal", "pneumonia")
_BREAST = ("malignant", "normal or benign")
_CXR_AUGMENT = Augment(rotate_degrees=10, translate=0.06, scale=0.08, flip=False)

DATASETS: dict[str, DatasetSpec] = {
    "pneumoniamnist": DatasetSpec(
        name="pneumoniamnist",
        source="medmnist",
        task="pediatric chest X-ray: normal or pneumonia",
        modality="CXR",
        input_size=28,
        fit="crop",
        labels=_PNEUMONIA,
        multilabel=False,
        positive="pneumonia",
        load=lambda folder, _seed: load_medmnist(folder, "pneumoniamnist", _PNEUMONIA),
        training=TrainConfig(epochs=12, batch_size=128, patience=5, max_seconds=300, augment=_CXR_AUGMENT),
    ),
    "breastmnist": DatasetSpec(
        name="breastmnist",
        source="medmnist",
        task="breast ultrasound: malignant, or normal or benign (MedMNIST label 0 is malignant)",
        modality="US",
        input_size=28,
        fit="crop",
        labels=_BREAST,
        multilabel=False,
        positive="malignant",
        load=lambda folder, _seed: load_medmnist(folder, "breastmnist", _BREAST),
        # resnet14 over resnet8: validation AUROC 0.928 against 0.896 (seed 0; validation is 78 images).
        training=TrainConfig(
            encoder="resnet14",
            epochs=60,
            batch_size=32,
            patience=20,
            max_seconds=240,
            augment=Augment(flip=True, rotate_degrees=15),
        ),
    ),
    "kermany": DatasetSpec(
        name="kermany",
        source="cxr_kermany",
        task="pediatric chest X-ray at 224x224: normal, bacterial or viral pneumonia",
        modality="CXR",
        input_size=224,
        fit="stretch",
        labels=KERMANY_LABELS,
        multilabel=False,
        positive=None,
        load=lambda folder, seed: load_kermany(folder, seed=seed),
        # resnet14 over resnet8: validation macro AUROC 0.933 in 12 epochs against 0.928 in 16 (seed 0).
        training=TrainConfig(
            encoder="resnet14", epochs=18, batch_size=64, patience=5, max_seconds=540, augment=_CXR_AUGMENT
        ),
    ),
    "nih1000": DatasetSpec(
        name="nih1000",
        source="cxr_nih_1000",
        task="adult chest X-ray at 64x64: the 14 ChestX-ray14 findings (several per image)",
        modality="CXR",
        input_size=64,
        fit="crop",
        labels=NIH_LABELS,
        multilabel=True,
        positive=None,
        load=lambda folder, _seed: load_nih1000(folder),
        # resnet8: validation mean AUROC 0.660, against 0.628 for resnet14 and 0.657 at a third of the rate.
        training=TrainConfig(epochs=40, batch_size=32, patience=12, max_seconds=300, augment=_CXR_AUGMENT),
    ),
}


def find_dataset(name: str) -> DatasetSpec:
    try:
        return DATASETS[name]
    except KeyError:
        raise ConfigError(f"unknown image dataset {name!r}: expected one of {', '.join(DATASETS)}") from None


def _finding(value: str, line: int) -> str:
    """A CheXpert/NIH label name the engine knows, or a normalised CURIE."""
    if value in cxr_label_map():
        return value
    try:
        return normalize_curie(value)
    except InvalidCurieError as exc:
        raise SourceParseError(f"imaging/{FINDINGS_TABLE}", line, f"{exc}; nor is it a chest X-ray label") from None


def findings_table(spec: DatasetSpec) -> list[dict]:
    """The finding each output (or sum of classes) stands for: [{"label", "classes", "finding", "why"}]."""
    text = resources.files(__package__).joinpath(FINDINGS_TABLE).read_text(encoding="utf-8")
    reader = csv.reader(text.splitlines(), delimiter="\t", quoting=csv.QUOTE_NONE)
    if next(reader, None) != list(FINDINGS_COLUMNS):
        raise SourceParseError(f"imaging/{FINDINGS_TABLE}", 1, f"expected the header {'|'.join(FINDINGS_COLUMNS)}")
    rows = []
    for fields in reader:
        line = reader.line_num
        if len(fields) != len(FINDINGS_COLUMNS):
            raise SourceParseError(f"imaging/{FINDINGS_TABLE}", line, f"expected {len(FINDINGS_COLUMNS)} fields")
        row = dict(zip(FINDINGS_COLUMNS, fields, strict=True))
        if row["dataset"] != spec.name:
            continue
        classes = row["classes"].split(";")
        if any(c not in spec.labels for c in classes) or (spec.multilabel and len(classes) != 1):
            raise SourceParseError(
                f"imaging/{FINDINGS_TABLE}", line, f"classes {row['classes']!r} are not one output of {spec.name}"
            )
        rows.append(
            {"label": row["label"], "classes": classes, "finding": _finding(row["finding"], line), "why": row["why"]}
        )
    return rows
