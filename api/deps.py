"""Request dependencies: the database session, app-wide objects, the verified patient, and
owned conversations.

Object-level access is checked here and only here (AC-1): a route that takes a conversation id
gets the conversation through `owned_conversation`, which answers 404 for a conversation
that does not exist and for one that belongs to someone else (ID-3), so ids leak nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Header, Request
from fastapi.exceptions import RequestValidationError
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session
from starlette.exceptions import HTTPException

from api.context import AppContext
from api.conversations import repository
from api.conversations.models import Conversation
from api.core.audit_log import record, request_context
from api.errors import ApiError
from api.escalations.events import EventHub
from api.identity import patient_contact, verify_patient_claims
from api.ratelimit import check_rate
from api.settings import Settings

log = logging.getLogger("aftercare.deps")

# A refusal is an outcome, not a failure: what the request recorded on its way to it (the
# audit row of a denied action, a failed login, a refused transition) is committed with it.
_REFUSALS = (ApiError, HTTPException, RequestValidationError)


async def get_ctx(request: Request) -> AppContext:
    ctx: AppContext = request.app.state.ctx
    return ctx


Ctx = Annotated[AppContext, Depends(get_ctx)]


async def app_settings(ctx: Ctx) -> Settings:
    return ctx.settings


async def event_hub(ctx: Ctx) -> EventHub:
    return ctx.events


AppSettings = Annotated[Settings, Depends(app_settings)]
Events = Annotated[EventHub, Depends(event_hub)]


def db_session(ctx: Ctx) -> Iterator[Session]:
    """One transaction per request, shared by the route and its dependencies: committed when
    the route returns (before the response is sent), rolled back on an unexpected error."""
    session = ctx.sessions()
    try:
        yield session
        session.commit()
    except _REFUSALS:
        session.commit()
        raise
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


# scope="function": the commit happens before the response goes out, so a reply never
# reports what was not stored.
DbSession = Annotated[Session, Depends(db_session, scope="function")]


async def bearer_token(authorization: Annotated[str | None, Header()] = None) -> str:
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiError(401, "a Bearer token is required", headers={"WWW-Authenticate": "Bearer"})
    return token.strip()


def current_patient(settings: AppSettings, request: Request, token: Annotated[str, Depends(bearer_token)]) -> str:
    claims = verify_patient_claims(token, settings)
    patient_id = str(claims["sub"])
    request.state.patient_contact = patient_contact(claims)  # for a new conversation's callback
    check_rate(request, "patient", patient_id)
    return patient_id


PatientId = Annotated[str, Depends(current_patient)]


def owned_conversation(
    conversation_id: str, request: Request, db: DbSession, settings: AppSettings, patient_id: PatientId
) -> Conversation:
    try:
        conversation = repository.get_conversation(db, conversation_id)
    except SQLAlchemyError as error:  # ownership cannot be checked: no reply, but the number (RES-3)
        log.error("conversation lookup failed", exc_info=error, extra={"error_type": type(error).__name__})
        db.rollback()
        clinic = settings.clinic
        raise ApiError(
            503,
            f"Sorry, I can't answer right now. Please call {clinic.clinic_name} on "
            f"{clinic.phone_now()}. In an emergency, call {clinic.emergency_number}.",
        ) from None
    if conversation is not None and conversation.patient_id != patient_id:  # AUD-2, committed with the 404
        actx = request_context(request, patient_id, "patient")
        record(db, actx, "conversation.access", "conversation", conversation_id, "denied")
    if conversation is None or conversation.patient_id != patient_id:
        raise ApiError(404, "conversation not found")
    # End the read here: a patient message then waits seconds on the model, and must not hold
    # a pooled connection (or a PostgreSQL transaction) meanwhile. The row stays usable.
    db.commit()
    return conversation


OwnedConversation = Annotated[Conversation, Depends(owned_conversation)]
