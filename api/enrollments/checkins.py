"""Sending due check-ins exactly once, and storing what patients answered.

A check-in is claimed before it is sent: `pending` -> `sending` with a lease, then `sent`.
Several workers or replicas may run at once: on PostgreSQL the candidates are locked with
SELECT ... FOR UPDATE SKIP LOCKED, and everywhere the claim itself is a conditional UPDATE that
only one worker can win. A worker killed between claim and send leaves a `sending` row whose
lease expires; the next run claims it again. (A kill after the provider accepted the SMS but
before the commit can repeat that one SMS: the provider offers no idempotency key.)
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from api.conversations import repository as conversations
from api.conversations.models import Message
from api.core.time import as_utc
from api.db import transaction
from api.enrollments.delivery import SmsSender, delivery_channels, post_to_patient
from api.enrollments.models import CheckIn, Enrollment
from api.enrollments.questions import ANSWER_BUTTONS, portal_message, sms_message
from api.enrollments.schedule import may_contact
from api.enrollments.schemas import AnswerButton, UnansweredCheckIn, WaitingCheckIn
from api.settings import Settings
from bot.triage import Detection, Detector

log = logging.getLogger("aftercare.checkins")
MAX_ATTEMPTS = 5


@dataclass
class RunResult:
    sent: int = 0
    failed: int = 0  # failed this run (retried later with backoff, until MAX_ATTEMPTS)


def run_due(
    sessions: sessionmaker, settings: Settings, now: dt.datetime, sms: SmsSender | None, limit: int = 200
) -> RunResult:
    """Claims and sends every check-in due at `now` (inside the patient's contact window)."""
    now = as_utc(now)
    result = RunResult()
    for checkin_id in claim_due(sessions, settings, now, limit):
        try:
            if _deliver(sessions, settings, checkin_id, now, sms):
                result.sent += 1
        except Exception as error:  # provider down, number refused: keep the claim, retry later
            log.error("check-in send failed", extra={"error_type": type(error).__name__})
            _record_failure(sessions, settings, checkin_id, now, type(error).__name__)
            result.failed += 1
    return result


def _due(now: dt.datetime) -> Any:
    return sa.or_(
        sa.and_(CheckIn.status == "pending", CheckIn.due_at <= now),
        sa.and_(CheckIn.status == "sending", CheckIn.lease_until < now),  # a claim whose worker died
    )


def claim_due(sessions: sessionmaker, settings: Settings, now: dt.datetime, limit: int) -> list[str]:
    now = as_utc(now)  # SQLite compares stored UTC text: every instant goes in as UTC
    candidates = (
        sa.select(CheckIn.id, Enrollment.timezone)
        .join(Enrollment, Enrollment.id == CheckIn.enrollment_id)
        .where(Enrollment.status == "active", _due(now))
        .order_by(CheckIn.due_at)
        .limit(limit)
    )
    postgres = sessions.kw["bind"].dialect.name == "postgresql"
    if postgres:  # rows another worker holds are skipped, not waited for
        candidates = candidates.with_for_update(skip_locked=True, of=CheckIn)
    claimed: list[str] = []
    with transaction(sessions) as session:
        rows = session.execute(candidates).all()
        for checkin_id, timezone in rows:
            if not may_contact(now, timezone, settings):
                continue  # quiet hours or outside the contact window there: a later run sends it
            if postgres and _claim(session, checkin_id, now, settings):
                claimed.append(checkin_id)
    if not postgres:  # SQLite: each claim its own write transaction; the WHERE decides the winner
        for checkin_id, timezone in rows:
            if may_contact(now, timezone, settings):
                with transaction(sessions) as session:
                    if _claim(session, checkin_id, now, settings):
                        claimed.append(checkin_id)
    return claimed


def _claim(session: Session, checkin_id: str, now: dt.datetime, settings: Settings) -> bool:
    result = session.execute(
        sa.update(CheckIn)
        .where(CheckIn.id == checkin_id, _due(now))
        .values(
            status="sending",
            lease_until=now + dt.timedelta(seconds=settings.checkin_lease_seconds),
            attempts=CheckIn.attempts + 1,
        )
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount == 1)


def _deliver(
    sessions: sessionmaker, settings: Settings, checkin_id: str, now: dt.datetime, sms: SmsSender | None
) -> bool:
    clinic = settings.clinic
    with transaction(sessions) as session:
        checkin: CheckIn = session.get(CheckIn, checkin_id, with_for_update=True)
        enrollment: Enrollment = session.get(Enrollment, checkin.enrollment_id)
        if checkin.status != "sending":
            return False
        channels = delivery_channels(enrollment)
        if not channels:
            checkin.status, checkin.last_error, checkin.lease_until = "cancelled", "no channel (SMS opt-out)", None
            return False
        conversation = conversations.create_conversation(session, enrollment.patient_id)
        checkin.conversation_id = conversation.id
        sid = post_to_patient(  # the first assistant message of the patient's conversation
            session,
            enrollment=enrollment,
            conversation_id=conversation.id,
            channels=channels,
            portal_text=portal_message(clinic, checkin.day_offset, now),
            sms_body=sms_message(clinic, checkin.day_offset, settings.portal_url, now),
            sms=sms,
        )
        if sid is not None:
            checkin.sms_sid = sid[:64]
        checkin.status, checkin.sent_at, checkin.sent_channels, checkin.lease_until = "sent", now, channels, None
    log.info("check-in sent", extra={"event": "checkin_sent"})
    return True


def _record_failure(sessions: sessionmaker, settings: Settings, checkin_id: str, now: dt.datetime, error: str) -> None:
    """Backoff: the claim is kept for lease x attempts, then the next run retries it."""
    with transaction(sessions) as session:
        checkin: CheckIn = session.get(CheckIn, checkin_id)
        checkin.last_error = error[:200]
        if checkin.attempts >= MAX_ATTEMPTS:
            checkin.status, checkin.lease_until = "failed", None
        else:
            checkin.lease_until = now + dt.timedelta(seconds=settings.checkin_lease_seconds * checkin.attempts)


# --- answers -------------------------------------------------------------------------------

_PAIN = re.compile(r"\b(better|same|worse)\b", re.IGNORECASE)


def structured_response(text: str, detection: Detection, message_id: int) -> dict[str, Any]:
    """The check-in's questions answered from one message (free text or short numbered
    answers), by the same detector that triages it. The text itself stays in the transcript."""
    signs = set(detection.signs)
    pain_words = [w.lower() for w in _PAIN.findall(text)]
    pain = "worse" if "increasing_pain" in signs else (pain_words[0] if pain_words else None)
    return {
        "bleeding": bool(signs & {"bleeding", "uncontrolled_bleeding", "drainage"}),
        "redness_or_swelling": bool(signs & {"redness", "swelling"}),
        "pain": pain,
        "fever": "fever" in signs,
        "temperature_c": detection.temperature_c,
        "triage": detection.tier.value,
        "signs": sorted(signs),
        "message_id": message_id,
    }


def record_answer(
    session: Session, checkin: CheckIn, text: str, detection: Detection, message_id: int, at: dt.datetime
) -> None:
    checkin.status, checkin.answered_at = "answered", at
    checkin.response = structured_response(text, detection, message_id)


def open_checkin_for(session: Session, enrollment_id: str) -> CheckIn | None:
    """The newest sent, unanswered check-in of an enrollment: what an incoming SMS answers."""
    row: CheckIn | None = session.execute(
        sa.select(CheckIn)
        .where(CheckIn.enrollment_id == enrollment_id, CheckIn.status == "sent")
        .order_by(CheckIn.sent_at.desc())
        .limit(1)
    ).scalar_one_or_none()
    return row


def latest_conversation_for(session: Session, enrollment_id: str) -> str | None:
    row = session.execute(
        sa.select(CheckIn.conversation_id)
        .where(CheckIn.enrollment_id == enrollment_id, CheckIn.conversation_id.is_not(None))
        .order_by(CheckIn.sent_at.desc())
        .limit(1)
    ).scalar_one_or_none()
    return str(row) if row else None


def collect_portal_answers(session: Session, detector: Detector) -> int:
    """A check-in answered in the portal: the first patient message after it was sent."""
    found = 0
    for checkin in session.execute(sa.select(CheckIn).where(CheckIn.status == "sent")).scalars():
        message = session.execute(
            sa.select(Message)
            .where(Message.conversation_id == checkin.conversation_id, Message.role == "patient")
            .order_by(Message.id)
            .limit(1)
        ).scalar_one_or_none()
        if message is not None:
            record_answer(
                session, checkin, message.text, detector.detect(message.text), message.id, as_utc(message.created_at)
            )
            found += 1
    return found


def unanswered(session: Session, settings: Settings, detector: Detector, now: dt.datetime) -> list[UnansweredCheckIn]:
    collect_portal_answers(session, detector)
    cutoff = as_utc(now) - dt.timedelta(hours=settings.checkin_no_response_hours)
    rows = session.execute(
        sa.select(CheckIn, Enrollment)
        .join(Enrollment, Enrollment.id == CheckIn.enrollment_id)
        .where(CheckIn.status == "sent", CheckIn.sent_at < cutoff)
        .order_by(CheckIn.sent_at)
    ).all()
    return [
        UnansweredCheckIn(
            checkin_id=c.id,
            enrollment_id=e.id,
            patient_id=e.patient_id,
            day=c.day_offset,
            sent_at=as_utc(c.sent_at),
            channels=c.sent_channels or [],
            reminded_at=as_utc(c.reminder_sent_at),
        )
        for c, e in rows
    ]


def patient_wrote() -> Any:
    """The check-in's conversation has a patient message: answered, whatever was recorded yet."""
    return (
        sa.exists()
        .where(Message.conversation_id == CheckIn.conversation_id, Message.role == "patient")
        .correlate(CheckIn)
    )


def answered_checkin(session: Session, checkin_id: str) -> tuple[CheckIn, Enrollment] | None:
    row = session.execute(
        sa.select(CheckIn, Enrollment)
        .join(Enrollment, Enrollment.id == CheckIn.enrollment_id)
        .where(CheckIn.id == checkin_id, CheckIn.status == "answered")
    ).one_or_none()
    return (row[0], row[1]) if row else None


def waiting_for(session: Session, patient_id: str) -> list[WaitingCheckIn]:
    """Sent to the portal, no patient message since: what the widget offers to answer."""
    rows = session.execute(
        sa.select(CheckIn)
        .join(Enrollment, Enrollment.id == CheckIn.enrollment_id)
        .where(
            Enrollment.patient_id == patient_id,
            Enrollment.status == "active",
            CheckIn.status == "sent",
            CheckIn.conversation_id.is_not(None),
            ~patient_wrote(),
        )
        .order_by(CheckIn.sent_at.desc())
    ).scalars()
    buttons = [AnswerButton(title=title, payload=payload) for title, payload in ANSWER_BUTTONS]
    return [
        WaitingCheckIn(checkin_id=c.id, conversation_id=c.conversation_id, day=c.day_offset, buttons=buttons)
        for c in rows
        if "portal" in (c.sent_channels or [])
    ]
