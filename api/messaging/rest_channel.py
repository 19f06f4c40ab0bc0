"""Rasa REST-channel compatible webhook, so existing Rasa chat clients work unchanged.

Same authentication as the JSON API; the Rasa `sender` is the conversation id, created on
first use for the token's patient and refused (404) if another patient owns it.
"""

from __future__ import annotations

import json
import re
from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, StrictStr, ValidationError

from api.conversations.service import check_length, conversation_for_sender
from api.core.audit_log import request_context
from api.core.text import storable
from api.db import in_transaction
from api.deps import Ctx, PatientId
from api.errors import ApiError
from api.messaging.service import handle_patient_message

router = APIRouter(tags=["rasa-compatible"])
_SENDER = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")


class RestMessage(BaseModel):
    sender: StrictStr
    message: StrictStr


async def _parse(request: Request) -> RestMessage:
    # Some widgets post JSON as text/plain or form content types: parse the body regardless.
    try:
        payload: Any = json.loads(await request.body())
        body = RestMessage.parse_obj(payload)
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError):  # RES-3: bad UTF-8, deep nesting
        raise ApiError(400, "the request body is not valid JSON", "invalid_json") from None
    except ValidationError as error:
        fields = ", ".join(str(e["loc"][0]) for e in error.errors())
        raise ApiError(422, f"expected {{sender, message}} strings; problem with: {fields}") from None
    if not _SENDER.match(body.sender):
        raise ApiError(422, "sender must be 1-64 letters, digits or _.:-")
    if not body.message.strip():
        raise ApiError(422, "message must not be empty")
    body.message = storable(body.message)
    return body


@router.post("/webhooks/rest/webhook")
async def rest_webhook(request: Request, ctx: Ctx, patient_id: PatientId) -> list[dict[str, Any]]:
    body = await _parse(request)
    check_length(ctx.settings, body.message)
    # Committed on its own, before the message: the message's transaction refers to it.
    actx = request_context(request, patient_id, "patient")
    conversation_id = await in_transaction(ctx.sessions, conversation_for_sender, body.sender, patient_id, actx)
    if conversation_id is None:  # someone else's (audited): the same 404 as none
        raise ApiError(404, "conversation not found")
    result = await handle_patient_message(ctx, conversation_id, body.message)
    custom = {
        "triage": result.triage.dict(),
        "topic": result.topic,
        "escalation_id": result.escalation_id,
        "answered_by": result.answered_by,
    }
    messages = []
    for reply in result.replies:
        message: dict[str, Any] = {"recipient_id": body.sender, "text": reply.text}
        if reply.buttons:
            message["buttons"] = reply.buttons
        message["custom"] = {**custom, "kind": reply.kind, "sources": reply.sources, "phone": reply.phone}
        messages.append(message)
    return messages
