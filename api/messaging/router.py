"""POST a patient message: the JSON API's route (the Rasa REST channel is in rest_channel.py)."""

from __future__ import annotations

from fastapi import APIRouter

from api.conversations import service as conversations
from api.conversations.schemas import MessageResult, NewMessage
from api.deps import Ctx, OwnedConversation
from api.messaging import service

router = APIRouter(prefix="/api/v1/conversations", tags=["patient"])


@router.post("/{conversation_id}/messages", response_model=MessageResult)
async def post_message(body: NewMessage, ctx: Ctx, conversation: OwnedConversation) -> MessageResult:
    """Send the patient's message; returns the replies, the triage and any escalation."""
    conversations.check_length(ctx.settings, body.text)
    return await service.handle_patient_message(ctx, conversation.id, body.text, conversation.patient_id)
