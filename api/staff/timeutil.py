"""SQLite hands timezone-aware columns back naive; everything here is UTC, so say so."""

from __future__ import annotations

import datetime as dt


def as_utc(value: dt.datetime | None) -> dt.datetime | None:
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=dt.timezone.utc)


def now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)
