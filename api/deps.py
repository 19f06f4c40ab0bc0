"""Request dependencies: the app context, the verified patient, and owned conversations.

Object-level access is checked here and only here (AC-1): a route that takes a conversation id
gets the conversation through `owned_conversation`, which answers 404 for a conversation
that does not exist and for one that belongs to someone else (ID-3), so ids leak nothing.
"""
from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Request
from starlette.concurrency import run_in_threadpool

from api.context import AppContext
from api.conversations import repository
from api.conversations.models import Conversation
from api.errors import ApiError
from api.identity import verify_patient_token
from api.ratelimit import check_rate


def get_ctx(request: Request) -> AppContext:
    return request.app.state.ctx


Ctx = Annotated[AppContext, Depends(get_ctx)]


def bearer_token(authorization: Annotated[str | None, Header()] = None) -> str:
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiError(401, "a Bearer token is required", headers={"WWW-Authenticate": "Bearer"})
    return token.strip()


def current_patient(ctx: Ctx, request: Request, token: Annotated[str, Depends(bearer_token)]) -> str:
    patient_id = verify_patient_token(token, ctx.settings)
    check_rate(request, "patient", patient_id)
    return patient_id


PatientId = Annotated[str, Depends(current_patient)]


def _load_owned(ctx: AppContext, conversation_id: str, patient_id: str) -> Conversation:
    with ctx.sessions() as session:
        conversation = repository.get_conversation(session, conversation_id)
    if conversation is None or conversation.patient_id != patient_id:
        raise ApiError(404, "conversation not found")
    return conversation


async def owned_conversation(conversation_id: str, ctx: Ctx, patient_id: PatientId) -> Conversation:
    return await run_in_threadpool(_load_owned, ctx, conversation_id, patient_id)


OwnedConversation = Annotated[Conversation, Depends(owned_conversation)]
