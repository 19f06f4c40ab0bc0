"""Opening escalations, and staff work on them: the queue, one escalation, its transitions."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from api.core.audit_log import RequestContext, record
from api.core.time import as_utc, utcnow
from api.errors import ApiError
from api.escalations import repository
from api.escalations.models import Escalation, EscalationReport, OutboxEvent
from api.escalations.schemas import EscalationDetail, EscalationQueue, EscalationSummary, SlaClock
from api.escalations.summary import case_summary
from api.settings import Settings
from api.staff.sessions import StaffPrincipal
from bot.triage.vocabulary import EscalationStatus, EscalationTier

NEW_ESCALATION = "escalation.created"
UPDATED_ESCALATION = "escalation.updated"
OVERDUE_ESCALATION = "escalation.overdue"
ACTIVE = (EscalationStatus.OPEN, EscalationStatus.ACKNOWLEDGED)


def open_escalation(
    session: Session,
    conversation_id: str,
    message_id: int,
    tier: str,
    signs: list[str],
    notify_webhook: bool,
    note: str | None = None,
) -> Escalation:
    """A warning-sign report, in the caller's transaction (with its webhook notification).

    While the conversation has an open or acknowledged case the report attaches to it, and a
    higher tier raises the case (restarting its SLA clock); otherwise it opens a new case.
    `announcement` on the result says which: escalation.created or escalation.updated.
    `note`: what the report is when the message does not say it (e.g. a question unanswered).
    """
    repository.lock_conversation(session, conversation_id)
    now = utcnow()
    case = repository.active_case(session, conversation_id)
    if case is None:
        case = Escalation(
            conversation_id=conversation_id,
            message_id=message_id,
            tier=tier,
            priority=EscalationTier(tier).priority,
            signs=list(signs),
            status=EscalationStatus.OPEN,
            created_at=now,
            last_report_at=now,
            tier_since=now,
            report_count=1,
        )
        session.add(case)
        session.flush()
        case.announcement = NEW_ESCALATION
    else:
        case.report_count = (case.report_count or 1) + 1
        case.last_report_at = now
        case.signs = list(dict.fromkeys([*case.signs, *signs]))
        if EscalationTier(tier).priority < case.priority:
            case.tier, case.priority, case.tier_since = tier, EscalationTier(tier).priority, now
        case.announcement = UPDATED_ESCALATION
    session.add(
        EscalationReport(
            escalation_id=case.id, message_id=message_id, tier=tier, signs=list(signs), created_at=now, note=note
        )
    )
    session.flush()
    if notify_webhook:
        session.add(OutboxEvent(topic=case.announcement, payload=event_payload(case)))
    return case


def contact_confirmed(session: Session, conversation_id: str, notify_webhook: bool) -> dict[str, Any] | None:
    """The patient confirmed a callback number in the chat (stored on the conversation by the
    caller): the conversation's active case, if any, announces it as escalation.updated with
    `change: contact` (never the number). Returns the live event to publish after commit."""
    repository.lock_conversation(session, conversation_id)
    case = repository.active_case(session, conversation_id)
    if case is None:
        return None
    payload = {**event_payload(case, UPDATED_ESCALATION), "change": "contact"}
    if notify_webhook:
        session.add(OutboxEvent(topic=UPDATED_ESCALATION, payload=payload))
    return payload


def event_payload(escalation: Escalation, event: str | None = None) -> dict[str, Any]:
    """What leaves the database about a case: ids and triage facts, no message text."""
    return {
        "event": event or escalation.announcement,
        "escalation_id": escalation.id,
        "conversation_id": escalation.conversation_id,
        "tier": escalation.tier,
        "status": escalation.status,
        "signs": list(escalation.signs),
        "report_count": escalation.report_count or 1,
        "created_at": as_utc(escalation.created_at).isoformat(),
    }


# --- Staff work on escalations: each call writes its audit row in the caller's transaction. ---

TRANSCRIPT_LIMIT = 1000
MAX_PAGE = 500  # a page of the queue; follow next_cursor for more


@dataclass(frozen=True)
class Transition:
    """ok: this caller changed the status; otherwise `problem` says why not (-> 409)."""

    ok: bool
    escalation: Escalation
    names: dict[str, str]
    problem: str | None = None


def visible(session: Session, staff: StaffPrincipal, escalation_id: str) -> Escalation | None:
    """AC-1 in one place: the escalation if this staff member may see it, else None (-> 404).

    Every active staff account works the whole clinic's queue; per-team scoping would go here.
    """
    if not escalation_id or len(escalation_id) > 64:
        return None
    return repository.get(session, escalation_id)


def sla_clock(settings: Settings) -> SlaClock:
    return SlaClock(minutes={t.value: settings.sla_minutes(t.value) for t in EscalationTier}, now=utcnow())


def queue_query(
    staff_id: str,
    status: str,
    tier: str | None,
    assigned: str | None,
    overdue: bool | None,
    created_after: dt.datetime | None,
    created_before: dt.datetime | None,
    patient_id: str | None,
    sort: str | None,
    cursor: str | None,
    limit: int,
) -> repository.QueueQuery:
    """The API's and the page's query parameters as one query ("me" is the caller)."""
    default = "resolved" if status == "resolved" else "priority"
    if sort is None or (sort == "resolved" and status != "resolved"):
        sort = default  # resolved_at exists on resolved cases only
    return repository.QueueQuery(
        view=status,
        tier=tier or None,
        assigned=staff_id if assigned == "me" else (assigned or None),
        overdue=overdue,
        created_after=created_after,
        created_before=created_before,
        patient_id=patient_id or None,
        sort=sort,
        cursor=cursor or None,
        limit=limit,
    )


def load_queue(session: Session, settings: Settings, query: repository.QueueQuery) -> EscalationQueue:
    """One row per case with filters, a sort and a cursor; raises 422 for a foreign cursor."""
    clock = sla_clock(settings)
    try:
        found = repository.queue(session, query, clock.minutes, clock.now)
    except repository.BadCursor as error:
        raise ApiError(422, str(error), "bad_cursor") from None
    held = {r.acknowledged_by for r in found.rows} | {r.resolved_by for r in found.rows}
    names = repository.staff_names(session, held | {r.assigned_to for r in found.rows})
    return EscalationQueue(
        status=query.view,
        sort=query.sort,
        total=found.total,
        counts={t.value: found.counts.get(t.value, 0) for t in EscalationTier},
        items=[EscalationSummary.build(r, names, clock) for r in found.rows],
        next_cursor=found.next_cursor,
    )


def view_or_404(session: Session, actx: RequestContext, settings: Settings, escalation_id: str) -> EscalationDetail:
    detail = view(session, actx, settings, escalation_id)
    if detail is None:
        raise ApiError(404, "escalation not found")
    return detail


def view(session: Session, actx: RequestContext, settings: Settings, escalation_id: str) -> EscalationDetail | None:
    """The case with its SBAR summary and transcript; the read itself is audited (AUD-2)."""
    row = repository.get(session, escalation_id)
    if row is None:
        return None
    conversation = repository.conversation(session, row.conversation_id)
    assert conversation is not None  # a foreign key: an escalation's conversation exists
    lines, truncated = repository.transcript(session, row.conversation_id, TRANSCRIPT_LIMIT)
    names = repository.staff_names(session, {row.acknowledged_by, row.resolved_by, row.assigned_to})
    clock = sla_clock(settings)
    summary = case_summary(session, settings, clock, row, conversation)
    record(session, actx, "transcript.view", "conversation", row.conversation_id, "success")
    return EscalationDetail.build_detail(row, names, clock, conversation.patient_id, lines, truncated, summary)


def acknowledge(session: Session, actx: RequestContext, escalation_id: str) -> Transition:
    """Taking an open case: acknowledged, and held by this nurse unless someone holds it."""
    now = utcnow()
    changed = repository.change_status(
        session,
        escalation_id,
        EscalationStatus.OPEN,
        status=EscalationStatus.ACKNOWLEDGED,
        acknowledged_at=now,
        acknowledged_by=actx.actor_id,
    )
    if changed:
        repository.compare_and_set(
            session, escalation_id, [Escalation.assigned_to.is_(None)], assigned_to=actx.actor_id, assigned_at=now
        )
    return _finish(session, actx, escalation_id, "escalation.acknowledge", changed)


def assign_to_me(session: Session, actx: RequestContext, escalation_id: str) -> Transition:
    """Hold an unheld, unresolved case (an open one is acknowledged too). No taking over."""
    now = utcnow()
    changed = repository.compare_and_set(
        session,
        escalation_id,
        [Escalation.assigned_to.is_(None), Escalation.status.in_(ACTIVE)],
        assigned_to=actx.actor_id,
        assigned_at=now,
    )
    if changed:
        repository.change_status(
            session,
            escalation_id,
            EscalationStatus.OPEN,
            status=EscalationStatus.ACKNOWLEDGED,
            acknowledged_at=now,
            acknowledged_by=actx.actor_id,
        )
    return _finish(session, actx, escalation_id, "escalation.assign", changed)


def release(session: Session, actx: RequestContext, escalation_id: str) -> Transition:
    """The holder lets go: the case stays acknowledged, held by nobody, its SLA clock restarts."""
    changed = repository.compare_and_set(
        session,
        escalation_id,
        [Escalation.assigned_to == actx.actor_id, Escalation.status.in_(ACTIVE)],
        assigned_to=None,
        assigned_at=None,
        tier_since=utcnow(),
    )
    return _finish(session, actx, escalation_id, "escalation.release", changed)


def resolve(session: Session, actx: RequestContext, escalation_id: str, note: str) -> Transition:
    """Only an acknowledged escalation can be resolved: someone owned the callback first. A
    case someone else holds is theirs to resolve (an admin may, e.g. after a shift ended)."""
    conditions = [Escalation.status == EscalationStatus.ACKNOWLEDGED]
    if actx.actor_role != "admin":
        conditions.append(sa.or_(Escalation.assigned_to.is_(None), Escalation.assigned_to == actx.actor_id))
    changed = repository.compare_and_set(
        session,
        escalation_id,
        conditions,
        status=EscalationStatus.RESOLVED,
        resolved_at=utcnow(),
        resolved_by=actx.actor_id,
        resolution_note=note,
    )
    return _finish(session, actx, escalation_id, "escalation.resolve", changed)


def _finish(session: Session, actx: RequestContext, escalation_id: str, action: str, changed: bool) -> Transition:
    row = repository.get(session, escalation_id, fresh=True)
    assert row is not None  # the caller saw it (visible_escalation), and escalations are never deleted
    names = repository.staff_names(session, {row.acknowledged_by, row.resolved_by, row.assigned_to})
    # A refused transition is recorded too: a double acknowledge shows up as success + failure.
    record(session, actx, action, "escalation", escalation_id, "success" if changed else "failure")
    return Transition(changed, row, names, None if changed else _why_not(row, action, names))


def _why_not(row: Escalation, action: str, names: dict[str, str]) -> str:
    if row.status == EscalationStatus.RESOLVED:
        return f"this escalation was already resolved by {_name(row.resolved_by, names)}"
    if row.status == EscalationStatus.ACKNOWLEDGED and action == "escalation.acknowledge":
        return f"this escalation was already acknowledged by {_name(row.acknowledged_by, names)}"
    if row.status == EscalationStatus.OPEN and action == "escalation.resolve":
        return "acknowledge this escalation before resolving it"
    if action in ("escalation.assign", "escalation.resolve") and row.assigned_to:
        return f"this case is held by {_name(row.assigned_to, names)}"
    if action == "escalation.release":
        return "only the nurse holding this case can release it"
    return f"cannot do that while the escalation is {row.status}"


def _name(staff_id: str | None, names: dict[str, str]) -> str:
    return names.get(staff_id or "", "another staff member")


def status_event(row: Escalation, names: dict[str, str], event: str | None = None) -> dict[str, Any]:
    """For live dashboards after a state change commits: triage facts and state, no text."""
    by = row.resolved_by if row.status == EscalationStatus.RESOLVED else row.assigned_to or row.acknowledged_by
    return {
        "event": event or f"escalation.{row.status}",
        "escalation_id": row.id,
        "tier": row.tier,
        "status": row.status,
        "signs": list(row.signs),
        "created_at": as_utc(row.created_at).isoformat(),
        "by": names.get(by) if by else None,
        "held_by": names.get(row.assigned_to) if row.assigned_to else None,
        "report_count": row.report_count or 1,
    }
