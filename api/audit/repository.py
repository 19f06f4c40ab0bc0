"""Reading the audit trail (admins only; see router). Newest first, keyset-paginated by id."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from api.core.audit_log import AuditEvent
from api.staff.models import StaffUser


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
    if f.actor is not None:
        query = query.where(AuditEvent.actor_id.in_(actor_ids(session, f.actor)))
    exact = {
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


def actor_ids(session: Session, actor: str) -> list[str]:
    """An actor as an admin types it: a staff id, "cli", or an e-mail address, which matches
    that account's actions and failed logins attempted with that address."""
    value = actor.strip()
    if "@" not in value:
        return [value]
    email = value.lower()
    staff_id = session.execute(sa.select(StaffUser.id).where(StaffUser.email == email)).scalar()
    return [email] + ([staff_id] if staff_id else [])


def staff_labels(session: Session, staff_ids: set[str]) -> dict[str, tuple[str, str]]:
    """(name, e-mail) for the staff ids among `staff_ids`."""
    ids = {i for i in staff_ids if i}
    if not ids:
        return {}
    rows = session.execute(sa.select(StaffUser.id, StaffUser.name, StaffUser.email).where(StaffUser.id.in_(ids)))
    return {row.id: (row.name, row.email) for row in rows}


def actions(session: Session) -> list[str]:
    """The actions the trail holds, for the page's filter."""
    query = sa.select(AuditEvent.action).distinct().order_by(AuditEvent.action)
    return list(session.execute(query).scalars())
