"""Queries on escalations for staff, who see the whole clinic's queue (one clinic per site)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from api.conversations.models import Conversation, Message
from api.escalations.models import Escalation
from api.staff.models import StaffUser
from bot.triage.vocabulary import EscalationStatus

STATUSES = tuple(s.value for s in EscalationStatus)


def get(session: Session, escalation_id: str, fresh: bool = False) -> Escalation | None:
    row: Escalation | None = session.get(Escalation, escalation_id, populate_existing=fresh)
    return row


def queue(session: Session, status: str, limit: int, offset: int) -> tuple[int, list[Escalation]]:
    """Open and acknowledged work: emergency first, then oldest first. Resolved: latest first."""
    where = Escalation.status == status
    order: tuple[Any, ...]
    if status == EscalationStatus.RESOLVED:
        order = (Escalation.resolved_at.desc(), Escalation.id)
    else:
        order = (Escalation.priority, Escalation.created_at, Escalation.id)
    total = session.execute(sa.select(sa.func.count()).select_from(Escalation).where(where)).scalar_one()
    rows = session.execute(sa.select(Escalation).where(where).order_by(*order).limit(limit).offset(offset))
    return total, list(rows.scalars())


def staff_names(session: Session, staff_ids: set[str]) -> dict[str, str]:
    ids = {i for i in staff_ids if i}
    if not ids:
        return {}
    rows = session.execute(sa.select(StaffUser.id, StaffUser.name).where(StaffUser.id.in_(ids)))
    return dict(rows.all())


def change_status(session: Session, escalation_id: str, from_status: str, **values: Any) -> bool:
    """Compare-and-set on the status: of two concurrent callers exactly one sees True."""
    result = session.execute(
        sa.update(Escalation)
        .where(Escalation.id == escalation_id, Escalation.status == from_status)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount == 1)


def conversation(session: Session, conversation_id: str) -> Conversation | None:
    row: Conversation | None = session.get(Conversation, conversation_id)
    return row


def transcript(session: Session, conversation_id: str, limit: int) -> tuple[list[Message], bool]:
    """The latest `limit` lines, oldest first, and whether older lines were left out."""
    rows = session.execute(
        sa.select(Message)
        .where(Message.conversation_id == conversation_id)
        .order_by(Message.id.desc())
        .limit(limit + 1)
    )
    lines = list(rows.scalars())
    return list(reversed(lines[:limit])), len(lines) > limit
