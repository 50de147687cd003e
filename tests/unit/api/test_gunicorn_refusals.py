"""Requests gunicorn itself refuses, sent straight to a worker: the API's JSON error shape and headers, and no
echo of what was sent (api/gunicorn_worker.py)."""

from __future__ import annotations

import json
import socket

import pytest
from gunicorn.http import errors

from api.gunicorn_worker import refusal
from tests.served_graph import serving_ranking_graph


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    with serving_ranking_graph(tmp_path_factory.mktemp("direct"), workers=1) as s:
        yield s


def _answer(port: int, raw: bytes) -> tuple[int, dict, bytes]:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(raw)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    return int(lines[0].split(" ")[1]), headers, body


@pytest.mark.parametrize(
    ("raw", "status", "code"),
    [
        (b"GARBAGE /v1/findings?q=secretterm\r\n\r\n", 400, "bad_request"),
        (b"GET /v1/findings?q=" + b"a" * 5000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 414, "uri_too_long"),
        (b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"b" * 9000 + b"\r\n\r\n", 431, "header_too_large"),
        (b"GET / HTTP/1.1\r\nHost: x\r\nBad Header: secretterm\r\n\r\n", 400, "bad_request"),
    ],
    ids=["malformed", "long-uri", "huge-header", "bad-header-name"],
)
def test_gunicorns_own_refusals_are_json_with_the_api_headers(served, raw, status, code):
    got, headers, body = _answer(served.upstream_port, raw)
    assert got == status
    assert headers["content-type"] == "application/json"
    assert (headers["x-content-type-options"], headers["cache-control"]) == ("nosniff", "no-store")
    error = json.loads(body)["error"]
    assert (error["code"], error["status"], error["request_id"]) == (code, status, headers["x-request-id"])
    assert b"secretterm" not in body


def test_the_application_s_own_faults_are_left_to_gunicorn():
    assert refusal(errors.InvalidResponseHeader("X-Bad", "value")) is None
    assert refusal(errors.ConfigurationProblem("forwarded-allow-ips")) is None
    assert refusal(RuntimeError("boom")) is None
    assert refusal(errors.InvalidRequestLine("GET /?q=secret")) == (
        400,
        "Bad Request",
        "bad_request",
        "the request is malformed and cannot be read",
    )
