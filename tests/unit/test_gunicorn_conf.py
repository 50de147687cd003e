"""gunicorn.conf.py: loopback by default, and a loading worker's heartbeat kept until it has booted."""

from __future__ import annotations

import runpy
import time
from pathlib import Path

CONF = Path(__file__).resolve().parents[2] / "gunicorn.conf.py"


class LoadingWorker:
    """What the hook touches of a gunicorn worker: whether it has booted, and its heartbeat."""

    def __init__(self) -> None:
        self.booted = False
        self.beats = 0

    def notify(self) -> None:
        self.beats += 1


def test_a_loading_worker_keeps_its_heartbeat_until_it_has_booted(monkeypatch):
    monkeypatch.delenv("CDSS_BIND", raising=False)
    conf = runpy.run_path(str(CONF))
    assert conf["bind"] == "127.0.0.1:8000"
    worker = LoadingWorker()
    conf["post_fork"](None, worker)
    deadline = time.monotonic() + 5
    while worker.beats == 0 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert worker.beats >= 1
    worker.booted = True
    time.sleep(5.5)
    beats = worker.beats
    time.sleep(5.5)
    assert worker.beats == beats, "the heartbeat stops once the worker serves"
