"""gunicorn settings for the cdss API; each can be overridden from the environment.

Workers are processes; each loads the graph, the NLP pipeline and the models
once (about 1 GB of memory each on the full graph), so size WORKERS to memory
first and cores second. The app is not preloaded: every worker builds its own,
since the SQLite connection and torch state must not cross a fork.
"""

import os
import threading
import time

# Loopback unless told otherwise: the container image sets CDSS_BIND=0.0.0.0:8000, where the port is published
# on purpose; on a host, exposing the API to the network is a choice made with CDSS_BIND.
bind = os.environ.get("CDSS_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("CDSS_WORKERS", "2"))
# One request at a time per worker: the engine serialises store access anyway.
threads = 1
worker_class = "sync"
# A worker loads its runtime (about a minute on the full graph) before it accepts a connection, and must do so
# within this timeout; requests never take that long.
timeout = int(os.environ.get("CDSS_WORKER_TIMEOUT", "120"))
# On SIGTERM, workers finish the requests in hand for this long before they are killed.
graceful_timeout = int(os.environ.get("CDSS_GRACEFUL_TIMEOUT", "30"))
keepalive = 5
# Restart workers now and then, with jitter, so memory growth cannot build up.
max_requests = int(os.environ.get("CDSS_MAX_REQUESTS", "5000"))
max_requests_jitter = 500
# Access logs would record query strings; the app logs route, status and timing itself.
accesslog = None
errorlog = "-"
loglevel = os.environ.get("CDSS_LOG_LEVEL", "info").lower()


BOOT_SECONDS = int(os.environ.get("CDSS_WORKER_BOOT_TIMEOUT", "600"))
"""How long a worker may take to load its runtime before gunicorn's own `timeout` applies to it."""


def post_fork(server, worker):
    """A worker loads its runtime before it serves (api/wsgi.py), which may take longer than `timeout` on a
    busy host; its heartbeat is kept here until it has booted, for at most CDSS_WORKER_BOOT_TIMEOUT seconds,
    so the master does not kill it mid-load and start the same load again."""

    def beat():
        deadline = time.monotonic() + BOOT_SECONDS
        while not worker.booted and time.monotonic() < deadline:
            worker.notify()
            time.sleep(5)

    threading.Thread(target=beat, name="boot-heartbeat", daemon=True).start()


def worker_exit(server, worker):
    services = worker.wsgi.extensions.get("cdss") if hasattr(worker, "wsgi") and worker.wsgi else None
    if services is not None:
        services.close()
