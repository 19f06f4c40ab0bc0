"""Rasa's SQL tracker store: on PostgreSQL the service's own database (its blocking reads and
writes moved off the event loop), on SQLite a file beside it.

Why its own SQLite file: Rasa saves trackers on the event loop, and SQLite has one write lock
per file. Sharing the file, a tracker save waited (blocking the loop) for the write lock of a
request whose commit needed the loop to run: every turn stalled up to the 15 s busy timeout
with 8 patients writing at once (500s and 15-105 s turns in `aftercare bench`, 2026-11-27).
"""

from __future__ import annotations

from collections.abc import Coroutine
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url
from sqlalchemy.orm import sessionmaker

from api.db import off_loop


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
        # A local file only this process's loop writes: nothing for a save to hang on. On
        # worker threads the saves contended for its write lock: 8 concurrent conversations
        # cost 32.9 instead of 28.7 ms of CPU per message (2026-11-28).
        store = SQLTrackerStore(dialect="sqlite", db=url.database)
        _use_pooled_sqlite(store, url.render_as_string(hide_password=False))
        return store
    return _off_loop_sql_tracker_store()(
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


def _off_loop_sql_tracker_store() -> type:
    """Rasa's SQLTrackerStore declares `_retrieve` and `save` async but queries and commits
    synchronously, on the event loop that serves every conversation of the process. A database
    server that hung there (network, failover) froze the whole worker, and with it the assistant's timeout: no fail-safe
    reply could fire. This subclass runs those same methods on a worker thread; Rasa's own code
    still does the work (measured cost: none, 35.5 vs 36.1 msg/s with 2 workers, 2026-11-28)."""
    from rasa.core.tracker_store import SQLTrackerStore

    class OffLoopSQLTrackerStore(SQLTrackerStore):  # type: ignore[misc]  # Rasa ships no types
        async def _retrieve(self, sender_id: str, fetch_events_from_all_sessions: bool) -> Any:
            retrieving = super()._retrieve(sender_id, fetch_events_from_all_sessions)
            return await off_loop(_run_unsuspending, retrieving)

        async def save(self, tracker: Any) -> None:
            if self.event_broker is not None:  # streaming awaits a retrieve: keep Rasa's own path
                await super().save(tracker)
            else:
                await off_loop(_run_unsuspending, super().save(tracker))

    return OffLoopSQLTrackerStore


def _run_unsuspending(coroutine: Coroutine[Any, Any, Any]) -> Any:
    """Runs a coroutine that never awaits anything pending (blocking code behind an async
    signature) to its end on the calling thread, without an event loop."""
    try:
        coroutine.send(None)
    except StopIteration as finished:
        return finished.value
    coroutine.close()
    raise RuntimeError("the tracker store suspended on a worker thread; it must run on the event loop")
