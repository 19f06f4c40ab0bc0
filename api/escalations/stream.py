"""Live queue updates for the dashboard: server-sent events fed by app.state.ctx.events.

Only ids, tier, signs and state go out (no message text). Each event carries `id:`; a browser
reconnecting sends `Last-Event-ID` and is replayed what it missed from the hub's recent-events
buffer, or told `resumed: false` on `ready` (gap too old, or a fresh connection) so that it
re-reads the queue: an escalation raised during a gap is never missed. The stream does not count as
activity for the idle timeout, and it ends as soon as the session does (checked on every
event and every RECHECK_SECONDS), so logout and disabling cut live updates too (SES-1).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Header, Request
from sse_starlette import EventSourceResponse

from api.context import AppContext
from api.db import in_transaction
from api.deps import Ctx
from api.staff import sessions
from api.staff.deps import WatchingStaff
from bot.triage.vocabulary import EscalationStatus, EscalationTier

router = APIRouter()
RECHECK_SECONDS = 15.0
# `change`: what an escalation.updated changed ("contact": a callback number confirmed; never the number).
_PUBLIC_FIELDS = ("escalation_id", "tier", "signs", "created_at", "status", "by", "held_by", "report_count", "change")
_PRIORITY = {tier.value: tier.priority for tier in EscalationTier}


def public_event(event: dict[str, Any]) -> dict[str, Any]:
    """The whitelisted part of a hub event, plus the priority the queue sorts by."""
    data = {key: event[key] for key in _PUBLIC_FIELDS if key in event}
    data["priority"] = _PRIORITY.get(str(event.get("tier")), 9)
    data.setdefault("status", EscalationStatus.OPEN.value)  # the lead's escalation.created payload has no status
    return data


def _sse(event: dict[str, Any]) -> dict[str, str]:
    return {
        "event": str(event.get("event", "escalation.changed")),
        "id": str(event.get("seq", "")),
        "data": json.dumps(public_event(event)),
    }


def _last_seq(last_event_id: str | None) -> int | None:
    value = (last_event_id or "").strip()
    return int(value) if value.isdigit() and len(value) < 19 else None


async def escalation_events(
    ctx: AppContext,
    session_id: str,
    request: Request | None = None,
    recheck_seconds: float = RECHECK_SECONDS,
    last_event_id: str | None = None,
) -> AsyncIterator[dict[str, str]]:
    queue = ctx.events.subscribe()  # before reading the buffer: nothing falls between the two
    try:
        last = _last_seq(last_event_id)
        missed = await asyncio.to_thread(ctx.events.since, last) if last is not None else None
        yield {"event": "ready", "data": json.dumps({"resumed": missed is not None})}
        seen = last if missed is not None and last is not None else 0
        for replayed in missed or []:
            seen = max(seen, int(replayed["seq"]))
            yield _sse(replayed)
        while True:
            try:
                event = await asyncio.wait_for(queue.get(), timeout=recheck_seconds)
            except asyncio.TimeoutError:
                event = None
            if request is not None and await request.is_disconnected():
                return
            if await in_transaction(ctx.sessions, sessions.live_session, ctx.settings, session_id) is None:
                yield {"event": "session-ended", "data": "{}"}
                return
            if event is not None and int(event.get("seq", seen + 1)) > seen:
                yield _sse(event)
    finally:
        ctx.events.unsubscribe(queue)


@router.get(
    "/stream",
    response_class=EventSourceResponse,
    responses={
        200: {
            "description": "`escalation.created|acknowledged|resolved` events; JSON data",
            "content": {"text/event-stream": {}},
        },
        401: {"description": "No valid staff session"},
    },
)
async def stream_escalations(
    request: Request,
    ctx: Ctx,
    staff: WatchingStaff,
    last_event_id: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> EventSourceResponse:
    """Server-sent events announcing new and changed escalations (for the live dashboard).

    Reconnect with `Last-Event-ID` to be replayed what was missed; `ready` says `resumed:
    false` when that was not possible (then re-read the queue)."""
    return EventSourceResponse(
        escalation_events(ctx, staff.session_id, request, last_event_id=last_event_id),
        ping=15,
        headers={"X-Accel-Buffering": "no"},
    )
