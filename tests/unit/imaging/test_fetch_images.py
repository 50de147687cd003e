"""`cdss data fetch` of a source whose many files are pinned through a listing: every file lands, or none."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from pathlib import Path

import pytest

from ontologies.fetch import fetch_sources
from ontologies.registry import ListedFiles, SourceFile, SourceSpec, find_source, tree_sha256

IMAGES = {"train/a.png": b"image a", "train/b.png": b"image b", "test/c.png": b"image c"}


def _listing(digests: bool) -> bytes:
    header = "path,md5\n" if digests else "path\n"
    rows = [f"{p},{hashlib.md5(d).hexdigest()}" if digests else p for p, d in IMAGES.items()]
    return (header + "\n".join(rows) + "\n").encode()


def _spec(digests: bool = True, tree: str | None = None) -> SourceSpec:
    listing = _listing(digests)
    sums = {p: hashlib.sha256(d).hexdigest() for p, d in IMAGES.items()}
    return SourceSpec(
        name="pictures",
        title="pictures",
        license="CC0",
        citation="-",
        homepage="-",
        folder="pictures",
        files=(SourceFile("labels.csv", "", hashlib.sha256(listing).hexdigest()),),
        listed=ListedFiles(
            listing="labels.csv",
            tree_sha256=tree or tree_sha256(sums),
            digest_column="md5" if digests else None,
            algorithm="md5",
        ),
        required=False,
    )


@pytest.fixture
def mirror(tmp_path: Path) -> Path:
    root = tmp_path / "mirror" / "pictures"
    for path, data in IMAGES.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_bytes(data)
    (root / "labels.csv").write_bytes(_listing(True))
    return tmp_path / "mirror"


def test_listed_files_are_copied_then_found_present(tmp_path, mirror):
    dest = tmp_path / "sources"
    first = fetch_sources([_spec()], dest=dest, mirror=mirror)
    assert [(r.file, r.status) for r in first] == [("labels.csv", "fetched"), ("labels.csv: listed files", "fetched")]
    assert (dest / "pictures" / "test" / "c.png").read_bytes() == b"image c"
    again = fetch_sources([_spec()], dest=dest, mirror=mirror)
    assert [r.status for r in again] == ["present", "present"] and again[1].detail == "3 files"


def test_a_file_that_differs_from_its_listed_digest_is_named_and_nothing_lands(tmp_path, mirror):
    (mirror / "pictures" / "train" / "b.png").write_bytes(b"tampered")
    dest = tmp_path / "sources"
    _, listed = fetch_sources([_spec()], dest=dest, mirror=mirror)
    assert listed.status == "failed"
    assert listed.detail.startswith("nothing replaced: train/b.png: expected md5 ")
    assert not list((dest / "pictures").rglob("*.png"))
    assert not list((dest / "pictures").rglob(".*partial*"))


def test_without_per_file_digests_the_set_digest_decides(tmp_path, mirror):
    (mirror / "pictures" / "labels.csv").write_bytes(_listing(False))
    dest = tmp_path / "sources"
    _, ok = fetch_sources([_spec(digests=False)], dest=dest, mirror=mirror)
    assert ok.status == "fetched"
    (dest / "pictures" / "train" / "a.png").write_bytes(b"edited by hand")
    _, wrong = fetch_sources([_spec(digests=False, tree="0" * 64)], dest=dest, mirror=mirror)
    assert wrong.status == "failed" and "as a set, expected 0000" in wrong.detail
    assert (dest / "pictures" / "train" / "a.png").read_bytes() == b"edited by hand"
    _, repaired = fetch_sources([_spec(digests=False)], dest=dest, mirror=mirror)
    assert repaired.status == "fetched" and (dest / "pictures" / "train" / "a.png").read_bytes() == b"image a"


def test_missing_files_and_no_mirror_are_reported(tmp_path, mirror):
    dest = tmp_path / "sources"
    fetch_sources([_spec()], dest=dest, mirror=mirror)
    (dest / "pictures" / "test" / "c.png").unlink()
    _, online = fetch_sources([_spec()], dest=dest)
    assert online.status == "failed" and online.detail == "only a mirror has these files: use --mirror DIR"
    (mirror / "pictures" / "test" / "c.png").unlink()
    _, missing = fetch_sources([_spec()], dest=dest, mirror=mirror)
    assert missing.status == "failed"
    assert missing.detail == f"nothing replaced: not in the mirror: {mirror / 'pictures' / 'test' / 'c.png'}"


def test_a_listing_may_not_point_outside_its_folder(tmp_path, mirror):
    bad = b"path,md5\n../escape.png,00\n"
    (mirror / "pictures" / "labels.csv").write_bytes(bad)
    spec = replace(_spec(), files=(SourceFile("labels.csv", "", hashlib.sha256(bad).hexdigest()),))
    _, result = fetch_sources([spec], dest=tmp_path / "sources", mirror=mirror)
    assert result.status == "failed" and "'../escape.png' is not a path inside the source folder" in result.detail


def test_the_image_sources_are_optional_pinned_and_cited():
    for name in ("medmnist", "cxr_kermany", "cxr_nih_1000"):
        spec = find_source(name)
        assert not spec.required and not spec.builds_graph and spec.citation and spec.license
        assert spec.files and all(len(f.sha256) == 64 for f in spec.files)
    assert {f.name for f in find_source("medmnist").files} == {"pneumoniamnist.npz", "breastmnist.npz"}
    assert find_source("cxr_kermany").listed.digest_column == "md5"
    assert "CVPR 2017" in find_source("cxr_nih_1000").citation
