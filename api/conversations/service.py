"""Patient conversations: starting one, finding one for a Rasa REST sender, reading its transcript."""

from __future__ import annotations

from sqlalchemy.orm import Session

from api.conversations import repository
from api.core.audit_log import RequestContext, record
from api.core.transcript import TranscriptLine
from api.errors import ApiError
from api.settings import Settings


def check_length(settings: Settings, text: str) -> None:
    if len(text) > settings.max_text_chars:
        raise ApiError(422, f"text is longer than {settings.max_text_chars} characters", "text_too_long")


def start_conversation(
    session: Session, patient_id: str, contact_name: str | None = None, contact_phone: str | None = None
) -> str:
    conversation = repository.create_conversation(session, patient_id)
    conversation.contact_name, conversation.contact_phone = contact_name, contact_phone
    return str(conversation.id)


def conversation_for_sender(session: Session, sender: str, patient_id: str, actx: RequestContext) -> str | None:
    """The Rasa REST channel's `sender` is the conversation id: created on first use for this
    patient. None when another patient owns it: the refusal is audited (AUD-2) and committed,
    and the caller answers 404, as if it were absent."""
    conversation = repository.get_conversation(session, sender)
    if conversation is None:
        return str(repository.create_conversation(session, patient_id, sender).id)
    if conversation.patient_id != patient_id:
        record(session, actx, "conversation.access", "conversation", sender, "denied")
        return None
    return str(conversation.id)


def transcript(session: Session, conversation_id: str, limit: int, after_id: int) -> list[TranscriptLine]:
    rows = repository.list_messages(session, conversation_id, limit, after_id)
    return [TranscriptLine.build(row) for row in rows]
