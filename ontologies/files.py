"""Reading source files line by line, with errors that name the file and line."""

from __future__ import annotations

import csv
from collections.abc import Iterator, Sequence
from pathlib import Path

from cdss.errors import SourceError, SourceMissingError, SourceParseError

FETCH_HINT = "run `cdss data fetch` (or `cdss data fetch --mirror DIR` offline)"


def text_lines(path: Path, *, source: str) -> Iterator[str]:
    """Yield the lines of a UTF-8 text file; bad bytes raise with their line number."""
    try:
        handle = path.open("rb")
    except FileNotFoundError:
        raise SourceMissingError(source, path, "fetch it with `cdss data fetch`") from None
    except OSError as exc:
        raise SourceError(f"source {source!r}: cannot read {path}: {exc.strerror or exc}") from None
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


def csv_records(
    path: Path, *, source: str, columns: Sequence[str], delimiter: str = "\t"
) -> Iterator[tuple[int, dict[str, str]]]:
    """Yield (line number, row) from a delimited file with a header row and quoted values.

    The header must name every column in `columns`; extra columns are allowed.
    """
    reader = csv.reader(text_lines(path, source=source), delimiter=delimiter, quotechar='"')
    try:
        header = next(reader)
    except StopIteration:
        raise SourceParseError(path, 1, "empty file: expected a header row") from None
    except csv.Error as exc:
        raise SourceParseError(path, reader.line_num, f"malformed header ({exc})") from None
    missing = [c for c in columns if c not in header]
    if missing:
        raise SourceParseError(path, 1, f"header lacks column(s) {', '.join(missing)}; found {', '.join(header)}")
    while True:
        try:
            fields = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise SourceParseError(path, reader.line_num, f"malformed row ({exc})") from None
        if not fields:
            continue
        if len(fields) != len(header):
            raise SourceParseError(
                path, reader.line_num, f"expected {len(header)} fields as in the header, found {len(fields)}"
            )
        yield reader.line_num, dict(zip(header, fields, strict=True))
