"""The audit log: one JSON line per API call, with no record text and no identifiers in clear.

The input is kept only as a keyed hash (HMAC-SHA-256 with the deployment's
record-id key), so an auditor can tell whether two calls sent the same
input without the log revealing what it was.

The lines form a chain that `verify` (`cdss audit verify`) checks, so that a
line changed, removed, added or moved after it was written is found and named:

- `prev_hmac`: the keyed hash of the previous line's exact bytes (64 zeros for
  the first line), so a gap or a reordering shows where it is;
- `line_hmac`, always the last field: the keyed hash of the line up to that
  field, so a changed or forged line is named by its own number;
- `<log>.head`: the number of lines and the keyed hash of the last, so lines
  removed from the end are found too.

Their key is derived from the record-id key and differs from the input-hash
key, so a hash of one kind can never stand in for one of the other.
"""

from __future__ import annotations

import fcntl
import hashlib
import hmac
import json
import logging
import os
import re
import tempfile
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

from cdss.errors import ConfigError
from cdss.json_fields import json_fields

log = logging.getLogger(__name__)

GENESIS = "0" * 64
_SEAL = re.compile(rb', "line_hmac": "([0-9a-f]{64})"\}\Z')
_REQUEST_ID = re.compile(r"[0-9a-f]{1,64}")
_TAIL_BLOCK = 4096

Problem = tuple[int | None, str]


@dataclass(frozen=True, slots=True)
class VerifyReport:
    """What `verify_chain` found: `first_bad_line` (1-based) is None when the log is intact or the head is at fault."""

    lines: int
    ok: bool
    first_bad_line: int | None = None
    reason: str | None = None

    def to_dict(self) -> dict:
        return json_fields(self)


def chain_key(key: bytes) -> bytes:
    """The key of the chain, derived from the record-id key so it is never the key of the input hashes."""
    return hmac.new(key, b"cdss audit chain", hashlib.sha256).digest()


def head_path(log_path: Path) -> Path:
    """The head file beside a log: `<log>.head`."""
    return log_path.with_name(log_path.name + ".head")


def verify_chain(lines: Iterable[bytes], *, key: bytes, head: dict | None) -> VerifyReport:
    """Check a log's lines (as a binary file yields them, newlines kept) against each other and the head.

    `key` is the deployment's record-id key; `head` is the parsed head file, None when there is none.
    Reasons quote nothing of a line but its request_id.
    """
    chain = chain_key(key)
    expected, count, problem = GENESIS, 0, None
    for count, line in enumerate(lines, 1):
        if problem is None:
            problem = _line_problem(count, line, expected, chain)
            expected = _mac(chain, line.removesuffix(b"\n"))
    if problem is None:
        problem = _head_problem(head, count, expected, chain)
    if problem is None:
        return VerifyReport(lines=count, ok=True)
    return VerifyReport(lines=count, ok=False, first_bad_line=problem[0], reason=problem[1])


