"""Outbound webhook for new escalations, delivered from the persisted `outbox` table.

The row is written in the escalation's own transaction, so a crash or restart loses nothing:
this worker picks up whatever is due. Delivery is at least once; receivers dedupe on
`X-Aftercare-Event-Id`. The body holds ids, tier and signs only (never message text) and is
signed: `X-Aftercare-Signature: sha256=<hex HMAC-SHA256(webhook_key, "<timestamp>.<body>")>`
with `X-Aftercare-Timestamp: <unix seconds>`, so a receiver can also refuse stale replays.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import hmac
import json
import logging
import time
from typing import Any

import httpx
import sqlalchemy as sa
from sqlalchemy.orm import Session

from api.context import AppContext
from api.core.time import utcnow
from api.db import in_transaction
from api.escalations.models import OutboxEvent

log = logging.getLogger("aftercare.outbox")
MAX_ATTEMPTS = 12  # about 17 hours of retries with the backoff below
BATCH = 20
LEASE = dt.timedelta(seconds=60)  # a claimed row is invisible to other workers meanwhile


def backoff(attempts: int) -> dt.timedelta:
    """10 s, 20 s, 40 s ... capped at 1 h."""
    return dt.timedelta(seconds=min(10 * 2 ** max(attempts - 1, 0), 3600))


def sign(key: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(key.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def claim_due(session: Session) -> list[tuple[int, dict[str, Any], int]]:
    """Rows due now, each leased so that no two workers or replicas send it together.

    On PostgreSQL `FOR UPDATE SKIP LOCKED` hands concurrent claimers disjoint rows without
    waiting; the compare-and-set below is what makes it safe on SQLite too (no row locks
    there). A worker that dies mid-send leaves its lease to expire, and another sends the row.
    """
    current = utcnow()
    rows = session.execute(
        sa.select(OutboxEvent.id, OutboxEvent.payload, OutboxEvent.attempts)
        .where(
            OutboxEvent.delivered_at.is_(None),
            OutboxEvent.next_attempt_at <= current,
            OutboxEvent.attempts < MAX_ATTEMPTS,
        )
        .order_by(OutboxEvent.id)
        .limit(BATCH)
        .with_for_update(skip_locked=True)
    ).all()
    claimed = []
    for row_id, payload, attempts in rows:
        leased = session.execute(  # still due = nobody leased it since we looked
            sa.update(OutboxEvent)
            .where(OutboxEvent.id == row_id, OutboxEvent.next_attempt_at <= current)
            .values(next_attempt_at=current + LEASE)
            .execution_options(synchronize_session=False)
        )
        if leased.rowcount == 1:
            claimed.append((row_id, payload, attempts))
    return claimed


def settle(session: Session, row_id: int, attempts: int, error: str | None) -> None:
    row = session.get(OutboxEvent, row_id)
    row.attempts = attempts + 1
    if error is None:
        row.delivered_at = utcnow()
    else:
        row.last_error = error[:200]
        row.next_attempt_at = utcnow() + backoff(row.attempts)


async def _send(ctx: AppContext, client: httpx.AsyncClient, row_id: int, payload: dict[str, Any]) -> str | None:
    """None when delivered; otherwise a short reason (no response body: it is not ours to store)."""
    body = json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()
    timestamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/json",
        "X-Aftercare-Event-Id": str(row_id),
        "X-Aftercare-Timestamp": timestamp,
        "X-Aftercare-Signature": sign(ctx.settings.webhook_key, timestamp, body),
    }
    try:
        response = await client.post(ctx.settings.webhook_url, content=body, headers=headers)
    except httpx.HTTPError as error:
        return type(error).__name__
    return None if 200 <= response.status_code < 300 else f"HTTP {response.status_code}"


async def deliver_due(ctx: AppContext, client: httpx.AsyncClient) -> int:
    """One pass over the outbox; returns how many rows were delivered."""
    delivered = 0
    for row_id, payload, attempts in await in_transaction(ctx.sessions, claim_due):
        error = await _send(ctx, client, row_id, payload)
        await in_transaction(ctx.sessions, settle, row_id, attempts, error)
        if error is None:
            delivered += 1
        else:
            level = logging.ERROR if attempts + 1 >= MAX_ATTEMPTS else logging.WARNING
            log.log(
                level,
                "webhook delivery failed",
                extra={"error_type": error, "attempts": attempts + 1},
            )
    return delivered


def _usable_url(ctx: AppContext) -> bool:
    url = ctx.settings.webhook_url
    if not url:
        return False
    if ctx.settings.is_production and not url.startswith("https://"):
        log.error("webhook_url must use https in production; webhook disabled")
        return False
    return True


async def run_worker(
    ctx: AppContext, poll_seconds: float = 2.0, transport: httpx.AsyncBaseTransport | None = None
) -> None:
    if not _usable_url(ctx):
        return  # no webhook configured (then no outbox rows are written either)
    async with httpx.AsyncClient(timeout=5.0, follow_redirects=False, transport=transport) as client:
        while True:
            try:
                await deliver_due(ctx, client)
            except Exception as error:  # a database hiccup must not end the worker
                log.error("outbox pass failed", exc_info=error, extra={"error_type": type(error).__name__})
            await asyncio.sleep(poll_seconds)


def start_worker(
    ctx: AppContext, poll_seconds: float = 2.0, transport: httpx.AsyncBaseTransport | None = None
) -> asyncio.Task[None]:
    """Delivers in the background: start it in the app lifespan, cancel it on shutdown.

    Without a webhook URL the task ends at once.
    """
    return asyncio.create_task(run_worker(ctx, poll_seconds, transport), name="webhook-outbox")
