"""Benchmark: 10,000 schemathesis-generated requests over every operation of the API; none may answer 500.

Builds the production app (as `api/wsgi.py` does) over a copy of the graph, with its own keys, audit log,
feedback and rate-limit databases in a temporary folder, so the records and feedback the run sends never
reach the real ones. Each operation of `/openapi.json` gets ceil(N / operations) examples, half fitting the
schema (positive) and half not (negative), derandomized by `--seed`; operations whose inputs run out early
(no parameters) leave their share to the others. Every request carries an admin key. The run never stops
at a failure: it counts each response by status and, apart, the responses that fail schemathesis's other
checks (status codes, content types, headers, schema conformance, accepting negative data).

Prints the requests sent, the counts by status and by operation, the 500s (the first of each operation, with
its request id and the innermost frame the server logged; never a body in full), the other check failures by
operation, the wall time and requests a second. Exits 1 when any request answered 500.

    python benchmarks/fuzz_api.py [--requests 10000] [--seed 0] [--store URL] [--fixture]
"""

from __future__ import annotations

import argparse
import logging
import math
import os
import secrets
import sqlite3
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

import schemathesis
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.core import NotSet
from schemathesis.core.failures import FailureGroup
from schemathesis.generation.modes import GenerationMode
from tqdm import tqdm

from api import create_app
from api.keys import KeyStore
from api.logs import configure_logging
from cdss.settings import load_settings
from kg.store_urls import sqlite_path

SHOWN_ERRORS = 5
SHOWN_CHARS = 120


@dataclass
class Tally:
    """What the run saw: statuses by operation, check failures by operation, and the 500s in order."""

    statuses: Counter[int] = field(default_factory=Counter)
    by_operation: dict[str, Counter[int]] = field(default_factory=lambda: defaultdict(Counter))
    failures: Counter[tuple[str, str, int]] = field(default_factory=Counter)
    """(operation, check title, status) of each failed check."""
    server_errors: list[tuple[str, str, str, str]] = field(default_factory=list)
    """(operation, mode, request id, a short description of the request) of each 500."""

    @property
    def sent(self) -> int:
        return self.statuses.total()


class AnsweredStatuses:
    """WSGI middleware counting every status the app answers, the checks' own re-sent requests included."""

    def __init__(self, app: Callable) -> None:
        self.app = app
        self.statuses: Counter[int] = Counter()

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        def counted(status: str, headers: list, *args):
            self.statuses[int(status.split(" ", 1)[0])] += 1
            return start_response(status, headers, *args)

        return self.app(environ, counted)


class ErrorLines(logging.Handler):
    """Keeps the server's ERROR lines (frames only, never a message that could quote the request)."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())

    def about(self, request_id: str) -> str:
        """The logged exception type and innermost frame for one request id, if it was logged."""
        line = next((line for line in self.lines if request_id and request_id in line), "")
        if not line:
            return "(nothing logged)"
        head, *frames = line.splitlines()
        where = [f.strip() for f in frames if f.strip().startswith("File ")]
        return f"{head.split(' [', 1)[0]}; innermost frame: {where[-1] if where else '(none)'}"


def copy_graph(source: Path, target: Path) -> None:
    """A consistent copy of an embedded graph through SQLite's backup API (the run writes records into it)."""
    if not source.is_file():
        raise SystemExit(f"no graph at {source}: run `cdss kg build` first, or pass --store or --fixture")
    reader = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    writer = sqlite3.connect(target)
    try:
        reader.backup(writer)
    finally:
        writer.close()
        reader.close()


