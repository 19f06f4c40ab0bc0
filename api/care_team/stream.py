"""The patient's live feed of their care team's replies.

The event hub only says "conversation X has a new staff line" (ids, through Redis when several
processes run); the feed then reads the lines from the database, so nothing is lost if a
notice is: it re-reads every RECHECK_SECONDS anyway. It ends after STREAM_SECONDS so that the
patient's token is checked again on the reconnect.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

from fastapi import Request

from api.care_team import service
from api.context import AppContext
from api.db import in_transaction
from api.escalations.events import conversation_topic

RECHECK_SECONDS = 15.0
STREAM_SECONDS = 600.0


async def staff_messages(
    ctx: AppContext,
    conversation_id: str,
    after_id: int,
    request: Request | None = None,
    recheck_seconds: float = RECHECK_SECONDS,
    stream_seconds: float = STREAM_SECONDS,
) -> AsyncIterator[dict[str, str]]:
    queue = ctx.events.subscribe(conversation_topic(conversation_id))  # before the first read
    ends = time.monotonic() + stream_seconds
    try:
        yield {"event": "ready", "data": "{}"}
        while True:
            lines = await in_transaction(ctx.sessions, service.staff_lines_after, conversation_id, after_id)
            for line in lines:
                after_id = line.id
                yield {"event": "staff-message", "id": str(line.id), "data": line.json()}
            remaining = ends - time.monotonic()
            if remaining <= 0:
                return
            try:
                await asyncio.wait_for(queue.get(), timeout=min(recheck_seconds, remaining))
            except asyncio.TimeoutError:
                pass
            if request is not None and await request.is_disconnected():
                return
    finally:
        ctx.events.unsubscribe(queue)
