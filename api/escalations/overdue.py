"""One `escalation.overdue` event per case (live and webhook), from durable background work.

Every process runs this pass. The database decides who announces a case: the claim is a
compare-and-set of `overdue_notified_at` from NULL that re-checks the overdue condition, in
the same transaction that writes the webhook's outbox row, so exactly one process commits it
(on PostgreSQL `FOR UPDATE SKIP LOCKED` also keeps concurrent passes off each other's rows).
Nothing lives in memory: after a restart the next pass finds whatever is due. The live event
goes out after that commit; a dashboard that misses it still sees the case marked overdue.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from sqlalchemy.orm import Session

from api.context import AppContext
from api.core.time import utcnow
from api.escalations import repository
from api.escalations.background import claim_then_publish
from api.escalations.models import Escalation, OutboxEvent
from api.escalations.service import OVERDUE_ESCALATION, event_payload, sla_clock, status_event
from api.escalations.unanswered import open_unanswered
from api.settings import Settings

log = logging.getLogger("aftercare.overdue")
BATCH = 50
POLL_SECONDS = 5.0


def claim_overdue(session: Session, settings: Settings) -> list[dict[str, Any]]:
    """Marks newly overdue cases as announced; returns their live events (publish after commit)."""
    clock = sla_clock(settings)
    now = utcnow()
    events = []
    for escalation_id in repository.newly_overdue(session, clock.minutes, now, BATCH):
        claimed = repository.compare_and_set(
            session,
            escalation_id,
            [Escalation.overdue_notified_at.is_(None), repository.overdue_clause(clock.minutes, now)],
            overdue_notified_at=now,
        )
        if not claimed:
            continue  # another process announced it, or a nurse took it meanwhile
        row = repository.get(session, escalation_id, fresh=True)
        assert row is not None  # escalations are never deleted
        if settings.webhook_url:
            session.add(OutboxEvent(topic=OVERDUE_ESCALATION, payload=event_payload(row, OVERDUE_ESCALATION)))
        events.append(status_event(row, {}, OVERDUE_ESCALATION))
    return events


async def announce_overdue(ctx: AppContext) -> int:
    """One pass: claim and commit, then publish live. Returns how many cases were announced."""
    return await claim_then_publish(ctx, claim_overdue, log, "escalations overdue", OVERDUE_ESCALATION)


async def run_worker(ctx: AppContext, poll_seconds: float = POLL_SECONDS) -> None:
    """Also opens cases for unanswered temperature questions (api/escalations/unanswered.py):
    the same durable, once-across-processes pattern on the same clock."""
    while True:
        for name, work in (("overdue", announce_overdue), ("unanswered question", open_unanswered)):
            try:
                await work(ctx)
            except Exception as error:  # a database hiccup must not end the worker
                log.error(f"{name} pass failed", exc_info=error, extra={"error_type": type(error).__name__})
        await asyncio.sleep(poll_seconds)


def start_worker(ctx: AppContext, poll_seconds: float = POLL_SECONDS) -> asyncio.Task[None]:
    """Start it in the app lifespan, cancel it on shutdown."""
    return asyncio.create_task(run_worker(ctx, poll_seconds), name="escalation-overdue")
