"""Every failure becomes a JSON error body; no HTML page and no traceback reaches a client.

Logs carry the error's code, the route and a request id, never the request
body or the exception's message (which may quote what the client sent).
"""

from __future__ import annotations

import logging
import traceback

from flask import Flask, Response, g, request
from werkzeug.exceptions import HTTPException

from api.operations import JSON, ValidationFailed
from cdss.errors import (
    AuthError,
    CdssError,
    ConfigError,
    ForbiddenError,
    InputError,
    InvalidCurieError,
    NotFoundError,
    NotReadyError,
    RateLimitedError,
    StoreError,
)

log = logging.getLogger("api")

STATUS: list[tuple[type[CdssError], int]] = [
    (ForbiddenError, 403),
    (AuthError, 401),
    (RateLimitedError, 429),
    (InputError, 422),
    (InvalidCurieError, 422),
    (NotFoundError, 404),
    (NotReadyError, 503),
    (StoreError, 503),
    (ConfigError, 503),
]
HTTP_CODES = {
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    415: "unsupported_media_type",
    400: "bad_request",
}


def error_response(status: int, code: str, message: str, details: list | None = None) -> Response:
    import json

    body = {"code": code, "message": message, "status": status, "request_id": g.get("request_id", "")}
    if details:
        body["details"] = details
    return Response(json.dumps({"error": body}), status=status, mimetype=JSON)


def _route() -> str:
    return request.url_rule.rule if request.url_rule is not None else "(no route)"


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> Response:
        status = error.code or 500
        code = HTTP_CODES.get(status, (error.name or "error").lower().replace(" ", "_"))
        response = error_response(status, code, error.description or error.name)
        if status == 405 and error.valid_methods:
            response.headers["Allow"] = ", ".join(error.valid_methods)
        return response

    @app.errorhandler(CdssError)
    def cdss_error(error: CdssError) -> Response:
        status = next((s for kind, s in STATUS if isinstance(error, kind)), 500)
        details = error.details if isinstance(error, ValidationFailed) else None
        if status >= 500:
            log.error("%s %s -> %d %s [%s]", request.method, _route(), status, error.code, g.get("request_id"))
        response = error_response(status, error.code, str(error), details)
        if isinstance(error, RateLimitedError):
            response.headers["Retry-After"] = str(max(1, round(error.retry_after)))
        return response

    @app.errorhandler(Exception)
    def unexpected(error: Exception) -> Response:
        # Frames only: the exception's message may quote the request.
        frames = "".join(traceback.format_tb(error.__traceback__))
        log.error(
            "unhandled %s on %s %s [%s]\n%s",
            type(error).__name__,
            request.method,
            _route(),
            g.get("request_id"),
            frames,
        )
        return error_response(500, "internal_error", "internal error; quote the request id when reporting it")
