"""The audit log: one JSON line per API call, with no record text and no identifiers in clear.

The input is kept only as a keyed hash (HMAC-SHA-256 with the deployment's
record-id key), so an auditor can tell whether two calls sent the same
input without the log revealing what it was.

The lines form a chain that `verify` (`cdss audit verify`) checks, so that a
line changed, removed, added or moved after it was written is found and named
(`api.audit_chain` holds the check):

- `prev_hmac`: the keyed hash of the previous line's exact bytes (64 zeros for
  the first line ever), so a gap or a reordering shows where it is;
- `line_hmac`, always the last field: the keyed hash of the line up to that
  field, so a changed or forged line is named by its own number;
- `<log>.head`: the number of lines in the live log and the keyed hash of the
  last, so lines removed from the end are found too, and the segments kept.

Their key is derived from the record-id key and differs from the input-hash
key, so a hash of one kind can never stand in for one of the other.

Rotation. When a line would take the live log past `max_bytes`
(`CDSS_AUDIT_MAX_BYTES`), the writer, under the lock it holds for the write,
moves the live log aside as segment `<log>.<n>` (n = 1, 2, ... for ever, the
highest the newest; a segment is never renamed again) and puts in its place a
new live log whose first line is that line, chained from the segment's last.
The chain runs on across files; it never restarts at 64 zeros. The head records
the newest segment. With `keep` (`CDSS_AUDIT_KEEP`) above 0, the oldest segments
beyond that count are deleted: first the head records the first kept segment
and the `prev_hmac` its first line carries, under the chain key, then the files
go. So verification passes after a deletion by policy and says where the kept
chain starts, while a segment deleted by anyone else is named as missing.

Limits, honestly:

- the chain and head are MACs, not signatures: whoever holds the record-id key
  can rewrite everything. Without the key, deleting the whole log, head and
  segments together, or putting back an older head with the files as they were
  then, cannot be told from a log that was never written (copy the head off the
  host to close that);
- segments deleted by policy are gone: only the hash they ended in survives;
- a process killed between replacing the live log and writing the head, or
  between a line and the head, leaves a break that `verify` reports, as a real
  gap would be reported; a segment left by a rotation stopped before its
  replace is the live file itself and is reused by the next rotation;
- rotation needs hard links in the log's folder, and a head that is intact
  and matches the live log; without either the writer logs an error and the
  live log keeps growing rather than hide what happened.
"""

from __future__ import annotations

import fcntl
import hmac
import json
import logging
import os
import re
import tempfile
import threading
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

from api.audit_chain import (
    GENESIS,
    SEAL,
    Head,
    Segments,
    VerifyReport,
    chain_key,
    mac,
    seal,
    sealed,
    valid_head,
    verify_chain,
)
from cdss.errors import ConfigError

__all__ = ["GENESIS", "AuditLog", "VerifyReport", "chain_key", "head_path", "verify_chain"]

log = logging.getLogger(__name__)

_TAIL_BLOCK = 4096
_HEX = re.compile(r"[0-9a-f]{64}")


def head_path(log_path: Path) -> Path:
    """The head file beside a log: `<log>.head`."""
    return log_path.with_name(log_path.name + ".head")


