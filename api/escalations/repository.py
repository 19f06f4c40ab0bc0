"""Queries on escalations for staff, who see the whole clinic's queue (one clinic per site)."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from api.conversations.models import Conversation, Message
from api.core.time import as_utc
from api.escalations.models import Escalation, EscalationReport
from api.staff.models import StaffUser
from bot.triage.vocabulary import EscalationStatus

STATUSES = tuple(s.value for s in EscalationStatus)
ACTIVE = (EscalationStatus.OPEN.value, EscalationStatus.ACKNOWLEDGED.value)
# Queue views beyond one status: every unresolved case, or everything.
VIEWS = {**{s: (s,) for s in STATUSES}, "active": ACTIVE, "all": STATUSES}

# Sort orders for keyset pagination; every column is non-null for the rows it applies to, and
# the id breaks ties. "resolved" applies to the resolved view only.
ASC, DESC = "asc", "desc"
SORTS: dict[str, tuple[tuple[str, str], ...]] = {
    "priority": (("priority", ASC), ("created_at", ASC)),  # emergency first, then longest waiting
    "oldest": (("created_at", ASC),),
    "newest": (("created_at", DESC),),
    "latest_report": (("last_report_at", DESC),),
    "resolved": (("resolved_at", DESC),),
}


class BadCursor(ValueError):
    """A cursor this queue did not hand out (or for another sort)."""


@dataclass(frozen=True)
class QueueQuery:
    view: str = EscalationStatus.OPEN.value
    tier: str | None = None
    assigned: str | None = None  # a staff id, "none" (unheld) or "any" (held)
    overdue: bool | None = None
    created_after: dt.datetime | None = None
    created_before: dt.datetime | None = None
    patient_id: str | None = None
    sort: str = "priority"
    cursor: str | None = None
    limit: int = 100


@dataclass(frozen=True)
class QueuePage:
    total: int
    counts: dict[str, int]
    rows: list[Escalation]
    next_cursor: str | None


def get(session: Session, escalation_id: str, fresh: bool = False) -> Escalation | None:
    row: Escalation | None = session.get(Escalation, escalation_id, populate_existing=fresh)
    return row


# --- Cases ---------------------------------------------------------------------------------


def lock_conversation(session: Session, conversation_id: str) -> None:
    """Serialises reports in one conversation across processes (PostgreSQL row lock; SQLite
    writes are serial anyway), so two reports at once cannot open two cases.

    FOR NO KEY UPDATE, not FOR UPDATE: the caller's new message row already holds a KEY SHARE
    lock on the conversation (its foreign key), which FOR UPDATE would deadlock against."""
    session.execute(
        sa.select(Conversation.id).where(Conversation.id == conversation_id).with_for_update(key_share=True)
    )


def active_case(session: Session, conversation_id: str) -> Escalation | None:
    row: Escalation | None = session.execute(
        sa.select(Escalation)
        .where(Escalation.conversation_id == conversation_id, Escalation.status.in_(ACTIVE))
        .order_by(Escalation.created_at.desc())
        .limit(1)
    ).scalar_one_or_none()
    return row


def reports(session: Session, escalation_id: str) -> list[tuple[EscalationReport, str]]:
    """Each report of the case with the patient's words, oldest first."""
    rows = session.execute(
        sa.select(EscalationReport, Message.text)
        .join(Message, Message.id == EscalationReport.message_id)
        .where(EscalationReport.escalation_id == escalation_id)
        .order_by(EscalationReport.id)
    )
    return [(report, text) for report, text in rows.all()]


def replies_after(session: Session, conversation_id: str, message_id: int, limit: int = 3) -> list[str]:
    """What the assistant answered to one patient message (the lines stored right after it)."""
    rows = session.execute(
        sa.select(Message.role, Message.text)
        .where(Message.conversation_id == conversation_id, Message.id > message_id)
        .order_by(Message.id)
        .limit(limit + 1)
    ).all()
    told = []
    for role, text in rows:
        if role != "assistant":
            break
        told.append(text)
    return told


# The enrollments domain imports this one (its overview counts cases), so the case summary
# reads the few enrollment columns it shows through a lightweight table, not their model.
_ENROLLMENTS = sa.table(
    "enrollments",
    sa.column("patient_id", sa.String),
    sa.column("status", sa.String),
    sa.column("procedure_at", sa.DateTime(timezone=True)),
    sa.column("site", sa.String),
    sa.column("risk_flags", sa.JSON),
    sa.column("phone_number", sa.String),
)


@dataclass(frozen=True)
class EnrollmentFacts:
    procedure_at: dt.datetime
    site: str | None
    risk_flags: list[str]
    phone_number: str | None


def latest_enrollment(session: Session, patient_id: str) -> EnrollmentFacts | None:
    """The patient's active enrollment with the latest procedure, if any."""
    e = _ENROLLMENTS.c
    row = session.execute(
        sa.select(e.procedure_at, e.site, e.risk_flags, e.phone_number)
        .where(e.patient_id == patient_id, e.status == "active")
        .order_by(e.procedure_at.desc())
        .limit(1)
    ).first()
    return EnrollmentFacts(row.procedure_at, row.site, list(row.risk_flags or []), row.phone_number) if row else None


# --- The queue -----------------------------------------------------------------------------


