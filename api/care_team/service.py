"""A nurse's replies to the patient, and whether a nurse holds the conversation.

A case is held while a nurse has it: assigned to them (when cases have `assigned_to`), else
acknowledged. While held, the assistant steps back on routine questions (the patient is told
their nurse will reply here); warning signs still get the safe reply at once (messaging
decides that). Resolving ends the hold: the assistant answers again.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from api.conversations import repository as conversations
from api.core.audit_log import RequestContext, record
from api.core.transcript import TranscriptLine
from api.errors import ApiError
from api.escalations import repository as escalations
from api.escalations.events import conversation_topic
from api.escalations.models import Escalation
from api.staff.sessions import StaffPrincipal
from bot.content import ClinicSettings
from bot.triage.vocabulary import EscalationStatus

STAFF_MESSAGE = "message.staff"


def _holder(row: Escalation) -> str | None:
    if row.status == EscalationStatus.RESOLVED:
        return None
    assigned = getattr(row, "assigned_to", None)  # the cases work's holder, when it has landed
    if assigned:
        return str(assigned)
    return row.acknowledged_by if row.status == EscalationStatus.ACKNOWLEDGED else None


def holding_nurse(session: Session, conversation_id: str) -> str | None:
    """The display name of the nurse holding this conversation's case, or None."""
    rows = session.execute(
        sa.select(Escalation)
        .where(Escalation.conversation_id == conversation_id, Escalation.status != EscalationStatus.RESOLVED)
        .order_by(Escalation.created_at.desc())
    ).scalars()
    holders = [h for h in (_holder(r) for r in rows) if h]
    if not holders:
        return None
    return escalations.staff_names(session, {holders[0]}).get(holders[0], "your nurse")


def held_reply_text(clinic: ClinicSettings, nurse: str) -> str:
    """What the patient is told instead of a routine answer while a nurse holds the case."""
    return (
        f"{nurse} from {clinic.clinic_name} is looking after your message and will reply here. "
        f"If anything gets worse, tell me straight away or call {clinic.phone_now()}. "
        f"In an emergency, call {clinic.emergency_number}."
    )


def reply_to_patient(
    session: Session, actx: RequestContext, staff: StaffPrincipal, escalation_id: str, text: str
) -> tuple[TranscriptLine, str]:
    """Stores the reply in the patient's transcript (role staff, with the nurse's name); audited.
    Only while the case is held: take it first, and after resolving the assistant answers."""
    row = escalations.get(session, escalation_id, fresh=True)
    assert row is not None  # the router checked it is visible; escalations are never deleted
    if _holder(row) is None:
        record(session, actx, "escalation.reply", "escalation", escalation_id, "failure")
        problem = (
            "this case is resolved; the assistant answers the patient again"
            if row.status == EscalationStatus.RESOLVED
            else "acknowledge this case before replying to the patient"
        )
        raise ApiError(409, problem, "invalid_transition")
    message = conversations.add_message(session, row.conversation_id, "staff", text, author_name=staff.name)
    record(session, actx, "escalation.reply", "escalation", escalation_id, "success")
    return TranscriptLine.build(message), row.conversation_id


def reply_notice(conversation_id: str, message_id: int) -> tuple[str, dict[str, Any]]:
    """Topic and event for the patient's live feed: ids only (the feed reads the text itself)."""
    return conversation_topic(conversation_id), {"event": STAFF_MESSAGE, "message_id": message_id}


def staff_lines_after(session: Session, conversation_id: str, after_id: int) -> list[TranscriptLine]:
    return [TranscriptLine.build(m) for m in conversations.list_staff_messages(session, conversation_id, after_id)]
