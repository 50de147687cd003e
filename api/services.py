"""The API's lifecycle: one `Services` per worker process, loaded once (what it answers is `runtime.answers`).

The graph, the ranking engine and the NLP pipeline load in a background
thread, so `/healthz` answers at once and `/readyz` says when the rest is up.
The embedded store holds one SQLite connection, so calls that touch it are
serialised per process; gunicorn workers give parallelism.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

from api.audit import AuditLog
from api.keys import KeyStore
from api.limits import open_limiter
from cdss.errors import CdssError, NotReadyError, StoreBusyError, StoreError
from cdss.record_ids import record_id_key
from cdss.sealing import load_keyring
from cdss.settings import Settings
from kg.store import GraphStore
from learning.feedback_store import FeedbackStore
from ranking import Engine
from runtime import open_graph

log = logging.getLogger(__name__)

RETRY_SECONDS = 5.0
BUSY_RETRY_SECONDS = 120.0
"""How long a load keeps trying a graph that a writer holds locked."""
BUSY_PAUSE_SECONDS = 2.0
STORE_GONE = "store_error: the graph store does not answer"
STORE_REPLACED = (
    "store_error: the graph file was replaced or removed since this worker opened it; restart the workers to "
    "serve the new graph"
)
AUDIT_UNWRITABLE = "audit_unwritable: the audit log cannot be written; /v1 calls are refused until it can"
_PATH = re.compile(r"(?:[a-z][a-z0-9+]*://)?(?:/[^\s/'\"]+)+/([^\s/'\"]+)")


def without_paths(message: str | None) -> str | None:
    """`message` with each absolute path cut to its last part, for bodies that need no key."""
    return _PATH.sub(r"\1", message) if message else message


class Services:
    def __init__(
        self,
        settings: Settings,
        *,
        store: GraphStore | None = None,
        engine=None,
        image_models: Mapping[str, object] | None = None,
    ) -> None:
        """`store`, `engine` and `image_models` may be given (tests); otherwise `load` reads them."""
        self.settings = settings
        self.image_models: Mapping[str, object] = image_models or {}
        self.keys = KeyStore(settings.api_keys)
        self.limiter = open_limiter(settings)
        self.audit = AuditLog(
            settings.audit_log,
            key=record_id_key(settings),
            max_bytes=settings.audit_max_bytes,
            keep=settings.audit_keep,
        )
        self.feedback = FeedbackStore(settings.feedback_db, keyring=load_keyring(settings.data_key_file))
        self.store = store
        self.engine = engine
        self.error: str | None = None
        self._lock = threading.RLock()
        self._loaded = threading.Event()
        if engine is not None:
            self._loaded.set()

    def load(self, *, retry_seconds: float | None = None) -> None:
        """Open the graph and load the engine (and the NLP pipeline); a failure is kept for `/readyz`.

        With `retry_seconds`, an unreachable or unbuilt graph is tried again until it answers
        (a server store such as Neo4j may start after the API).
        """
        started = time.perf_counter()
        while True:
            try:
                self._load_once()
                self.error = None
                log.info("API services ready in %.1f s", time.perf_counter() - started)
                break
            except StoreBusyError as error:
                # A writer (an ingest, a rebuild's swap) holds the graph: wait in the load, which in a gunicorn
                # worker happens before it takes a connection, instead of serving 503s until a retry.
                self.error = f"{error.code}: {error}"
                if time.perf_counter() - started > BUSY_RETRY_SECONDS:
                    log.error("API services failed to load: %s", self.error)
                    if retry_seconds is None:
                        break
                else:
                    log.warning("the graph is locked by a writer; loading again in %.0f s", BUSY_PAUSE_SECONDS)
                    time.sleep(BUSY_PAUSE_SECONDS)
                    continue
            except CdssError as error:
                self.error = f"{error.code}: {error}"
                log.error("API services failed to load: %s", self.error)
                if retry_seconds is None or not isinstance(error, StoreError | NotReadyError):
                    break
            except Exception as error:  # a loader that dies silently would leave the worker unready forever
                self.error = f"internal_error: {type(error).__name__} while loading; see the server log"
                log.exception("API services failed to load")
                break
            if retry_seconds is not None:
                self._loaded.set()
                time.sleep(retry_seconds)
        self._loaded.set()

    def _load_once(self) -> None:
        from runtime import load_engine, load_image_models

        if self.store is None:
            self.store = open_graph(self.settings)
        if not self.store.graph_version:
            raise NotReadyError(f"no graph at {self.store.location}: run `cdss kg build` first")
        self.engine = load_engine(self.store, self.settings, with_nlp=self.settings.api_nlp)
        self.image_models = load_image_models(self.settings)

    def start(self, *, background: bool = True) -> None:
        if background:
            thread = threading.Thread(target=self.load, kwargs={"retry_seconds": RETRY_SECONDS}, daemon=True)
            thread.start()
        else:
            self.load()

    def wait(self, timeout: float | None = None) -> bool:
        return self._loaded.wait(timeout)

    def close(self) -> None:
        if self.store is not None:
            self.store.close()
        self.keys.close()
        self.feedback.close()
        self.limiter.close()

    # --- readiness -------------------------------------------------------------------------------------------

    def readiness(self) -> dict:
        """What `/readyz` says: the parts loaded, the store readable, the audit log writable, the rate limiter
        reachable, and why not if not (without file paths: the endpoint needs no key)."""
        engine = self.engine
        nlp = None if not self.settings.api_nlp else engine is not None and engine.reader is not None
        try:
            reachable = self.store is not None and self.store.ping()
            version = self.store.graph_version if reachable else None
        except CdssError as error:
            reachable, version = False, None
            self.error = f"{error.code}: {error}"
        audit = self.audit.writable()
        limiter = self.limiter.unavailable()
        if engine is not None and not reachable:
            unreadable = self.error is not None and "cannot be" in self.error
            self.error = STORE_REPLACED if self.store.replaced() else self.error if unreadable else STORE_GONE
        elif engine is not None and version != engine.knowledge.graph_version:
            # A rebuild in place (Neo4j) or underneath: answers would mix two graphs until this worker reloads.
            self.error = (
                f"store_error: the graph is now version {version or 'none'}, not the loaded "
                f"{engine.knowledge.graph_version}; restart the workers once the build is done"
            )
        elif engine is not None:
            self.error = None
        error = self.error or (None if audit else AUDIT_UNWRITABLE) or limiter
        ready = engine is not None and reachable and nlp is not False and error is None
        return {
            "ready": ready,
            "graph": reachable and engine is not None,
            "engine": engine is not None,
            "nlp": nlp,
            "audit": audit,
            "error": without_paths(error),
        }

    @contextmanager
    def engine_in_use(self) -> Iterator[Engine]:
        """The loaded engine, held by this worker's lock while the caller answers (the embedded store has one
        connection); not ready yet is a NotReadyError that says why."""
        engine = self.engine
        if engine is None:
            raise NotReadyError(self.error or "the graph and models are still loading; see /readyz")
        with self._lock:
            yield engine

    @property
    def versions(self) -> dict:
        return self.engine.versions if self.engine is not None else {}
