"""Curated mapping tables that ship with cdss (our own work, CC0): DDXPlus and chest X-ray labels."""

from __future__ import annotations

import csv
from collections.abc import Iterator, Sequence
from importlib import resources

from cdss.errors import SourceParseError


def mapping_rows(name: str, columns: Sequence[str]) -> Iterator[tuple[int, dict[str, str]]]:
    """(line, row) of a mapping table in this package; the header must be exactly `columns`."""
    text = resources.files(__name__).joinpath(name).read_text(encoding="utf-8")
    reader = csv.reader(text.splitlines(), delimiter="\t", quoting=csv.QUOTE_NONE)
    header = next(reader, None)
    if header != list(columns):
        raise SourceParseError(f"ontologies/mappings/{name}", 1, f"expected the header {'|'.join(columns)}")
    for fields in reader:
        if not fields:
            continue
        if len(fields) != len(columns):
            raise SourceParseError(
                f"ontologies/mappings/{name}", reader.line_num, f"expected {len(columns)} fields, found {len(fields)}"
            )
        yield reader.line_num, dict(zip(columns, fields, strict=True))
