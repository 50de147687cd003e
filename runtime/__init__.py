"""The one place that wires the runtime: the graph store, the NLP pipeline, the learned link scorer and the
ranking engine, for the API, the CLI and the benchmarks alike.

The ranking engine reads text through a `TextReader` and learned scores through a `LinkScorer`; it never
loads either. This module builds them from the settings, so the libraries below (nlp, gnn, ranking) stay
ignorant of one another.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from cdss.errors import ConfigError, GraphModelError
from cdss.settings import Settings
from cdss.types import Mention
from kg.store import GraphStore
from kg.store_urls import Neo4jLogin
from ranking import Engine, LinkScorer, RankingConfig
from ranking.learned import LearnedUpdate

if TYPE_CHECKING:
    from imaging import ImageModel

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class PipelineReader:
    """A spaCy pipeline of ours as the engine's `TextReader`: texts in, mentions out."""

    pipeline: object
    max_chars: int

    @property
    def version(self) -> str:
        from nlp import pipeline_version

        return pipeline_version(self.pipeline)

    @property
    def components(self) -> list[str]:
        return list(self.pipeline.pipe_names)

    @property
    def measurement_terms(self) -> dict[str, tuple[str, str]]:
        """ "LOINC|outcome" -> (HPO id, origin): the table the pipeline reads values in text with, for coded values."""
        return dict(self.pipeline.get_pipe("cdss_measurements").terms)

    def read(self, texts: Iterable[str]) -> Iterator[list[Mention]]:
        from nlp import annotate, doc_mentions

        for doc in annotate(self.pipeline, texts, max_chars=self.max_chars):
            yield doc_mentions(doc, "")


def neo4j_login(settings: Settings) -> Neo4jLogin | None:
    """The Neo4j login the settings give (`NEO4J_USER`, `NEO4J_PASSWORD`, `NEO4J_DATABASE`), if any."""
    if not settings.neo4j_user or not settings.neo4j_password:
        return None
    return Neo4jLogin(settings.neo4j_user, settings.neo4j_password, settings.neo4j_database)


def open_graph(settings: Settings, url: str | None = None, **options) -> GraphStore:
    """The graph store at `url` (default: `CDSS_STORE`), with the settings' Neo4j login; `options` pass to
    `kg.open_store`."""
    from kg import open_store

    return open_store(url or settings.store, login=neo4j_login(settings), **options)


def load_reader(store: GraphStore, settings: Settings) -> PipelineReader:
    """The NLP pipeline for this graph (cached per graph version), as a reader."""
    from nlp import load_pipeline

    return PipelineReader(load_pipeline(store, settings), settings.max_text_chars)


def load_link_scorer(store: GraphStore, settings: Settings) -> LinkScorer | None:
    """The trained link model at `CDSS_GNN_MODEL` when there is one for this graph; otherwise None, logged."""
    if not settings.gnn_model.is_file():
        return None
    try:
        from gnn.score import GnnLinkScorer

        return GnnLinkScorer.from_store(settings.gnn_model, store, settings.data_dir / "gnn")
    except (ConfigError, GraphModelError, ImportError) as error:
        log.warning("ranking without learned link scores: %s", error)
        return None


def load_engine(
    store: GraphStore,
    settings: Settings,
    *,
    with_nlp: bool = False,
    with_links: bool = True,
    config: RankingConfig | None = None,
    learned: LearnedUpdate | bool | None = True,
) -> Engine:
    """The ranking engine over the store, with the NLP pipeline when asked, the learned link scorer when one
    was trained for this graph, and the knowledge update promoted by `cdss learn` (`learned=True`), the one
    given, or none (`learned=False`)."""
    reader = load_reader(store, settings) if with_nlp else None
    scorer = load_link_scorer(store, settings) if with_links else None
    update = load_learned(store, settings) if learned is True else learned or None
    return Engine.load(store, settings, config=config, reader=reader, link_scorer=scorer, learned=update)


def load_learned(store: GraphStore, settings: Settings) -> LearnedUpdate | None:
    """The knowledge update in use, when it was learned on this graph; otherwise None, logged."""
    from learning.versions import VersionStore

    update = VersionStore(settings.learned_dir).current()
    if update is not None and update.graph_version != store.graph_version:
        log.warning(
            "learned update %s was made for graph %s, not %s: ranking without it until `cdss learn` runs again",
            update.version,
            update.graph_version,
            store.graph_version,
        )
        return None
    return update


def load_ingester(store: GraphStore, settings: Settings, pipeline, **options):
    """The records ingester with the settings' record-id key, text limit and text-storage choice (for the API,
    `cdss ingest records` and the benchmark alike); `options` pass to `nlp.ingest.Ingester`."""
    from cdss.record_ids import record_id_key
    from cdss.sealing import load_keyring
    from nlp.ingest import Ingester

    options = {"store_text": settings.store_record_text, "deid_mode": settings.deid_mode, **options}
    if options["store_text"]:
        options.setdefault("keyring", load_keyring(settings.data_key_file))
    return Ingester(store, pipeline, key=record_id_key(settings), max_chars=settings.max_text_chars, **options)


def image_model_dir(settings: Settings) -> Path:
    """Where `cdss image train` saves the hosted image models and the API loads them from."""
    return settings.data_dir / "models" / "images"


def load_image_models(settings: Settings, folder: Path | None = None) -> dict[str, ImageModel]:
    """Every trained image model in `folder` (default: the settings' model folder) by its dataset name; a file
    that does not load is logged and left out, so the API serves the others."""
    from imaging import ImageModel

    folder = folder or image_model_dir(settings)
    models: dict[str, ImageModel] = {}
    for path in sorted(folder.glob("*.pt")) if folder.is_dir() else []:
        try:
            model = ImageModel.load(path)
        except ConfigError as error:
            log.warning("image model left out: %s", error)
            continue
        models[model.dataset] = model
    return models
