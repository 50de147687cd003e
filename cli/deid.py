"""`cdss deid`: find and replace Safe Harbor identifiers in notes; `cdss eval deid`: how well it does."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from cdss.errors import InputError
from cdss.settings import load_settings

MODES = ("tags", "surrogates", "spans")


def _key(mode: str) -> bytes | None:
    from cdss.record_ids import record_id_key

    return record_id_key(load_settings()) if mode == "surrogates" else None


@click.command("deid")
@click.argument("source", required=False)
@click.option(
    "--in", "input_path", type=click.Path(path_type=Path), help="JSON lines of {id, text}; one line out each."
)
@click.option("--mode", type=click.Choice(MODES), default="tags", show_default=True)
@click.option("--record-id", default="", help="Whose surrogates (one text): the same id gives the same fakes.")
@click.option("--json", "as_json", is_flag=True, help="{id, spans: [{start, end, type}], text} per record.")
def deid_command(source: str | None, input_path: Path | None, mode: str, record_id: str, as_json: bool) -> None:
    """De-identify TEXT, a FILE, or with --in a JSON-lines file of notes.

    Modes: `tags` writes [NAME], [DATE] and so on; `surrogates` writes fake names and dates shifted
    by one offset per record (keyed by the deployment's record-id key); `spans` leaves the text and
    lists where the identifiers are, for review.
    """
    from deid import deidentify
    from nlp.records import read_jsonl

    if (source is None) == (input_path is None):
        raise InputError("give a text or a file, or --in NOTES.jsonl (one of them)")
    key = _key(mode)
    if input_path is not None:
        for record in read_jsonl(input_path):
            result = deidentify(record.text, mode=mode, key=key, record_id=record.id)
            click.echo(json.dumps(result.to_dict(record_id=record.id)) if as_json else result.text)
        return
    path = Path(source)
    text = path.read_text(encoding="utf-8") if len(source) < 4096 and path.is_file() else source
    result = deidentify(text, mode=mode, key=key, record_id=record_id)
    if as_json:
        click.echo(json.dumps(result.to_dict(), indent=2))
    elif mode == "spans":
        for span in result.spans:
            click.echo(f"{span.start}\t{span.end}\t{span.type.value}")
    else:
        click.echo(result.text, nl=not result.text.endswith("\n"))


@click.command("deid")
@click.option("--data", type=click.Path(path_type=Path), help="The deid-asq-phi folder (default: fetched sources).")
@click.option(
    "--negatives",
    type=click.Path(path_type=Path),
    help="JSON lines of notes with no identifiers, to count false flags per 1,000 words (default: the vignettes).",
)
@click.option("--synthetic", default=200, show_default=True, type=click.IntRange(0), help="Planted-PHI notes to check.")
@click.option("--out", type=click.Path(path_type=Path), help="Write the metrics as JSON here.")
@click.option("--json", "as_json", is_flag=True)
def eval_deid_command(
    data: Path | None, negatives: Path | None, synthetic: int, out: Path | None, as_json: bool
) -> None:
    """Per-type recall and precision on ASQ-PHI (both halves), false flags on notes without PHI, and recall on
    synthetic notes with planted identifiers of every type."""
    from deid.report import deid_report

    settings = load_settings()
    data = data or settings.sources_dir / "deid-asq-phi"
    negatives = negatives or settings.sources_dir / "clinical-vignettes-craftmd" / "craftmd_vignettes.jsonl"
    report = deid_report(data, negatives=negatives if negatives.is_file() else None, synthetic=synthetic)
    if out is not None:
        out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    if as_json:
        click.echo(json.dumps(report, indent=2))
        return
    for half in ("development", "held_out"):
        metrics = report["asq_phi"][half]
        click.echo(
            f"ASQ-PHI {half}: recall {metrics['recall']}, precision {metrics['precision']} ({metrics['texts']} texts)"
        )
        for phi_type, m in metrics["per_type"].items():
            click.echo(
                f"  {phi_type:<12} gold {m['gold_tokens']:>5}  recall {m['recall']}  same type {m['recall_same_type']}"
                f"  precision {m['precision']}"
            )
    if "negatives" in report:
        n = report["negatives"]
        click.echo(
            f"notes without PHI: {n['flags']} flags in {n['words']} words ({n['flags_per_1000_words']} per 1,000)"
        )
    if "synthetic" in report:
        s = report["synthetic"]
        click.echo(f"synthetic notes: {s['found']}/{s['planted']} planted identifiers found ({s['recall']})")
    if out is not None:
        click.echo(f"wrote {out}", err=True)
    sys.stdout.flush()
