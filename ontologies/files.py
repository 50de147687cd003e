"""Reading source files line by line, with errors that name the file and line."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from cdss.errors import SourceMissingError, SourceParseError


def text_lines(path: Path, *, source: str) -> Iterator[str]:
    """Yield the lines of a UTF-8 text file; bad bytes raise with their line number."""
    try:
        handle = path.open("rb")
    except FileNotFoundError:
        raise SourceMissingError(source, path, "fetch it with `cdss data fetch`") from None
    with handle:
        for lineno, raw in enumerate(handle, start=1):
            try:
                yield raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise SourceParseError(path, lineno, f"not UTF-8 text ({exc.reason})") from None


def tsv_rows(path: Path, *, source: str, comment: str | None = None) -> Iterator[tuple[int, list[str]]]:
    """Yield (line number, fields) for each non-empty, non-comment line of a TSV file."""
    for lineno, line in enumerate(text_lines(path, source=source), start=1):
        line = line.rstrip("\r\n")
        if not line or (comment is not None and line.startswith(comment)):
            continue
        yield lineno, line.split("\t")
