"""Live dashboard events: whitelisted fields only, and the stream ends with the session (SES-1)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncGenerator

from api.db import transaction
from api.escalations.stream import escalation_events, public_event
from api.staff.accounts import disable_staff
from api.staff.sessions import token_hash
from tests.staff.conftest import login

EVENT = {
    "event": "escalation.created",
    "escalation_id": "e1",
    "conversation_id": "c1",
    "tier": "emergency",
    "signs": ["fever"],
    "created_at": "2026-11-25T10:00:00+00:00",
    "text": "must never leave",
}


def _session_id(client) -> str:
    return token_hash(login(client, "nurse@clinic.test")["Authorization"].split()[1])


def _collect(ctx, session_id, publish=(), before=None, recheck=0.05, limit=3) -> list[dict]:
    async def run() -> list[dict]:
        stream = escalation_events(ctx, session_id, recheck_seconds=recheck)
        assert isinstance(stream, AsyncGenerator)  # typed as an iterator; closed explicitly below
        received = [await stream.__anext__()]  # "ready": subscribed from here on
        if before:
            before()
        for event in publish:
            ctx.events.publish(event)
        async for item in stream:
            received.append(item)
            if len(received) >= limit or item["event"] == "session-ended":
                break
        await stream.aclose()
        return received

    return asyncio.run(asyncio.wait_for(run(), 10))


def test_only_whitelisted_fields_are_sent(ctx, client, nurse):
    ready, created = _collect(ctx, _session_id(client), publish=[EVENT], limit=2)
    assert ready["event"] == "ready" and created["event"] == "escalation.created"
    assert json.loads(created["data"]) == {
        "escalation_id": "e1",
        "tier": "emergency",
        "signs": ["fever"],
        "created_at": "2026-11-25T10:00:00+00:00",
        "status": "open",
        "priority": 0,
    }


def test_a_confirmed_callback_number_is_announced_as_a_contact_change_without_the_number():
    event = {**EVENT, "event": "escalation.updated", "change": "contact", "phone": "+44 7700 900123"}
    data = public_event(event)
    assert data["change"] == "contact"  # the console says "Callback number confirmed"
    assert "phone" not in data and "+44 7700 900123" not in json.dumps(data)


def test_the_public_event_orders_callbacks_last():
    assert public_event({**EVENT, "tier": "callback"})["priority"] == 2


def test_the_stream_ends_when_the_session_is_revoked(ctx, client, nurse):
    session_id = _session_id(client)

    def disable():
        with transaction(ctx.sessions) as session:
            disable_staff(session, "nurse@clinic.test")

    events = _collect(ctx, session_id, publish=[EVENT], before=disable)
    assert [e["event"] for e in events] == ["ready", "session-ended"]  # the event is not delivered


def test_the_stream_does_not_extend_the_idle_timer(ctx, client, nurse):
    from api.staff.models import StaffSession

    session_id = _session_id(client)
    with ctx.sessions() as session:
        before = session.get(StaffSession, session_id).last_seen_at
    _collect(ctx, session_id, publish=[EVENT], limit=2)
    with ctx.sessions() as session:
        assert session.get(StaffSession, session_id).last_seen_at == before


def test_unsubscribes_when_the_client_goes(ctx, client, nurse):
    _collect(ctx, _session_id(client), publish=[EVENT], limit=2)
    assert ctx.events._subscribers == set()