def isolated_environment(folder: Path, store: str | None, fixture: bool) -> dict[str, str]:
    """The CDSS_* variables that point every database the run writes to into `folder`."""
    graph = folder / "graph.sqlite"
    if fixture:
        sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
        from tests.ranking_graph import write_ranking_graph

        write_ranking_graph(graph)
        data = {"CDSS_DATA_DIR": str(folder / "data")}
    else:
        copy_graph(sqlite_path(store or load_settings().store), graph)
        data = {}  # the real data folder: the NLP pipeline cache, the NER and link models are read from it
    return {
        **data,
        "CDSS_STORE": str(graph),
        "CDSS_API_KEYS": str(folder / "api_keys.sqlite"),
        "CDSS_AUDIT_LOG": str(folder / "audit.jsonl"),
        "CDSS_FEEDBACK_DB": str(folder / "feedback.sqlite"),
        "CDSS_RATE_LIMITS_DB": str(folder / "rate_limits.sqlite"),
        "CDSS_RATE_LIMIT": str(10**9),
        "CDSS_LEARNED_DIR": str(folder / "learned"),
        "CDSS_DATA_KEY_FILE": str(folder / "data-keys.json"),
        "CDSS_RECORD_ID_KEY": secrets.token_hex(32),
    }


def build_app(folder: Path, store: str | None, fixture: bool, log: TextIO, errors: ErrorLines):
    """(app, admin token): the production wiring of `api/wsgi.py` over the isolated environment; the server
    logs to `log` (the bar owns the terminal) and its ERROR lines are kept in `errors`."""
    os.environ.update(isolated_environment(folder, store, fixture))
    config = load_settings()
    configure_logging(config.log_level, stream=log)
    logging.getLogger().addHandler(errors)
    started = time.perf_counter()
    app = create_app(config, background=False)
    services = app.extensions["cdss"]
    if services.engine is None:
        raise SystemExit(f"the API did not load: {services.error}")
    print(f"loaded the API over {config.store} in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    _, token = KeyStore(config.api_keys).create("fuzz benchmark", ["admin"])
    return app, token


def describe(case) -> str:
    """The request in one short line: method, path (cut short), the body's and query's keys, not their values."""
    path = case.formatted_path
    path = path if len(path) <= SHOWN_CHARS else path[:SHOWN_CHARS] + "..."
    body = case.body
    if isinstance(body, dict):
        shape = f"a JSON object with keys {sorted(map(str, body))[:8]}"
    elif body is None or isinstance(body, NotSet):
        shape = "no body"
    else:
        shape = f"a {type(body).__name__} body"
    query = f" and query keys {sorted(map(str, case.query))[:8]}" if case.query else ""
    return f"{case.method} {path} with {shape}{query}"


def send(case, mode: str, headers: dict[str, str], tally: Tally, bar: tqdm) -> None:
    """One request, counted by status; a failed check is counted, never raised."""
    response = case.call(headers=headers)
    label = case.operation.label
    tally.statuses[response.status_code] += 1
    tally.by_operation[label][response.status_code] += 1
    bar.update(1)
    if response.status_code == 500:
        request_id = (response.headers.get("x-request-id") or [""])[0]
        tally.server_errors.append((label, mode, request_id, describe(case)))
    try:
        case.validate_response(response, headers=headers, excluded_checks=[not_a_server_error])
    except FailureGroup as group:
        for failure in group.exceptions:
            tally.failures[label, failure.title, response.status_code] += 1


def run_operation(operation, mode: GenerationMode, examples: int, start: int, context: tuple) -> None:
    """Up to `examples` cases of one operation in one mode; fewer when its inputs run out."""
    if examples <= 0:
        return
    headers, tally, bar = context

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @seed(start)
    def check(case) -> None:
        send(case, mode.value, headers, tally, bar)

    with suppress(Unsatisfiable):  # nothing to make negative (an operation without parameters or a body)
        check()


def fuzz(schema, target: int, start: int, headers: dict[str, str], tally: Tally, bar: tqdm) -> None:
    """At least `target` requests over every operation, in passes: an operation that ran out of inputs
    before its share leaves the shortfall to those that did not."""
    operations = [result.ok() for result in schema.get_all_operations()]
    passes = 0
    while operations and tally.sent < target:
        share = math.ceil((target - tally.sent) / len(operations))
        full = []
        for operation in operations:
            before = sum(tally.by_operation[operation.label].values())
            negative = share // 2
            for mode, examples in ((GenerationMode.POSITIVE, share - negative), (GenerationMode.NEGATIVE, negative)):
                run_operation(operation, mode, examples, start + passes, (headers, tally, bar))
            if sum(tally.by_operation[operation.label].values()) - before >= share:
                full.append(operation)
        operations, passes = full, passes + 1


def report(tally: Tally, answered: Counter[int], errors: ErrorLines, seconds: float) -> None:
    statuses = ", ".join(f"{status}: {count:,}" for status, count in sorted(tally.statuses.items()))
    print(f"requests: {tally.sent:,} generated over {len(tally.by_operation)} operations ({statuses})")
    extra = answered.total() - tally.sent
    print(f"responses the app gave in all, the checks' own requests included: {answered.total():,} (+{extra:,})")
    for label, counts in sorted(tally.by_operation.items()):
        print(f"  {label:<36} {counts.total():>6,}  " + " ".join(f"{s}:{n}" for s, n in sorted(counts.items())))
    print(f"check failures other than 500 (by operation and check): {tally.failures.total():,}")
    for (label, title, status), count in sorted(tally.failures.items()):
        print(f"  {label:<36} {count:>6,}  {title} (answered {status})")
    other = answered[500] - len(tally.server_errors)
    print(f"500s: {answered[500]:,} ({len(tally.server_errors):,} to generated requests, {other:,} to the checks')")
    first = {error[0]: error for error in reversed(tally.server_errors)}  # the first of each operation
    for label, mode, request_id, what in sorted(first.values(), key=tally.server_errors.index)[:SHOWN_ERRORS]:
        print(f"  {label} ({mode}) [{request_id}]: {what}\n    {errors.about(request_id)}")
    print(f"wall time: {seconds:.1f} s, {tally.sent / seconds:.1f} requests/s (generation, call and checks)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=10_000, help="generated requests, at least (default 10000)")
    parser.add_argument("--seed", type=int, default=0, help="hypothesis seed; the same seed sends the same requests")
    parser.add_argument("--store", help="graph store URL or path to copy (default: CDSS_STORE)")
    parser.add_argument("--fixture", action="store_true", help="the tests' small ranking graph, for a quick run")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="cdss-fuzz-"))
    errors = ErrorLines()
    log = (folder / "api.log").open("w", encoding="utf-8")
    app, token = build_app(folder, args.store, args.fixture, log, errors)
    answered = AnsweredStatuses(app.wsgi_app)
    app.wsgi_app = answered
    schema = schemathesis.openapi.from_wsgi("/openapi.json", app)
    headers = {"Authorization": f"Bearer {token}", "X-API-Key": token}
    schema.config.update(headers=headers)  # known credentials, sent instead of generated ones
    # A request can fit the schema and still be unusable (unknown concepts, nothing to rank): that is a 422.
    acceptance = schema.config.checks.positive_data_acceptance
    acceptance.expected_statuses = [*acceptance.expected_statuses, "422"]
    # Negative data past a length limit (a note over 200,000 characters, escaped) can be a body over 1 MB: a 413.
    rejection = schema.config.checks.negative_data_rejection
    rejection.expected_statuses = [*rejection.expected_statuses, "413"]
    tally = Tally()
    shown = load_settings().progress
    started = time.perf_counter()
    with tqdm(total=args.requests, desc="fuzz", unit="req", disable=None if shown is None else not shown) as bar:
        fuzz(schema, args.requests, args.seed, headers, tally, bar)
    report(tally, answered.statuses, errors, time.perf_counter() - started)
    app.extensions["cdss"].close()
    log.close()
    for copy in folder.glob("graph.sqlite*"):  # the graph copy is hundreds of MB; the small files stay
        copy.unlink()
    print(f"server log: {folder / 'api.log'}")
    sys.exit(1 if answered.statuses[500] else 0)


if __name__ == "__main__":
    main()
