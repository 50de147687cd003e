"""gunicorn settings for the cdss API; each can be overridden from the environment.

Workers are processes; each loads the graph, the NLP pipeline and the models
once (about 1 GB of memory each on the full graph), so size WORKERS to memory
first and cores second. The app is not preloaded: every worker builds its own,
since the SQLite connection and torch state must not cross a fork.
"""

import os

# Loopback unless told otherwise: the container image sets CDSS_BIND=0.0.0.0:8000, where the port is published
# on purpose; on a host, exposing the API to the network is a choice made with CDSS_BIND.
bind = os.environ.get("CDSS_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("CDSS_WORKERS", "2"))
# One request at a time per worker: the engine serialises store access anyway.
threads = 1
worker_class = "sync"
# A cold worker loads for up to a minute before /readyz turns true; requests never take that long.
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


def worker_exit(server, worker):
    services = worker.wsgi.extensions.get("cdss") if hasattr(worker, "wsgi") and worker.wsgi else None
    if services is not None:
        services.close()
