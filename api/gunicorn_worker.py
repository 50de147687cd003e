"""gunicorn's sync worker, with its own refusals in the API's shape.

A request gunicorn cannot parse (a bad request line, a line or header over its limits, a broken chunk) never
reaches Flask: gunicorn answers it with an HTML page without the API's headers, and logs the offending text,
which may be a query string. This worker answers those in the API's JSON error shape with its headers, and logs
the status and the kind of fault only. Behind the proxy nginx refuses most such requests first; this covers a
worker reached directly (`cdss serve` behind nothing, a health check, a misrouted client).
"""

from __future__ import annotations

import json
import uuid

from gunicorn import util
from gunicorn.http import errors
from gunicorn.workers.sync import SyncWorker

REFUSALS: list[tuple[type[Exception], int, str, str, str]] = [
    (errors.LimitRequestLine, 414, "URI Too Long", "uri_too_long", "the request line is over the server's limit"),
    (
        errors.LimitRequestHeaders,
        431,
        "Request Header Fields Too Large",
        "header_too_large",
        "a header line, or the number of headers, is over the server's limit",
    ),
    (
        errors.UnsupportedTransferCoding,
        501,
        "Not Implemented",
        "unsupported_transfer_coding",
        "the transfer coding is not supported",
    ),
    (errors.ExpectationFailed, 417, "Expectation Failed", "expectation_failed", "the Expect header cannot be met"),
    (errors.ForbiddenProxyRequest, 403, "Forbidden", "forbidden", "the proxy header is not allowed from here"),
    (errors.ParseException, 400, "Bad Request", "bad_request", "the request is malformed and cannot be read"),
]
"""gunicorn's parse faults, most specific first: (fault, status, reason, code, message)."""
APPLICATION_FAULTS = (errors.InvalidResponseHeader, errors.InvalidResponseHeaderName, errors.ConfigurationProblem)


def refusal(exc: BaseException) -> tuple[int, str, str, str] | None:
    """(status, reason, code, message) for a request gunicorn could not parse; None for anything else (the
    application's fault, left to gunicorn)."""
    if isinstance(exc, APPLICATION_FAULTS):
        return None
    for fault, status, reason, code, message in REFUSALS:
        if isinstance(exc, fault):
            return status, reason, code, message
    return None


def error_answer(status: int, reason: str, code: str, message: str, *, request_id: str) -> bytes:
    """The whole HTTP answer: the API's error body and headers (api/errors.py, api/__init__.py), then close."""
    body = json.dumps(
        {"error": {"code": code, "status": status, "message": message, "request_id": request_id}}
    ).encode()
    head = (
        f"HTTP/1.1 {status} {reason}\r\nConnection: close\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\nX-Request-ID: {request_id}\r\nX-Content-Type-Options: nosniff\r\n"
        "Cache-Control: no-store\r\n\r\n"
    )
    return head.encode("latin-1") + body


class JsonRefusalWorker(SyncWorker):
    """`worker_class` in gunicorn.conf.py."""

    def handle_error(self, req, client, addr, exc):
        found = refusal(exc)
        if found is None:
            super().handle_error(req, client, addr, exc)
            return
        request_id = uuid.uuid4().hex
        self.log.warning(
            "refused a request that cannot be parsed: %s %s [%s]", found[0], type(exc).__name__, request_id
        )
        try:
            util.write_nonblock(client, error_answer(*found, request_id=request_id))
        except OSError:
            self.log.debug("the client left before its refusal was sent")
