"""What the staff enrollments page shows: every check-in with what happened to it.

A check-in's status for staff is one of STATUSES: scheduled (not sent yet), awaiting (sent,
not answered, still inside the no-response time), unanswered (the "no response" list: sent
longer ago than AFTERCARE_CHECKIN_NO_RESPONSE_HOURS without an answer; not an escalation),
answered, escalated (an answer that opened an escalation), cancelled (withdrawn or no channel
left) and failed (the provider refused every attempt). Opt-outs are per patient."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import Session

from api.core.time import as_utc
from api.enrollments.checkins import collect_portal_answers
from api.enrollments.models import CheckIn, Enrollment
from api.escalations.models import Escalation
from api.settings import Settings
from bot.triage import Detector

ONE_DAY = dt.timedelta(days=1)
STATUSES = ("scheduled", "awaiting", "unanswered", "answered", "escalated", "cancelled", "failed")


@dataclass(frozen=True)
class CheckInRow:
    checkin_id: str
    patient_id: str
    external_id: str
    day: int
    due_local: dt.datetime  # in the patient's timezone
    status: str
    channels: list[str]
    sent_at: dt.datetime | None
    sms_status: str | None
    reminded_at: dt.datetime | None
    answered_at: dt.datetime | None
    answer: dict[str, Any] | None
    opted_out: bool
    withdrawn: bool


def staff_status(checkin: CheckIn, escalated: bool, cutoff: dt.datetime) -> str:
    if checkin.status in ("pending", "sending"):
        return "scheduled"
    if checkin.status == "answered":
        return "escalated" if escalated else "answered"
    if checkin.status == "sent":
        return "unanswered" if as_utc(checkin.sent_at) < cutoff else "awaiting"
    return str(checkin.status)  # cancelled, failed


def rows(
    session: Session,
    settings: Settings,
    detector: Detector,
    now: dt.datetime,
    on_date: dt.date | None = None,
    status: str | None = None,
    opted_out_only: bool = False,
) -> list[CheckInRow]:
    """Check-ins, by due time; `on_date` is the due date in the patient's own timezone."""
    collect_portal_answers(session, detector)  # portal answers are recorded when first looked at
    cutoff = as_utc(now) - dt.timedelta(hours=settings.checkin_no_response_hours)
    query = (
        sa.select(CheckIn, Enrollment)
        .join(Enrollment, Enrollment.id == CheckIn.enrollment_id)
        .order_by(CheckIn.due_at, Enrollment.patient_id)
    )
    if on_date is not None:  # every timezone's local day lies within a day either side of UTC's
        start = dt.datetime.combine(on_date, dt.time(), tzinfo=dt.timezone.utc)
        query = query.where(CheckIn.due_at >= start - ONE_DAY, CheckIn.due_at < start + 2 * ONE_DAY)
    if opted_out_only:
        query = query.where(Enrollment.sms_opted_out_at.is_not(None))
    pairs = session.execute(query).all()
    escalated = _escalated_conversations(session, [c for c, _ in pairs])
    found = []
    for checkin, enrollment in pairs:
        due_local = as_utc(checkin.due_at).astimezone(ZoneInfo(enrollment.timezone))
        row = CheckInRow(
            checkin_id=checkin.id,
            patient_id=enrollment.patient_id,
            external_id=enrollment.external_id,
            day=checkin.day_offset,
            due_local=due_local,
            status=staff_status(checkin, checkin.id in escalated, cutoff),
            channels=checkin.sent_channels or [],
            sent_at=as_utc(checkin.sent_at),
            sms_status=checkin.sms_status,
            reminded_at=as_utc(checkin.reminder_sent_at),
            answered_at=as_utc(checkin.answered_at),
            answer=checkin.response,
            opted_out=enrollment.sms_opted_out_at is not None,
            withdrawn=enrollment.status == "withdrawn",
        )
        if on_date is not None and due_local.date() != on_date:
            continue
        if status is not None and row.status != status:
            continue
        if opted_out_only and not row.opted_out:
            continue
        found.append(row)
    return found


def _escalated_conversations(session: Session, checkins: list[CheckIn]) -> set[str]:
    """Check-ins whose conversation has an escalation opened after the check-in was sent."""
    by_conversation = {c.conversation_id: c for c in checkins if c.conversation_id and c.sent_at}
    if not by_conversation:
        return set()
    opened = session.execute(
        sa.select(Escalation.conversation_id, Escalation.created_at).where(
            Escalation.conversation_id.in_(list(by_conversation))
        )
    ).all()
    return {
        by_conversation[conversation_id].id
        for conversation_id, created_at in opened
        if as_utc(created_at) >= as_utc(by_conversation[conversation_id].sent_at)
    }
