"""The tiny graph built by the real pipeline, and the NLP pipeline over it, for the Spark jobs."""

from __future__ import annotations

import pytest

from kg import build_graph, open_store
from nlp import build_pipeline
from tests.fixtures import tiny_source_specs, write_tiny_sources


@pytest.fixture(scope="module")
def graph(tmp_path_factory):
    root = tmp_path_factory.mktemp("nlp-graph")
    specs = tiny_source_specs(write_tiny_sources(root / "sources"))
    build_graph(store_url=str(root / "g.sqlite"), sources_dir=root, sources=specs, show_progress=False)
    return root / "g.sqlite"


@pytest.fixture(scope="module")
def pipeline(graph):
    with open_store(str(graph)) as store:
        return build_pipeline(store)
