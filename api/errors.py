"""Every failure becomes a JSON error body; no HTML page and no traceback reaches a client.

Logs carry the error's code, the route and a request id, never the request
body or the exception's message (which may quote what the client sent).
"""

from __future__ import annotations

import json
import logging
import traceback

from flask import Flask, Response, current_app, g, request
from werkzeug.exceptions import HTTPException

from api.fhir_models import OperationOutcome
from api.operations import JSON, Operation, ValidationFailed
from cdss.errors import (
    AuthError,
    CdssError,
    ConfigError,
    CryptoError,
    FhirInputError,
    ForbiddenError,
    InputError,
    InvalidCurieError,
    NotFoundError,
    NotReadyError,
    PreconditionFailedError,
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
    (PreconditionFailedError, 412),
    (StoreError, 503),
    (ConfigError, 503),
    (CryptoError, 503),
]
HTTP_CODES = {
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    415: "unsupported_media_type",
    400: "bad_request",
}
ISSUE_TYPES = {
    400: "structure",
    401: "login",
    403: "forbidden",
    404: "not-found",
    405: "not-supported",
    412: "required",
    413: "too-long",
    415: "not-supported",
    422: "invalid",
    429: "throttled",
    503: "transient",
}
"""HTTP status -> FHIR issue-type code (hl7.org/fhir/R4/valueset-issue-type.html)."""
FHIR_JSON = "application/fhir+json"


def _operation() -> Operation | None:
    """The declared operation the failed request was for, when it matched one."""
    if request.url_rule is None:
        return None
    return getattr(current_app.view_functions.get(request.url_rule.endpoint), "operation", None)


def error_response(
    status: int, code: str, message: str, details: list | None = None, *, location: str | None = None
) -> Response:
    """The error as the operation declares its errors: our JSON error, or a FHIR OperationOutcome."""
    spec = _operation()
    if spec is not None and spec.errors is OperationOutcome:
        return _operation_outcome(status, code, message, details, location)
    body = {"code": code, "message": message, "status": status, "request_id": g.get("request_id", "")}
    if details:
        body["details"] = details
    return Response(json.dumps({"error": body}), status=status, mimetype=JSON)


def unaudited_response(status: int) -> Response:
    """The truthful answer when a call ran but its audit line could not be written: 503, saying whether the
    call itself succeeded (a write it made stays made)."""
    outcome = "was carried out" if status < 400 else f"failed ({status})"
    return error_response(
        503,
        "audit_failed",
        f"the call {outcome} but could not be written to the audit log; its answer is withheld, and the service "
        "refuses further calls until the audit log can be written",
    )


def _operation_outcome(status: int, code: str, message: str, details: list | None, location: str | None) -> Response:
    issue_type = ISSUE_TYPES.get(status, "processing" if status < 500 else "exception")
    issues = [
        {
            "severity": "error",
            "code": issue_type,
            "details": {"text": code},
            "diagnostics": d["message"],
            "expression": [".".join(map(str, d["location"]))],
        }
        for d in details or []
    ] or [
        {
            "severity": "error",
            "code": issue_type,
            "details": {"text": code},
            "diagnostics": message,
            **({"expression": [location]} if location else {}),
        }
    ]
    body = {"resourceType": "OperationOutcome", "id": g.get("request_id") or None, "issue": issues}
    return Response(json.dumps(body), status=status, mimetype=FHIR_JSON)


def _route() -> str:
    return request.url_rule.rule if request.url_rule is not None else "(no route)"


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> Response:
        status = error.code or 500
        code = HTTP_CODES.get(status, (error.name or "error").lower().replace(" ", "_"))
        message = error.description or error.name
        if status == 413:
            limit = current_app.config.get("MAX_CONTENT_LENGTH")
            message = f"the body is larger than the {limit:,} bytes this server accepts (CDSS_MAX_REQUEST_BYTES)"
        response = error_response(status, code, message)
        if status == 405 and error.valid_methods:
            response.headers["Allow"] = ", ".join(error.valid_methods)
        return response

    @app.errorhandler(CdssError)
    def cdss_error(error: CdssError) -> Response:
        status = next((s for kind, s in STATUS if isinstance(error, kind)), 500)
        details = error.details if isinstance(error, ValidationFailed) else None
        if status >= 500:
            log.error("%s %s -> %d %s [%s]", request.method, _route(), status, error.code, g.get("request_id"))
        location = error.location if isinstance(error, FhirInputError) else None
        response = error_response(status, error.code, str(error), details, location=location)
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
