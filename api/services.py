"""What the API does, apart from HTTP: one `Services` per worker process, loaded once.

The graph, the ranking engine and the NLP pipeline load in a background
thread, so `/healthz` answers at once and `/readyz` says when the rest is up.
The embedded store holds one SQLite connection, so calls that touch it are
serialised per process; gunicorn workers give parallelism.
"""

from __future__ import annotations

import logging
import threading
import time

from api.audit import AuditLog
from api.keys import KeyStore
from api.limits import RateLimiter
from api.models import RecommendationRequest, RecordsRequest, SearchQuery
from cdss.errors import CdssError, InputError, InvalidCurieError, NotFoundError, NotReadyError, StoreError
from cdss.record_ids import hashed_record_id, record_id_key
from cdss.settings import Settings
from cdss.types import Concept, Edge, EdgeType, NodeLabel
from kg.lookup import describe, resolve
from kg.store import GraphStore
from ranking.case import Case, ImageFinding, StatedFinding, checked, stated
from runtime import open_graph

log = logging.getLogger(__name__)

MAX_LISTED_EDGES = 500
RETRY_SECONDS = 5.0


def _concept(concept: Concept) -> dict:
    return {
        "id": concept.id,
        "label": str(concept.label),
        "name": concept.name,
        "synonyms": list(concept.synonyms),
        "xrefs": list(concept.xrefs),
        "sources": list(concept.sources),
    }


def case_from_request(body: RecommendationRequest) -> Case:
    """The engine's `Case`, built from fields the request model has already checked (CURIEs are normalised
    and the cross-field rule applied here, once)."""

    def findings(status: str) -> tuple[StatedFinding, ...]:
        return tuple(
            stated(f.id, f.confidence, f"findings[{i}].id") for i, f in enumerate(body.findings) if f.status == status
        )

    return checked(
        Case(
            present=findings("present"),
            absent=findings("absent"),
            text=body.text,
            image_findings=tuple(ImageFinding(i.label.strip(), i.probability, i.model) for i in body.image_findings),
            medications=tuple(m.strip() for m in body.medications),
            age=None if body.age is None else float(body.age),
            sex=body.sex,
            setting=body.setting,
        )
    )


