"""The audit log: one JSON line per API call, with no record text and no identifiers in clear.

The input is kept only as a keyed hash (HMAC-SHA-256 with the deployment's
record-id key), so an auditor can tell whether two calls sent the same
input without the log revealing what it was.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from datetime import UTC, datetime
from pathlib import Path


class AuditLog:
    def __init__(self, path: Path, *, key: bytes) -> None:
        self.path = path
        self.key = key
        self._lock = threading.Lock()
        path.parent.mkdir(parents=True, exist_ok=True)

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
        line = {
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
        with self._lock, self.path.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(line, sort_keys=True) + "\n")
