"""`cdss data ...`: fetch and list the knowledge sources."""

from __future__ import annotations

from pathlib import Path

import click

from cdss.errors import ConfigError
from cdss.settings import load_settings


@click.group()
def data() -> None:
    """Fetch and list the knowledge sources the graph is built from."""


@data.command("fetch")
@click.option(
    "--mirror",
    type=click.Path(path_type=Path),
    help="Copy from this local folder (laid out <mirror>/<source folder>/<file>) instead of downloading. "
    "Default: CDSS_SOURCES_MIRROR.",
)
@click.option("--source", "names", multiple=True, help="Fetch only this source (repeatable).")
@click.option("--dest", type=click.Path(path_type=Path), help="Sources folder (default: CDSS_SOURCES_DIR).")
def fetch_command(mirror: Path | None, names: tuple[str, ...], dest: Path | None) -> None:
    """Download (or copy from a mirror) every fetched source, checking each file's SHA-256."""
    from ontologies import FETCHED_SOURCES, find_source
    from ontologies.fetch import fetch_sources

    settings = load_settings()
    mirror = mirror or settings.sources_mirror
    if mirror is not None and not mirror.is_dir():
        raise ConfigError(f"mirror {mirror} is not a folder")
    specs = [find_source(name) for name in names] if names else list(FETCHED_SOURCES)
    target = dest or settings.sources_dir
    results = fetch_sources(specs, dest=target, mirror=mirror, show_progress=settings.progress)
    failed = [r for r in results if r.status == "failed"]
    for spec in specs:
        mine = [r for r in results if r.source == spec.name]
        counts = {s: sum(r.status == s for r in mine) for s in ("fetched", "present", "failed")}
        click.echo(
            f"{spec.name:<18} {counts['fetched']} fetched, {counts['present']} already present, "
            f"{counts['failed']} failed  [{spec.license}]"
        )
    for result in failed:
        click.echo(f"failed: {result.source}/{result.file}: {result.detail}", err=True)
    click.echo(f"{len(results) - len(failed)} of {len(results)} files in place under {target}")
    if failed:
        raise click.exceptions.Exit(1)


@data.command("list")
def list_command() -> None:
    """Every source: where it comes from, its licence, and whether it is in place."""
    from ontologies import SOURCES

    settings = load_settings()
    for spec in SOURCES:
        if spec.files:
            folder = settings.sources_dir / (spec.folder or spec.name)
            present = sum((folder / f.name).is_file() for f in spec.files)
            where = f"fetched: {present}/{len(spec.files)} files in {folder}"
        else:
            where = f"bundled in the {spec.package} package"
        role = "graph" if spec.builds_graph else "ranking/NLP"
        click.echo(f"{spec.name:<18} {role:<11} {where}\n{'':<30} {spec.title}; {spec.license}")
