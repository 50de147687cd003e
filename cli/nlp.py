"""`cdss nlp ...`: record text to mentions, evaluation, training."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from cdss.errors import InputError
from cdss.settings import load_settings

STORE_HELP = "Graph store URL or file path (default: CDSS_STORE)."


def _print_json(data: object) -> None:
    click.echo(json.dumps(data, indent=2, ensure_ascii=False))


def _pipeline(store_url: str | None, *, use_ner: bool = True):
    from nlp import load_pipeline, ner_choice
    from runtime import open_graph

    settings = load_settings()
    store = open_graph(settings, store_url)
    return settings, store, load_pipeline(store, settings, ner=ner_choice(settings, use_ner=use_ner))


def _read_text(source: str) -> str:
    data = sys.stdin.buffer.read() if source == "-" else Path(source).read_bytes()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        where = "standard input" if source == "-" else source
        raise InputError(f"{where} is not UTF-8 text (invalid byte at offset {exc.start})") from None


@click.group()
def nlp() -> None:
    """Find diseases, findings and drugs in record text."""


@nlp.command("build")
@click.option("--store", "store_url", help=STORE_HELP)
@click.option("--no-ner", is_flag=True, help="Leave out the trained NER even if one is present.")
@click.option("--no-train", is_flag=True, help="Do not train the NER when there is none (the pipeline runs without).")
def build_command(store_url: str | None, no_ner: bool, no_train: bool) -> None:
    """Build (or load) the pipeline for the current graph version and cache it; train the NER first when there
    is none and the corpora have been fetched."""
    from nlp import pipeline_version
    from nlp.train import ensure_ner

    settings = load_settings()
    if not no_ner and not no_train and settings.ner_model is not None:
        report = ensure_ner(
            settings.sources_dir,
            settings.ner_model,
            show_progress=settings.progress,
            log=lambda line: click.echo(line, err=True),
        )
        if report is not None:
            click.echo(f"trained the NER in {report.seconds:.0f} s -> {settings.ner_model}", err=True)
    _, _, pipeline = _pipeline(store_url, use_ner=not no_ner)
    click.echo(f"pipeline {pipeline_version(pipeline)} ready: {', '.join(pipeline.pipe_names)}")


@nlp.command("extract")
@click.argument("source", default="-")
@click.option("--store", "store_url", help=STORE_HELP)
@click.option("--json", "as_json", is_flag=True, help="Print the mentions as JSON.")
@click.option("--no-ner", is_flag=True, help="Dictionary and fuzzy matching only.")
def extract_command(source: str, store_url: str | None, as_json: bool, no_ner: bool) -> None:
    """Mentions in one text (a file, or - for standard input)."""
    from nlp import extract_mentions, pipeline_version

    settings, store, pipeline = _pipeline(store_url, use_ner=not no_ner)
    mentions = extract_mentions(pipeline, _read_text(source), max_chars=settings.max_text_chars)
    if as_json:
        _print_json(
            {
                "pipeline_version": pipeline_version(pipeline),
                "graph_version": store.graph_version,
                "mentions": [m.to_dict() for m in mentions],
            }
        )
        return
    names = store.get_nodes([m.concept_id for m in mentions if m.concept_id])
    for m in mentions:
        name = names[m.concept_id].name if m.concept_id in names else "(unlinked)"
        click.echo(
            f"{m.start:>6}-{m.end:<6} {m.text[:30]!r:34} {m.concept_id or '-':20} {name[:30]:32} "
            f"{m.assertion:12} {m.section or '-':24} {m.method} {m.confidence:.2f}"
        )


@nlp.command("eval")
@click.option("--file", "path", required=True, type=click.Path(path_type=Path, exists=True, dir_okay=False))
@click.option("--format", "fmt", required=True, type=click.Choice(["pubtator", "conll"]))
@click.option("--store", "store_url", help=STORE_HELP)
@click.option("--json", "as_json", is_flag=True, help="Print the scores as JSON.")
@click.option("--no-ner", is_flag=True, help="Dictionary and fuzzy matching only.")
def eval_command(path: Path, fmt: str, store_url: str | None, as_json: bool, no_ner: bool) -> None:
    """Precision, recall and F1 (exact and overlapping spans, per type) and linking accuracy."""
    from nlp import pipeline_version
    from nlp.corpora import read_corpus
    from nlp.evaluate import evaluate

    settings, store, pipeline = _pipeline(store_url, use_ner=not no_ner)
    report = evaluate(pipeline, read_corpus(path, fmt), max_chars=settings.max_text_chars, store=store).to_dict()
    report["pipeline_version"] = pipeline_version(pipeline)
    if as_json:
        _print_json(report)
        return
    click.echo(f"{report['documents']} documents, pipeline {report['pipeline_version']}")
    for match in ("exact", "overlap"):
        for kind, s in report[match].items():
            click.echo(f"{match:<8} {kind:<9} P {s['precision']:.3f}  R {s['recall']:.3f}  F1 {s['f1']:.3f}")
    linking = report["linking"]
    if linking["accuracy"] is not None:
        click.echo(
            f"linking accuracy {linking['accuracy']:.3f} over {linking['evaluated']} exactly found gold mentions "
            f"({linking['gold_ids_not_in_graph']} more name ids not in the graph)"
        )


@nlp.command("yield")
@click.option(
    "--file",
    "path",
    type=click.Path(path_type=Path, exists=True, dir_okay=False),
    help='JSON lines with a "text" (default: the CRAFT-MD vignettes from `cdss data fetch`).',
)
@click.option("--limit", type=click.IntRange(1), help="Only the first N records.")
@click.option("--store", "store_url", help=STORE_HELP)
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@click.option("--no-ner", is_flag=True, help="Dictionary and fuzzy matching only.")
def yield_command(path: Path | None, limit: int | None, store_url: str | None, as_json: bool, no_ner: bool) -> None:
    """What the pipeline reads from each record: present findings per record (median, 10th percentile),
    measurements, and the records left with nothing to rank on."""
    from collections import Counter

    from cdss.progress import progress
    from nlp import annotate, doc_mentions, pipeline_version
    from nlp.reading_yield import record_yield, summarise_yield
    from ranking.study.real_cases import read_texts

    settings, _, pipeline = _pipeline(store_url, use_ner=not no_ner)
    path = path or settings.sources_dir / "clinical-vignettes-craftmd" / "craftmd_vignettes.jsonl"
    if not path.is_file():
        raise InputError(f"no records at {path}: run `cdss data fetch` or pass --file")
    texts = read_texts(path)[:limit]
    rows, methods = [], Counter()
    docs = annotate(pipeline, texts, max_chars=settings.max_text_chars)
    for doc in progress(docs, desc="records", total=len(texts), enabled=settings.progress):
        mentions = doc_mentions(doc, "")
        rows.append(record_yield(mentions))
        methods.update(str(m.method) for m in mentions if m.concept_type == "Finding")
    report = summarise_yield(rows, methods) | {"file": str(path), "pipeline_version": pipeline_version(pipeline)}
    if as_json:
        _print_json(report)
        return
    found = report["present_findings"]
    click.echo(
        f"{report['records']} records: present findings per record median {found['median']:g}, "
        f"10th percentile {found['p10']:g}, mean {found['mean']:g}; nothing to rank on: "
        f"{report['nothing_to_rank']} ({report['nothing_to_rank_share']:.1%})"
    )
    click.echo("totals: " + ", ".join(f"{k} {v:,}" for k, v in report["totals"].items()))
    click.echo(
        "finding mentions by method: "
        + ", ".join(f"{k} {v:,}" for k, v in report["finding_mentions_by_method"].items())
    )
    click.echo(f"pipeline {report['pipeline_version']}")


@nlp.command("assert")
@click.option(
    "--in",
    "path",
    required=True,
    type=click.Path(path_type=Path, exists=True, dir_okay=False),
    help='JSON lines: {"id", "text", "spans": [[start, end] or [start, end, expected(, concept)], ...]}.',
)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON report instead of JSON lines.")
@click.option(
    "--pipeline",
    "use_pipeline",
    is_flag=True,
    help="Judge every span with the whole pipeline over the graph (concepts and measurements too).",
)
@click.option("--store", "store_url", help=STORE_HELP)
def assert_command(path: Path, as_json: bool, use_pipeline: bool, store_url: str | None) -> None:
    """The assertion of each given span, with the pipeline's rules (NegEx-style evaluation). Spans that also
    name a concept need the linker and are judged only with --pipeline."""
    from nlp.traps import judge_with_pipeline, read_traps

    traps = list(read_traps(path))
    if use_pipeline:
        from nlp import extract_mentions

        settings, _, pipeline = _pipeline(store_url, use_ner=False)
        report = judge_with_pipeline(
            traps, lambda text: extract_mentions(pipeline, text, max_chars=settings.max_text_chars)
        )
        if as_json:
            _print_json(report)
            return
        for row in report["wrong"]:
            click.echo(json.dumps(row, ensure_ascii=False))
        click.echo(f"accuracy {report['accuracy']:.3f} ({report['right']}/{report['judged']} spans)", err=True)
        return
    from nlp.context import SpanAsserter
    from nlp.pipeline import clean_text

    settings = load_settings()
    asserter = SpanAsserter()
    rows, right, judged, skipped = [], 0, 0, 0
    for trap in traps:
        plain = [s for s in trap.spans if len(s) <= 3]
        skipped += len(trap.spans) - len(plain)
        assertions = asserter(clean_text(trap.text, max_chars=settings.max_text_chars), [s[:2] for s in plain])
        out = []
        for given, assertion in zip(plain, assertions, strict=True):
            entry = {"start": given[0], "end": given[1], "assertion": assertion.value}
            if len(given) > 2:
                entry["expected"] = given[2]
                judged += 1
                right += given[2] == assertion.value
            out.append(entry)
        rows.append({"id": trap.id, "spans": out})
    accuracy = right / judged if judged else None
    if as_json:
        _print_json({"records": rows, "accuracy": accuracy, "judged": judged, "needs_pipeline": skipped})
        return
    for row in rows:
        click.echo(json.dumps(row))
    if judged:
        click.echo(f"accuracy {accuracy:.3f} ({right}/{judged} spans with an expected assertion)", err=True)
    if skipped:
        click.echo(f"{skipped} spans that name a concept need --pipeline", err=True)


@nlp.command("temporality")
@click.option(
    "--labels",
    type=click.Path(path_type=Path, exists=True, dir_okay=False),
    help="JSON lines of file, encounter_id, start, end, label (default: the suite in tests/data).",
)
@click.option(
    "--notes",
    type=click.Path(path_type=Path, exists=True, file_okay=False),
    help="The ACI-bench CSV folder (default: from `cdss data fetch`).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def temporality_command(labels: Path | None, notes: Path | None, as_json: bool) -> None:
    """Precision and recall of `historical` on hand-labelled visit notes (past conditions against current ones)."""
    from nlp.context import SpanAsserter
    from nlp.temporality import read_labels, read_notes, score_temporality

    settings = load_settings()
    labels = labels or Path(__file__).resolve().parents[1] / "tests" / "data" / "temporality_labels.jsonl"
    if not labels.is_file():
        raise InputError(f"no temporality labels at {labels}: pass --labels")
    rows = read_labels(labels)
    folder = notes or settings.sources_dir / "clinical-text-aci-bench"
    report = score_temporality(rows, read_notes(folder, {r.file for r in rows}), SpanAsserter())
    if as_json:
        _print_json(report)
        return
    h = report["historical"]
    click.echo(
        f"{report['spans']} spans in {report['notes']} notes: historical precision {h['precision']:.3f}, "
        f"recall {h['recall']:.3f}, F1 {h['f1']:.3f}"
    )
    for key, count in report["confusion"].items():
        click.echo(f"  {key}: {count}")


@nlp.command("train")
@click.option(
    "--corpus",
    required=True,
    type=click.Path(path_type=Path, exists=True, file_okay=False),
    help="The BC5CDR folder, or a folder holding bc5cdr/ and ncbi-disease/.",
)
@click.option("--out", type=click.Path(path_type=Path), help="Where to save the model (default: CDSS_NER_MODEL).")
@click.option("--max-epochs", default=30, show_default=True)
@click.option("--patience", default=4, show_default=True, help="Stop after this many epochs without a better devel F1.")
@click.option("--seed", default=0, show_default=True)
@click.option(
    "--with-devel",
    "with_devel",
    type=click.IntRange(min=1),
    help="Train on BC5CDR train + devel for exactly this many epochs (the best epoch of a run without it).",
)
def train_command(
    corpus: Path, out: Path | None, max_epochs: int, patience: int, seed: int, with_devel: int | None
) -> None:
    """Train the chemical and disease NER on BC5CDR train (+ NCBI-disease train), select on BC5CDR devel."""
    from nlp.train import train_ner

    settings = load_settings()
    target = out or settings.ner_model
    report = train_ner(
        corpus,
        target,
        max_epochs=with_devel or max_epochs,
        patience=patience,
        seed=seed,
        include_devel=with_devel is not None,
        show_progress=settings.progress,
        log=lambda line: click.echo(line, err=True),
    )
    if with_devel:
        click.echo(f"trained NER on train + devel for {with_devel} epochs in {report.seconds:.0f} s -> {target}")
    else:
        click.echo(
            f"trained NER: best devel F1 {report.best_f1:.3f} at epoch {report.best_epoch} of {len(report.epochs)} "
            f"in {report.seconds:.0f} s -> {target}"
        )
