"""The audit trail's table and how every domain writes to it (AUD-1..3).

Each action adds one append-only row to the caller's own transaction: it commits with the
action it describes, or not at all. Never pass message text, notes or passwords here: the row
holds ids and outcomes only. (Reading the trail is the audit domain's: api.audit.)
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import sqlalchemy as sa
from fastapi import Request
from sqlalchemy.orm import Session

from api.core.time import utcnow
from api.db import Base
from api.ratelimit import client_address

OUTCOMES = ("success", "failure", "denied")


class AuditEvent(Base):
    """Append-only (AUD-1..3): the database refuses UPDATE and DELETE on this table."""

    __tablename__ = "audit_events"

    id = sa.Column(sa.Integer, primary_key=True, autoincrement=True)
    at = sa.Column(sa.DateTime(timezone=True), nullable=False, default=utcnow, index=True)
    actor_id = sa.Column(sa.String(254))  # staff id, or the attempted e-mail on a failed login
    actor_role = sa.Column(sa.String(16))
    action = sa.Column(sa.String(64), nullable=False, index=True)
    object_type = sa.Column(sa.String(32))
    object_id = sa.Column(sa.String(64))
    outcome = sa.Column(sa.String(16), nullable=False)  # success | failure | denied
    request_id = sa.Column(sa.String(64))
    client_address = sa.Column(sa.String(64))


@dataclass(frozen=True)
class RequestContext:
    """Who did it and from where; built once per request (or by the CLI)."""

    actor_id: str | None
    actor_role: str | None
    request_id: str | None
    client_address: str | None

    def as_actor(self, actor_id: str | None, actor_role: str | None) -> RequestContext:
        return replace(self, actor_id=actor_id, actor_role=actor_role)


def request_context(request: Request, actor_id: str | None = None, actor_role: str | None = None) -> RequestContext:
    return RequestContext(
        actor_id=actor_id,
        actor_role=actor_role,
        request_id=getattr(request.state, "request_id", None),
        client_address=client_address(request)[:64],
    )


CLI_CONTEXT = RequestContext(actor_id="cli", actor_role="system", request_id=None, client_address="local")


def record(
    session: Session,
    request_context: RequestContext,
    action: str,
    object_type: str | None,
    object_id: str | None,
    outcome: str,
) -> AuditEvent:
    if outcome not in OUTCOMES:
        raise ValueError(f"unknown audit outcome {outcome!r}")
    event = AuditEvent(
        actor_id=(request_context.actor_id or None) and request_context.actor_id[:254],
        actor_role=request_context.actor_role,
        action=action,
        object_type=object_type,
        object_id=object_id and object_id[:64],
        outcome=outcome,
        request_id=request_context.request_id,
        client_address=request_context.client_address,
    )
    session.add(event)
    return event
