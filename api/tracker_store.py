"""Rasa's SQL tracker store on the service's own database."""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import make_url
from sqlalchemy.orm import sessionmaker


def build_tracker_store(database_url: str) -> Any:  # rasa's SQLTrackerStore (Rasa ships no types)
    from rasa.core.tracker_store import SQLTrackerStore

    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        store = SQLTrackerStore(dialect="sqlite", db=url.database)
        _use_pooled_sqlite(store, database_url)
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
