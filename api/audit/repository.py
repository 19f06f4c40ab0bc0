"""Reading the audit trail (admins only; see router). Newest first, keyset-paginated by id."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from api.core.audit_log import AuditEvent


@dataclass(frozen=True)
class AuditFilter:
    actor: str | None = None
    action: str | None = None
    object_type: str | None = None
    object_id: str | None = None
    since: dt.datetime | None = None
    until: dt.datetime | None = None
    before_id: int | None = None


def search(session: Session, f: AuditFilter, limit: int) -> list[AuditEvent]:
    query = sa.select(AuditEvent)
    exact = {
        "actor_id": f.actor,
        "action": f.action,
        "object_type": f.object_type,
        "object_id": f.object_id,
    }
    for column, value in exact.items():
        if value is not None:
            query = query.where(getattr(AuditEvent, column) == value)
    if f.since is not None:
        query = query.where(AuditEvent.at >= f.since)
    if f.until is not None:
        query = query.where(AuditEvent.at < f.until)
    if f.before_id is not None:
        query = query.where(AuditEvent.id < f.before_id)
    return list(session.execute(query.order_by(AuditEvent.id.desc()).limit(limit)).scalars())
