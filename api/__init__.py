"""The Flask HTTP API over the ranking engine and the graph.

`create_app()` builds one application; each gunicorn worker calls it once,
so the graph and models load once per worker (see `gunicorn.conf.py`).
"""

from __future__ import annotations

import logging
import time
import uuid

from flask import Flask, Response, g, request

from api.errors import register_error_handlers, unaudited_response
from api.services import Services
from cdss.errors import NotReadyError
from cdss.settings import Settings, load_settings

log = logging.getLogger("api")


def _returned_ids(result: object) -> list[str]:
    """The concept ids an answer returned, for the audit log (never record text)."""
    if not isinstance(result, dict):
        return []
    ids = []
    for key, field in (("diagnoses", "id"), ("treatments", "drug"), ("results", "id"), ("related", "id")):
        ids += [item[field] for item in result.get(key, []) if isinstance(item, dict) and field in item]
    ids += result.get("record_ids", [])
    if isinstance(result.get("disease"), dict):
        ids.append(result["disease"].get("id"))
    return [i for i in ids if isinstance(i, str)]


def create_app(settings: Settings | None = None, *, services: Services | None = None, background: bool = True) -> Flask:
    """The application; `services` may be given (tests), else they load from the settings."""
    settings = settings or load_settings()
    app = Flask("cdss")
    app.config["MAX_CONTENT_LENGTH"] = settings.max_request_bytes
    app.json.sort_keys = False
    services = services or Services(settings)
    app.extensions["cdss"] = services

    from api.views import cds_hooks, concepts, feedback, fhir, images, recommendations, records, system, web

    for module in (recommendations, feedback, images, concepts, records, system, fhir, cds_hooks, web):
        app.register_blueprint(module.blueprint)
    register_error_handlers(app)

    @app.before_request
    def start() -> None:
        g.request_id = uuid.uuid4().hex
        g.started = time.perf_counter()
        if request.path.startswith("/v1") and not services.audit.writable():
            # Refused before anything runs, so no write is committed that the audit log would not show.
            raise NotReadyError("the audit log cannot be written; this call is refused until it can")

    @app.after_request
    def finish(response: Response) -> Response:
        response.headers["X-Request-ID"] = g.get("request_id", "")
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Cache-Control"] = "no-store"
        if "rate_remaining" in g:
            response.headers["X-RateLimit-Limit"] = str(settings.rate_limit)
            response.headers["X-RateLimit-Remaining"] = str(int(g.rate_remaining))
        origin = request.headers.get("Origin")
        if origin and origin in settings.cors_origins:
            response.headers["Access-Control-Allow-Origin"] = origin
            response.headers["Access-Control-Allow-Headers"] = "Authorization, X-API-Key, Content-Type"
            response.headers["Vary"] = "Origin"
        route = request.url_rule.rule if request.url_rule is not None else "(no route)"
        elapsed = (time.perf_counter() - g.get("started", time.perf_counter())) * 1000
        fields = {
            "request_id": g.get("request_id"),
            "method": request.method,
            "route": route,
            "status": response.status_code,
            "ms": round(elapsed, 1),
            "key_id": g.get("key_id"),
        }
        log.info(
            "%s %s %d %.1fms key=%s [%s]",
            *(fields[k] for k in ("method", "route", "status", "ms", "key_id", "request_id")),
            extra=fields,
        )
        if request.path.startswith("/v1"):
            try:
                services.audit.write(
                    key_id=g.get("key_id"),
                    endpoint=route,
                    method=request.method,
                    status=response.status_code,
                    body=g.get("body", b""),
                    versions=services.versions,
                    returned_ids=_returned_ids(g.get("result")),
                    request_id=g.get("request_id", ""),
                )
            except OSError as error:
                log.error("audit write failed (%s) for %s %s [%s]", error.strerror, request.method, route, g.request_id)
                return unaudited_response(response.status_code)
        return response

    if services.engine is None:
        services.start(background=background)
    return app
