"""The dataset loaders on tiny folders written here: MedMNIST splits, Kermany's dedupe and patient split,
NIH-1000's multi-label targets; and the label -> finding table of every dataset."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from cdss.errors import SourceMissingError, SourceParseError
from cli.image import DATASETS as CLI_DATASETS
from imaging.catalog import DATASETS, find_dataset, findings_table
from imaging.datasets import NIH_LABELS, load_kermany, load_medmnist, load_nih1000, patient_split
from ontologies.cxr import cxr_label_map
from ontologies.registry import find_source


def _png(value: int, size: int, fmt: str = "PNG") -> bytes:
    out = io.BytesIO()
    Image.fromarray(np.full((size, size), value, np.uint8)).convert("RGB" if fmt == "JPEG" else "L").save(out, fmt)
    return out.getvalue()


def _write_kermany(folder: Path) -> None:
    rows = ["path,split,label,label_name,subtype,patient_id,md5"]
    images = [
        ("train", "normal", "IM-0001", 10),
        ("train", "normal", "IM-0002", 20),
        ("train", "bacteria", "person1", 30),
        ("train", "bacteria", "person1", 40),
        ("train", "virus", "person2", 50),
        ("train", "virus", "person3", 60),
        ("train", "bacteria", "person4", 70),
        ("train", "normal", "IM-0003", 80),
        ("test", "normal", "IM-0100", 90),
        ("test", "virus", "person9", 100),
        ("test", "virus", "person9", 100),  # a byte-identical copy under another name
    ]
    for i, (split, subtype, patient, value) in enumerate(images):
        data = _png(value, 16, "JPEG")
        path = f"{split}/{subtype}/{patient}_{subtype}_{i}.jpeg"
        (folder / path).parent.mkdir(parents=True, exist_ok=True)
        (folder / path).write_bytes(data)
        label = int(subtype != "normal")
        rows.append(f"{path},{split},{label},x,{subtype},{patient},{hashlib.md5(data).hexdigest()}")
    (folder / "labels.csv").write_text("\n".join(rows) + "\n")


def test_kermany_drops_byte_identical_copies_and_splits_by_patient(tmp_path):
    _write_kermany(tmp_path)
    data = load_kermany(tmp_path, seed=0, val_fraction=0.4)
    assert data.labels == ("normal", "bacterial", "viral")
    assert len(data.test) == 1 + 1 and "dropped 1 byte-identical duplicate images (same md5)" in data.notes
    assert len(data.train) + len(data.val) == 8 and len(data.val) > 0
    assert not set(data.train.patients) & set(data.val.patients)
    assert data.train.images.shape[1:] == (16, 16) and data.train.images.dtype == np.uint8
    assert sorted(data.test.targets.tolist()) == [0, 2]
    again = load_kermany(tmp_path, seed=0, val_fraction=0.4)
    assert again.val.patients == data.val.patients


def test_a_patient_split_never_puts_one_patient_in_two_splits():
    rng = np.random.default_rng(0)
    patients = [f"p{n}" for n in rng.integers(0, 40, 300)]
    for seed in range(5):
        held = patient_split(patients, 0.2, seed)
        inside = {p for p, h in zip(patients, held, strict=True) if h}
        outside = {p for p, h in zip(patients, held, strict=True) if not h}
        assert inside and outside and not inside & outside
    assert (patient_split(patients, 0.2, 1) == patient_split(list(patients), 0.2, 1)).all()


def test_kermany_rows_with_an_unknown_subtype_name_their_line(tmp_path):
    _write_kermany(tmp_path)
    text = (tmp_path / "labels.csv").read_text().replace(",virus,person2,", ",fungal,person2,")
    (tmp_path / "labels.csv").write_text(text)
    with pytest.raises(SourceParseError, match=r"labels\.csv:\d+: unknown subtype 'fungal'"):
        load_kermany(tmp_path)


def test_medmnist_keeps_the_official_splits(tmp_path):
    rng = np.random.default_rng(0)
    arrays = {}
    for split, n in (("train", 6), ("val", 2), ("test", 3)):
        arrays[f"{split}_images"] = rng.integers(0, 255, (n, 28, 28), dtype=np.uint8)
        arrays[f"{split}_labels"] = rng.integers(0, 2, (n, 1), dtype=np.uint8)
    np.savez(tmp_path / "breastmnist.npz", **arrays)
    data = load_medmnist(tmp_path, "breastmnist", ("malignant", "normal or benign"))
    assert (len(data.train), len(data.val), len(data.test)) == (6, 2, 3)
    assert (data.test.targets == arrays["test_labels"].ravel()).all()
    assert sum(data.positives().values()) == 11
    with pytest.raises(SourceMissingError, match=r"pneumoniamnist\.npz not found"):
        load_medmnist(tmp_path, "pneumoniamnist", ("normal", "pneumonia"))


def test_nih1000_reads_given_splits_as_multi_hot_targets(tmp_path):
    rows = ["path,split,folder_label,finding_labels,patient_id,age,sex,view"]
    for i, (split, labels, patient) in enumerate(
        [("train", "Effusion|Mass", 1), ("train", "No Finding", 2), ("valid", "Hernia", 3), ("test", "Effusion", 1)]
    ):
        path = f"{split}/img_{i}.png"
        (tmp_path / split).mkdir(exist_ok=True)
        (tmp_path / path).write_bytes(_png(40 * i, 64))
        rows.append(f"{path},{split},x,{labels},{patient},50,F,PA")
    (tmp_path / "labels.csv").write_text("\n".join(rows) + "\n")
    data = load_nih1000(tmp_path)
    assert data.multilabel and data.labels == NIH_LABELS and data.train.targets.shape == (2, 14)
    first = dict(zip(NIH_LABELS, data.train.targets[0].tolist(), strict=True))
    assert {label for label, v in first.items() if v} == {"Effusion", "Mass"}
    assert data.train.targets[1].sum() == 0 and data.val.targets[0, NIH_LABELS.index("Hernia")] == 1
    assert data.notes == ("given splits; 1 patients of validation or test also have images in train",)
    (tmp_path / "labels.csv").write_text("\n".join([*rows, "test/img_3.png,test,x,Tumour,9,1,F,PA"]) + "\n")
    with pytest.raises(SourceParseError, match="unknown NIH label"):
        load_nih1000(tmp_path)


def test_every_dataset_has_a_source_a_cli_name_and_findings_the_engine_knows():
    assert tuple(DATASETS) == CLI_DATASETS
    for spec in DATASETS.values():
        assert find_source(spec.source).folder
        rows = findings_table(spec)
        assert rows, spec.name
        for row in rows:
            assert row["finding"] in cxr_label_map() or row["finding"].startswith("HP:"), row
    [breast] = findings_table(find_dataset("breastmnist"))
    assert breast["classes"] == ["malignant"] and breast["finding"] == "HP:0003002"
    [kermany] = findings_table(find_dataset("kermany"))
    assert kermany["classes"] == ["bacterial", "viral"] and kermany["finding"] == "Pneumonia"
    assert [r["finding"] for r in findings_table(find_dataset("nih1000"))] == list(NIH_LABELS)
