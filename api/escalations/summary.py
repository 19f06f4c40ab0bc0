"""The SBAR summary at the top of a case: what a nurse needs before calling the patient back.

Situation (the latest findings, what the patient was told and which number), background (the
enrollment's procedure date, site and risk factors), assessment (each report with its time and
the patient's own words) and recommendation (what to do next, per tier; process, not diagnosis).
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from api.conversations.models import Conversation
from api.core.time import as_utc
from api.escalations import repository
from api.escalations.models import Escalation
from api.escalations.schemas import Background, CaseSummary, Contact, ReportOut, Situation, SlaClock
from api.settings import Settings
from bot.triage.vocabulary import EscalationTier


def case_summary(
    session: Session, settings: Settings, clock: SlaClock, row: Escalation, conversation: Conversation
) -> CaseSummary:
    reports = [
        ReportOut(
            message_id=report.message_id,
            tier=report.tier,
            signs=list(report.signs),
            words=words,
            reported_at=as_utc(report.created_at),
            note=report.note,
        )
        for report, words in repository.reports(session, row.id)
    ]
    latest = reports[-1] if reports else None
    enrollment = repository.latest_enrollment(session, conversation.patient_id)
    contact = _contact(conversation, enrollment.phone_number if enrollment else None)
    situation = Situation(
        tier=latest.tier if latest else row.tier,
        signs=latest.signs if latest else list(row.signs),
        reported_at=latest.reported_at if latest else as_utc(row.created_at),
        told=repository.replies_after(session, row.conversation_id, latest.message_id if latest else row.message_id),
        told_number=_told_number(settings, latest.tier if latest else row.tier, clock, latest),
    )
    background = Background(
        enrolled=enrollment is not None,
        procedure_at=as_utc(enrollment.procedure_at) if enrollment else None,
        site=enrollment.site if enrollment else None,
        risk_factors=sorted(enrollment.risk_flags) if enrollment else [],
    )
    return CaseSummary(
        situation=situation,
        background=background,
        assessment=reports,
        recommendation=_recommendation(settings, row.tier, contact.phone),
        contact=contact,
    )


def _contact(conversation: Conversation, enrolled_phone: str | None) -> Contact:
    """The conversation's number (portal claims, or confirmed in the chat), else the enrollment's;
    a portal name without a number keeps the enrollment's number."""
    name = conversation.contact_name
    if conversation.contact_phone:
        source = "chat" if conversation.contact_phone_source == "chat" else "portal"
        return Contact(name=name, phone=conversation.contact_phone, source=source)
    if enrolled_phone:
        return Contact(name=name, phone=enrolled_phone, source="enrollment")
    return Contact(name=name, phone=None, source="portal" if name else None)


def _told_number(settings: Settings, tier: str, clock: SlaClock, latest: ReportOut | None) -> str | None:
    """The number the safe reply gave for this tier at the time of the report."""
    clinic = settings.clinic
    if tier == EscalationTier.EMERGENCY:
        return clinic.emergency_number
    if tier == EscalationTier.CALL_PROVIDER:
        return clinic.phone_now(latest.reported_at if latest else clock.now)
    return None


def _recommendation(settings: Settings, tier: str, phone: str | None) -> str:
    target = _duration(settings.sla_minutes(tier))
    reach = f"on {phone}" if phone else "(no number on file: use the patient's record)"
    if tier == EscalationTier.EMERGENCY:
        return (
            f"Call the patient now {reach}, within {target}. They were told to call "
            f"{settings.clinic.emergency_number}: confirm they are getting emergency care."
        )
    if tier == EscalationTier.CALL_PROVIDER:
        return f"Call the patient back {reach} within {target} and assess the warning signs reported."
    return f"Call the patient back {reach} within {target} (clinic hours): they asked to talk to a person."


def _duration(minutes: int) -> str:
    if minutes % 60 == 0 and minutes >= 60:
        hours = minutes // 60
        return f"{hours} hour{'s' if hours != 1 else ''}"
    return f"{minutes} minute{'s' if minutes != 1 else ''}"
