"""`cdss data fetch` and the registry's checks on fetched files."""

import hashlib
import http.server
import threading
from functools import partial
from pathlib import Path

import pytest

from cdss.errors import SourceMissingError
from ontologies import SourceFile, SourceSpec
from ontologies.fetch import fetch_sources
from ontologies.model import SourceData, SourceRelease


def _spec(files: list[SourceFile], folder: str = "demo") -> SourceSpec:
    def read(path: Path, release: SourceRelease) -> SourceData:
        return SourceData(release=release, notes=[f"read {sorted(p.name for p in path.iterdir())}"])

    return SourceSpec(
        name="demo",
        title="demo",
        license="CC0",
        citation="-",
        homepage="-",
        version="v1",
        folder=folder,
        files=tuple(files),
        read=read,
        required=False,
    )


def _file(name: str, content: bytes, url: str = "https://example.invalid/x") -> SourceFile:
    return SourceFile(name, url, hashlib.sha256(content).hexdigest())


@pytest.fixture
def mirror(tmp_path: Path) -> Path:
    root = tmp_path / "mirror"
    (root / "demo" / "sub").mkdir(parents=True)
    (root / "demo" / "a.tsv").write_bytes(b"alpha\n")
    (root / "demo" / "sub" / "b.txt").write_bytes(b"beta\n")
    return root


def test_fetch_from_a_mirror_then_nothing_to_do(tmp_path, mirror):
    spec = _spec([_file("a.tsv", b"alpha\n"), _file("sub/b.txt", b"beta\n")])
    dest = tmp_path / "sources"
    first = fetch_sources([spec], dest=dest, mirror=mirror)
    assert [r.status for r in first] == ["fetched", "fetched"]
    assert (dest / "demo" / "sub" / "b.txt").read_bytes() == b"beta\n"
    assert [r.status for r in fetch_sources([spec], dest=dest, mirror=mirror)] == ["present", "present"]


def test_a_wrong_file_never_lands(tmp_path, mirror):
    spec = _spec([_file("a.tsv", b"something else\n")])
    dest = tmp_path / "sources"
    [result] = fetch_sources([spec], dest=dest, mirror=mirror)
    assert result.status == "failed"
    assert "checksum mismatch: expected sha256" in result.detail
    assert not (dest / "demo" / "a.tsv").exists()
    assert not list((dest / "demo").iterdir())


def test_a_file_missing_from_the_mirror_is_named(tmp_path, mirror):
    [result] = fetch_sources([_spec([_file("nope.tsv", b"")])], dest=tmp_path / "s", mirror=mirror)
    assert result.status == "failed"
    assert result.detail == f"not in the mirror: {mirror / 'demo' / 'nope.tsv'}"


def test_fetch_downloads_over_http(tmp_path, mirror):
    handler = partial(http.server.SimpleHTTPRequestHandler, directory=str(mirror / "demo"))
    handler.log_message = lambda *args: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/a.tsv"
        [ok] = fetch_sources([_spec([_file("a.tsv", b"alpha\n", url)])], dest=tmp_path / "s")
        [missing] = fetch_sources([_spec([_file("x.tsv", b"", url.replace("a.tsv", "x.tsv"))])], dest=tmp_path / "s")
    finally:
        server.shutdown()
    assert ok.status == "fetched" and ok.detail == f"from {url}"
    assert (tmp_path / "s" / "demo" / "a.tsv").read_bytes() == b"alpha\n"
    assert missing.status == "failed" and "404" in missing.detail


def test_loading_a_fetched_source_checks_presence_and_checksums(tmp_path, mirror):
    spec = _spec([_file("a.tsv", b"alpha\n"), _file("sub/b.txt", b"beta\n")])
    with pytest.raises(
        SourceMissingError, match=r"source 'demo' is missing: .*a\.tsv not found; run `cdss data fetch`"
    ):
        spec.load(tmp_path / "empty")
    data = spec.load(mirror)
    assert data.release.version == "v1"
    (mirror / "demo" / "a.tsv").write_bytes(b"edited by hand\n")
    edited = spec.load(mirror)
    assert edited.release.version == "v1; locally modified: a.tsv"
    assert "files differ from the pinned release (checksum): a.tsv" in edited.notes


def test_a_mirror_only_file_says_so_online(tmp_path):
    spec = _spec([_file("converted.jsonl", b"{}\n", url="")])
    [result] = fetch_sources([spec], dest=tmp_path / "sources")
    assert result.status == "failed" and "only a mirror has this file" in result.detail


def test_an_optional_file_may_be_missing_and_the_reader_is_told_what_is_there(tmp_path, mirror):
    spec = _spec([_file("a.tsv", b"alpha\n"), SourceFile("gone.tsv", "https://example.invalid/g", "0" * 64, False)])
    fetch_sources([spec], dest=tmp_path / "sources", mirror=mirror)
    data = spec.load(tmp_path / "sources")
    assert data.notes == ["read ['a.tsv']"]
    required = _spec([_file("a.tsv", b"alpha\n"), _file("gone.tsv", b"gamma\n")])
    with pytest.raises(SourceMissingError, match=r"gone\.tsv"):
        required.load(tmp_path / "sources")
