"""`cdss learn`, `cdss feedback` and `cdss eval learning`: the feedback loop from the command line."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import click

from cdss.settings import load_settings


def _echo(report: dict, as_json: bool, lines: list[str]) -> None:
    click.echo(json.dumps(report, indent=2) if as_json else "\n".join(lines))


@click.group("learn", invoke_without_command=True)
@click.option("--validation-share", default=0.2, show_default=True, type=click.FloatRange(0.05, 0.5))
@click.option("--min-support", default=1, show_default=True, type=click.IntRange(1), help="Cases with both.")
@click.option(
    "--prior-strength",
    default=100.0,
    show_default=True,
    type=click.FloatRange(1.0),
    help="Pseudo-cases behind the survey prior; confirmed diagnoses weigh at most N / (N + this).",
)
@click.option("--dry-run", is_flag=True, help="Build and check the candidate; write nothing.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def learn(
    ctx: click.Context, validation_share: float, min_support: int, prior_strength: float, dry_run: bool, as_json: bool
) -> None:
    """Build a knowledge update from the feedback, check it on held-out feedback cases, and put it in use only if
    it is no worse than the version in use. Every version is kept; `cdss learn rollback` undoes a promotion."""
    if ctx.invoked_subcommand is not None:
        return
    from runtime import open_graph
    from runtime.learning import learn_from_feedback

    settings = load_settings()
    with open_graph(settings) as store:
        report = learn_from_feedback(
            store,
            settings,
            validation_share=validation_share,
            min_support=min_support,
            prior_strength=prior_strength,
            dry_run=dry_run,
        )
    e = report["evaluation"]
    _echo(
        report,
        as_json,
        [
            f"candidate {report['candidate']}: {report['annotations']} annotations over {report['diseases']} diseases "
            f"from {report['learned_from']} cases; prior weight {report['prior_weight']}",
            f"held-out cases {e['held_out_cases']}: top-10 {e['current']['top10']} -> {e['candidate']['top10']}, "
            f"MRR {e['current']['mrr']} -> {e['candidate']['mrr']}",
            f"{report['outcome']}; in use: {report['in_use'] or 'none'}",
            f"GNN: {report['gnn']}",
        ],
    )


@learn.command("rollback")
def rollback_command() -> None:
    """Withdraw the version in use and put the one before it back (or none)."""
    from learning.versions import VersionStore

    withdrawn, now = VersionStore(load_settings().learned_dir).rollback()
    click.echo(f"withdrew {withdrawn}; in use now: {now or 'none (the graph alone)'}; restart the API to apply")


@learn.command("status")
@click.option("--json", "as_json", is_flag=True)
def status_command(as_json: bool) -> None:
    """The version in use, every version kept, and the promotion history."""
    from learning.versions import VersionStore

    status = VersionStore(load_settings().learned_dir).status()
    _echo(status, as_json, [f"in use: {status['current'] or 'none'}", f"kept: {', '.join(status['kept']) or 'none'}"])


@click.group("feedback")
def feedback() -> None:
    """Clinician feedback given through POST /v1/feedback."""


def _store():
    from cdss.sealing import load_keyring
    from learning.feedback_store import FeedbackStore

    settings = load_settings()
    return FeedbackStore(settings.feedback_db, keyring=load_keyring(settings.data_key_file))


@feedback.command("stats")
@click.option("--json", "as_json", is_flag=True)
def stats_command(as_json: bool) -> None:
    """Counts by verdict, by key and by the learned version that made the answer."""
    store = _store()
    try:
        stats = store.stats()
    finally:
        store.close()
    lines = [
        f"{stats['feedback']} feedback items on {stats['answers_with_feedback']} of {stats['answers_kept']} answers"
    ]
    lines += [f"  {verdict:<20} {n}" for verdict, n in stats["by_verdict"].items()]
    _echo(stats, as_json, lines)


@feedback.command("export")
@click.option("--out", type=click.Path(path_type=Path), help="JSON lines (default: standard output).")
def export_command(out: Path | None) -> None:
    """Every feedback item as JSON lines: ids, verdicts, versions, and the de-identified reason."""
    store = _store()
    try:
        lines = [json.dumps(row.to_dict(), sort_keys=True) for row in store.rows()]
    finally:
        store.close()
    if out is None:
        for line in lines:
            click.echo(line)
    else:
        out.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
        click.echo(f"wrote {len(lines)} feedback items to {out}", err=True)


@feedback.command("purge")
@click.option("--older-than", "days", required=True, type=click.IntRange(1), help="Days an answer is kept.")
def purge_command(days: int) -> None:
    """Forget kept answers (and their sealed cases) older than DAYS that nobody gave feedback on."""
    from datetime import UTC, datetime, timedelta

    store = _store()
    try:
        cutoff = (datetime.now(UTC) - timedelta(days=days)).isoformat(timespec="milliseconds")
        forgotten = store.purge_answers(before=cutoff)
    finally:
        store.close()
    click.echo(f"forgot {forgotten} answers kept before {cutoff} without feedback")


@click.command("learning")
@click.option("--file", "path", type=click.Path(path_type=Path), help="Vignettes (default: fetched CRAFT-MD).")
@click.option("--test-share", default=0.2, show_default=True, type=click.FloatRange(0.05, 0.5))
@click.option("--limit", type=click.IntRange(1), help="Only the first N vignettes (a quick look).")
@click.option("--out", type=click.Path(path_type=Path), help="Write the report as JSON here.")
@click.option("--json", "as_json", is_flag=True)
def eval_learning_command(
    path: Path | None, test_share: float, limit: int | None, out: Path | None, as_json: bool
) -> None:
    """The feedback loop on a simulated stream: vignettes outside a fixed test split are replayed with their gold
    diagnosis as final-diagnosis feedback, `cdss learn` runs on it, and top-k on the test split is measured before
    and after. Feedback and versions go to a scratch folder; the deployment's are not touched."""
    from cli.evaluate import CASE_FILES
    from ranking.study.real_cases import GoldIndex, read_vignettes
    from runtime import open_graph
    from runtime.learning import replay_vignettes

    settings = load_settings()
    path = path or settings.sources_dir / CASE_FILES["vignette"]
    with open_graph(settings) as store, tempfile.TemporaryDirectory(prefix="cdss-learn-") as scratch:
        vignettes = read_vignettes(path, GoldIndex.from_store(store))[:limit]
        report = replay_vignettes(store, settings, vignettes, workdir=Path(scratch), test_share=test_share)
    if out is not None:
        out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    b, a = report["test_before"], report["test_after"]
    _echo(
        report,
        as_json,
        [
            f"stream {report['stream']} vignettes, test {report['test']} ({report['test_ranked']} rankable)",
            f"learn: {report['learn']['outcome']} ({report['learn']['candidate']})",
            f"test top-1 {b['top1']} -> {a['top1']}, top-3 {b['top3']} -> {a['top3']}, "
            f"top-10 {b['top10']} -> {a['top10']}, MRR {b['mrr']} -> {a['mrr']}",
        ],
    )
