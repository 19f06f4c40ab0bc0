"""The shape every durable background pass shares: claim in one transaction (the database
decides which process wins each row), then, after the commit, publish the claimed rows' live
events. A dashboard that misses an event still finds the committed state on its next read."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session

from api.context import AppContext
from api.db import in_transaction, off_loop
from api.settings import Settings

Claim = Callable[[Session, Settings], list[dict[str, Any]]]


async def claim_then_publish(ctx: AppContext, claim: Claim, log: logging.Logger, message: str, event: str) -> int:
    """One pass; returns how many rows it claimed (and announced)."""
    events = await in_transaction(ctx.sessions, claim, ctx.settings)
    for payload in events:
        await off_loop(ctx.events.publish, payload)
    if events:
        log.warning(message, extra={"event": event, "attempts": len(events)})
    return len(events)
