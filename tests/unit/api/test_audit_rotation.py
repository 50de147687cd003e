"""Rotation of the audit log: the chain runs on across segments, deletion by policy passes and is said,
and anything else done to a segment is named with its file."""

from __future__ import annotations

import itertools
import json
import multiprocessing
import stat
from multiprocessing.synchronize import Barrier
from pathlib import Path

import pytest
from click.testing import CliRunner

from api import create_app
from api.audit import GENESIS, AuditLog, VerifyReport, chain_key
from api.audit_chain import mac
from cdss.errors import ConfigError
from cdss.record_ids import record_id_key
from cdss.settings import load_settings
from cli import cli
from tests.unit.api.test_audit_chain import KEY, write_calls

LINE = 488  # bytes of one line that write_calls makes (checked in the first test)
TWO_LINES = 2 * LINE + 20


def files_of(log: AuditLog) -> list[Path]:
    """Kept segments, oldest first, then the live log."""
    return [log.segment_path(n) for n in log.segment_numbers()] + [log.path]


def lines_of(log: AuditLog) -> list[bytes]:
    return [line for path in files_of(log) for line in path.read_bytes().splitlines()]


@pytest.fixture
def rotated(tmp_path: Path) -> AuditLog:
    """Nine calls, two lines a file: segments 1 to 4 and a live log of one line."""
    audit = AuditLog(tmp_path / "audit.jsonl", key=KEY, max_bytes=TWO_LINES)
    write_calls(audit, 9)
    return audit


def test_the_live_log_is_moved_aside_at_the_size_limit(rotated):
    assert rotated.segment_numbers() == [1, 2, 3, 4]
    sizes = [path.stat().st_size for path in files_of(rotated)]
    assert sizes == [2 * LINE] * 4 + [LINE], "each file holds what fits under the limit, and no more"
    assert all(size <= TWO_LINES for size in sizes)
    head = json.loads(rotated.head_path.read_text())
    assert (head["lines"], head["segment"], head["first_segment"], head["continues_from"]) == (1, 4, 1, GENESIS)
    assert sorted(p.name for p in rotated.path.parent.iterdir()) == [
        "audit.jsonl",
        *(f"audit.jsonl.{n}" for n in range(1, 5)),
        "audit.jsonl.head",
    ], "no staged file is left"


def test_the_chain_runs_on_across_files_in_order(rotated):
    lines = lines_of(rotated)
    assert [json.loads(line)["request_id"] for line in lines] == [f"{n:032x}" for n in range(9)]
    chain = chain_key(KEY)
    assert json.loads(lines[0])["prev_hmac"] == GENESIS
    for before, after in itertools.pairwise(lines):
        assert json.loads(after)["prev_hmac"] == mac(chain, before)
    report = rotated.verify()
    assert (report.ok, report.lines, report.segments, report.starts) == (True, 9, 4, None)


def test_zero_never_rotates(tmp_path):
    audit = AuditLog(tmp_path / "audit.jsonl", key=KEY, max_bytes=0)
    write_calls(audit, 6)
    assert audit.segment_numbers() == [] and audit.verify().lines == 6


def test_an_edited_line_in_an_old_segment_is_named_with_its_file(rotated):
    segment = rotated.segment_path(2)
    first, second = segment.read_bytes().splitlines(keepends=True)
    segment.write_bytes(first + second.replace(b'"status": 200', b'"status": 500'))
    report = rotated.verify()
    assert (report.ok, report.file, report.first_bad_line, report.lines) == (False, "audit.jsonl.2", 2, 9)
    assert report.reason.startswith(f"audit.jsonl.2 line 2 (request_id {3:032x}) was changed or forged")


def test_a_segment_removed_from_the_middle_is_named(rotated):
    rotated.segment_path(2).unlink()
    report = rotated.verify()
    assert (report.ok, report.file, report.first_bad_line) == (False, "audit.jsonl.2", None)
    assert report.reason == "audit.jsonl.2 is missing: the head records segments 1 to 4"


def test_a_segment_renumbered_to_close_the_gap_is_found(rotated):
    rotated.segment_path(3).replace(rotated.segment_path(2))
    report = rotated.verify()
    assert (report.file, report.first_bad_line) == ("audit.jsonl.2", 1)
    assert report.reason.startswith(f"audit.jsonl.2 line 1 (request_id {4:032x}) does not follow the last line of")


