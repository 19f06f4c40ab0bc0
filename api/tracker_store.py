"""Rasa's SQL tracker store: on PostgreSQL the service's own database (its blocking reads and
writes moved off the event loop), on SQLite a file beside it.

Why its own SQLite file: Rasa saves trackers on the event loop, and SQLite has one write lock
per file. Sharing the file, a tracker save waited (blocking the loop) for the write lock of a
request whose commit needed the loop to run: every turn stalled up to the 15 s busy timeout
with 8 patients writing at once (500s and 15-105 s turns in `aftercare bench`, 2026-11-27).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, NamedTuple

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
    url = make_url(tracker_database_url(database_url))
    if url.get_backend_name() == "sqlite":
        # A local file only this process's loop writes: nothing for a save to hang on. On
        # worker threads the saves contended for its write lock: 8 concurrent conversations
        # cost 32.9 instead of 28.7 ms of CPU per message (2026-11-28).
        store = _store_classes().batched(dialect="sqlite", db=url.database)
        _use_pooled_sqlite(store, url.render_as_string(hide_password=False))
        return store
    return _store_classes().off_loop(
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


class _StoreClasses(NamedTuple):
    batched: type
    off_loop: type


@functools.lru_cache(maxsize=1)
def _store_classes() -> _StoreClasses:
    """Subclasses of Rasa's SQLTrackerStore, built on first use (Rasa is imported lazily)."""
    from rasa.core.tracker_store import SQLTrackerStore

    class BatchedSQLTrackerStore(SQLTrackerStore):  # type: ignore[misc]  # Rasa ships no types
        """Saves a turn's new events in one executemany INSERT. Rasa adds them as ORM objects,
        one INSERT each with its id read back: 3.3 ms of a 21 ms turn on SQLite (2026-11-28).
        The rows are Rasa's own columns, so Rasa reads them back unchanged."""

        async def save(self, tracker: Any) -> None:
            if self.event_broker is not None:  # streaming awaits a retrieve: keep Rasa's own path
                await super().save(tracker)
                return
            with self.session_scope() as session:
                rows = [_event_row(tracker.sender_id, event) for event in self._additional_events(session, tracker)]
                if rows:
                    session.execute(self.SQLEvent.__table__.insert(), rows)
                session.commit()

    class OffLoopSQLTrackerStore(BatchedSQLTrackerStore):
        """Rasa's SQLTrackerStore declares `_retrieve` and `save` async but queries and commits
        synchronously, on the event loop that serves every conversation of the process. A
        database server that hung there (network, failover) froze the whole worker, and with
        it the assistant's timeout: no fail-safe reply could fire. These run the same methods
        on a worker thread (measured cost: none, 35.5 vs 36.1 msg/s with 2 workers, 2026-11-28)."""

        async def _retrieve(self, sender_id: str, fetch_events_from_all_sessions: bool) -> Any:
            retrieving = super()._retrieve(sender_id, fetch_events_from_all_sessions)
            return await off_loop(_run_unsuspending, retrieving)

        async def save(self, tracker: Any) -> None:
            if self.event_broker is not None:
                await super().save(tracker)
            else:
                await off_loop(_run_unsuspending, super().save(tracker))

    return _StoreClasses(BatchedSQLTrackerStore, OffLoopSQLTrackerStore)


def _event_row(sender_id: str, event: Any) -> dict[str, Any]:
    """An `events` row as Rasa's SQLTrackerStore writes it."""
    data = event.as_dict()
    return {
        "sender_id": sender_id,
        "type_name": event.type_name,
        "timestamp": data.get("timestamp"),
        "intent_name": data.get("parse_data", {}).get("intent", {}).get("name"),
        "action_name": data.get("name"),
        "data": json.dumps(data),
    }


def _run_unsuspending(coroutine: Coroutine[Any, Any, Any]) -> Any:
    """Runs a coroutine that never awaits anything pending (blocking code behind an async
    signature) to its end on the calling thread, without an event loop."""
    try:
        coroutine.send(None)
    except StopIteration as finished:
        return finished.value
    coroutine.close()
    raise RuntimeError("the tracker store suspended on a worker thread; it must run on the event loop")