class AuditLog:
    """The audit log at `path`; several threads and several processes (gunicorn workers) may write to it."""

    def __init__(self, path: Path, *, key: bytes) -> None:
        self.path = path
        self.head_path = head_path(path)
        self.key = key
        self._chain_key = chain_key(key)
        self._lock = threading.Lock()
        path.parent.mkdir(parents=True, exist_ok=True)
        self._set_aside_unchained()

    def _set_aside_unchained(self) -> None:
        """A log written before the chain existed (no head, last line unsealed) is renamed, kept as it was, so
        the chain starts clean instead of failing every check."""
        if self.head_path.exists() or not self.path.is_file() or self.path.stat().st_size == 0:
            return
        descriptor = os.open(self.path, os.O_RDONLY)
        try:
            last, _ = _last_line(descriptor)
        finally:
            os.close(descriptor)
        if last is not None and _SEAL.search(last) is None:
            aside = self.path.with_name(f"{self.path.name}.unchained-{datetime.now(UTC):%Y%m%dT%H%M%S}")
            os.replace(self.path, aside)
            log.warning("audit log %s had no integrity chain; kept as %s, a chained log starts now", self.path, aside)

    def writable(self) -> bool:
        """Whether a line could be appended now (the file, or its folder while there is no file yet)."""
        target = self.path if self.path.exists() else self.path.parent
        return os.access(target, os.W_OK) and os.access(self.path.parent, os.W_OK)

    def input_hash(self, body: bytes) -> str | None:
        return hmac.new(self.key, body, hashlib.sha256).hexdigest() if body else None

    def write(
        self,
        *,
        key_id: str | None,
        endpoint: str,
        method: str,
        status: int,
        body: bytes,
        versions: dict | None,
        returned_ids: list[str],
        request_id: str,
    ) -> None:
        record = {
            "time": datetime.now(UTC).isoformat(timespec="milliseconds"),
            "request_id": request_id,
            "key_id": key_id,
            "method": method,
            "endpoint": endpoint,
            "status": status,
            "input_hmac_sha256": self.input_hash(body),
            "versions": versions or {},
            "returned_ids": returned_ids,
        }
        # Opened per write, so each worker's lock is its own (a descriptor inherited over fork would share it).
        with self._lock:
            descriptor = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX)
                self._append(descriptor, record)
            finally:
                os.close(descriptor)

    def verify(self) -> VerifyReport:
        """Check the log against its head as both stood at one moment, without holding writers up while reading."""
        try:
            with self.path.open("rb") as handle:
                fcntl.flock(handle, fcntl.LOCK_SH)
                size, head = os.fstat(handle.fileno()).st_size, _read_head(self.head_path)
                fcntl.flock(handle, fcntl.LOCK_UN)
                return verify_chain(_lines_within(handle, size), key=self.key, head=head)
        except FileNotFoundError:
            return verify_chain((), key=self.key, head=_read_head(self.head_path))
        except OSError as exc:
            raise ConfigError(f"cannot read the audit log {self.path}: {exc.strerror}") from None

    def _append(self, descriptor: int, record: dict) -> None:
        """Chain `record` onto the last line; the head moves on only when it still matches that line."""
        last, whole = _last_line(descriptor)
        record["prev_hmac"] = GENESIS if last is None else _mac(self._chain_key, last)
        line = _seal(record, self._chain_key)
        _write_all(descriptor, (b"" if whole else b"\n") + line + b"\n")
        head = _read_head(self.head_path)
        if head is None and last is None:
            self._write_head(1, _mac(self._chain_key, line))
        elif _valid_head(head, self._chain_key) and hmac.compare_digest(head["last_hmac"], record["prev_hmac"]):
            self._write_head(head["lines"] + 1, _mac(self._chain_key, line))
        else:
            # Rewriting the head here would hide what happened; it stays as found for `cdss audit verify`.
            log.error("audit log head %s does not match %s; run `cdss audit verify`", self.head_path, self.path)

    def _write_head(self, lines: int, last_hmac: str) -> None:
        """Replace the head in one step (a reader sees the old head or the new, never half of one)."""
        head = {"lines": lines, "last_hmac": last_hmac, "mac": _head_mac(self._chain_key, lines, last_hmac)}
        descriptor, staged = tempfile.mkstemp(dir=self.path.parent, prefix=f".{self.head_path.name}.", suffix=".tmp")
        try:
            with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
                json.dump(head, handle)
            os.replace(staged, self.head_path)
        except BaseException:
            Path(staged).unlink(missing_ok=True)
            raise


def _mac(key: bytes, data: bytes) -> str:
    return hmac.new(key, data, hashlib.sha256).hexdigest()


def _seal(record: dict, key: bytes) -> bytes:
    """The record as one JSON line ending in its own `line_hmac` (kept last so it can be checked byte for byte)."""
    body = json.dumps(record, sort_keys=True).encode()
    return body[:-1] + b', "line_hmac": "' + _mac(key, b"line " + body).encode() + b'"}'


