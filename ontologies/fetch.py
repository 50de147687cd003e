"""`cdss data fetch`: put each source's pinned files into the sources folder.

Online, files come from their canonical URLs; offline, from a local mirror laid
out like the sources folder (`<mirror>/<source folder>/<file>`). Every file is
checked against its registered SHA-256 before it replaces anything, so a
partial download or a wrong file never lands. A source of thousands of files
(image folders) pins them through one pinned listing (`ListedFiles`): they are
copied from the mirror beside their targets, checked one by one where the
listing has digests and as a set against the registered tree SHA-256, and only
then renamed into place, all or none.
"""

from __future__ import annotations

import hashlib
import os
import urllib.error
import urllib.request
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from cdss.errors import SourceError, SourceParseError
from cdss.progress import progress
from ontologies.files import csv_records
from ontologies.registry import ListedFiles, SourceFile, SourceSpec, sha256_of, tree_sha256

CHUNK = 1 << 20


@dataclass(frozen=True, slots=True)
class FetchResult:
    source: str
    file: str
    status: str
    """`present` (already there and correct), `fetched`, or `failed`."""
    detail: str = ""


def _partial(target: Path) -> Path:
    return target.with_name(f".{target.name}.partial-{os.getpid()}")


def _write_hashed(reader: BinaryIO, partial: Path, algorithms: Iterable[str]) -> dict[str, str]:
    """Stream `reader` into `partial`; the hex digest of each of `algorithms`."""
    partial.parent.mkdir(parents=True, exist_ok=True)
    digests = {name: hashlib.new(name) for name in algorithms}
    with partial.open("wb") as out:
        for block in iter(lambda: reader.read(CHUNK), b""):
            for digest in digests.values():
                digest.update(block)
            out.write(block)
        out.flush()
        os.fsync(out.fileno())
    return {name: digest.hexdigest() for name, digest in digests.items()}


def _copy_verified(reader: BinaryIO, target: Path, expected: str) -> None:
    """Stream into a temporary file beside `target`, check the hash, then rename into place."""
    partial = _partial(target)
    try:
        actual = _write_hashed(reader, partial, ("sha256",))["sha256"]
        if actual != expected:
            raise ValueError(f"checksum mismatch: expected sha256 {expected}, got {actual}")
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)


def _fetch_file(spec: SourceSpec, file: SourceFile, dest: Path, mirror: Path | None, timeout: float) -> FetchResult:
    folder = spec.folder or spec.name
    target = dest / folder / file.name
    if target.is_file() and sha256_of(target) == file.sha256:
        return FetchResult(spec.name, file.name, "present")
    try:
        if mirror is not None:
            origin = mirror / folder / file.name
            with origin.open("rb") as reader:
                _copy_verified(reader, target, file.sha256)
            return FetchResult(spec.name, file.name, "fetched", f"from {origin}")
        if not file.url:
            return FetchResult(spec.name, file.name, "failed", "only a mirror has this file: use --mirror DIR")
        with urllib.request.urlopen(file.url, timeout=timeout) as response:
            _copy_verified(response, target, file.sha256)
        return FetchResult(spec.name, file.name, "fetched", f"from {file.url}")
    except FileNotFoundError:
        return FetchResult(spec.name, file.name, "failed", f"not in the mirror: {mirror / folder / file.name}")
    except (OSError, urllib.error.URLError, ValueError) as exc:
        return FetchResult(spec.name, file.name, "failed", str(exc))


def _listing(spec: SourceSpec, listed: ListedFiles, folder: Path) -> dict[str, str | None]:
    """Path -> its digest in the (already fetched) listing, or None when the listing has no digest column."""
    columns = [listed.path_column, *([listed.digest_column] if listed.digest_column else [])]
    delimiter = "\t" if listed.listing.endswith(".tsv") else ","
    rows: dict[str, str | None] = {}
    path = folder / listed.listing
    for line, row in csv_records(path, source=spec.name, columns=columns, delimiter=delimiter):
        name = PurePosixPath(row[listed.path_column])
        if not name.parts or name.is_absolute() or ".." in name.parts:
            raise SourceParseError(path, line, f"{str(name)!r} is not a path inside the source folder")
        rows[name.as_posix()] = row[listed.digest_column].lower() if listed.digest_column else None
    return rows


