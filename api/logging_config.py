"""Structured JSON logs with the request id (LOG-1, LOG-3).

Only whitelisted fields reach the output: a stray `extra=` with patient text cannot leak,
and one JSON object per line means user text can never forge a log line. A logged exception
keeps its traceback (`traceback` field: frames and exception types) but never the exception's
message, which may quote what a patient wrote.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import json
import logging
import sys
import traceback

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)
SAFE_FIELDS = ("method", "route", "status", "duration_ms", "error_type", "answered_by", "tier", "event", "attempts")
# Loggers whose arguments are ours or carry no patient data (process ids, addresses, ports):
# their messages are rendered in full. Other libraries' arguments may carry message text, so
# for them only the template is kept.
FORMATTED_LOGGERS = ("aftercare", "uvicorn.error")


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
        if record.exc_info and record.exc_info[1] is not None:
            entry["traceback"] = format_traceback(record.exc_info[1])
        return json.dumps(entry, default=str)


def _message(record: logging.LogRecord) -> str:
    if record.name.startswith(FORMATTED_LOGGERS):
        return record.getMessage()
    return str(record.msg)[:200]


def format_traceback(error: BaseException) -> str:
    """Like Python's own traceback, chained causes included, with each exception's message
    left out: frames (file, line, function, source line) and type names only."""
    parts: list[str] = []
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        frames = "".join(traceback.format_tb(current.__traceback__))
        parts.append(f"Traceback (most recent call last):\n{frames}{_type_name(current)}")
        current = current.__cause__ or (None if current.__suppress_context__ else current.__context__)
    return "\n\nThe above exception led to the following one:\n\n".join(reversed(parts))


def _type_name(error: BaseException) -> str:
    kind = type(error)
    return kind.__qualname__ if kind.__module__ == "builtins" else f"{kind.__module__}.{kind.__qualname__}"


def configure_logging(level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # Third-party loggers that print message contents or URLs at INFO/DEBUG.
    noisy = (
        "rasa",
        "rasa_sdk",
        "tensorflow",
        "absl",
        "sanic",
        "uvicorn.access",
        "httpx",
        "negspacy",
        "apscheduler",
        "alembic",
    )
    for name in noisy:
        logging.getLogger(name).setLevel(logging.WARNING)
    logging.getLogger("uvicorn.access").disabled = True  # our middleware logs the route template instead
