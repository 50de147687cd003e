"""The graph built from every source, fetched from the shared mirror as CI does it, once per session."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

MIRROR = Path(__file__).resolve().parents[2].parent / "shared" / "data"


def run_cdss(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", "from cli import main; main()", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )


@dataclass(frozen=True)
class AllSources:
    data_dir: Path
    graph: Path
    report: dict
    env: dict[str, str]


@pytest.fixture(scope="session")
def all_sources(tmp_path_factory) -> AllSources:
    if not MIRROR.is_dir():
        pytest.skip(f"no source mirror at {MIRROR}: the shared data folder is not checked out beside the project")
    data_dir = tmp_path_factory.mktemp("all-sources")
    env = {**os.environ, "CDSS_DATA_DIR": str(data_dir), "CDSS_PROGRESS": "0"}
    env.pop("CDSS_STORE", None)
    fetched = run_cdss("data", "fetch", "--mirror", str(MIRROR), env=env)
    assert fetched.returncode == 0, fetched.stdout + fetched.stderr
    built = run_cdss("kg", "build", "--json", env=env)
    assert built.returncode == 0, built.stderr
    return AllSources(data_dir, data_dir / "graph.sqlite", json.loads(built.stdout), env)


@pytest.fixture(scope="session")
def real_pipeline(all_sources):
    """The NLP pipeline (dictionary and fuzzy matching, no NER) over the all-sources graph."""
    from cdss.settings import load_settings
    from kg import open_store
    from nlp import ner_choice
    from nlp.pipeline import load_pipeline

    settings = load_settings({"CDSS_DATA_DIR": str(all_sources.data_dir)})
    store = open_store(str(all_sources.graph))
    yield store, load_pipeline(store, settings, ner=ner_choice(settings, use_ner=False)), settings
    store.close()
