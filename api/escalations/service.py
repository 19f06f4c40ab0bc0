"""Opening escalations, and staff work on them: the queue, one escalation, its transitions."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from api.core.audit_log import RequestContext, record
from api.core.time import as_utc, utcnow
from api.errors import ApiError
from api.escalations import repository
from api.escalations.models import Escalation, OutboxEvent
from api.escalations.schemas import EscalationDetail, EscalationQueue, EscalationSummary, Status
from api.staff.sessions import StaffPrincipal
from bot.triage.vocabulary import EscalationStatus, EscalationTier

NEW_ESCALATION = "escalation.created"


def open_escalation(
    session: Session, conversation_id: str, message_id: int, tier: str, signs: list[str], notify_webhook: bool
) -> Escalation:
    """Adds the escalation (and its webhook notification) to the caller's transaction."""
    escalation = Escalation(
        conversation_id=conversation_id,
        message_id=message_id,
        tier=tier,
        priority=EscalationTier(tier).priority,
        signs=list(signs),
        status=EscalationStatus.OPEN,
    )
    session.add(escalation)
    session.flush()
    if notify_webhook:
        session.add(OutboxEvent(topic=NEW_ESCALATION, payload=event_payload(escalation)))
    return escalation


def event_payload(escalation: Escalation) -> dict[str, Any]:
    """What leaves the database about an escalation: ids and triage facts, no message text."""
    return {
        "event": NEW_ESCALATION,
        "escalation_id": escalation.id,
        "conversation_id": escalation.conversation_id,
        "tier": escalation.tier,
        "signs": list(escalation.signs),
        "created_at": escalation.created_at.isoformat(),
    }


# --- Staff work on escalations: each call writes its audit row in the caller's transaction. ---

TRANSCRIPT_LIMIT = 1000


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


def load_queue(session: Session, status: Status, limit: int, offset: int) -> EscalationQueue:
    total, rows = repository.queue(session, status, limit, offset)
    names = repository.staff_names(session, {r.acknowledged_by for r in rows} | {r.resolved_by for r in rows})
    return EscalationQueue(status=status, total=total, items=[EscalationSummary.build(r, names) for r in rows])


def view_or_404(session: Session, actx: RequestContext, escalation_id: str) -> EscalationDetail:
    detail = view(session, actx, escalation_id)
    if detail is None:
        raise ApiError(404, "escalation not found")
    return detail


def view(session: Session, actx: RequestContext, escalation_id: str) -> EscalationDetail | None:
    """The escalation with its transcript; the read itself is audited (AUD-2)."""
    row = repository.get(session, escalation_id)
    if row is None:
        return None
    conversation = repository.conversation(session, row.conversation_id)
    assert conversation is not None  # a foreign key: an escalation's conversation exists
    lines, truncated = repository.transcript(session, row.conversation_id, TRANSCRIPT_LIMIT)
    names = repository.staff_names(session, {row.acknowledged_by, row.resolved_by})
    record(session, actx, "transcript.view", "conversation", row.conversation_id, "success")
    return EscalationDetail.build_detail(row, names, conversation.patient_id, lines, truncated)


def acknowledge(session: Session, actx: RequestContext, escalation_id: str) -> Transition:
    changed = repository.change_status(
        session,
        escalation_id,
        EscalationStatus.OPEN,
        status=EscalationStatus.ACKNOWLEDGED,
        acknowledged_at=utcnow(),
        acknowledged_by=actx.actor_id,
    )
    return _finish(session, actx, escalation_id, "escalation.acknowledge", changed)


def resolve(session: Session, actx: RequestContext, escalation_id: str, note: str) -> Transition:
    """Only an acknowledged escalation can be resolved: someone owned the callback first."""
    changed = repository.change_status(
        session,
        escalation_id,
        EscalationStatus.ACKNOWLEDGED,
        status=EscalationStatus.RESOLVED,
        resolved_at=utcnow(),
        resolved_by=actx.actor_id,
        resolution_note=note,
    )
    return _finish(session, actx, escalation_id, "escalation.resolve", changed)


def _finish(session: Session, actx: RequestContext, escalation_id: str, action: str, changed: bool) -> Transition:
    row = repository.get(session, escalation_id, fresh=True)
    assert row is not None  # the caller saw it (visible_escalation), and escalations are never deleted
    names = repository.staff_names(session, {row.acknowledged_by, row.resolved_by})
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
    return f"cannot do that while the escalation is {row.status}"


def _name(staff_id: str | None, names: dict[str, str]) -> str:
    return names.get(staff_id or "", "another staff member")


def status_event(row: Escalation, names: dict[str, str]) -> dict[str, Any]:
    """For live dashboards after a state change commits: triage facts and state, no text."""
    by = row.resolved_by if row.status == EscalationStatus.RESOLVED else row.acknowledged_by
    return {
        "event": f"escalation.{row.status}",
        "escalation_id": row.id,
        "tier": row.tier,
        "status": row.status,
        "signs": list(row.signs),
        "created_at": as_utc(row.created_at).isoformat(),
        "by": names.get(by) if by else None,
    }