def _stage_listed(
    spec: SourceSpec,
    listed: ListedFiles,
    rows: dict[str, str | None],
    origin: Path,
    staged: dict[str, Path],
    *,
    dest: Path,
    show_progress: bool | None,
) -> tuple[list[str], dict[str, str]]:
    """Copy every listed file from the mirror beside its target; (problems, path -> SHA-256)."""
    algorithms = {"sha256", listed.algorithm}
    problems: list[str] = []
    sums: dict[str, str] = {}
    for path, expected in progress(
        rows.items(), desc=f"fetching {spec.name}", total=len(rows), enabled=show_progress, unit="file"
    ):
        staged[path] = _partial(dest / path)
        try:
            with (origin / path).open("rb") as reader:
                digests = _write_hashed(reader, staged[path], algorithms)
        except FileNotFoundError:
            problems.append(f"not in the mirror: {origin / path}")
            continue
        except OSError as exc:
            problems.append(f"{path}: {exc.strerror or exc}")
            continue
        if expected is not None and digests[listed.algorithm] != expected:
            problems.append(f"{path}: expected {listed.algorithm} {expected}, got {digests[listed.algorithm]}")
        sums[path] = digests["sha256"]
    return problems, sums


def _fetch_listed(
    spec: SourceSpec, listed: ListedFiles, dest: Path, mirror: Path | None, show_progress: bool | None
) -> FetchResult:
    """All the files a listing names, as one set: every one lands, or none does."""
    name = f"{listed.listing}: listed files"
    folder = dest / (spec.folder or spec.name)
    try:
        rows = _listing(spec, listed, folder)
    except SourceError as exc:
        return FetchResult(spec.name, name, "failed", str(exc))
    in_place = all((folder / path).is_file() for path in rows)
    if in_place and tree_sha256({path: sha256_of(folder / path) for path in rows}) == listed.tree_sha256:
        return FetchResult(spec.name, name, "present", f"{len(rows)} files")
    if mirror is None:
        return FetchResult(spec.name, name, "failed", "only a mirror has these files: use --mirror DIR")
    origin = mirror / (spec.folder or spec.name)
    staged: dict[str, Path] = {}
    try:
        problems, sums = _stage_listed(spec, listed, rows, origin, staged, dest=folder, show_progress=show_progress)
        actual = tree_sha256(sums)
        if not problems and actual != listed.tree_sha256:
            problems.append(f"the {len(sums)} files hash to {actual} as a set, expected {listed.tree_sha256}")
        if problems:
            shown = "; ".join(problems[:3]) + (f"; and {len(problems) - 3} more" if len(problems) > 3 else "")
            return FetchResult(spec.name, name, "failed", f"nothing replaced: {shown}")
        for path, partial in staged.items():
            os.replace(partial, folder / path)
        return FetchResult(spec.name, name, "fetched", f"{len(rows)} files from {origin}")
    finally:
        for partial in staged.values():
            partial.unlink(missing_ok=True)


def fetch_sources(
    specs: Sequence[SourceSpec],
    *,
    dest: Path,
    mirror: Path | None = None,
    timeout: float = 60.0,
    show_progress: bool | None = None,
) -> list[FetchResult]:
    """Fetch every file of `specs` into `dest`, then the files their listings name; one failure does not stop
    the others."""
    jobs: Iterable[tuple[SourceSpec, SourceFile]] = [(spec, file) for spec in specs for file in spec.files]
    results = [
        _fetch_file(spec, file, dest, mirror, timeout)
        for spec, file in progress(
            jobs, desc="fetching sources", total=sum(len(s.files) for s in specs), enabled=show_progress, unit="file"
        )
    ]
    for spec in specs:
        if spec.listed is not None:
            results.append(_fetch_listed(spec, spec.listed, dest, mirror, show_progress))
    return results
