"""nginx in front of a real gunicorn, with the deployment's own configuration (deploy/nginx/cdss.conf.template).

Drills as tests: slow clients hold nginx connections, not workers; nginx's own refusals answer in the API's
error shape with the API's headers; its access log carries no path or query; a down API is a JSON 503.
Skipped when nginx is not installed (`make test` installs Debian's nginx-light when it can).
"""

from __future__ import annotations

import http.client
import json
import socket
import time

import pytest
from served import nginx_binary

from tests.served_graph import serving_ranking_graph

pytestmark = pytest.mark.skipif(nginx_binary() is None, reason="nginx is not installed (apt-get install nginx-light)")

FINDINGS = json.dumps({"findings": [{"id": "HP:0001945"}, {"id": "HP:0012735"}], "top_k": 3})


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    with serving_ranking_graph(tmp_path_factory.mktemp("proxied"), workers=1, proxy=True) as s:
        yield s


def call(port: int, method: str, path: str, *, body: str | None = None, token: str | None = None, timeout=5.0):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    headers = {"Content-Type": "application/json"} | ({"Authorization": f"Bearer {token}"} if token else {})
    connection.request(method, path, body=body, headers=headers)
    response = connection.getresponse()
    return response.status, dict(response.getheaders()), response.read()


def half_requests(port: int, count: int) -> list[socket.socket]:
    """Sockets that sent part of a request: half the headers, or the headers and part of a body."""
    sockets = []
    for n in range(count):
        sock = socket.create_connection(("127.0.0.1", port))
        head = b"POST /v1/recommendations HTTP/1.1\r\nHost: x\r\n"
        sock.sendall(head + (b"Content-Length: 1000\r\n\r\n{" if n % 2 else b"X-Slow: 1"))
        sockets.append(sock)
    return sockets


def test_slow_clients_hold_the_proxy_not_the_worker(served):
    upstream = served.upstream_port
    # Without the proxy, one half-sent request holds the only sync worker: the next caller waits.
    held = half_requests(upstream, 1)
    with pytest.raises(TimeoutError):
        call(upstream, "GET", "/healthz", timeout=2)
    held[0].close()
    time.sleep(0.5)
    slow = half_requests(served.port, 12)
    try:
        began = time.monotonic()
        assert call(served.port, "GET", "/healthz")[0] == 200
        status, _, body = call(served.port, "POST", "/v1/recommendations", body=FINDINGS, token=served.token)
        assert status == 200, body
        assert json.loads(body)["diagnoses"]
        assert time.monotonic() - began < 5
    finally:
        for sock in slow:
            sock.close()


def _length(answer: bytes) -> int:
    head = answer.partition(b"\r\n\r\n")[0].decode("latin-1").lower()
    return int(head.split("content-length:", 1)[1].split("\r\n", 1)[0]) if "content-length:" in head else 0


@pytest.mark.parametrize(
    ("raw", "status", "code"),
    [
        (b"GARBAGE\r\n\r\n", 400, "bad_request"),
        (b"GET /" + b"a" * 5000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 414, "uri_too_long"),
        (b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"b" * 5000 + b"\r\n\r\n", 400, "bad_request"),
        (b"POST /v1/records HTTP/1.1\r\nHost: x\r\nContent-Length: 18000000\r\n\r\n", 413, "payload_too_large"),
    ],
    ids=["malformed", "long-uri", "huge-header", "huge-body"],
)
def test_the_proxys_own_refusals_are_json_with_the_api_headers(served, raw, status, code):
    with socket.create_connection(("127.0.0.1", served.port), timeout=5) as sock:
        sock.sendall(raw)
        answer = b""
        # nginx may keep reading a refused body before it closes, so read one answer by its length.
        while b"\r\n\r\n" not in answer or len(answer.partition(b"\r\n\r\n")[2]) < _length(answer):
            answer += sock.recv(65536)
    head, _, body = answer.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    assert lines[0].split(" ")[1] == str(status)
    assert headers["content-type"] == "application/json"
    assert (headers["x-content-type-options"], headers["cache-control"]) == ("nosniff", "no-store")
    error = json.loads(body)["error"]
    assert (error["code"], error["status"]) == (code, status)
    assert "nginx" not in headers.get("server", "").split("/")[1:], "the version is not disclosed"


def test_api_answers_pass_through_with_one_copy_of_each_header(served):
    status, headers, _ = call(served.port, "GET", "/readyz")
    assert status == 200 and headers["X-Content-Type-Options"] == "nosniff" and headers["X-Request-ID"]
    connection = http.client.HTTPConnection("127.0.0.1", served.port, timeout=5)
    connection.request("GET", "/healthz")
    response = connection.getresponse()
    response.read()
    assert response.msg.get_all("X-Content-Type-Options") == ["nosniff"]
    assert response.msg.get_all("Cache-Control") == ["no-store"]


def test_the_access_log_has_no_path_or_query(served):
    call(served.port, "GET", "/v1/findings?q=secretterm", token=served.token)
    time.sleep(0.2)
    lines = served.access_log.read_text(encoding="utf-8").splitlines()
    assert lines and all("secretterm" not in line and "/v1/" not in line for line in lines)
    last = json.loads(lines[-1])
    assert {"time", "status", "method", "request_time", "request_id"} <= set(last)


def test_a_down_api_is_a_json_503_from_the_proxy(tmp_path):
    with serving_ranking_graph(tmp_path, workers=1, proxy=True) as s:
        s.master.terminate()
        s.master.wait(timeout=60)
        status, headers, body = call(s.port, "GET", "/readyz")
    assert (status, headers["Retry-After"], headers["Content-Type"]) == (503, "5", "application/json")
    assert json.loads(body)["error"]["code"] == "not_ready"
