"""Structured JSON logs with the request id (LOG-1, LOG-3).

Only whitelisted fields reach the output: a stray `extra=` with patient text cannot leak,
and one JSON object per line means user text can never forge a log line.
"""
from __future__ import annotations

import contextvars
import datetime as dt
import json
import logging
import sys

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)
SAFE_FIELDS = ("method", "route", "status", "duration_ms", "error_type", "answered_by", "tier", "event", "attempts")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": dt.datetime.fromtimestamp(record.created, dt.timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": _message(record),
            "request_id": request_id_var.get(),
        }
        entry.update({k: getattr(record, k) for k in SAFE_FIELDS if hasattr(record, k)})
        return json.dumps(entry, default=str)


def _message(record: logging.LogRecord) -> str:
    """Our own messages are written without patient data; other libraries' are not, so
    for them only the template is kept (arguments may carry message text)."""
    if record.name.startswith("aftercare"):
        return record.getMessage()
    return str(record.msg)[:200]


def configure_logging(level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # Third-party loggers that print message contents or URLs at INFO/DEBUG.
    noisy = ("rasa", "rasa_sdk", "tensorflow", "absl", "sanic", "uvicorn.access", "httpx", "negspacy", "apscheduler",
             "alembic")
    for name in noisy:
        logging.getLogger(name).setLevel(logging.WARNING)
    logging.getLogger("uvicorn.access").disabled = True  # our middleware logs the route template instead
