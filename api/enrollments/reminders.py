"""The one automatic reminder for a check-in nobody answered (issue 15).

After AFTERCARE_CHECKIN_REMINDER_HOURS without a patient message in the check-in's
conversation, `run-due` sends one reminder on the check-in's channels, inside the contact
window. Exactly once, durable like the check-in itself: the reminder is claimed by a
conditional UPDATE (a lease that only one worker can win; an expired lease is claimed again
after a kill or, with a growing backoff, after a provider error; 5 attempts at most) and
`reminder_sent_at` is written in the transaction that adds the portal line.
The no-response list for staff is separate (AFTERCARE_CHECKIN_NO_RESPONSE_HOURS): a reminder
is not an escalation, and an answer after it takes the check-in off that list.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import sessionmaker

from api.core.time import as_utc
from api.db import transaction
from api.enrollments.checkins import MAX_ATTEMPTS, patient_wrote
from api.enrollments.delivery import SmsSender, delivery_channels, post_to_patient
from api.enrollments.models import CheckIn, Enrollment
from api.enrollments.questions import reminder_portal_message, reminder_sms_message
from api.enrollments.schedule import may_contact
from api.settings import Settings

log = logging.getLogger("aftercare.checkins")


def _reminder_due(now: dt.datetime, settings: Settings) -> Any:
    return sa.and_(
        CheckIn.status == "sent",
        CheckIn.sent_at <= now - dt.timedelta(hours=settings.checkin_reminder_hours),
        CheckIn.reminder_sent_at.is_(None),
        CheckIn.reminder_attempts < MAX_ATTEMPTS,  # then staff see it on the no-response list only
        sa.or_(CheckIn.reminder_lease_until.is_(None), CheckIn.reminder_lease_until < now),
        ~patient_wrote(),
    )


def send_reminders(sessions: sessionmaker, settings: Settings, now: dt.datetime, sms: SmsSender | None) -> int:
    now = as_utc(now)
    with transaction(sessions) as session:
        candidates = session.execute(
            sa.select(CheckIn.id, CheckIn.sent_channels, Enrollment)
            .join(Enrollment, Enrollment.id == CheckIn.enrollment_id)
            .where(Enrollment.status == "active", _reminder_due(now, settings))
            .order_by(CheckIn.sent_at)
            .limit(200)
        ).all()
    sent = 0
    for checkin_id, sent_channels, enrollment in candidates:
        if not _channels(enrollment, sent_channels) or not may_contact(now, enrollment.timezone, settings):
            continue  # opted out of the only channel: nothing to send; outside the window: later
        if not _claim(sessions, settings, checkin_id, now):
            continue
        try:
            sent += _deliver(sessions, settings, checkin_id, now, sms)
        except Exception as error:  # the claim stays: the first run after the backoff tries again
            log.error("check-in reminder failed", extra={"error_type": type(error).__name__})
            _back_off(sessions, settings, checkin_id, now)
    return sent


def _channels(enrollment: Enrollment, sent_channels: list[str] | None) -> list[str]:
    """The check-in's channels the patient can still be reached on (STOP since: no SMS)."""
    return [c for c in delivery_channels(enrollment) if c in (sent_channels or [])]


def _claim(sessions: sessionmaker, settings: Settings, checkin_id: str, now: dt.datetime) -> bool:
    """Its own transaction: the WHERE re-checked under the row lock decides the one winner."""
    now = as_utc(now)  # SQLite compares stored UTC text: every instant goes in as UTC
    with transaction(sessions) as session:
        result = session.execute(
            sa.update(CheckIn)
            .where(CheckIn.id == checkin_id, _reminder_due(now, settings))
            .values(
                reminder_lease_until=now + dt.timedelta(seconds=settings.checkin_lease_seconds),
                reminder_attempts=CheckIn.reminder_attempts + 1,
            )
            .execution_options(synchronize_session=False)
        )
        return bool(result.rowcount == 1)


def _back_off(sessions: sessionmaker, settings: Settings, checkin_id: str, now: dt.datetime) -> None:
    """Each failed attempt holds the claim one lease longer than the last."""
    with transaction(sessions) as session:
        checkin: CheckIn = session.get(CheckIn, checkin_id)
        lease = dt.timedelta(seconds=settings.checkin_lease_seconds * checkin.reminder_attempts)
        checkin.reminder_lease_until = now + lease


def _deliver(
    sessions: sessionmaker, settings: Settings, checkin_id: str, now: dt.datetime, sms: SmsSender | None
) -> int:
    clinic = settings.clinic
    with transaction(sessions) as session:
        checkin: CheckIn = session.get(CheckIn, checkin_id, with_for_update=True)
        enrollment: Enrollment = session.get(Enrollment, checkin.enrollment_id)
        if checkin.reminder_sent_at is not None or checkin.status != "sent":
            return 0
        channels = _channels(enrollment, checkin.sent_channels)
        post_to_patient(
            session,
            enrollment=enrollment,
            conversation_id=checkin.conversation_id,
            channels=channels,
            portal_text=reminder_portal_message(clinic, checkin.day_offset, now),
            sms_body=reminder_sms_message(clinic, checkin.day_offset, settings.portal_url, now),
            sms=sms,
        )
        checkin.reminder_sent_at, checkin.reminder_lease_until = now, None
    log.info("check-in reminder sent", extra={"event": "checkin_reminder_sent"})
    return 1
