"""The Flask app over the hand-built ranking graph with the real engine and NLP pipeline, for API tests.

Its test client checks every answer against the OpenAPI document (`tests/openapi_check.py`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from api import create_app
from api.services import Services
from cdss.settings import load_settings
from nlp.loinc2hpo import FILE
from runtime import load_engine, open_graph
from tests.openapi_check import OpenApiCheckedClient
from tests.ranking_graph import write_ranking_graph


def ranking_graph_app(
    folder: Path,
    *,
    env: Mapping[str, str] | None = None,
    loinc2hpo: Sequence[tuple[str, str, str]] = (),
    image_models: Mapping[str, object] | None = None,
):
    """(app, services) over a fresh copy of the ranking graph in `folder`; close the services when done.

    `env` adds settings; `loinc2hpo` rows (LOINC, L/N/H, HPO id) make a tiny LOINC2HPO file for the pipeline;
    `image_models` are the hosted image models."""
    graph = write_ranking_graph(folder / "graph.sqlite")
    if loinc2hpo:
        table = folder / "data" / "sources" / FILE
        table.parent.mkdir(parents=True, exist_ok=True)
        rows = [f"{loinc}\tQn\t{outcome}\t{hpo}" for loinc, outcome, hpo in loinc2hpo]
        table.write_text("\n".join(["loincId\tloincScale\toutcome\thpoTermId", *rows]) + "\n", encoding="utf-8")
    env = {
        "CDSS_DATA_DIR": str(folder / "data"),
        "CDSS_STORE": str(graph),
        "CDSS_RATE_LIMIT": "100000",
        "CDSS_PROGRESS": "0",
        "CDSS_RECORD_ID_KEY": "k" * 40,
        **(env or {}),
    }
    settings = load_settings(env)
    store = open_graph(settings)
    engine = load_engine(store, settings, with_nlp=True, with_links=False)
    services = Services(settings, store=store, engine=engine, image_models=image_models)
    app = create_app(settings, services=services)
    app.test_client_class = OpenApiCheckedClient
    return app, services
