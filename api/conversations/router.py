from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, status

from api.conversations import service
from api.conversations.schemas import ConversationCreated, Transcript
from api.db import MAX_ID
from api.deps import DbSession, OwnedConversation, PatientId

router = APIRouter(prefix="/api/v1/conversations", tags=["patient"])


@router.post("", status_code=status.HTTP_201_CREATED, response_model=ConversationCreated)
def create_conversation(request: Request, db: DbSession, patient_id: PatientId) -> ConversationCreated:
    """Start a conversation owned by the token's patient (with the token's optional `name` and
    `phone_number` claims: the callback contact staff see on a case)."""
    name, phone = getattr(request.state, "patient_contact", (None, None))
    return ConversationCreated(conversation_id=service.start_conversation(db, patient_id, name, phone))


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
