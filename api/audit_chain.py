"""The audit log's chain as data: sealing a line, the signed head, and checking segments and live log as one.

Kept apart from `api.audit` (which writes, rotates and snapshots files) so that the check is a plain
function of bytes: the tests and `cdss audit verify` feed it the same lines the writer produced.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from cdss.json_fields import json_fields

GENESIS = "0" * 64
SEAL = re.compile(rb', "line_hmac": "([0-9a-f]{64})"\}\Z')
_HEX = re.compile(r"[0-9a-f]{64}")
_REQUEST_ID = re.compile(r"[0-9a-f]{1,64}")

Problem = tuple[str | None, int | None, str]
"""Where the first problem is (file name, 1-based line in it) and why."""
Segments = Sequence[tuple[int, Iterable[bytes] | None]]
"""Numbered segments, oldest first, each with its lines (None: the head records it, the disk has no such file)."""


@dataclass(frozen=True, slots=True)
class VerifyReport:
    """What `verify_chain` found.

    `lines` counts every line checked (kept segments and live log); `file` is the name, in the log's folder,
    of the file holding the first problem and `first_bad_line` its line there (None when the head is at
    fault or a whole segment is missing); `segments` counts the rotated segments checked; `starts` says
    where the kept chain begins when the keep policy deleted older segments.
    """

    lines: int
    ok: bool
    first_bad_line: int | None = None
    reason: str | None = None
    file: str | None = None
    segments: int = 0
    starts: str | None = None

    def to_dict(self) -> dict:
        return json_fields(self)


@dataclass(frozen=True, slots=True)
class Head:
    """The signed state the writer keeps beside the live log (`<log>.head`).

    `lines` and `last_hmac` are the live log's count and last line; `segment` is the newest rotated segment
    (0: never rotated); `first_segment` the oldest kept and `continues_from` the `prev_hmac` its first line
    must carry (GENESIS until the keep policy deletes a segment). The MAC covers every field, so the record
    of a deletion by policy cannot be made without the key.
    """

    lines: int
    last_hmac: str
    segment: int = 0
    first_segment: int = 1
    continues_from: str = GENESIS

    def to_json(self, chain: bytes) -> dict:
        return {**json_fields(self), "mac": self.mac(chain)}

    def mac(self, chain: bytes, *, legacy: bool = False) -> str:
        text = f"head {self.lines} {self.last_hmac}"
        if not legacy:
            text += f" segments {self.first_segment}..{self.segment} from {self.continues_from}"
        return mac(chain, text.encode())

    def after(self, line: bytes, chain: bytes) -> Head:
        """The head once `line` is appended to the live log."""
        return Head(self.lines + 1, mac(chain, line), self.segment, self.first_segment, self.continues_from)


def chain_key(key: bytes) -> bytes:
    """The key of the chain, derived from the record-id key so it is never the key of the input hashes."""
    return hmac.new(key, b"cdss audit chain", hashlib.sha256).digest()


def mac(key: bytes, data: bytes) -> str:
    return hmac.new(key, data, hashlib.sha256).hexdigest()


def seal(record: dict, chain: bytes) -> bytes:
    """The record as one JSON line ending in its own `line_hmac` (kept last so it can be checked byte for byte)."""
    body = json.dumps(record, sort_keys=True).encode()
    return body[:-1] + b', "line_hmac": "' + mac(chain, b"line " + body).encode() + b'"}'


def sealed(line: bytes, chain: bytes) -> bool:
    """Whether `line` (no newline) ends in a `line_hmac` made with this key over the rest of it."""
    match = SEAL.search(line)
    body = line[: match.start()] + b"}" if match else b""
    return match is not None and hmac.compare_digest(match[1].decode(), mac(chain, b"line " + body))


def valid_head(raw: dict | None, chain: bytes) -> Head | None:
    """The head when it was written with this key, else None (an edited field fails).

    A head from before rotation (no `segment`) is read with the MAC it was written with then.
    """
    if raw is None:
        return None
    legacy = "segment" not in raw
    numbers = ("lines",) if legacy else ("lines", "segment", "first_segment")
    hashes = ("last_hmac",) if legacy else ("last_hmac", "continues_from")
    if (
        any(type(raw.get(field)) is not int or raw[field] < 0 for field in numbers)
        or any(not isinstance(raw.get(field), str) or not _HEX.fullmatch(raw[field]) for field in hashes)
        or not isinstance(raw.get("mac"), str)
    ):
        return None
    head = Head(**{field: raw[field] for field in (*numbers, *hashes)})
    if not 1 <= head.first_segment <= head.segment + 1:
        return None
    return head if hmac.compare_digest(raw["mac"], head.mac(chain, legacy=legacy)) else None


def verify_chain(
    lines: Iterable[bytes],
    *,
    key: bytes,
    head: dict | None,
    segments: Segments = (),
    name: str = "audit.jsonl",
) -> VerifyReport:
    """Check kept segments and then the live log (lines as a binary file yields them, newlines kept) as one chain.

    `key` is the deployment's record-id key; `head` is the parsed head file, None when there is none;
    `name` is the live log's file name (segments are `<name>.<number>`). Reasons quote nothing of a line
    but its request_id.
    """
    chain = chain_key(key)
    known = valid_head(head, chain)
    files = [(f"{name}.{number}", got) for number, got in segments] + [(name, lines)]
    start = known.continues_from if known else GENESIS if not segments or segments[0][0] == 1 else None
    total, live, last, problem = _walk(files, start, chain, known)
    if problem is None:
        problem = _head_problem(head, known, total, live, last, name)
    starts = _starts(known, name)
    if problem is None:
        return VerifyReport(lines=total, ok=True, segments=len(segments), starts=starts)
    file, line, reason = problem
    return VerifyReport(total, False, line, reason, file, len(segments), starts)


def _walk(
    files: list[tuple[str, Iterable[bytes] | None]], expected: str | None, chain: bytes, known: Head | None
) -> tuple[int, int, str | None, Problem | None]:
    """Lines in all files, lines in the last, the last line's hash, and the first problem met."""
    total, count, problem, previous = 0, 0, None, None
    for index, (file, lines) in enumerate(files):
        count, live = 0, index == len(files) - 1
        if lines is None:
            span = f"segments {known.first_segment} to {known.segment}" if known else "it"
            problem = problem or (file, None, f"{file} is missing: the head records {span}")
            previous = file
            continue
        first = _first_line_reason(previous, expected, file, known)
        for count, line in enumerate(lines, 1):
            if problem is None:
                found = _line_problem(count, line, expected, chain, where="" if live else f"{file} ", first=first)
                problem = None if found is None else (file, count, found)
            expected = mac(chain, line.removesuffix(b"\n"))
        total += count
        previous = file
    return total, count, expected, problem


