"""`cdss data fetch`: put each source's pinned files into the sources folder.

Online, files come from their canonical URLs; offline, from a local mirror laid
out like the sources folder (`<mirror>/<source folder>/<file>`). Every file is
checked against its registered SHA-256 before it replaces anything, so a
partial download or a wrong file never lands.
"""

from __future__ import annotations

import hashlib
import os
import urllib.error
import urllib.request
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from cdss.progress import progress
from ontologies.registry import SourceFile, SourceSpec, sha256_of

CHUNK = 1 << 20


@dataclass(frozen=True, slots=True)
class FetchResult:
    source: str
    file: str
    status: str
    """`present` (already there and correct), `fetched`, or `failed`."""
    detail: str = ""


def _copy_verified(reader: BinaryIO, target: Path, expected: str) -> None:
    """Stream into a temporary file beside `target`, check the hash, then rename into place."""
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.partial-{os.getpid()}")
    digest = hashlib.sha256()
    try:
        with partial.open("wb") as out:
            for block in iter(lambda: reader.read(CHUNK), b""):
                digest.update(block)
                out.write(block)
            out.flush()
            os.fsync(out.fileno())
        actual = digest.hexdigest()
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


def fetch_sources(
    specs: Sequence[SourceSpec],
    *,
    dest: Path,
    mirror: Path | None = None,
    timeout: float = 60.0,
    show_progress: bool | None = None,
) -> list[FetchResult]:
    """Fetch every file of `specs` into `dest`; one failure does not stop the others."""
    jobs: Iterable[tuple[SourceSpec, SourceFile]] = [(spec, file) for spec in specs for file in spec.files]
    return [
        _fetch_file(spec, file, dest, mirror, timeout)
        for spec, file in progress(
            jobs, desc="fetching sources", total=sum(len(s.files) for s in specs), enabled=show_progress, unit="file"
        )
    ]
