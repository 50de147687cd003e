"""The answers clinicians can give feedback on, and their feedback. All of this database's SQL is here.

An answer is kept by its request id with the versions that produced it, the ids it returned and
the case it ranked (finding ids and probabilities, age, sex, setting), the case sealed with the
data key. Feedback rows are keyed by a hash of what they say, so sending the same feedback twice
stores it once. A free-text reason is de-identified and then sealed.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from cdss.errors import InputError, NotFoundError
from cdss.sealing import DataKeyring, seal, unseal
from cdss.sqlite_files import open_database
from deid import deidentify

DIAGNOSIS_VERDICTS = ("confirmed", "rejected", "final_diagnosis")
TREATMENT_VERDICTS = ("treatment_given", "treatment_declined")
LABEL_VERDICTS = ("confirmed", "final_diagnosis")
"""Verdicts that name a disease the patient has: what learning learns from."""
OPEN_VERDICTS = ("final_diagnosis", "treatment_given")
"""Verdicts that may name something the answer did not list."""
MAX_REASON_CHARS = 2000

_SCHEMA = """
CREATE TABLE IF NOT EXISTS answers (
    request_id  TEXT PRIMARY KEY,
    key_id      TEXT,
    created     TEXT NOT NULL,
    versions    TEXT NOT NULL,
    diagnoses   TEXT NOT NULL,
    treatments  TEXT NOT NULL,
    case_sealed TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS feedback (
    id          TEXT PRIMARY KEY,
    request_id  TEXT,
    record_node TEXT,
    key_id      TEXT,
    target      TEXT NOT NULL,
    target_kind TEXT NOT NULL CHECK (target_kind IN ('diagnosis', 'treatment')),
    verdict     TEXT NOT NULL,
    reason      TEXT,
    versions    TEXT NOT NULL,
    created     TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS feedback_by_request ON feedback (request_id);
"""
_INSERT_ANSWER = """
INSERT OR IGNORE INTO answers (request_id, key_id, created, versions, diagnoses, treatments, case_sealed)
VALUES (?, ?, ?, ?, ?, ?, ?)
"""
_ANSWER = (
    "SELECT request_id, key_id, created, versions, diagnoses, treatments, case_sealed FROM answers WHERE request_id = ?"
)
_INSERT_FEEDBACK = """
INSERT OR IGNORE INTO feedback
    (id, request_id, record_node, key_id, target, target_kind, verdict, reason, versions, created)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
"""
_FEEDBACK_COLUMNS = "id, request_id, record_node, key_id, target, target_kind, verdict, reason, versions, created"
_ALL_FEEDBACK = f"SELECT {_FEEDBACK_COLUMNS} FROM feedback ORDER BY created, id"
_COUNT_ANSWERS = "SELECT COUNT(*) FROM answers"
_PURGE_ANSWERS = """
DELETE FROM answers WHERE created < ?
AND request_id NOT IN (SELECT request_id FROM feedback WHERE request_id IS NOT NULL)
"""


@dataclass(frozen=True, slots=True)
class StoredAnswer:
    request_id: str
    key_id: str | None
    created: str
    versions: dict
    diagnoses: list[str]
    treatments: list[str]
    case: dict
    """{"observations": [{"finding", "probability"}], "age", "sex", "setting"}."""


@dataclass(frozen=True, slots=True)
class FeedbackItem:
    target: str
    target_kind: str
    verdict: str
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class FeedbackRow:
    id: str
    request_id: str | None
    record_node: str | None
    key_id: str | None
    target: str
    target_kind: str
    verdict: str
    reason: str | None
    versions: dict
    created: str

    def to_dict(self) -> dict:
        return {k: getattr(self, k) for k in self.__slots__}


def check_item(item: FeedbackItem, where: str) -> None:
    verdicts = DIAGNOSIS_VERDICTS if item.target_kind == "diagnosis" else TREATMENT_VERDICTS
    if item.verdict not in verdicts:
        raise InputError(
            f"{where}: verdict {item.verdict!r} does not apply to a {item.target_kind}; "
            f"use one of {', '.join(verdicts)}"
        )
    if item.reason is not None and len(item.reason) > MAX_REASON_CHARS:
        raise InputError(f"{where}: the reason has {len(item.reason)} characters; at most {MAX_REASON_CHARS}")


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def feedback_id(subject: str, item: FeedbackItem) -> str:
    """The same feedback on the same answer or record gets the same id, so a resend is a no-op."""
    content = "\x00".join((subject, item.target_kind, item.target, item.verdict, item.reason or ""))
    return hashlib.sha256(content.encode()).hexdigest()[:32]


class FeedbackStore:
    def __init__(self, path: Path, *, keyring: DataKeyring) -> None:
        self.path = path
        self.keyring = keyring
        self._lock = threading.Lock()
        self._conn = open_database(path, schema=_SCHEMA, what="the feedback database")

    # -- answers ----------------------------------------------------------------------------------------------
    def record_answer(self, *, request_id: str, key_id: str | None, result: dict, case: dict) -> None:
        """Keep what an answer returned and the case behind it, so feedback on it can be learned from."""
        row = (
            request_id,
            key_id,
            _now(),
            json.dumps(result.get("versions", {}), sort_keys=True),
            json.dumps([d["id"] for d in result.get("diagnoses", [])]),
            json.dumps([t["drug"] for t in result.get("treatments", [])]),
            seal(json.dumps(case, sort_keys=True), keyring=self.keyring, aad=f"answer:{request_id}"),
        )
        with self._lock:
            self._conn.execute(_INSERT_ANSWER, row)

    def answer(self, request_id: str) -> StoredAnswer:
        with self._lock:
            row = self._conn.execute(_ANSWER, (request_id,)).fetchone()
        if row is None:
            raise NotFoundError(
                f"no answer with request id {request_id!r}: feedback refers to a recommendation's X-Request-ID"
            )
        case = json.loads(unseal(row[6], keyring=self.keyring, aad=f"answer:{request_id}"))
        return StoredAnswer(row[0], row[1], row[2], json.loads(row[3]), json.loads(row[4]), json.loads(row[5]), case)

    def purge_answers(self, *, before: str) -> int:
        """Forget answers kept before `before` (ISO time) that got no feedback; how many were forgotten."""
        with self._lock:
            return self._conn.execute(_PURGE_ANSWERS, (before,)).rowcount

    # -- feedback ---------------------------------------------------------------------------------------------
    def add(
        self,
        items: list[FeedbackItem],
        *,
        key_id: str | None,
        versions: dict,
        request_id: str | None = None,
        record_node: str | None = None,
    ) -> list[tuple[str, bool]]:
        """Store feedback on one answer or one record; (id, newly stored) per item, in order."""
        subject = f"answer:{request_id}" if request_id else f"record:{record_node}"
        out, now = [], _now()
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                for item in items:
                    row_id = feedback_id(subject, item)
                    reason = None
                    if item.reason:
                        reason = seal(
                            deidentify(item.reason, mode="tags").text, keyring=self.keyring, aad=f"feedback:{row_id}"
                        )
                    cursor = self._conn.execute(
                        _INSERT_FEEDBACK,
                        (
                            row_id,
                            request_id,
                            record_node,
                            key_id,
                            item.target,
                            item.target_kind,
                            item.verdict,
                            reason,
                            json.dumps(versions, sort_keys=True),
                            now,
                        ),
                    )
                    out.append((row_id, cursor.rowcount == 1))
                self._conn.execute("COMMIT")
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
        return out

    def rows(self, *, reasons: bool = True) -> Iterator[FeedbackRow]:
        """Every feedback row; without `reasons`, the sealed reasons stay sealed (their `reason` is None)."""
        with self._lock:
            found = self._conn.execute(_ALL_FEEDBACK).fetchall()
        for r in found:
            reason = unseal(r[7], keyring=self.keyring, aad=f"feedback:{r[0]}") if r[7] and reasons else None
            yield FeedbackRow(r[0], r[1], r[2], r[3], r[4], r[5], r[6], reason, json.loads(r[8]), r[9])

    def stats(self) -> dict:
        """Counts only: no reason is unsealed to make them."""
        rows = list(self.rows(reasons=False))
        with self._lock:
            answers = self._conn.execute(_COUNT_ANSWERS).fetchone()[0]
        per_answer = {r.request_id for r in rows if r.request_id}
        return {
            "answers_kept": answers,
            "feedback": len(rows),
            "answers_with_feedback": len(per_answer),
            "records_with_feedback": len({r.record_node for r in rows if r.record_node}),
            "by_verdict": dict(sorted(Counter(r.verdict for r in rows).items())),
            "by_key": dict(sorted(Counter(r.key_id or "(none)" for r in rows).items())),
            "by_learned_version": dict(sorted(Counter(str(r.versions.get("learned")) for r in rows).items())),
        }

    def close(self) -> None:
        self._conn.close()
