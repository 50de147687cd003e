"""The API's log lines: one JSON object a line, the same under gunicorn as under `cdss serve`.

Every line has `time` (UTC, milliseconds), `level`, `logger` and `message`; a request's line also has
`request_id`, `method`, `route` (the template, such as `/v1/diseases/<curie>`, never the path's values),
`status`, `ms` and `key_id`. No line carries a query string, a body or an exception's message, which could
quote what a client sent; werkzeug's own access lines, which do, are kept below WARNING.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import TextIO

REQUEST_FIELDS = ("request_id", "method", "route", "status", "ms", "key_id")


class JsonLines(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        line.update({field: getattr(record, field) for field in REQUEST_FIELDS if hasattr(record, field)})
        if record.exc_info and record.exc_info[0] is not None:
            line["exception"] = record.exc_info[0].__name__
        return json.dumps(line, default=str)


def configure_logging(level: str, *, stream: TextIO | None = None) -> None:
    """Send every logger's lines, at `level` and above, to `stream` (standard error) as JSON lines."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonLines())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    logging.getLogger("werkzeug").setLevel(max(logging.WARNING, root.level))
