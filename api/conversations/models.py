from __future__ import annotations

import sqlalchemy as sa

from api.core.ids import new_id
from api.core.time import utcnow
from api.db import Base


class Conversation(Base):
    __tablename__ = "conversations"

    id = sa.Column(sa.String(64), primary_key=True, default=new_id)
    patient_id = sa.Column(sa.String(128), nullable=False, index=True)
    created_at = sa.Column(sa.DateTime(timezone=True), nullable=False, default=utcnow)
    # From the portal's token (optional claims `name`, `phone_number`): who to call back.
    contact_name = sa.Column(sa.String(80))
    contact_phone = sa.Column(sa.String(32))
    # Where contact_phone came from: "portal" (claims; NULL on rows older than 0021) or "chat"
    # (confirmed by the patient when asked for a callback, api/conversations/callback_number.py).
    contact_phone_source = sa.Column(sa.String(16))
    callback_step = sa.Column(sa.String(16))  # None | "asking" | "confirming"
    callback_candidate = sa.Column(sa.String(32))  # the number awaiting the patient's Yes
    callback_asks = sa.Column(sa.Integer, nullable=False, default=0, server_default="0")


class Message(Base):
    """One line of a transcript. Immutable once stored (INT-1): corrections are new rows."""

    __tablename__ = "messages"

    id = sa.Column(sa.Integer, primary_key=True, autoincrement=True)
    conversation_id = sa.Column(sa.String(64), sa.ForeignKey("conversations.id"), nullable=False, index=True)
    role = sa.Column(sa.String(16), nullable=False)  # patient | assistant | staff
    text = sa.Column(sa.Text, nullable=False)
    triage_level = sa.Column(sa.String(16), nullable=False, default="none")
    answered_by = sa.Column(sa.String(16))  # assistant | failsafe (assistant rows only)
    author_name = sa.Column(sa.String(128))  # staff rows: the nurse's display name when sent
    created_at = sa.Column(sa.DateTime(timezone=True), nullable=False, default=utcnow)


class TriageState(Base):
    """What the conversation's triage has established so far (bot.triage.conversation's
    ConversationState as JSON): findings, risk factors, the question left open. Unlike the
    transcript it is rewritten each turn, in the same transaction as the turn's messages."""

    __tablename__ = "conversation_triage_states"

    conversation_id = sa.Column(sa.String(64), sa.ForeignKey("conversations.id"), primary_key=True)
    state = sa.Column(sa.Text, nullable=False)
    # The open question as a column, so the unanswered-question worker can query it
    # (api/escalations/unanswered.py); asked_at restarts only when the question changes.
    pending_question = sa.Column(sa.String(32))
    question_asked_at = sa.Column(sa.DateTime(timezone=True), index=True)
    question_escalated_at = sa.Column(sa.DateTime(timezone=True))  # the one case for it
    updated_at = sa.Column(sa.DateTime(timezone=True), nullable=False, default=utcnow, onupdate=utcnow)
