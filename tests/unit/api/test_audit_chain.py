"""The audit log's chain: intact logs verify, and each kind of tampering is found at the line it touched."""

from __future__ import annotations

import json
import multiprocessing
import stat
from collections.abc import Callable
from multiprocessing.synchronize import Barrier
from pathlib import Path

import pytest
from click.testing import CliRunner

from api import create_app
from api.audit import GENESIS, AuditLog, VerifyReport, verify_chain
from cdss.record_ids import record_id_key
from cdss.settings import load_settings
from cli import cli

KEY = b"k" * 40


def write_calls(log: AuditLog, count: int, *, first: int = 0) -> None:
    for number in range(first, first + count):
        log.write(
            key_id="abc123",
            endpoint="/v1/recommendations",
            method="POST",
            status=200,
            body=b'{"text": "fever"}',
            versions={"graph": "g1"},
            returned_ids=["DOID:1"],
            request_id=f"{number:032x}",
        )


def tamper(log: AuditLog, change: Callable[[list[bytes]], list[bytes]]) -> None:
    """Rewrite the log's lines (newlines kept) as someone without the key could."""
    log.path.write_bytes(b"".join(change(log.path.read_bytes().splitlines(keepends=True))))


@pytest.fixture
def log(tmp_path: Path) -> AuditLog:
    audit = AuditLog(tmp_path / "audit.jsonl", key=KEY)
    write_calls(audit, 5)
    return audit


def test_a_chain_of_writes_verifies(log):
    assert log.verify() == VerifyReport(lines=5, ok=True)
    lines = [json.loads(line) for line in log.path.read_text().splitlines()]
    assert lines[0]["prev_hmac"] == GENESIS
    assert all(line["prev_hmac"] != GENESIS for line in lines[1:])
    assert json.loads(log.head_path.read_text())["lines"] == 5
    assert verify_chain([], key=KEY, head=None) == VerifyReport(lines=0, ok=True)


def test_an_edited_line_is_named(log):
    tamper(log, lambda lines: [*lines[:2], lines[2].replace(b'"status": 200', b'"status": 500'), *lines[3:]])
    report = log.verify()
    assert (report.ok, report.first_bad_line, report.lines) == (False, 3, 5)
    assert report.reason.startswith(f"line 3 (request_id {2:032x}) was changed or forged")
    assert "/v1/recommendations" not in report.reason and "DOID" not in report.reason


@pytest.mark.parametrize(
    ("deleted", "bad_line", "reason"),
    [
        (2, 3, f"line 3 (request_id {3:032x}) does not follow line 2: lines were removed"),
        (0, 1, f"line 1 (request_id {1:032x}) does not start the chain: lines were removed from the start"),
        (4, 5, "line 5 is missing: the head records 5 lines, the log has 4"),
    ],
    ids=["middle", "first", "last"],
)
def test_a_deleted_line_is_found_where_it_was(log, deleted, bad_line, reason):
    tamper(log, lambda lines: lines[:deleted] + lines[deleted + 1 :])
    report = log.verify()
    assert (report.ok, report.first_bad_line, report.lines) == (False, bad_line, 4)
    assert report.reason.startswith(reason)


def test_a_forged_line_appended_without_the_key_is_named(log):
    head = json.loads(log.head_path.read_text())
    last = json.loads(log.path.read_text().splitlines()[-1])
    forged = {**last, "request_id": "f" * 32, "prev_hmac": head["last_hmac"], "line_hmac": "0" * 64}
    tamper(log, lambda lines: [*lines, json.dumps(forged).encode() + b"\n"])
    report = log.verify()
    assert (report.ok, report.first_bad_line) == (False, 6)
    assert report.reason.startswith(f"line 6 (request_id {'f' * 32}) was changed or forged")


def test_a_repeated_line_is_found_after_the_original(log):
    tamper(log, lambda lines: [*lines[:2], lines[1], *lines[2:]])
    report = log.verify()
    assert (report.ok, report.first_bad_line) == (False, 3)
    assert "does not follow line 2" in report.reason


def test_a_line_that_is_not_json_is_named(log):
    tamper(log, lambda lines: [lines[0], b"not json\n", *lines[2:]])
    assert log.verify() == VerifyReport(
        lines=5, ok=False, first_bad_line=2, reason="line 2 is not a JSON object", file="audit.jsonl"
    )


