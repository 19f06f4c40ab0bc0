from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status

from api.conversations import service
from api.conversations.schemas import ConversationCreated, Transcript
from api.db import MAX_ID
from api.deps import DbSession, OwnedConversation, PatientId

router = APIRouter(prefix="/api/v1/conversations", tags=["patient"])


@router.post("", status_code=status.HTTP_201_CREATED, response_model=ConversationCreated)
def create_conversation(db: DbSession, patient_id: PatientId) -> ConversationCreated:
    """Start a conversation owned by the token's patient."""
    return ConversationCreated(conversation_id=service.start_conversation(db, patient_id))


@router.get("/{conversation_id}/messages", response_model=Transcript)
def get_transcript(
    db: DbSession,
    conversation: OwnedConversation,
    limit: Annotated[int, Query(ge=1, le=500)] = 200,
    after_id: Annotated[int, Query(ge=0, le=MAX_ID)] = 0,
) -> Transcript:
    """The conversation so far, oldest first, `limit` lines after `after_id`."""
    lines = service.transcript(db, conversation.id, limit, after_id)
    return Transcript(conversation_id=conversation.id, messages=lines)
