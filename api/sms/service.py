"""An incoming SMS: carrier keywords, the patient found by the enrolled number, the text
through the same patient-message flow as the widget (detector, assistant, escalation), and a
reply that carries no diagnosis and no transcript (SMS-1): what to do, the clinic's name and
number, the portal link. The full answer waits in the portal.

Safety rule 3 holds here too: whatever fails (database, model, lookup), the reply is a safe one
with the clinic's number, chosen by the deterministic detector."""

from __future__ import annotations

import datetime as dt
import logging

import sqlalchemy as sa
from sqlalchemy.orm import Session

from api.context import AppContext
from api.conversations.models import Message
from api.conversations.service import start_conversation
from api.core.time import utcnow
from api.db import in_transaction, off_loop
from api.enrollments import checkins
from api.enrollments.models import CheckIn
from api.enrollments.service import enrollment_for_phone, set_sms_opt_out
from api.messaging.service import handle_patient_message
from api.sms import pending
from bot.triage import Detection, Tier

log = logging.getLogger("aftercare.sms")

# As US carriers and Twilio's Advanced Opt-Out define them.
STOP_WORDS = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "OPTOUT", "REVOKE"})
START_WORDS = frozenset({"START", "YES", "UNSTOP", "OPTIN"})
HELP_WORDS = frozenset({"HELP", "INFO"})


def reply_for_tier(ctx: AppContext, tier: Tier) -> str:
    clinic, phone = ctx.clinic, ctx.clinic.phone_now()
    if tier is Tier.EMERGENCY:
        return f"{clinic.clinic_name}: call {clinic.emergency_number} now. Then tell us on {phone}."
    if tier is Tier.CALL_PROVIDER:
        return f"{clinic.clinic_name}: please call us now on {phone}. More: {ctx.settings.portal_url}"
    return (
        f"{clinic.clinic_name}: thank you, we have your answer. Worried or questions? Call {phone}. "
        f"More: {ctx.settings.portal_url}"
    )


def unknown_number_reply(ctx: AppContext) -> str:
    """Fixed: says nothing about anyone, but a worried sender still gets the numbers."""
    clinic = ctx.clinic
    return (
        f"{clinic.clinic_name}: this number is not set up for check-ins. If you are worried about "
        f"your health call {clinic.phone_now()}; in an emergency call {clinic.emergency_number}."
    )


def keyword_reply(ctx: AppContext, keyword: str) -> str:
    clinic = ctx.clinic
    if keyword in STOP_WORDS:
        return (
            f"{clinic.clinic_name}: you will get no more texts from us. Reply START to resume. "
            f"Worried? Call {clinic.phone_now()}."
        )
    if keyword in START_WORDS:
        return f"{clinic.clinic_name}: check-in texts are back on. Reply STOP to stop them."
    return (
        f"{clinic.clinic_name} aftercare check-ins. Call {clinic.phone_now()}; in an emergency call "
        f"{clinic.emergency_number}. Reply STOP to stop texts."
    )


async def handle_inbound(ctx: AppContext, phone: str, text: str) -> str:
    """The reply text. Never raises."""
    detection = _detect(ctx, text)
    try:
        keyword = text.strip().upper()
        if keyword in STOP_WORDS | START_WORDS:
            await _set_opt_out(ctx, phone, keyword in STOP_WORDS)
            log.info("sms keyword", extra={"event": "sms_stop" if keyword in STOP_WORDS else "sms_start"})
            return keyword_reply(ctx, keyword)
        if keyword in HELP_WORDS:
            return keyword_reply(ctx, keyword)
        return await _answer(ctx, phone, text[: ctx.settings.max_text_chars], detection)
    except Exception as error:
        log.error(
            "sms handling failed; answering with the fail-safe",
            exc_info=error,
            extra={"error_type": type(error).__name__},
        )
        return reply_for_tier(ctx, _tier(detection))


def _tier(detection: Detection | None) -> Tier:
    return detection.tier if detection else Tier.CALL_PROVIDER  # no detection: over-triage