class Services:
    def __init__(self, settings: Settings, *, store: GraphStore | None = None, engine=None) -> None:
        self.settings = settings
        self.keys = KeyStore(settings.api_keys)
        self.limiter = RateLimiter(settings.rate_limit)
        self.audit = AuditLog(settings.audit_log, key=record_id_key(settings))
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
        from runtime import load_engine

        if self.store is None:
            self.store = open_graph(self.settings)
        if not self.store.graph_version:
            raise NotReadyError(f"no graph at {self.store.location}: run `cdss kg build` first")
        self.engine = load_engine(self.store, self.settings, with_nlp=self.settings.api_nlp)

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

    # --- readiness -------------------------------------------------------------------------------------------

    def readiness(self) -> dict:
        engine = self.engine
        nlp = None if not self.settings.api_nlp else engine is not None and engine.reader is not None
        reachable = self.store is not None and self.store.ping()
        if engine is not None and not reachable:
            self.error = f"store_error: the graph store at {self.store.location} does not answer"
        elif engine is not None and self.store.graph_version != engine.knowledge.graph_version:
            # A rebuild in place (Neo4j) or underneath: answers would mix two graphs until this worker reloads.
            self.error = (
                f"store_error: the graph at {self.store.location} is now version {self.store.graph_version or 'none'}"
                f", not the loaded {engine.knowledge.graph_version}; restart the workers once the build is done"
            )
        elif engine is not None:
            self.error = None
        ready = engine is not None and reachable and nlp is not False and self.error is None
        return {
            "ready": ready,
            "graph": reachable and engine is not None,
            "engine": engine is not None,
            "nlp": nlp,
            "error": self.error,
        }

    def _engine(self):
        if self.engine is None:
            raise NotReadyError(self.error or "the graph and models are still loading; see /readyz")
        return self.engine

    @property
    def versions(self) -> dict:
        return self.engine.versions if self.engine is not None else {}

    # --- operations ------------------------------------------------------------------------------------------

    def recommend(self, body: RecommendationRequest) -> dict:
        engine = self._engine()
        if body.text is not None and engine.reader is None:
            raise NotReadyError("this server runs without the NLP pipeline (CDSS_API_NLP=0); send findings instead")
        case = case_from_request(body)
        with self._lock:
            result = engine.rank(case, top_k=body.top_k).to_dict()
        result.pop("id", None)
        return result

    def search(self, label: NodeLabel, query: SearchQuery) -> dict:
        engine = self._engine()
        text = query.q.strip()
        if not text:
            raise InputError("q must contain more than spaces")
        with self._lock:
            found: list[Concept] = []
            if ":" in text and " " not in text:
                try:
                    found = [c for c, _ in resolve(engine.store, text) if c.label == label]
                except (NotFoundError, InputError, InvalidCurieError):
                    found = []
            seen = {c.id for c in found}
            found += [c for c in engine.store.search(text, label=label, limit=query.limit) if c.id not in seen]
        return {"query": text, "results": [_concept(c) for c in found[: query.limit]]}

    def disease(self, curie: str) -> dict:
        with self._lock:
            views = describe(
                self._engine().store,
                curie,
                label=NodeLabel.DISEASE,
                outgoing_types=[EdgeType.HAS_FINDING, EdgeType.EXCLUDES_FINDING, EdgeType.IS_A],
                incoming_types=[EdgeType.TREATS, EdgeType.PALLIATES, EdgeType.CONTRAINDICATED_FOR],
            )
        if not views:
            raise NotFoundError(f"{curie!r} is not a disease in the graph")
        view = views[0]
        disease = view.concept

        def listed(edges: list[Edge], types: set[EdgeType], other: str) -> list[dict]:
            rows = []
            for edge in edges:
                if edge.type not in types:
                    continue
                node = getattr(edge, other)
                rows.append(
                    {
                        "type": str(edge.type),
                        "id": node,
                        "name": view.neighbours[node].name if node in view.neighbours else node,
                        "properties": dict(edge.attributes),
                        "source": edge.provenance.source,
                        "source_version": edge.provenance.version,
                        "license": edge.provenance.license,
                    }
                )
            return sorted(rows, key=lambda r: (r["name"].casefold(), r["id"], r["source"]))[:MAX_LISTED_EDGES]

        out, incoming = view.outgoing, view.incoming
        return {
            "disease": _concept(disease),
            "codes": [disease.id, *disease.xrefs],
            "findings": listed(out, {EdgeType.HAS_FINDING}, "end"),
            "excluded_findings": listed(out, {EdgeType.EXCLUDES_FINDING}, "end"),
            "treatments": listed(incoming, {EdgeType.TREATS, EdgeType.PALLIATES}, "start"),
            "contraindicated": listed(incoming, {EdgeType.CONTRAINDICATED_FOR}, "start"),
            "parents": listed(out, {EdgeType.IS_A}, "end"),
            "graph_version": self._engine().store.graph_version,
        }

    def related(self, curie: str, limit: int) -> dict:
        engine = self._engine()
        with self._lock:
            return engine.related(curie, limit=limit)

    def ingest(self, body: RecordsRequest) -> dict:
        from nlp.records import RecordInput
        from runtime import load_ingester

        engine = self._engine()
        if engine.reader is None:
            raise NotReadyError("this server runs without the NLP pipeline (CDSS_API_NLP=0); it cannot ingest text")
        ids = [r.id for r in body.records]
        if len(set(ids)) != len(ids):
            raise InputError("record ids must be unique within one request")
        key = record_id_key(self.settings)
        ingester = load_ingester(engine.store, self.settings, engine.reader.pipeline)
        with self._lock:
            report = ingester.ingest((RecordInput(r.id, r.text) for r in body.records), show_progress=False)
        return {
            "records": report.records,
            "new": report.new,
            "replaced": report.replaced,
            "mentions": report.mentions,
            "record_ids": [hashed_record_id(i, key) for i in ids],
            "graph_version": engine.store.graph_version,
        }

    def stats(self) -> dict:
        engine = self._engine()
        with self._lock:
            return engine.store.stats().to_dict()

    def models(self) -> dict:
        engine = self._engine()
        scorer = engine.link_scorer
        link = None
        if scorer is not None:
            metrics = getattr(scorer, "metrics", {}) or {}
            link = {"version": scorer.version, "training": metrics.get("training")}
        nlp = None
        if engine.reader is not None:
            nlp = {"version": engine.reader.version, "components": engine.reader.components}
        return {"versions": engine.versions, "link_model": link, "nlp_pipeline": nlp}