def test_a_cut_file_is_named(log):
    tamper(log, lambda lines: [*lines[:-1], lines[-1][:40]])
    report = log.verify()
    assert (report.first_bad_line, report.reason) == (5, "line 5 is cut short: the file ends inside it")


def test_a_head_that_disagrees_is_reported(log):
    head = json.loads(log.head_path.read_text())
    log.head_path.write_text(json.dumps({**head, "lines": 4}))
    assert log.verify().reason == "the head file was changed or not written with this key"
    log.head_path.unlink()
    assert log.verify().reason.startswith("the head file is missing")


def test_a_wrong_key_fails_at_the_first_line(log):
    report = AuditLog(log.path, key=b"x" * 40).verify()
    assert report.first_bad_line == 1 and "record-id key" in report.reason


def test_writes_after_tampering_leave_the_evidence(log):
    tamper(log, lambda lines: lines[:-1])
    write_calls(log, 2, first=5)
    report = log.verify()
    assert not report.ok and report.lines == 6


def _write_from_another_process(path: Path, first: int, start: Barrier) -> None:
    start.wait()
    write_calls(AuditLog(path, key=KEY), 50, first=first)


def test_two_processes_writing_at_once_keep_one_chain(tmp_path):
    context = multiprocessing.get_context("spawn")
    start = context.Barrier(2)
    path = tmp_path / "audit.jsonl"
    workers = [context.Process(target=_write_from_another_process, args=(path, n * 50, start)) for n in (0, 1)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
    assert [worker.exitcode for worker in workers] == [0, 0]
    assert AuditLog(path, key=KEY).verify() == VerifyReport(lines=100, ok=True)
    assert len({json.loads(line)["request_id"] for line in path.read_text().splitlines()}) == 100


def test_the_log_and_its_head_are_readable_by_their_owner_only(log):
    assert stat.S_IMODE(log.path.stat().st_mode) == 0o600
    assert stat.S_IMODE(log.head_path.stat().st_mode) == 0o600


def test_the_apps_own_writes_verify(tmp_path):
    env = {"CDSS_DATA_DIR": str(tmp_path), "CDSS_STORE": str(tmp_path / "nothing.sqlite"), "CDSS_API_NLP": "0"}
    settings = load_settings(env)
    client = create_app(settings, background=False).test_client()
    for _ in range(3):
        assert client.get("/v1/graph/stats").status_code == 401
    assert AuditLog(settings.audit_log, key=record_id_key(settings)).verify() == VerifyReport(lines=3, ok=True)


@pytest.fixture
def run(tmp_path, monkeypatch):
    monkeypatch.setenv("CDSS_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("CDSS_AUDIT_LOG", str(tmp_path / "audit.jsonl"))
    monkeypatch.setenv("CDSS_RECORD_ID_KEY", KEY.decode())
    runner = CliRunner()
    return lambda *args: runner.invoke(cli, ["audit", "verify", *args])


def test_cli_verify_passes_an_intact_log_and_names_the_bad_line(run, log):
    intact = run()
    assert intact.exit_code == 0, intact.output
    assert "5 lines, intact" in intact.output
    assert json.loads(run("--json").stdout) == {
        "path": str(log.path),
        "lines": 5,
        "ok": True,
        "first_bad_line": None,
        "reason": None,
        "file": None,
        "segments": 0,
        "starts": None,
    }
    tamper(log, lambda lines: lines[:1] + lines[2:])
    broken = run("--path", str(log.path))
    assert broken.exit_code == 4
    assert f"audit log {log.path} is not intact: line 2 (request_id" in broken.output
    assert json.loads(run("--json").stdout)["first_bad_line"] == 2


def test_cli_verify_without_a_log_says_so(run, tmp_path):
    result = run("--path", str(tmp_path / "none.jsonl"))
    assert result.exit_code == 3 and "no audit log at" in result.output


def test_a_log_from_before_the_chain_is_set_aside_and_a_chain_starts(tmp_path: Path):
    path = tmp_path / "audit.jsonl"
    legacy = b'{"request_id": "ab", "status": 200}\n'
    path.write_bytes(legacy)
    log = AuditLog(path, key=KEY)
    write_calls(log, 2)
    kept = list(tmp_path.glob("audit.jsonl.unchained-*"))
    assert len(kept) == 1 and kept[0].read_bytes() == legacy
    assert log.verify().ok
