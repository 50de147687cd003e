"""The production server (benchmarks/served.py) over the small ranking graph, for drills run as tests."""

from __future__ import annotations

import socket
from collections.abc import Mapping
from contextlib import AbstractContextManager
from pathlib import Path

from served import Served, serving

from tests.ranking_graph import write_ranking_graph


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def serving_ranking_graph(
    folder: Path,
    *,
    workers: int,
    proxy: bool = False,
    env: Mapping[str, str] | None = None,
    scopes: tuple[str, ...] = ("read",),
) -> AbstractContextManager[Served]:
    """gunicorn (and nginx when `proxy`) over a fresh ranking graph at `folder/graph.sqlite`; a worker loads
    in seconds."""
    graph = write_ranking_graph(folder / "graph.sqlite")
    base = {"CDSS_DATA_DIR": str(folder / "data"), "CDSS_RECORD_ID_KEY": "k" * 40, "CDSS_PROGRESS": "0"}
    return serving(
        store=str(graph),
        workers=workers,
        port=free_port(),
        proxy_port=free_port() if proxy else None,
        env=base | dict(env or {}),
        scopes=scopes,
        ready_timeout=120,
    )
