"""An unanswered temperature question still reaches a nurse (issue 11: no answer leaves the
escalation open; safety rule 3: no escalation lost).

"I feel hot" with no reading is answered with the temperature question (nothing escalated:
it may be the weather). If the patient has not answered it `unanswered_question_minutes` later
and the conversation has no open or held case, a call-provider case opens: the feeling of fever
without a reading counts as a fever, as "no thermometer" does. Any later patient message that
clears or changes the question cancels this (api/conversations/repository.save_triage_state).

Run by the overdue worker's loop in every process, like the overdue pass: the claim is a
compare-and-set of `question_escalated_at` from NULL that re-checks the condition, in the
transaction that opens the case (PostgreSQL: FOR UPDATE SKIP LOCKED keeps concurrent passes off
each other's rows), so exactly one process opens it; after a restart the next pass finds it.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from api.context import AppContext
from api.conversations.models import Message, TriageState
from api.core.time import utcnow
from api.escalations.background import claim_then_publish
from api.escalations.models import Escalation
from api.escalations.repository import ACTIVE
from api.escalations.service import event_payload, open_escalation
from api.settings import Settings
from bot.triage.vocabulary import EscalationTier

log = logging.getLogger("aftercare.unanswered")
BATCH = 50
QUESTION = "temperature"
SIGNS = ["fever"]
NOTE = "Said they felt hot; the temperature question went unanswered for {minutes} minutes."


def _due(cutoff: dt.datetime) -> list[Any]:
    """Asked before the cutoff, not escalated yet, and no open or held case in the conversation."""
    active_case = sa.exists().where(
        Escalation.conversation_id == TriageState.conversation_id, Escalation.status.in_(ACTIVE)
    )
    return [
        TriageState.pending_question == QUESTION,
        TriageState.question_asked_at <= cutoff,
        TriageState.question_escalated_at.is_(None),
        sa.not_(active_case),
    ]


def claim_unanswered(session: Session, settings: Settings) -> list[dict[str, Any]]:
    """Opens a case for each newly due question; returns their live events (publish after commit)."""
    now = utcnow()
    minutes = settings.unanswered_question_minutes
    cutoff = now - dt.timedelta(minutes=minutes)
    due = session.execute(
        sa.select(TriageState.conversation_id)
        .where(*_due(cutoff))
        .order_by(TriageState.question_asked_at)
        .limit(BATCH)
        .with_for_update(skip_locked=True, of=TriageState)
    ).scalars()
    events = []
    for conversation_id in list(due):
        claimed = session.execute(
            sa.update(TriageState)
            .where(TriageState.conversation_id == conversation_id, *_due(cutoff))
            .values(question_escalated_at=now)
            .execution_options(synchronize_session=False)
        )
        if claimed.rowcount != 1:
            continue  # answered meanwhile, a case opened, or another process took it
        message_id = _question_message(session, conversation_id)
        if message_id is None:
            continue  # a question is only asked in answer to a patient message
        case = open_escalation(
            session,
            conversation_id,
            message_id,
            EscalationTier.CALL_PROVIDER.value,
            SIGNS,
            notify_webhook=bool(settings.webhook_url),
            note=NOTE.format(minutes=minutes),
        )
        events.append(event_payload(case))
    return events


def _question_message(session: Session, conversation_id: str) -> int | None:
    """The patient message the question answered: the latest one (a later one clears it)."""
    latest: int | None = session.execute(
        sa.select(sa.func.max(Message.id)).where(Message.conversation_id == conversation_id, Message.role == "patient")
    ).scalar_one()
    return latest


async def open_unanswered(ctx: AppContext) -> int:
    """One pass: claim and commit, then publish live. Returns how many cases were opened."""
    return await claim_then_publish(ctx, claim_unanswered, log, "unanswered questions escalated", "escalation.created")