class AuditLog:
    """The audit log at `path`; several threads and several processes (gunicorn workers) may write to it.

    `max_bytes` is the size past which the live log is rotated (0: never); `keep` how many rotated
    segments stay (0: all).
    """

    def __init__(self, path: Path, *, key: bytes, max_bytes: int = 0, keep: int = 0) -> None:
        self.path = path
        self.head_path = head_path(path)
        self.key = key
        self.max_bytes = max_bytes
        self.keep = keep
        self._chain_key = chain_key(key)
        self._lock = threading.Lock()
        self._segment_name = re.compile(re.escape(path.name) + r"\.([1-9][0-9]*)")
        path.parent.mkdir(parents=True, exist_ok=True)
        self._set_aside_unchained()

    def _set_aside_unchained(self) -> None:
        """A log written before the chain existed (no head, last line unsealed) is renamed, kept as it was, so
        the chain starts clean instead of failing every check. Looked at under the writers' lock, so a first
        line being written is never taken for an old log."""
        if self.head_path.exists() or not self.path.is_file():
            return
        try:
            descriptor = self._open_locked(os.O_RDONLY, fcntl.LOCK_EX)
        except FileNotFoundError:
            return
        try:
            last, _ = _last_line(descriptor)
            if self.head_path.exists() or last is None or SEAL.search(last) is not None:
                return
            aside = self.path.with_name(f"{self.path.name}.unchained-{datetime.now(UTC):%Y%m%dT%H%M%S}")
            os.replace(self.path, aside)
            log.warning("audit log %s had no integrity chain; kept as %s, a chained log starts now", self.path, aside)
        finally:
            os.close(descriptor)

    def segment_path(self, number: int) -> Path:
        """Rotated segment `number`: `<log>.<number>`, 1 the first ever rotated."""
        return self.path.with_name(f"{self.path.name}.{number}")

    def segment_numbers(self) -> list[int]:
        """The numbers of the segments on disk, oldest first."""
        found = (self._segment_name.fullmatch(entry.name) for entry in os.scandir(self.path.parent))
        return sorted(int(match[1]) for match in found if match)

    def writable(self) -> bool:
        """Whether a line could be appended now (the file, or its folder while there is no file yet)."""
        target = self.path if self.path.exists() else self.path.parent
        return os.access(target, os.W_OK) and os.access(self.path.parent, os.W_OK)

    def input_hash(self, body: bytes) -> str | None:
        return mac(self.key, body) if body else None

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
        with self._lock:
            descriptor = self._open_locked(os.O_RDWR | os.O_APPEND | os.O_CREAT, fcntl.LOCK_EX)
            try:
                self._append(descriptor, record)
            finally:
                os.close(descriptor)

    def verify(self) -> VerifyReport:
        """Check the kept segments, the live log and the head as they stood at one moment, without holding
        writers up while reading."""
        try:
            while True:
                with ExitStack() as files:
                    snapshot = self._snapshot(files)
                    if snapshot is not None:
                        lines, head, segments = snapshot
                        return verify_chain(lines, key=self.key, head=head, segments=segments, name=self.path.name)
        except OSError as exc:
            raise ConfigError(f"cannot read the audit log {exc.filename or self.path}: {exc.strerror}") from None

    def _open_locked(self, flags: int, operation: int) -> int:
        """The live log, opened per call (so each worker's lock is its own: a descriptor inherited over fork
        would share it) and locked; opened again when a rotation replaced it while this waited for the lock."""
        while True:
            descriptor = os.open(self.path, flags, 0o600)
            try:
                fcntl.flock(descriptor, operation)
                opened = os.fstat(descriptor)
                try:
                    current = os.stat(self.path)
                except FileNotFoundError:
                    current = None
            except BaseException:
                os.close(descriptor)
                raise
            if current is not None and (opened.st_dev, opened.st_ino) == (current.st_dev, current.st_ino):
                return descriptor
            os.close(descriptor)

    def _snapshot(self, files: ExitStack) -> tuple[Iterator[bytes], dict | None, Segments] | None:
        """The live log's lines, the head and the kept segments (opened, so a rotation deleting one after
        this returns cannot change what is checked), all taken under the lock; None when the first write
        created the live log meanwhile (nothing to lock before it: once made, the path never goes away)."""
        try:
            handle = files.enter_context(os.fdopen(self._open_locked(os.O_RDONLY, fcntl.LOCK_SH), "rb"))
        except FileNotFoundError:
            handle = None
        head = _read_head(self.head_path)
        known = valid_head(head, self._chain_key)
        numbers = range(known.first_segment, known.segment + 1) if known else self.segment_numbers()
        segments = [(number, _open_if_there(self.segment_path(number), files)) for number in numbers]
        if handle is None:
            return None if self.path.exists() else (iter(()), head, segments)
        size = os.fstat(handle.fileno()).st_size
        fcntl.flock(handle, fcntl.LOCK_UN)
        return _lines_within(handle, size), head, segments

    def _append(self, descriptor: int, record: dict) -> None:
        """Chain `record` onto the last line, rotating first when it would overfill the live log; the head
        moves on only when it still matches that line."""
        last, whole = _last_line(descriptor)
        record["prev_hmac"] = GENESIS if last is None else mac(self._chain_key, last)
        line = seal(record, self._chain_key)
        raw = _read_head(self.head_path)
        head = valid_head(raw, self._chain_key)
        follows = head is not None and hmac.compare_digest(head.last_hmac, record["prev_hmac"])
        if follows and whole and self._full(descriptor, len(line) + 1) and self._rotate(line, head):
            return
        _write_all(descriptor, (b"" if whole else b"\n") + line + b"\n")
        if raw is None and last is None and not self.segment_numbers():
            self._write_head(Head(1, mac(self._chain_key, line)))
        elif follows:
            self._write_head(head.after(line, self._chain_key))
        else:
            # Rewriting the head here would hide what happened; it stays as found for `cdss audit verify`.
            log.error("audit log head %s does not match %s; run `cdss audit verify`", self.head_path, self.path)

    def _full(self, descriptor: int, adding: int) -> bool:
        size = os.fstat(descriptor).st_size
        return self.max_bytes > 0 and size > 0 and size + adding > self.max_bytes

    def _rotate(self, line: bytes, head: Head) -> bool:
        """Move the live log aside as the next segment and put a new one holding `line` in its place.

        The new file is locked before it takes the live log's name, and the old name is linked before it is
        replaced, so the path always names a log and no writer can slip a line in between; writers queued on
        the old file find it replaced once they hold its lock and open the new one.
        """
        number = head.segment + 1
        descriptor, staged = tempfile.mkstemp(dir=self.path.parent, prefix=f".{self.path.name}.", suffix=".tmp")
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX)
            _write_all(descriptor, line + b"\n")
            moved = self._link_segment(self.segment_path(number))
            if moved:
                os.replace(staged, self.path)
        except BaseException:
            os.close(descriptor)
            Path(staged).unlink(missing_ok=True)
            raise
        try:
            if not moved:
                Path(staged).unlink(missing_ok=True)
                return False
            first, continues = self._kept_from(number, head)
            self._write_head(Head(1, mac(self._chain_key, line), number, first, continues))
            for old in self.segment_numbers():
                if old < first:
                    self.segment_path(old).unlink(missing_ok=True)
            return True
        finally:
            os.close(descriptor)

    def _link_segment(self, segment: Path) -> bool:
        """Give the live log its segment name too; False (logged) when it cannot be done."""
        try:
            os.link(self.path, segment)
        except FileExistsError:
            if segment.samefile(self.path):
                return True  # Left by a rotation that stopped before its replace: it is this very file.
            log.error("audit segment %s already exists; %s is not rotated", segment, self.path)
            return False
        except OSError as exc:
            log.error("cannot rotate the audit log %s to %s (%s); it keeps growing", self.path, segment, exc.strerror)
            return False
        return True

    def _kept_from(self, newest: int, head: Head) -> tuple[int, str]:
        """The first segment to keep and the `prev_hmac` its first line carries (from that line, once sealed)."""
        first = newest - self.keep + 1
        if self.keep == 0 or first <= head.first_segment:
            return head.first_segment, head.continues_from
        opening = _first_line(self.segment_path(first))
        prev = json.loads(opening).get("prev_hmac") if opening and sealed(opening, self._chain_key) else None
        if not isinstance(prev, str) or not _HEX.fullmatch(prev):
            log.error(
                "audit segment %s does not start with a sealed line; older ones are kept", self.segment_path(first)
            )
            return head.first_segment, head.continues_from
        return first, prev

    def _write_head(self, head: Head) -> None:
        """Replace the head in one step (a reader sees the old head or the new, never half of one)."""
        descriptor, staged = tempfile.mkstemp(dir=self.path.parent, prefix=f".{self.head_path.name}.", suffix=".tmp")
        try:
            with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
                json.dump(head.to_json(self._chain_key), handle)
            os.replace(staged, self.head_path)
        except BaseException:
            Path(staged).unlink(missing_ok=True)
            raise


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


def _open_if_there(path: Path, files: ExitStack) -> BinaryIO | None:
    try:
        return files.enter_context(path.open("rb"))
    except FileNotFoundError:
        return None


def _first_line(path: Path) -> bytes | None:
    """A segment's first line without its newline, None when the file is gone or empty."""
    try:
        with path.open("rb") as handle:
            return handle.readline().removesuffix(b"\n") or None
    except FileNotFoundError:
        return None
