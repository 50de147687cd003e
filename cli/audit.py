"""`cdss audit`: checks on the API's audit log."""

from __future__ import annotations

import json
from pathlib import Path

import click

from cdss.errors import AuditIntegrityError, ConfigError, NotFoundError
from cdss.settings import load_settings


@click.group("audit")
def audit() -> None:
    """The API's audit log: one chained line per call, no record text."""


@audit.command("verify")
@click.option(
    "--path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The live log to check (default: CDSS_AUDIT_LOG); its head is <path>.head, its segments <path>.<n>.",
)
@click.option("--json", "as_json", is_flag=True)
def verify_command(path: Path | None, as_json: bool) -> None:
    """Check that no line was changed, removed, added or moved since it was written (exit status 4 if one was).

    The kept rotated segments and the live log are checked as one chain; a problem names its file and line.
    """
    from api.audit import AuditLog, head_path
    from cdss.record_ids import KEY_FILE, record_id_key

    settings = load_settings()
    path = path or settings.audit_log
    if not path.exists() and not head_path(path).exists():
        raise NotFoundError(f"no audit log at {path}")
    # A new key would make every line look forged, and the API would then use it for record ids too.
    if not settings.record_id_key and not (settings.data_dir / KEY_FILE).exists():
        raise ConfigError(f"no record-id key: set CDSS_RECORD_ID_KEY or restore {settings.data_dir / KEY_FILE}")
    report = AuditLog(path, key=record_id_key(settings)).verify()
    if as_json:
        click.echo(json.dumps({"path": str(path), **report.to_dict()}, indent=2))
    if not report.ok:
        raise AuditIntegrityError(path, report.first_bad_line, report.reason or "")
    if not as_json:
        files = f" in {report.segments} segments and the live log" if report.segments else ""
        click.echo(f"{path}: {report.lines} lines{files}, intact")
        if report.starts:
            click.echo(report.starts)
