"""Live queue updates for the dashboard: server-sent events fed by app.state.ctx.events.

Only ids, tier, signs and state go out (no message text). The stream does not count as
activity for the idle timeout, and it ends as soon as the session does (checked on every
event and every RECHECK_SECONDS), so logout and disabling cut live updates too (SES-1).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, Request
from sse_starlette import EventSourceResponse

from api.context import AppContext
from api.db import in_transaction
from api.deps import Ctx
from api.staff import sessions
from api.staff.deps import WatchingStaff
from bot.triage.vocabulary import EscalationStatus, EscalationTier

router = APIRouter()
RECHECK_SECONDS = 15.0
_PUBLIC_FIELDS = ("escalation_id", "tier", "signs", "created_at", "status", "by")
_PRIORITY = {tier.value: tier.priority for tier in EscalationTier}


def public_event(event: dict[str, Any]) -> dict[str, Any]:
    """The whitelisted part of a hub event, plus the priority the queue sorts by."""
    data = {key: event[key] for key in _PUBLIC_FIELDS if key in event}
    data["priority"] = _PRIORITY.get(str(event.get("tier")), 9)
    data.setdefault("status", EscalationStatus.OPEN.value)  # the lead's escalation.created payload has no status
    return data


async def escalation_events(
    ctx: AppContext,
    session_id: str,
    request: Request | None = None,
    recheck_seconds: float = RECHECK_SECONDS,
) -> AsyncIterator[dict[str, str]]:
    queue = ctx.events.subscribe()
    try:
        yield {"event": "ready", "data": "{}"}
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
            if event is not None:
                yield {
                    "event": str(event.get("event", "escalation.changed")),
                    "data": json.dumps(public_event(event)),
                }
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
async def stream_escalations(request: Request, ctx: Ctx, staff: WatchingStaff) -> EventSourceResponse:
    """Server-sent events announcing new and changed escalations (for the live dashboard)."""
    return EventSourceResponse(
        escalation_events(ctx, staff.session_id, request),
        ping=15,
        headers={"X-Accel-Buffering": "no"},
    )