def test_lines_cut_from_the_end_of_a_segment_are_found_at_the_next(rotated):
    segment = rotated.segment_path(1)
    segment.write_bytes(segment.read_bytes().splitlines(keepends=True)[0])
    report = rotated.verify()
    assert (report.file, report.first_bad_line) == ("audit.jsonl.2", 1)
    assert "does not follow the last line of audit.jsonl.1: lines were removed from its end" in report.reason


def test_lines_cut_from_the_end_of_the_live_log_are_found(rotated):
    write_calls(rotated, 1, first=9)
    rotated.path.write_bytes(rotated.path.read_bytes().splitlines(keepends=True)[0])
    report = rotated.verify()
    assert (report.file, report.first_bad_line) == ("audit.jsonl", 2)
    assert report.reason == "line 2 is missing: the head records 2 lines, the log has 1"


def test_the_newest_segment_removed_is_named(rotated):
    rotated.segment_path(4).unlink()
    assert rotated.verify().reason == "audit.jsonl.4 is missing: the head records segments 1 to 4"


def test_deletion_by_the_keep_policy_passes_and_says_where_the_chain_starts(tmp_path):
    audit = AuditLog(tmp_path / "audit.jsonl", key=KEY, max_bytes=TWO_LINES, keep=2)
    write_calls(audit, 9)
    assert audit.segment_numbers() == [3, 4]
    report = audit.verify()
    assert (report.ok, report.lines, report.segments) == (True, 5, 2)
    assert report.starts == (
        "the kept chain starts at segment 3 (audit.jsonl.3), continuing from an HMAC the head records; "
        "segments 1 to 2 were deleted by policy"
    )
    assert json.loads(audit.segment_path(3).read_text().splitlines()[0])["prev_hmac"] != GENESIS


def test_a_kept_segment_deleted_by_hand_is_not_taken_for_policy(tmp_path):
    audit = AuditLog(tmp_path / "audit.jsonl", key=KEY, max_bytes=TWO_LINES, keep=2)
    write_calls(audit, 9)
    audit.segment_path(3).unlink()
    report = audit.verify()
    assert not report.ok and report.reason == "audit.jsonl.3 is missing: the head records segments 3 to 4"


def test_a_head_edited_to_pass_off_a_deletion_as_policy_is_found(rotated):
    rotated.segment_path(1).unlink()
    head = json.loads(rotated.head_path.read_text())
    continues = json.loads(rotated.segment_path(2).read_text().splitlines()[0])["prev_hmac"]
    rotated.head_path.write_text(json.dumps({**head, "first_segment": 2, "continues_from": continues}))
    report = rotated.verify()
    assert (report.ok, report.file) == (False, "audit.jsonl.head")
    assert report.reason == "the head file was changed or not written with this key"


def test_an_older_head_put_back_over_a_rotation_is_found(rotated):
    older = rotated.head_path.read_bytes()
    write_calls(rotated, 2, first=9)
    rotated.head_path.write_bytes(older)
    report = rotated.verify()
    assert not report.ok and report.file == "audit.jsonl"


def test_a_head_from_before_rotation_still_verifies_and_is_carried_on(tmp_path):
    audit = AuditLog(tmp_path / "audit.jsonl", key=KEY)
    write_calls(audit, 3)
    head = json.loads(audit.head_path.read_text())
    legacy_mac = mac(chain_key(KEY), f"head {head['lines']} {head['last_hmac']}".encode())
    audit.head_path.write_text(json.dumps({"lines": 3, "last_hmac": head["last_hmac"], "mac": legacy_mac}))
    assert audit.verify().ok
    rotating = AuditLog(audit.path, key=KEY, max_bytes=TWO_LINES)
    write_calls(rotating, 1, first=3)
    assert rotating.segment_numbers() == [1] and rotating.verify().lines == 4 and rotating.verify().ok


def test_a_head_that_does_not_match_stops_rotation_and_keeps_the_evidence(rotated):
    rotated.path.write_bytes(b"")
    write_calls(rotated, 4, first=9)
    assert rotated.segment_numbers() == [1, 2, 3, 4], "nothing rotated over a broken chain"
    report = rotated.verify()
    assert (report.ok, report.file, report.first_bad_line) == (False, "audit.jsonl", 1)


def test_segments_the_live_log_and_the_head_are_readable_by_their_owner_only(rotated):
    for path in [*files_of(rotated), rotated.head_path]:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path.name


def _write_across_rotations(path: Path, first: int, keep: int, start: Barrier) -> None:
    start.wait()
    write_calls(AuditLog(path, key=KEY, max_bytes=3 * LINE, keep=keep), 60, first=first)


