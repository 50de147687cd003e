"""The image sets the models learn from, read from a fetched source folder into uint8 arrays.

Splits are fixed here, never by the trainer: MedMNIST's official ones; Kermany's source test
split as test, its train split cut by patient (seeded) into train and validation after
byte-identical duplicates are dropped; NIH-1000's given folders.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from io import BytesIO
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from cdss.errors import SourceError, SourceMissingError, SourceParseError
from ontologies.files import FETCH_HINT, csv_records

SPLITS = ("train", "val", "test")
NIH_LABELS = (
    "Atelectasis",
    "Cardiomegaly",
    "Consolidation",
    "Edema",
    "Effusion",
    "Emphysema",
    "Fibrosis",
    "Hernia",
    "Infiltration",
    "Mass",
    "Nodule",
    "Pleural_Thickening",
    "Pneumonia",
    "Pneumothorax",
)
"""The 14 ChestX-ray14 finding labels (Wang et al. 2017); "No Finding" is none of them."""
KERMANY_LABELS = ("normal", "bacterial", "viral")
_KERMANY_SUBTYPES = {"normal": 0, "bacteria": 1, "virus": 2}
_NIH_SPLITS = {"train": "train", "valid": "val", "test": "test"}


@dataclass(frozen=True, slots=True)
class Split:
    """One split: images (N, H, W) uint8, targets (N,) class indices or (N, labels) 0/1, and patient ids."""

    images: np.ndarray
    targets: np.ndarray
    patients: tuple[str, ...] = ()

    def __len__(self) -> int:
        return len(self.images)


@dataclass(frozen=True, slots=True)
class ImageSet:
    name: str
    labels: tuple[str, ...]
    multilabel: bool
    train: Split
    val: Split
    test: Split
    notes: tuple[str, ...] = field(default=())
    """What was done to the source (duplicates dropped, how validation was cut)."""

    def split(self, name: str) -> Split:
        return {"train": self.train, "val": self.val, "test": self.test}[name]

    def positives(self) -> dict[str, int]:
        """Label -> images with it, over all splits (for choosing which labels an average can trust)."""
        counts = np.zeros(len(self.labels), dtype=np.int64)
        for part in (self.train, self.val, self.test):
            if self.multilabel:
                counts += part.targets.sum(axis=0).astype(np.int64)
            else:
                counts += np.bincount(part.targets, minlength=len(self.labels))
        return dict(zip(self.labels, counts.tolist(), strict=True))


def load_medmnist(folder: Path, name: str, labels: tuple[str, ...]) -> ImageSet:
    """A MedMNIST `.npz` with its official train/val/test split (labels in the file's own order)."""
    path = folder / f"{name}.npz"
    if not path.is_file():
        raise SourceMissingError("medmnist", path, FETCH_HINT)
    try:
        with np.load(path) as data:
            parts = {s: Split(data[f"{s}_images"], data[f"{s}_labels"].reshape(-1).astype(np.int64)) for s in SPLITS}
    except (OSError, KeyError, ValueError) as exc:
        raise SourceError(f"{path} is not a MedMNIST file: {exc}") from None
    for split, part in parts.items():
        if part.images.dtype != np.uint8 or part.images.ndim != 3 or part.targets.max(initial=0) >= len(labels):
            raise SourceError(f"{path}: {split} split is not uint8 (N, H, W) images with labels below {len(labels)}")
    return ImageSet(name, labels, False, parts["train"], parts["val"], parts["test"])


def _decode(path: Path, source: str) -> np.ndarray:
    """A PNG or JPEG file of `source` as a 2-D uint8 greyscale array."""
    try:
        with Image.open(BytesIO(path.read_bytes())) as image:
            return np.asarray(image.convert("L"), dtype=np.uint8)
    except FileNotFoundError:
        raise SourceMissingError(source, path, FETCH_HINT) from None
    except (OSError, UnidentifiedImageError) as exc:
        raise SourceError(f"cannot decode {path}: {exc}") from None


def _stack(folder: Path, paths: Sequence[str], source: str) -> np.ndarray:
    images = [_decode(folder / p, source) for p in paths]
    shapes = {image.shape for image in images}
    if len(shapes) > 1:
        raise SourceError(f"{folder}: images of different sizes {sorted(shapes)}; expected one size")
    return np.stack(images) if images else np.zeros((0, 1, 1), dtype=np.uint8)


def patient_split(patients: Sequence[str], fraction: float, seed: int) -> np.ndarray:
    """A mask of the rows whose patient falls in a seeded `fraction` of the patients (sorted first, so the
    choice does not depend on row order)."""
    unique = np.array(sorted(set(patients)))
    chosen = np.random.default_rng(seed).permutation(len(unique))[: round(fraction * len(unique))]
    return np.isin(np.asarray(patients), unique[chosen])


def load_kermany(folder: Path, *, seed: int = 0, val_fraction: float = 0.1) -> ImageSet:
    """Kermany's chest X-rays as normal / bacterial / viral, byte-identical duplicates dropped."""
    listing = folder / "labels.csv"
    columns = ("path", "split", "subtype", "patient_id", "md5")
    rows, seen, dropped = [], set(), 0
    # In path order "test/" comes before "train/": a copy in both splits stays in test and leaves train.
    for line, row in sorted(
        csv_records(listing, source="cxr_kermany", columns=columns, delimiter=","), key=lambda item: item[1]["path"]
    ):
        if row["subtype"] not in _KERMANY_SUBTYPES or row["split"] not in {"train", "test"}:
            raise SourceParseError(listing, line, f"unknown subtype {row['subtype']!r} or split {row['split']!r}")
        if row["md5"] in seen:
            dropped += 1
            continue
        seen.add(row["md5"])
        rows.append(row)
    source_train = [r for r in rows if r["split"] == "train"]
    held = patient_split([r["patient_id"] for r in source_train], val_fraction, seed)
    chosen = {
        "train": [r for r, h in zip(source_train, held, strict=True) if not h],
        "val": [r for r, h in zip(source_train, held, strict=True) if h],
        "test": [r for r in rows if r["split"] == "test"],
    }
    parts = {
        split: Split(
            _stack(folder, [r["path"] for r in part], "cxr_kermany"),
            np.array([_KERMANY_SUBTYPES[r["subtype"]] for r in part], dtype=np.int64),
            tuple(r["patient_id"] for r in part),
        )
        for split, part in chosen.items()
    }
    notes = (
        f"dropped {dropped} byte-identical duplicate images (same md5)",
        f"validation: {val_fraction:.0%} of the source train split's patients (seed {seed})",
        "test: the source test split",
    )
    return ImageSet("kermany", KERMANY_LABELS, False, parts["train"], parts["val"], parts["test"], notes)


def _nih_targets(value: str, listing: Path, line: int) -> np.ndarray:
    names = [n for n in value.split("|") if n and n != "No Finding"]
    unknown = [n for n in names if n not in NIH_LABELS]
    if unknown:
        raise SourceParseError(listing, line, f"unknown NIH label(s) {', '.join(unknown)}")
    return np.array([label in names for label in NIH_LABELS], dtype=np.float32)


def load_nih1000(folder: Path) -> ImageSet:
    """The NIH-1000 subset with its given train/valid/test folders, 14 labels per image (multi-label)."""
    listing = folder / "labels.csv"
    grouped: dict[str, list[tuple[str, np.ndarray, str]]] = {s: [] for s in SPLITS}
    for line, row in csv_records(
        listing, source="cxr_nih_1000", columns=("path", "split", "finding_labels", "patient_id"), delimiter=","
    ):
        if row["split"] not in _NIH_SPLITS:
            raise SourceParseError(listing, line, f"unknown split {row['split']!r}: expected train, valid or test")
        targets = _nih_targets(row["finding_labels"], listing, line)
        grouped[_NIH_SPLITS[row["split"]]].append((row["path"], targets, row["patient_id"]))
    parts = {}
    for split, items in grouped.items():
        items.sort(key=lambda item: item[0])
        targets = np.stack([t for _, t, _ in items]) if items else np.zeros((0, len(NIH_LABELS)), np.float32)
        images = _stack(folder, [p for p, _, _ in items], "cxr_nih_1000")
        parts[split] = Split(images, targets, tuple(p for _, _, p in items))
    shared = (set(parts["test"].patients) | set(parts["val"].patients)) & set(parts["train"].patients)
    notes = (f"given splits; {len(shared)} patients of validation or test also have images in train",)
    return ImageSet("nih1000", NIH_LABELS, True, parts["train"], parts["val"], parts["test"], notes)
