"""Persistence on SQLite and on a real PostgreSQL server (AFTERCARE_TEST_POSTGRES_URL)."""

import os
import uuid

import pytest
import sqlalchemy as sa

from api.conversations.models import Conversation, Message
from api.db import make_engine, migrate
from tests.conftest import auth, make_client

PG_URL = os.environ.get("AFTERCARE_TEST_POSTGRES_URL")


def _fresh_postgres_schema():
    """A new database per run so tests never see each other's rows."""
    if not PG_URL:
        pytest.skip("PostgreSQL tests need AFTERCARE_TEST_POSTGRES_URL (.ci/run starts a server and sets it)")
    name = f"aftercare_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f"CREATE DATABASE {name}"))
    admin.dispose()
    return sa.engine.make_url(PG_URL).set(database=name).render_as_string(hide_password=False)


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/aftercare.db"
    return _fresh_postgres_schema()


@pytest.fixture
def postgres_url():
    return _fresh_postgres_schema()


def test_message_and_escalation_are_stored(database_url, make_settings, assistant):
    settings = make_settings(database_url=database_url)
    headers = auth(settings)
    with make_client(settings, assistant) as client:
        cid = client.post("/api/v1/conversations", headers=headers).json()["conversation_id"]
        body = client.post(
            f"/api/v1/conversations/{cid}/messages",
            json={"text": "there's pus coming out of the site"},
            headers=headers,
        ).json()
        transcript = client.get(f"/api/v1/conversations/{cid}/messages", headers=headers).json()["messages"]
    assert body["escalation_id"]
    assert transcript[0]["text"] == "there's pus coming out of the site"


def test_messages_are_immutable(database_url):
    engine = make_engine(database_url)
    migrate(engine)
    with engine.begin() as connection:
        connection.execute(sa.insert(Conversation).values(id="c1", patient_id="p"))
        connection.execute(
            sa.insert(Message).values(conversation_id="c1", role="patient", text="hi", triage_level="none")
        )
    with pytest.raises(sa.exc.DatabaseError), engine.begin() as connection:
        connection.execute(sa.update(Message).values(text="changed"))
    with pytest.raises(sa.exc.DatabaseError), engine.begin() as connection:
        connection.execute(sa.delete(Message))
    engine.dispose()


def test_rasa_tracker_store_is_beside_the_service_database(database_url):
    from api.tracker_store import build_tracker_store, tracker_database_url

    store = build_tracker_store(database_url)
    engine = make_engine(tracker_database_url(database_url))
    assert "events" in sa.inspect(engine).get_table_names()
    if database_url.startswith("sqlite"):  # its own file: one write lock each (see the next test)
        assert tracker_database_url(database_url).endswith("/aftercare-trackers.db")
    else:
        assert tracker_database_url(database_url) == database_url
    store.engine.dispose()
    engine.dispose()


def test_a_tracker_save_never_waits_for_a_service_write_on_sqlite(tmp_path, assistant):
    """Rasa saves trackers on the event loop. Had they shared the service's SQLite file, the save
    would wait for a request's write lock whose commit needs that loop: every turn stalled up to
    the busy timeout with a few patients writing at once."""
    import asyncio

    from rasa.shared.core.events import ActionExecuted, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    from api.tracker_store import build_tracker_store

    url = f"sqlite:///{tmp_path}/aftercare.db"
    engine = make_engine(url)
    migrate(engine)
    store = build_tracker_store(url)
    store.domain = assistant.agent.domain
    tracker = DialogueStateTracker.from_events(
        "conv.0", [ActionExecuted("action_listen"), UserUttered("hello", {"name": "greet", "confidence": 1.0})]
    )
    with engine.connect() as writer:  # a request between its INSERT and its commit
        writer.exec_driver_sql("BEGIN IMMEDIATE")
        writer.execute(sa.insert(Conversation).values(id="c1", patient_id="p"))
        with store.engine.connect() as tracker_connection:
            tracker_connection.exec_driver_sql("PRAGMA busy_timeout = 0")  # locked: fail now, not in 15 s
        asyncio.run(store.save(tracker))
        writer.exec_driver_sql("COMMIT")
    assert list(asyncio.run(store.retrieve("conv.0")).events) == list(tracker.events)
    store.engine.dispose()
    engine.dispose()


def test_rasa_trackers_round_trip_through_the_store(database_url, assistant):
    import asyncio

    from rasa.shared.core.events import ActionExecuted, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    from api.tracker_store import build_tracker_store

    store = build_tracker_store(database_url)
    store.domain = assistant.agent.domain
    tracker = DialogueStateTracker.from_events(
        "conv.0", [ActionExecuted("action_listen"), UserUttered("hello", {"name": "greet", "confidence": 1.0})]
    )
    asyncio.run(store.save(tracker))
    tracker.update(ActionExecuted("utter_greet"))
    asyncio.run(store.save(tracker))  # only the new event is appended
    loaded = asyncio.run(store.retrieve("conv.0"))
    assert list(loaded.events) == list(tracker.events)
    store.engine.dispose()


