"""Rasa's SQL tracker store: on PostgreSQL the service's own database, on SQLite a file beside it.

Why its own SQLite file: Rasa saves trackers on the event loop, and SQLite has one write lock
per file. Sharing the file, a tracker save waited (blocking the loop) for the write lock of a
request whose commit needed the loop to run: every turn stalled up to the 15 s busy timeout
with 8 patients writing at once (500s and 15-105 s turns in `aftercare bench`, 2026-11-27).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url
from sqlalchemy.orm import sessionmaker


def tracker_database_url(database_url: str) -> str:
    """`sqlite:///var/aftercare.db` -> `sqlite:///var/aftercare-trackers.db`; any other URL as is."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return database_url
    path = Path(url.database)
    trackers = url.set(database=str(path.with_name(f"{path.stem}-trackers{path.suffix}")))
    return str(trackers.render_as_string(hide_password=False))


def build_tracker_store(database_url: str) -> Any:  # rasa's SQLTrackerStore (Rasa ships no types)
    """The store for the service whose database is `database_url`."""
    from rasa.core.tracker_store import SQLTrackerStore

    url = make_url(tracker_database_url(database_url))
    if url.get_backend_name() == "sqlite":
        store = SQLTrackerStore(dialect="sqlite", db=url.database)
        _use_pooled_sqlite(store, url.render_as_string(hide_password=False))
        return store
    return SQLTrackerStore(
        dialect=url.drivername,
        host=url.host,
        port=url.port,
        db=url.database,
        username=url.username,
        password=url.password,
        query=dict(url.query),
    )


def _use_pooled_sqlite(store: Any, database_url: str) -> None:
    """Rasa builds a NullPool engine with SQLite's default rollback journal and a full sync:
    two connections opened and several fsyncs per turn, on the event loop. Trackers are
    dialogue state, rebuilt from a fresh window if lost (the transcript of record is the
    messages table), so they take WAL with synchronous=NORMAL on pooled connections."""
    from api.db import make_engine

    store.engine.dispose()
    store.engine = make_engine(database_url, synchronous="NORMAL")
    store.sessionmaker = sessionmaker(bind=store.engine)
