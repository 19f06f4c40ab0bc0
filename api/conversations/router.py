from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status
from starlette.concurrency import run_in_threadpool

from api.context import AppContext
from api.conversations import repository
from api.conversations.schemas import ConversationCreated, MessageResult, NewMessage, Transcript, TranscriptLine
from api.conversations.service import handle_patient_message
from api.db import transaction
from api.deps import Ctx, OwnedConversation, PatientId
from api.errors import ApiError

router = APIRouter(prefix="/api/v1/conversations", tags=["patient"])


def check_length(ctx: AppContext, text: str) -> None:
    if len(text) > ctx.settings.max_text_chars:
        raise ApiError(422, f"text is longer than {ctx.settings.max_text_chars} characters", "text_too_long")


def _create(ctx: AppContext, patient_id: str) -> str:
    with transaction(ctx.sessions) as session:
        return repository.create_conversation(session, patient_id).id


@router.post("", status_code=status.HTTP_201_CREATED, response_model=ConversationCreated)
async def create_conversation(ctx: Ctx, patient_id: PatientId) -> ConversationCreated:
    """Start a conversation owned by the token's patient."""
    return ConversationCreated(conversation_id=await run_in_threadpool(_create, ctx, patient_id))


@router.post("/{conversation_id}/messages", response_model=MessageResult)
async def post_message(body: NewMessage, ctx: Ctx, conversation: OwnedConversation) -> MessageResult:
    """Send the patient's message; returns the replies, the triage and any escalation."""
    check_length(ctx, body.text)
    return await handle_patient_message(ctx, conversation.id, body.text)


def _transcript(ctx: AppContext, conversation_id: str, limit: int, after_id: int) -> list[TranscriptLine]:
    with ctx.sessions() as session:
        rows = repository.list_messages(session, conversation_id, limit, after_id)
        return [TranscriptLine.from_orm(row) for row in rows]


@router.get("/{conversation_id}/messages", response_model=Transcript)
async def get_transcript(
    ctx: Ctx,
    conversation: OwnedConversation,
    limit: Annotated[int, Query(ge=1, le=500)] = 200,
    after_id: Annotated[int, Query(ge=0)] = 0,
) -> Transcript:
    """The conversation so far, oldest first, `limit` lines after `after_id`."""
    lines = await run_in_threadpool(_transcript, ctx, conversation.id, limit, after_id)
    return Transcript(conversation_id=conversation.id, messages=lines)