def _keep_for_later(ctx: AppContext, phone: str, text: str, tier: Tier, signs: list[str]) -> None:
    try:
        pending.save(ctx, phone, text[: ctx.settings.max_text_chars], tier.value, signs)
    except Exception as error:  # the disk too: nothing more can be done here; the reply still goes
        log.error("could not keep an sms escalation", extra={"error_type": type(error).__name__})


def _detect(ctx: AppContext, text: str) -> Detection | None:
    try:
        return ctx.detector.detect(text)
    except Exception as error:  # over-triage: the reply falls back to call-your-provider
        log.error("detector failed on an sms", extra={"error_type": type(error).__name__})
        return None


async def _answer(ctx: AppContext, phone: str, text: str, detection: Detection | None) -> str:
    try:
        found = await in_transaction(ctx.sessions, _conversation_for, phone)
    except Exception as error:  # whose number is it? unknown until the database is back
        log.error("sms lookup failed; answering with the fail-safe", extra={"error_type": type(error).__name__})
        if _tier(detection) is not Tier.NONE:
            _keep_for_later(ctx, phone, text, _tier(detection), detection.signs if detection else [])
        return reply_for_tier(ctx, _tier(detection))
    await off_loop(drain_waiting, ctx)  # the database answers again: waiting escalations first
    if found is None:
        return unknown_number_reply(ctx)
    conversation_id, checkin_id = found
    result = await handle_patient_message(ctx, conversation_id, text)
    tier = Tier(result.triage.level)
    if detection is not None and detection.tier.rank > tier.rank:
        tier = detection.tier
    if checkin_id and detection is not None:
        await in_transaction(ctx.sessions, _record, checkin_id, conversation_id, text, detection, utcnow())
    return reply_for_tier(ctx, tier)


async def _set_opt_out(ctx: AppContext, phone: str, opted_out: bool) -> None:
    """STOP is honoured at once; with the database down it waits (file), and run-due, which
    needs the database too, cannot send meanwhile."""
    try:
        await in_transaction(ctx.sessions, set_sms_opt_out, phone, opted_out)
    except Exception as error:
        log.error("sms opt-out kept for later", extra={"error_type": type(error).__name__})
        pending.save(ctx, phone, "", pending.OPT_OUT if opted_out else pending.OPT_IN, [])


def drain_waiting(ctx: AppContext) -> None:
    """Warning-sign texts kept while the database was down go to the staff queue (at start-up too)."""
    if pending.pending_path(ctx).exists():
        pending.drain(ctx, _conversation_for, set_sms_opt_out)


def _conversation_for(session: Session, phone: str) -> tuple[str, str | None] | None:
    """(conversation id, the check-in this answers or None); None for a number nobody enrolled."""
    enrollment = enrollment_for_phone(session, phone)
    if enrollment is None:
        return None
    open_checkin = checkins.open_checkin_for(session, enrollment.id)
    if open_checkin is not None and open_checkin.conversation_id:
        return str(open_checkin.conversation_id), str(open_checkin.id)
    conversation = checkins.latest_conversation_for(session, enrollment.id)
    return conversation or start_conversation(session, enrollment.patient_id), None


def _record(
    session: Session, checkin_id: str, conversation_id: str, text: str, detection: Detection, at: dt.datetime
) -> None:
    checkin = session.get(CheckIn, checkin_id)
    message_id = session.execute(
        sa.select(sa.func.max(Message.id)).where(Message.conversation_id == conversation_id, Message.role == "patient")
    ).scalar_one()
    if checkin is not None and checkin.status == "sent" and message_id is not None:
        checkins.record_answer(session, checkin, text, detection, int(message_id), at)


def record_status(session: Session, message_sid: str, status: str) -> None:
    """Twilio's delivery status callback, kept on the check-in it belongs to."""
    session.execute(sa.update(CheckIn).where(CheckIn.sms_sid == message_sid).values(sms_status=status[:16]))
