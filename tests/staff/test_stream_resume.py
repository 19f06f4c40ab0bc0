"""The live queue resumes after a dropped stream: numbered events, Last-Event-ID replay from the
hub's recent-events buffer, and `resumed: false` (re-read the queue) when replay is impossible."""

from __future__ import annotations

import asyncio
import collections
import json
from collections.abc import AsyncGenerator

from api.escalations.stream import escalation_events
from api.staff.sessions import token_hash
from tests.staff.conftest import login


def _event(n: int, tier: str = "emergency") -> dict:
    return {
        "event": "escalation.created",
        "escalation_id": f"e{n}",
        "tier": tier,
        "signs": [],
        "created_at": "2026-11-25T10:00:00+00:00",
    }


def _session_id(client) -> str:
    return token_hash(login(client, "nurse@clinic.test")["Authorization"].split()[1])


def _reconnect(ctx, session_id: str, last_event_id: str | None, expect: int) -> list[dict]:
    """Connects with Last-Event-ID; returns `ready` and the next `expect` events."""

    async def run() -> list[dict]:
        stream = escalation_events(ctx, session_id, recheck_seconds=0.05, last_event_id=last_event_id)
        assert isinstance(stream, AsyncGenerator)  # typed as an iterator; closed below
        received = [await stream.__anext__()]
        while len(received) < expect + 1:
            received.append(await stream.__anext__())
        await stream.aclose()
        return received

    return asyncio.run(asyncio.wait_for(run(), 10))


def test_each_event_carries_an_id_and_a_reconnect_replays_what_was_missed(ctx, client, nurse):
    for n in (1, 2, 3):
        ctx.events.publish(_event(n))
    ready, *replayed = _reconnect(ctx, _session_id(client), "1", expect=2)
    assert json.loads(ready["data"]) == {"resumed": True}
    assert [(e["id"], json.loads(e["data"])["escalation_id"]) for e in replayed] == [("2", "e2"), ("3", "e3")]


def test_an_event_published_after_the_replay_is_not_sent_twice(ctx, client, nurse):
    ctx.events.publish(_event(1))
    ctx.events.publish(_event(2))
    session_id = _session_id(client)

    async def run() -> list[dict]:
        stream = escalation_events(ctx, session_id, recheck_seconds=0.05, last_event_id="1")
        assert isinstance(stream, AsyncGenerator)  # typed as an iterator; closed below
        got = [await stream.__anext__(), await stream.__anext__()]  # ready, replayed e2
        ctx.events.publish(_event(3))
        got.append(await stream.__anext__())
        await stream.aclose()
        return got

    _, replayed, live = asyncio.run(asyncio.wait_for(run(), 10))
    assert (replayed["id"], live["id"]) == ("2", "3")


def test_a_gap_older_than_the_buffer_asks_the_page_to_re_read_the_queue(ctx, client, nurse):
    ctx.events._recent = collections.deque(maxlen=3)
    for n in range(1, 7):
        ctx.events.publish(_event(n))
    assert ctx.events.since(1) is None  # 2 and 3 left the buffer
    assert [e["seq"] for e in ctx.events.since(3)] == [4, 5, 6]
    (ready,) = _reconnect(ctx, _session_id(client), "1", expect=0)
    assert json.loads(ready["data"]) == {"resumed": False}


def test_a_new_connection_or_an_id_from_before_a_restart_is_not_a_resume(ctx, client, nurse):
    ctx.events.publish(_event(1))
    session_id = _session_id(client)
    for last in (None, "99", "not-a-number"):
        (ready,) = _reconnect(ctx, session_id, last, expect=0)
        assert json.loads(ready["data"]) == {"resumed": False}, last


def test_nothing_missed_is_a_resume_with_nothing_to_replay(ctx, client, nurse):
    ctx.events.publish(_event(1))
    assert ctx.events.since(1) == []
    (ready,) = _reconnect(ctx, _session_id(client), "1", expect=0)
    assert json.loads(ready["data"]) == {"resumed": True}
