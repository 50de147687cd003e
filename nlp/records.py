"""Reading patient records for ingestion: JSONL, CSV, or a folder of .txt files.

Errors name the file and line or row, never the text: record text must not
reach a log or a terminal.
"""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from cdss.errors import InputError


@dataclass(frozen=True, slots=True)
class RecordInput:
    id: str
    text: str


def decode_utf8(data: bytes, where: str) -> str:
    """Bytes read from a file as UTF-8 text; an error that names the place otherwise."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"{where}: not UTF-8 text (byte {exc.start})") from None


def read_jsonl(path: Path, *, id_field: str = "id", text_field: str = "text") -> Iterator[RecordInput]:
    with path.open("rb") as handle:
        for lineno, raw in enumerate(handle, start=1):
            line = decode_utf8(raw, f"{path}:{lineno}").strip()
            if not line:
                continue
            try:
                item = json.loads(line)
            except json.JSONDecodeError as exc:
                raise InputError(f"{path}:{lineno}: not a JSON object ({exc.msg})") from None
            if not isinstance(item, dict):
                raise InputError(f"{path}:{lineno}: expected a JSON object")
            yield _record(item.get(id_field), item.get(text_field), f"{path}:{lineno}", id_field, text_field)


def read_csv(path: Path, *, id_field: str = "id", text_field: str = "text") -> Iterator[RecordInput]:
    csv.field_size_limit(min(sys.maxsize, 2**31 - 1))
    text = decode_utf8(path.read_bytes(), str(path))
    reader = csv.DictReader(text.splitlines(keepends=True))
    missing = [c for c in (id_field, text_field) if c not in (reader.fieldnames or [])]
    if missing:
        raise InputError(
            f"{path}: no column {', '.join(map(repr, missing))}; columns are {', '.join(reader.fieldnames or [])} "
            "(choose others with --id-column / --text-column)"
        )
    for row in reader:
        yield _record(row.get(id_field), row.get(text_field), f"{path}:{reader.line_num}", id_field, text_field)


def read_folder(path: Path) -> Iterator[RecordInput]:
    for file in sorted(path.glob("*.txt")):
        yield RecordInput(file.stem, decode_utf8(file.read_bytes(), str(file)))


def _record(record_id: object, text: object, where: str, id_field: str, text_field: str) -> RecordInput:
    if record_id is None or str(record_id).strip() == "":
        raise InputError(f"{where}: no {id_field!r}")
    if not isinstance(text, str):
        raise InputError(f"{where}: {text_field!r} is missing or not a string")
    return RecordInput(str(record_id).strip(), text)


def read_records(path: Path, *, id_field: str = "id", text_field: str = "text") -> Iterator[RecordInput]:
    """Records from `path`, chosen by its kind: a folder, a .jsonl file, or a .csv file."""
    if path.is_dir():
        return read_folder(path)
    if not path.is_file():
        raise InputError(f"{path}: no such file or folder")
    if path.suffix.lower() in {".jsonl", ".ndjson"}:
        return read_jsonl(path, id_field=id_field, text_field=text_field)
    if path.suffix.lower() == ".csv":
        return read_csv(path, id_field=id_field, text_field=text_field)
    raise InputError(f"{path}: expected a folder of .txt files, a .jsonl file or a .csv file")
