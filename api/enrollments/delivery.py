"""Putting one assistant message in front of an enrolled patient, on the channels they can be
reached on: the portal transcript and/or an SMS. Check-ins and their reminders both go out
this way, so the rules live once:

- the portal text is the conversation's message when the patient has the portal;
- an SMS-only patient's transcript shows the SMS body instead (staff see what was sent);
- SMS without a configured provider is an error the caller retries, never a silent skip.
"""

from __future__ import annotations

from typing import Protocol

from sqlalchemy.orm import Session

from api.conversations import repository as conversations
from api.enrollments.models import Enrollment


class SmsSender(Protocol):
    def send(self, to: str, body: str) -> str:
        """Sends one SMS; returns the provider's message id; raises on failure."""


def delivery_channels(enrollment: Enrollment) -> list[str]:
    """The enrollment's channels the patient can be reached on now (STOP: no SMS)."""
    channels = []
    if "portal" in enrollment.channels:
        channels.append("portal")
    if "sms" in enrollment.channels and enrollment.phone_number and enrollment.sms_opted_out_at is None:
        channels.append("sms")
    return channels


def post_to_patient(
    session: Session,
    *,
    enrollment: Enrollment,
    conversation_id: str | None,
    channels: list[str],
    portal_text: str,
    sms_body: str,
    sms: SmsSender | None,
) -> str | None:
    """Writes the message to the transcript (if there is a conversation) and sends the SMS;
    returns the provider's message id, or None when no SMS went out. Raises if SMS is due but
    cannot be sent: the caller's transaction then rolls back and its claim is retried."""
    if "portal" in channels and conversation_id:
        conversations.add_message(session, conversation_id, "assistant", portal_text)
    if "sms" not in channels:
        return None
    if sms is None:
        raise RuntimeError("SMS is not configured (AFTERCARE_TWILIO_*)")
    if "portal" not in channels and conversation_id:
        conversations.add_message(session, conversation_id, "assistant", sms_body)
    return sms.send(enrollment.phone_number, sms_body)
