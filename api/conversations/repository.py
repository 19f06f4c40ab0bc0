"""Queries on conversations and messages; always scoped by the caller (patient or staff)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from api.conversations.models import Conversation, Message, TriageState
from api.core.time import utcnow


def create_conversation(session: Session, patient_id: str, conversation_id: str | None = None) -> Conversation:
    conversation = Conversation(patient_id=patient_id)
    if conversation_id:
        conversation.id = conversation_id
    session.add(conversation)
    session.flush()
    return conversation


def get_conversation(session: Session, conversation_id: str) -> Conversation | None:
    row: Conversation | None = session.get(Conversation, conversation_id)
    return row


def add_message(
    session: Session,
    conversation_id: str,
    role: str,
    text: str,
    triage_level: str = "none",
    answered_by: str | None = None,
    author_name: str | None = None,
) -> Message:
    message = Message(
        conversation_id=conversation_id,
        role=role,
        text=text,
        triage_level=triage_level,
        answered_by=answered_by,
        author_name=author_name,
    )
    session.add(message)
    session.flush()
    return message


def list_messages(session: Session, conversation_id: str, limit: int, after_id: int = 0) -> list[Message]:
    query = (
        sa.select(Message)
        .where(Message.conversation_id == conversation_id, Message.id > after_id)
        .order_by(Message.id)
        .limit(limit)
    )
    return list(session.execute(query).scalars())


def count_patient_messages(session: Session, conversation_id: str) -> int:
    query = sa.select(sa.func.count()).where(Message.conversation_id == conversation_id, Message.role == "patient")
    return int(session.execute(query).scalar_one())


def list_staff_messages(session: Session, conversation_id: str, after_id: int, limit: int = 50) -> list[Message]:
    """A nurse's replies after `after_id`, oldest first (what the patient's open widget shows live)."""
    query = (
        sa.select(Message)
        .where(Message.conversation_id == conversation_id, Message.role == "staff", Message.id > after_id)
        .order_by(Message.id)
        .limit(limit)
    )
    return list(session.execute(query).scalars())


def get_triage_state(session: Session, conversation_id: str) -> str | None:
    """The conversation's triage state as stored (JSON text), or None before its first turn."""
    row = session.get(TriageState, conversation_id)
    return None if row is None else str(row.state)


def save_triage_state(
    session: Session, conversation_id: str, state_json: str, pending_question: str | None = None
) -> None:
    """Adds the new state to the caller's transaction (the turn's messages are in it too).
    A question that changes (asked, answered, another one) restarts its clock."""
    row = session.get(TriageState, conversation_id)
    if row is None:
        row = TriageState(conversation_id=conversation_id, state=state_json)
        session.add(row)
    else:
        row.state = state_json
    if row.pending_question != pending_question or (pending_question and row.question_asked_at is None):
        row.pending_question = pending_question
        row.question_asked_at = utcnow() if pending_question else None
        row.question_escalated_at = None
    session.flush()


def patient_of(session: Session, conversation_id: str) -> str | None:
    conversation = get_conversation(session, conversation_id)
    return None if conversation is None else str(conversation.patient_id)