def _run_writers(path: Path, keep: int) -> list[VerifyReport]:
    """Two writer processes at once; the reports of the checks this process made while they wrote."""
    context = multiprocessing.get_context("spawn")
    start = context.Barrier(3)
    workers = [
        context.Process(target=_write_across_rotations, args=(path, n * 60, keep, start), daemon=True) for n in (0, 1)
    ]
    for worker in workers:
        worker.start()
    start.wait()
    reports = []
    while any(worker.is_alive() for worker in workers):
        reports.append(AuditLog(path, key=KEY).verify())
    for worker in workers:
        worker.join(timeout=120)
    assert [worker.exitcode for worker in workers] == [0, 0]
    return reports


def test_two_processes_writing_across_rotations_keep_one_chain_and_every_line(tmp_path):
    path = tmp_path / "audit.jsonl"
    during = _run_writers(path, keep=0)
    audit = AuditLog(path, key=KEY)
    report = audit.verify()
    assert (report.ok, report.lines, report.reason) == (True, 120, None)
    assert report.segments == len(audit.segment_numbers()) >= 39, "three lines a file: rotated about 40 times"
    assert sorted(json.loads(line)["request_id"] for line in lines_of(audit)) == [f"{n:032x}" for n in range(120)]
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith(".")], "no staged file is left"
    assert [r for r in during if not r.ok] == [], "a check while rotating sees one moment"


def test_two_processes_deleting_by_policy_leave_a_chain_that_verifies(tmp_path):
    path = tmp_path / "audit.jsonl"
    during = _run_writers(path, keep=3)
    audit = AuditLog(path, key=KEY)
    report = audit.verify()
    assert report.ok and report.segments == 3 and "deleted by policy" in report.starts
    assert len(audit.segment_numbers()) == 3
    assert during and [r for r in during if not r.ok] == [], "a check while segments are deleted sees one moment"


def test_settings_for_rotation():
    defaults = load_settings({})
    assert (defaults.audit_max_bytes, defaults.audit_keep) == (64 * 1024 * 1024, 16)
    chosen = load_settings({"CDSS_AUDIT_MAX_BYTES": "0", "CDSS_AUDIT_KEEP": "3"})
    assert (chosen.audit_max_bytes, chosen.audit_keep) == (0, 3)
    with pytest.raises(ConfigError, match="CDSS_AUDIT_KEEP=-1"):
        load_settings({"CDSS_AUDIT_KEEP": "-1"})


def test_the_app_rotates_its_log_by_the_settings(tmp_path):
    env = {
        "CDSS_DATA_DIR": str(tmp_path),
        "CDSS_STORE": str(tmp_path / "nothing.sqlite"),
        "CDSS_API_NLP": "0",
        "CDSS_AUDIT_MAX_BYTES": "1",
        "CDSS_AUDIT_KEEP": "2",
    }
    settings = load_settings(env)
    client = create_app(settings, background=False).test_client()
    for _ in range(5):
        assert client.get("/v1/graph/stats").status_code == 401
    audit = AuditLog(settings.audit_log, key=record_id_key(settings))
    assert audit.segment_numbers() == [3, 4]
    report = audit.verify()
    assert (report.ok, report.lines, report.segments) == (True, 3, 2)


@pytest.fixture
def run(tmp_path, monkeypatch):
    monkeypatch.setenv("CDSS_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("CDSS_AUDIT_LOG", str(tmp_path / "audit.jsonl"))
    monkeypatch.setenv("CDSS_RECORD_ID_KEY", KEY.decode())
    runner = CliRunner()
    return lambda *args: runner.invoke(cli, ["audit", "verify", *args])


def test_cli_verify_checks_the_segments_and_names_the_one_at_fault(run, tmp_path):
    audit = AuditLog(tmp_path / "audit.jsonl", key=KEY, max_bytes=TWO_LINES, keep=2)
    write_calls(audit, 9)
    intact = run()
    assert intact.exit_code == 0, intact.output
    assert "5 lines in 2 segments and the live log, intact" in intact.output
    assert "the kept chain starts at segment 3" in intact.output
    segment = audit.segment_path(4)
    segment.write_bytes(segment.read_bytes().replace(b'"status": 200', b'"status": 201', 1))
    broken = run()
    assert broken.exit_code == 4
    assert "is not intact: audit.jsonl.4 line 1 (request_id" in broken.output
    assert json.loads(run("--json").stdout)["file"] == "audit.jsonl.4"
