"""The production server on loopback, for the drills, the load benchmark and the proxy tests.

`serving()` starts gunicorn with `gunicorn.conf.py` on a graph, with its own throw-away key database,
audit log, feedback and rate-limit databases, and, when asked, nginx in front of it with the
deployment's own configuration (`deploy/nginx/cdss.conf.template`), rendered the way the nginx image
renders it. It waits until `/readyz` answers 200 through the port clients use.
"""

from __future__ import annotations

import grp
import http.client
import os
import pwd
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from api.keys import KeyStore

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "deploy" / "nginx" / "cdss.conf.template"
_VARIABLE = re.compile(r"\$\{(CDSS_[A-Z_]+)\}")


@dataclass(frozen=True)
class Served:
    """A running server: clients use `port` (nginx's when proxied, else gunicorn's `upstream_port`); `master` is
    gunicorn's master process."""

    port: int
    upstream_port: int
    master: subprocess.Popen
    token: str
    folder: Path
    access_log: Path | None


def render(template: str, values: Mapping[str, str]) -> str:
    """The template with each ${CDSS_...} replaced, as the nginx image's envsubst step does; nginx's own
    $variables are left alone. A variable without a value is an error that names it."""
    missing = sorted({name for name in _VARIABLE.findall(template) if name not in values})
    if missing:
        raise KeyError(f"no value for {', '.join(missing)} in {TEMPLATE.name}")
    return _VARIABLE.sub(lambda match: values[match[1]], template)


def nginx_config(folder: Path, *, listen_port: int, upstream_port: int) -> Path:
    """Write the deployment's server block and a main file around it into `folder`; returns the main file.

    The main file holds what the nginx image's own nginx.conf holds: where the pid, error log and temporary
    files go. Run as root, workers drop to nobody, as in the image."""
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o755)
    server = render(
        TEMPLATE.read_text(encoding="utf-8"),
        {
            "CDSS_UPSTREAM": f"127.0.0.1:{upstream_port}",
            "CDSS_PROXY_LISTEN": f"127.0.0.1:{listen_port}",
            "CDSS_PROXY_ACCESS_LOG": str(folder / "access.log"),
        },
    )
    (folder / "cdss.conf").write_text(server, encoding="utf-8")
    user = ""
    if os.geteuid() == 0:
        nobody = pwd.getpwnam("nobody")
        user = f"user nobody {grp.getgrgid(nobody.pw_gid).gr_name};\n"
    temp = " ".join(
        f"{kind}_temp_path {folder / kind};" for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    main = (
        f"{user}daemon off;\nworker_processes 1;\npid {folder / 'nginx.pid'};\nerror_log {folder / 'error.log'} warn;\n"
        f"events {{ worker_connections 1024; }}\nhttp {{\n{temp}\ninclude {folder / 'cdss.conf'};\n}}\n"
    )
    path = folder / "nginx.conf"
    path.write_text(main, encoding="utf-8")
    return path


def nginx_binary() -> str | None:
    """nginx on PATH or in /usr/sbin (Debian's package puts it there, outside a normal user's PATH)."""
    return shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/usr/local/sbin")


def wait_ready(port: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            connection.request("GET", "/readyz")
            if connection.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(1)
    raise SystemExit(f"the API was not ready on port {port} after {timeout:.0f} s")


@contextmanager
def serving(
    *,
    store: str,
    workers: int = 2,
    port: int = 8766,
    proxy_port: int | None = None,
    scopes: Sequence[str] = ("read",),
    env: Mapping[str, str] | None = None,
    ready_timeout: float = 600,
) -> Iterator[Served]:
    """gunicorn on `port`, and nginx on `proxy_port` in front of it when that is given; both stopped after."""
    folder = Path(tempfile.mkdtemp(prefix="cdss-served-"))
    _, token = KeyStore(folder / "keys.sqlite").create("served", list(scopes))
    server_env = {
        **os.environ,
        "CDSS_STORE": store,
        "CDSS_DATA_DIR": os.environ.get("CDSS_DATA_DIR", str(folder / "data")),
        "CDSS_API_KEYS": str(folder / "keys.sqlite"),
        "CDSS_AUDIT_LOG": str(folder / "audit.jsonl"),
        "CDSS_FEEDBACK_DB": str(folder / "feedback.sqlite"),
        "CDSS_RATE_LIMITS_DB": str(folder / "rate_limits.sqlite"),
        "CDSS_RATE_LIMIT": "1000000",
        "CDSS_BIND": f"127.0.0.1:{port}",
        "CDSS_WORKERS": str(workers),
        "CDSS_LOG_LEVEL": "WARNING",
        **(env or {}),
    }
    command = [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "gunicorn.conf.py"), "api.wsgi:app"]
    master = subprocess.Popen(command, env=server_env, cwd=ROOT)
    proxy = None
    try:
        if proxy_port is not None:
            binary = nginx_binary()
            if binary is None:
                raise SystemExit("nginx is not installed (Debian: apt-get install nginx-light)")
            config = nginx_config(folder / "nginx", listen_port=proxy_port, upstream_port=port)
            proxy = subprocess.Popen([binary, "-p", str(config.parent), "-c", str(config)])
        client_port = port if proxy_port is None else proxy_port
        wait_ready(client_port, ready_timeout)
        yield Served(
            port=client_port,
            upstream_port=port,
            master=master,
            token=token,
            folder=folder,
            access_log=None if proxy is None else folder / "nginx" / "access.log",
        )
    finally:
        for process in (proxy, master):
            if process is not None:
                process.terminate()
                process.wait(timeout=60)
        shutil.rmtree(folder, ignore_errors=True)