def _pragma(engine, name: str):
    with engine.connect() as connection:
        return connection.exec_driver_sql(f"PRAGMA {name}").scalar()


def test_sqlite_escalations_sync_fully_and_trackers_use_wal_on_pooled_connections(tmp_path):
    from api.tracker_store import build_tracker_store

    url = f"sqlite:///{tmp_path}/aftercare.db"
    engine = make_engine(url)
    store = build_tracker_store(url)
    assert (_pragma(engine, "journal_mode"), _pragma(engine, "synchronous")) == ("wal", 2)  # 2 = FULL
    assert (_pragma(store.engine, "journal_mode"), _pragma(store.engine, "synchronous")) == ("wal", 1)  # NORMAL
    assert isinstance(engine.pool, sa.pool.QueuePool) and isinstance(store.engine.pool, sa.pool.QueuePool)
    with pytest.raises(ValueError, match="FULL or NORMAL"):
        make_engine(url, synchronous="OFF")
    engine.dispose()
    store.engine.dispose()


def test_a_slow_tracker_database_server_does_not_stall_the_event_loop(postgres_url, assistant):
    """The event loop serves every conversation of a worker, and the assistant's timeout (the
    fail-safe reply) can only fire while it runs: a tracker read or save that hangs on the
    database server must hang on a worker thread, not on the loop. (SQLite: a local file only
    the loop writes, nothing to hang on.)"""
    import asyncio
    import time

    from rasa.shared.core.events import ActionExecuted, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    from api.tracker_store import build_tracker_store

    store = build_tracker_store(postgres_url)
    store.domain = assistant.agent.domain
    tracker = DialogueStateTracker.from_events(
        f"slow-{uuid.uuid4().hex}.0",
        [ActionExecuted("action_listen"), UserUttered("hello", {"name": "greet", "confidence": 1.0})],
    )
    sa.event.listen(store.engine, "before_cursor_execute", lambda *_: time.sleep(0.2))

    async def loop_ticks_during(work) -> int:
        ticks = 0

        async def tick() -> None:
            nonlocal ticks
            while True:
                await asyncio.sleep(0.01)
                ticks += 1

        ticker = asyncio.create_task(tick())
        await work
        ticker.cancel()
        return ticks

    assert asyncio.run(loop_ticks_during(store.save(tracker))) >= 10
    assert asyncio.run(loop_ticks_during(store.retrieve(tracker.sender_id))) >= 10
    store.engine.dispose()


def test_the_batched_tracker_save_writes_the_rows_rasa_writes(database_url, assistant, tmp_path):
    """Our store saves a turn's events in one INSERT; Rasa's own store, one ORM object each.
    Both must leave the same rows, so Rasa reads ours back as its own."""
    import asyncio

    from rasa.core.tracker_store import SQLTrackerStore
    from rasa.shared.core.events import ActionExecuted, BotUttered, SlotSet, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    from api.tracker_store import build_tracker_store

    ours = build_tracker_store(database_url)
    theirs = SQLTrackerStore(domain=assistant.agent.domain, db=str(tmp_path / "rasa.db"))
    theirs.engine.dispose()
    theirs.engine = ours.engine  # Rasa's own save path, the same table
    theirs.sessionmaker = ours.sessionmaker
    ours.domain = assistant.agent.domain
    events = [
        ActionExecuted("action_listen"),
        UserUttered("my hip is red", {"name": "report_warning_sign", "confidence": 0.97}),
        SlotSet("triage_tier", "call_provider"),
        ActionExecuted("action_triage"),
        BotUttered("Please call the clinic.", {"custom": {"tier": "call_provider"}}),
        ActionExecuted("action_listen"),
    ]
    for store, sender in ((ours, "ours.0"), (theirs, "theirs.0")):
        asyncio.run(store.save(DialogueStateTracker.from_events(sender, events)))
    with ours.engine.connect() as connection:
        rows = {
            sender: connection.execute(
                sa.text(
                    "SELECT type_name, timestamp, intent_name, action_name, data FROM events "
                    "WHERE sender_id = :sender ORDER BY id"
                ),
                {"sender": sender},
            ).all()
            for sender in ("ours.0", "theirs.0")
        }
    assert len(rows["ours.0"]) == len(events)
    assert rows["ours.0"] == rows["theirs.0"]
    ours.engine.dispose()
