"""Staff API on escalations: the queue, one escalation with its transcript, and its transitions."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from sqlalchemy.orm import Session

from api.core.audit_log import RequestContext, request_context
from api.deps import DbSession, Events
from api.errors import ApiError
from api.escalations import pages, service, stream
from api.escalations.events import EventHub
from api.escalations.models import Escalation
from api.escalations.schemas import (
    EscalationDetail,
    EscalationQueue,
    EscalationSummary,
    ResolveRequest,
    Status,
)
from api.staff.deps import CurrentStaff
from api.staff.sessions import StaffPrincipal

api_router = APIRouter(prefix="/api/v1/escalations", tags=["staff"])
api_router.include_router(stream.router)  # before /{escalation_id}, so "stream" is not taken for an id


def visible_escalation(escalation_id: str, db: DbSession, staff: CurrentStaff) -> Escalation:
    row = service.visible(db, staff, escalation_id)
    if row is None:
        raise ApiError(404, "escalation not found")
    return row


StaffEscalation = Annotated[Escalation, Depends(visible_escalation)]
_AUTH: dict[int | str, dict[str, Any]] = {
    401: {"description": "No valid staff session"},
    403: {"description": "Cookie request without the CSRF header"},
}
_ONE: dict[int | str, dict[str, Any]] = {**_AUTH, 404: {"description": "No such escalation"}}


@api_router.get("", response_model=EscalationQueue, responses=_AUTH)
def list_escalations(
    db: DbSession,
    staff: CurrentStaff,
    status: Status = Status.OPEN,
    limit: Annotated[int, Query(ge=1, le=200)] = 100,
    offset: Annotated[int, Query(ge=0, le=10_000)] = 0,
) -> EscalationQueue:
    """The queue: emergency first, then oldest first (resolved: latest first). No message text."""
    return service.load_queue(db, status, limit, offset)


@api_router.get("/{escalation_id}", response_model=EscalationDetail, responses=_ONE)
def get_escalation(
    request: Request, db: DbSession, staff: CurrentStaff, escalation: StaffEscalation
) -> EscalationDetail:
    """The escalation with the conversation's transcript and patient id. Every call is audited."""
    return service.view_or_404(db, request_context(request, staff.id, staff.role), escalation.id)


def _apply(
    db: Session,
    events: EventHub,
    actx: RequestContext,
    change: Callable[[Session], service.Transition],
) -> EscalationSummary:
    result = change(db)
    # Committed either way: a refused change (409) keeps its audit row too.
    db.commit()
    if not result.ok:
        raise ApiError(409, result.problem or "invalid transition", "invalid_transition")
    events.publish(service.status_event(result.escalation, result.names))  # after commit
    return EscalationSummary.build(result.escalation, result.names)


def _actx(request: Request, staff: StaffPrincipal) -> RequestContext:
    return request_context(request, staff.id, staff.role)


@api_router.post(
    "/{escalation_id}/acknowledge",
    response_model=EscalationSummary,
    responses={**_ONE, 409: {"description": "Not open any more (someone else acknowledged it)"}},
)
def acknowledge(
    request: Request, db: DbSession, events: Events, staff: CurrentStaff, escalation: StaffEscalation
) -> EscalationSummary:
    """Take the escalation: open -> acknowledged. Of two concurrent calls exactly one succeeds."""
    actx = _actx(request, staff)
    return _apply(db, events, actx, lambda s: service.acknowledge(s, actx, escalation.id))


@api_router.post(
    "/{escalation_id}/resolve",
    response_model=EscalationSummary,
    responses={**_ONE, 409: {"description": "Not acknowledged yet, or already resolved"}},
)
def resolve(
    body: ResolveRequest,
    request: Request,
    db: DbSession,
    events: Events,
    staff: CurrentStaff,
    escalation: StaffEscalation,
) -> EscalationSummary:
    """Close it with a note on what was done: acknowledged -> resolved."""
    actx = _actx(request, staff)
    return _apply(db, events, actx, lambda s: service.resolve(s, actx, escalation.id, body.note))


router = APIRouter()
router.include_router(api_router)
router.include_router(pages.router)
