"""gunicorn settings for the cdss API; each can be overridden from the environment.

Workers are processes; each loads the graph, the NLP pipeline and the models
once (about 1 GB of memory each on the full graph), so size WORKERS to memory
first and cores second. The app is not preloaded: every worker builds its own,
since the SQLite connection and torch state must not cross a fork.
"""

import logging
import os
import random
import signal
import threading
import time

from api.recycle_gate import RecycleGate, gate_folder

# Loopback unless told otherwise: the container image sets CDSS_BIND=0.0.0.0:8000, where the port is published
# on purpose; on a host, exposing the API to the network is a choice made with CDSS_BIND.
bind = os.environ.get("CDSS_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("CDSS_WORKERS", "2"))
# One request at a time per worker: the engine serialises store access anyway.
threads = 1
# gunicorn's sync worker, answering the requests gunicorn itself cannot parse in the API's JSON shape.
worker_class = "api.gunicorn_worker.JsonRefusalWorker"
# A worker loads its runtime (about a minute on the full graph) before it accepts a connection, and must do so
# within this timeout; requests never take that long.
timeout = int(os.environ.get("CDSS_WORKER_TIMEOUT", "120"))
# On SIGTERM, workers finish the requests in hand for this long before they are killed.
graceful_timeout = int(os.environ.get("CDSS_GRACEFUL_TIMEOUT", "30"))
keepalive = 5
# Workers retire after their share of requests, so memory growth cannot build up, but one at a time and never
# while another loads (api/recycle_gate.py, post_request below); gunicorn's own recycling would let every worker
# go at once, since even load brings them to the count together.
max_requests = 0
RECYCLE_AFTER = int(os.environ.get("CDSS_MAX_REQUESTS", "5000"))
RECYCLE_JITTER = RECYCLE_AFTER // 10
# Access logs would record query strings; the app logs route, status and timing itself.
accesslog = None
errorlog = "-"
loglevel = os.environ.get("CDSS_LOG_LEVEL", "info").lower()


BOOT_SECONDS = int(os.environ.get("CDSS_WORKER_BOOT_TIMEOUT", "600"))
"""How long a worker may take to load its runtime before gunicorn's own `timeout` applies to it."""


def post_fork(server, worker):
    """A worker loads its runtime before it serves (api/wsgi.py), which may take longer than `timeout` on a
    busy host; its heartbeat is kept here until it has booted, for at most CDSS_WORKER_BOOT_TIMEOUT seconds,
    so the master does not kill it mid-load and start the same load again. Meanwhile it holds the recycle
    gate's boot lock, so no other worker retires while this one cannot yet answer."""
    worker.cdss_gate = RecycleGate(gate_folder(os.getppid()))
    worker.cdss_gate.loading()
    worker.cdss_recycle_at = RECYCLE_AFTER + random.randint(0, RECYCLE_JITTER) if RECYCLE_AFTER > 0 else None

    def beat():
        deadline = time.monotonic() + BOOT_SECONDS
        while not worker.booted and time.monotonic() < deadline:
            worker.notify()
            time.sleep(1)
        worker.cdss_gate.loaded()

    threading.Thread(target=beat, name="boot-heartbeat", daemon=True).start()


def post_worker_init(worker):
    """A worker told to stop (SIGTERM) while another is loading keeps serving until that one has loaded, then
    stops: a HUP starts new workers and stops the old ones at once, which left nobody to answer for as long as
    a load takes. The master repeats its SIGTERM meanwhile; it stops a worker that stays past the
    graceful timeout at shutdown as before."""
    stop = signal.getsignal(signal.SIGTERM)
    waiting = threading.Event()

    def stop_when_nobody_loads():
        while not worker.cdss_gate.nobody_loading():
            time.sleep(0.5)
        os.kill(os.getpid(), signal.SIGTERM)

    def on_term(signum, frame):
        if worker.cdss_gate.nobody_loading():
            stop(signum, frame)
        elif not waiting.is_set():
            waiting.set()
            threading.Thread(target=stop_when_nobody_loads, name="stop-after-load", daemon=True).start()

    signal.signal(signal.SIGTERM, on_term)


def post_request(worker, req, environ, resp):
    """Retire after this request when the worker has served its share, or when the graph file was replaced
    under it (its replacement loads the new graph), if the gate lets it go now; else ask again next time."""
    if not worker.alive:
        return
    services = worker.wsgi.extensions.get("cdss") if worker.wsgi else None
    stale = services is not None and services.store is not None and services.store.replaced()
    due = worker.cdss_recycle_at is not None and worker.nr >= worker.cdss_recycle_at
    if (stale or due) and worker.cdss_gate.may_retire():
        reason = "the graph file was replaced" if stale else f"{worker.nr} requests served"
        logging.getLogger("gunicorn.error").info("worker %s retires: %s", worker.pid, reason)
        worker.alive = False


def worker_exit(server, worker):
    services = worker.wsgi.extensions.get("cdss") if hasattr(worker, "wsgi") and worker.wsgi else None
    if services is not None:
        services.close()