def _sealed(line: bytes, key: bytes) -> bool:
    match = _SEAL.search(line)
    body = line[: match.start()] + b"}" if match else b""
    return match is not None and hmac.compare_digest(match[1].decode(), _mac(key, b"line " + body))


def _head_mac(key: bytes, lines: int, last_hmac: str) -> str:
    return _mac(key, f"head {lines} {last_hmac}".encode())


def _valid_head(head: dict | None, key: bytes) -> bool:
    """Whether the head was written with this key (an edited count or hash fails)."""
    if head is None or type(head.get("lines")) is not int or not isinstance(head.get("last_hmac"), str):
        return False
    mac = head.get("mac")
    return isinstance(mac, str) and hmac.compare_digest(mac, _head_mac(key, head["lines"], head["last_hmac"]))


def _line_problem(number: int, line: bytes, expected: str, key: bytes) -> Problem | None:
    if not line.endswith(b"\n"):
        return number, f"line {number} is cut short: the file ends inside it"
    try:
        record = json.loads(line)
    except ValueError:
        record = None
    if not isinstance(record, dict):
        return number, f"line {number} is not a JSON object"
    request_id = record.get("request_id")
    label = f"line {number}" + (
        f" (request_id {request_id})" if isinstance(request_id, str) and _REQUEST_ID.fullmatch(request_id) else ""
    )
    if not _sealed(line[:-1], key):
        other_key = " (or the record-id key is not the one it was written with)" if number == 1 else ""
        return number, f"{label} was changed or forged: its line_hmac does not match{other_key}"
    if record.get("prev_hmac") == expected:
        return None
    if number == 1:
        return 1, f"{label} does not start the chain: lines were removed from the start of the log"
    return number, f"{label} does not follow line {number - 1}: lines were removed, moved or repeated before it"


def _head_problem(head: dict | None, count: int, last_hmac: str, key: bytes) -> Problem | None:
    if head is None:
        return None if count == 0 else (None, "the head file is missing: lines removed from the end would not show")
    if not _valid_head(head, key):
        return None, "the head file was changed or not written with this key"
    recorded = head["lines"]
    if recorded > count:
        return (
            count + 1,
            f"{_span(count + 1, recorded)} missing: the head records {recorded} lines, the log has {count}",
        )
    if recorded < count:
        return recorded + 1, (
            f"{_span(recorded + 1, count)} not in the head, which records {recorded}: "
            "an older head was put back, or a write stopped before updating it"
        )
    if not hmac.compare_digest(head["last_hmac"], last_hmac):
        return count, f"line {count} is not the last line the head records"
    return None


def _span(first: int, last: int) -> str:
    return f"line {first} is" if first == last else f"lines {first} to {last} are"


def _last_line(descriptor: int) -> tuple[bytes | None, bool]:
    """The file's last line without its newline (None when empty), and whether the file ends in a newline.

    Reads back from the end a block at a time, so a long log costs no more than a short one.
    """
    position = os.fstat(descriptor).st_size
    tail = b""
    while position > 0 and b"\n" not in tail[:-1]:
        step = min(_TAIL_BLOCK, position)
        position -= step
        tail = os.pread(descriptor, step, position) + tail
    if not tail:
        return None, True
    whole = tail.endswith(b"\n")
    return (tail[:-1] if whole else tail).rsplit(b"\n", 1)[-1], whole


def _write_all(descriptor: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(descriptor, view) :]


def _read_head(path: Path) -> dict | None:
    """The parsed head, None when there is none; {} when it is not a JSON object, so that it fails the check."""
    try:
        value = json.loads(path.read_bytes())
    except FileNotFoundError:
        return None
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _lines_within(handle: BinaryIO, size: int) -> Iterator[bytes]:
    """The lines of the file's first `size` bytes: those written when the head was read."""
    for line in handle:
        if size <= 0:
            return
        yield line[:size]
        size -= len(line)