def overdue_clause(sla_minutes: Mapping[str, int], now: dt.datetime) -> Any:
    """Unresolved, held by nobody, and past its tier's target since the tier was set."""
    return sa.and_(
        Escalation.status != EscalationStatus.RESOLVED.value,
        Escalation.assigned_to.is_(None),
        sa.or_(
            *(
                sa.and_(Escalation.tier == tier, Escalation.tier_since <= now - dt.timedelta(minutes=minutes))
                for tier, minutes in sla_minutes.items()
            )
        ),
    )


def queue(session: Session, query: QueueQuery, sla_minutes: Mapping[str, int], now: dt.datetime) -> QueuePage:
    where = _filters(query, sla_minutes, now)
    tier_where = [*where, Escalation.tier == query.tier] if query.tier else where
    counts = dict(
        session.execute(sa.select(Escalation.tier, sa.func.count()).where(*where).group_by(Escalation.tier)).all()
    )
    total = session.execute(sa.select(sa.func.count()).select_from(Escalation).where(*tier_where)).scalar_one()
    keys = SORTS[query.sort]
    page_where = list(tier_where)
    if query.cursor:
        page_where.append(_after(keys, decode_cursor(query.cursor, query.sort)))
    order = [_column(name).asc() if way == ASC else _column(name).desc() for name, way in keys]
    rows = list(
        session.execute(
            sa.select(Escalation).where(*page_where).order_by(*order, Escalation.id).limit(query.limit + 1)
        ).scalars()
    )
    more = len(rows) > query.limit
    rows = rows[: query.limit]
    return QueuePage(
        total, {str(k): int(v) for k, v in counts.items()}, rows, _cursor(rows[-1], query.sort) if more else None
    )


def _filters(query: QueueQuery, sla_minutes: Mapping[str, int], now: dt.datetime) -> list[Any]:
    where: list[Any] = [Escalation.status.in_(VIEWS[query.view])]
    if query.assigned == "none":
        where.append(Escalation.assigned_to.is_(None))
    elif query.assigned == "any":
        where.append(Escalation.assigned_to.is_not(None))
    elif query.assigned:
        where.append(Escalation.assigned_to == query.assigned)
    if query.overdue is not None:
        late = overdue_clause(sla_minutes, now)
        where.append(late if query.overdue else sa.not_(late))
    if query.created_after:
        where.append(Escalation.created_at >= query.created_after)
    if query.created_before:
        where.append(Escalation.created_at < query.created_before)
    if query.patient_id:
        patients = sa.select(Conversation.id).where(Conversation.patient_id == query.patient_id)
        where.append(Escalation.conversation_id.in_(patients))
    return where


def _column(name: str) -> Any:
    return getattr(Escalation, name)


def _after(keys: tuple[tuple[str, str], ...], values: list[Any]) -> Any:
    """Rows strictly after the cursor in (keys..., id) order, whatever each key's direction."""
    *key_values, last_id = values
    columns = [(_column(name), way) for name, way in keys] + [(Escalation.id, ASC)]
    every = [*key_values, last_id]
    branches = []
    for i, (column, way) in enumerate(columns):
        equal = [columns[j][0] == every[j] for j in range(i)]
        beyond = column > every[i] if way == ASC else column < every[i]
        branches.append(sa.and_(*equal, beyond))
    return sa.or_(*branches)


def _cursor(row: Escalation, sort: str) -> str:
    values: list[Any] = []
    for name, _way in SORTS[sort]:
        value = getattr(row, name)
        values.append(as_utc(value).isoformat() if isinstance(value, dt.datetime) else value)
    values.append(row.id)
    raw = json.dumps({"s": sort, "v": values}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, sort: str) -> list[Any]:
    try:
        data = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if data["s"] != sort or len(data["v"]) != len(SORTS[sort]) + 1:
            raise BadCursor("cursor does not match this sort")
        values: list[Any] = []
        for (name, _way), value in zip(SORTS[sort], data["v"][:-1], strict=True):
            if isinstance(getattr(Escalation, name).type, sa.DateTime):
                values.append(as_utc(dt.datetime.fromisoformat(value)))
            else:
                values.append(int(value))
        values.append(str(data["v"][-1]))
        return values
    except BadCursor:
        raise
    except (ValueError, TypeError, KeyError, binascii.Error, json.JSONDecodeError):
        raise BadCursor("not a cursor from this queue") from None


# --- Holding, transitions, overdue ---------------------------------------------------------


def staff_names(session: Session, staff_ids: set[str]) -> dict[str, str]:
    ids = {i for i in staff_ids if i}
    if not ids:
        return {}
    rows = session.execute(sa.select(StaffUser.id, StaffUser.name).where(StaffUser.id.in_(ids)))
    return dict(rows.all())


def change_status(session: Session, escalation_id: str, from_status: str, **values: Any) -> bool:
    """Compare-and-set on the status: of two concurrent callers exactly one sees True."""
    return compare_and_set(session, escalation_id, [Escalation.status == from_status], **values)


def compare_and_set(session: Session, escalation_id: str, conditions: list[Any], **values: Any) -> bool:
    result = session.execute(
        sa.update(Escalation)
        .where(Escalation.id == escalation_id, *conditions)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount == 1)


def newly_overdue(session: Session, sla_minutes: Mapping[str, int], now: dt.datetime, limit: int) -> list[str]:
    """Overdue cases not announced yet (skipping rows another worker is claiming right now)."""
    rows = session.execute(
        sa.select(Escalation.id)
        .where(overdue_clause(sla_minutes, now), Escalation.overdue_notified_at.is_(None))
        .order_by(Escalation.priority, Escalation.tier_since)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return list(rows.scalars())


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
