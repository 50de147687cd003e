"""Shared fixtures: an isolated environment and a tiny graph built by the real pipeline."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from kg import build_graph
from tests.fixtures import tiny_source_specs, write_tiny_sources


@pytest.fixture(autouse=True)
def isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Keep every test away from the user's own graph, keys and settings: no `CDSS_*` variable gets through."""
    for name in [n for n in os.environ if n.startswith("CDSS_")]:
        monkeypatch.delenv(name)
    data_dir = tmp_path / "cdss-data"
    monkeypatch.setenv("CDSS_DATA_DIR", str(data_dir))
    monkeypatch.setenv("CDSS_PROGRESS", "0")
    return data_dir


@pytest.fixture
def tiny_paths(tmp_path: Path) -> dict[str, Path]:
    return write_tiny_sources(tmp_path / "sources")


@pytest.fixture
def tiny_specs(tiny_paths: dict[str, Path]):
    return tiny_source_specs(tiny_paths)


@pytest.fixture
def tiny_graph(tmp_path: Path, tiny_specs) -> Path:
    """A graph built from the tiny sources; returns the SQLite file."""
    path = tmp_path / "graph" / "graph.sqlite"
    build_graph(store_url=str(path), sources_dir=tmp_path / "unused", sources=tiny_specs, show_progress=False)
    return path