def _first_line_reason(previous: str | None, expected: str | None, file: str, known: Head | None) -> str:
    if previous is not None:
        return (
            f"does not follow the last line of {previous}: lines were removed from its end, "
            "or a segment was removed, replaced or moved"
        )
    if expected == GENESIS or known is None:
        return "does not start the chain: lines were removed from the start of the log"
    return (
        "does not continue from the HMAC the head records for the start of the kept chain: "
        f"{file} was replaced, or lines were removed from its start"
    )


def _line_problem(
    number: int, line: bytes, expected: str | None, chain: bytes, *, where: str, first: str
) -> str | None:
    if not line.endswith(b"\n"):
        return f"{where}line {number} is cut short: the file ends inside it"
    try:
        record = json.loads(line)
    except ValueError:
        record = None
    if not isinstance(record, dict):
        return f"{where}line {number} is not a JSON object"
    request_id = record.get("request_id")
    label = f"{where}line {number}" + (
        f" (request_id {request_id})" if isinstance(request_id, str) and _REQUEST_ID.fullmatch(request_id) else ""
    )
    if not sealed(line[:-1], chain):
        other_key = " (or the record-id key is not the one it was written with)" if number == 1 else ""
        return f"{label} was changed or forged: its line_hmac does not match{other_key}"
    if record.get("prev_hmac") == expected or (expected is None and number == 1):
        return None
    if number == 1:
        return f"{label} {first}"
    return f"{label} does not follow line {number - 1}: lines were removed, moved or repeated before it"


def _head_problem(
    head: dict | None, known: Head | None, total: int, count: int, last_hmac: str | None, name: str
) -> Problem | None:
    head_file = f"{name}.head"
    if head is None:
        missing = "the head file is missing: lines removed from the end would not show"
        return None if total == 0 else (head_file, None, missing)
    if known is None:
        return head_file, None, "the head file was changed or not written with this key"
    recorded = known.lines
    if recorded > count:
        return (
            name,
            count + 1,
            f"{_span(count + 1, recorded)} missing: the head records {recorded} lines, the log has {count}",
        )
    if recorded < count:
        return (
            name,
            recorded + 1,
            (
                f"{_span(recorded + 1, count)} not in the head, which records {recorded}: "
                "an older head was put back, or a write stopped before updating it"
            ),
        )
    if last_hmac is None or not hmac.compare_digest(known.last_hmac, last_hmac):
        return name, count, f"line {count} is not the last line the head records"
    return None


def _starts(known: Head | None, name: str) -> str | None:
    """Where the kept chain begins, when the keep policy has deleted the segments before it."""
    if known is None or known.first_segment == 1:
        return None
    first = known.first_segment
    deleted = "segment 1 was" if first == 2 else f"segments 1 to {first - 1} were"
    where = f"segment {first} ({name}.{first})" if first <= known.segment else f"the live log {name}"
    return f"the kept chain starts at {where}, continuing from an HMAC the head records; {deleted} deleted by policy"


def _span(first: int, last: int) -> str:
    return f"line {first} is" if first == last else f"lines {first} to {last} are"
