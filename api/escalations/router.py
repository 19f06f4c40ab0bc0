"""Staff API on escalations: the queue, one escalation with its transcript, and its transitions."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from sqlalchemy.orm import Session

from api.core.audit_log import RequestContext, request_context
from api.deps import AppSettings, DbSession, Events
from api.errors import ApiError
from api.escalations import pages, service, stream
from api.escalations.events import EventHub
from api.escalations.models import Escalation
from api.escalations.schemas import (
    EscalationDetail,
    EscalationQueue,
    EscalationSummary,
    ResolveRequest,
    Tier,
)
from api.settings import Settings
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


View = Literal["open", "acknowledged", "resolved", "active", "all"]
Sort = Literal["priority", "oldest", "newest", "latest_report", "resolved"]


@api_router.get("", response_model=EscalationQueue, responses={**_AUTH, 422: {"description": "Bad filter or cursor"}})
def list_escalations(
    db: DbSession,
    settings: AppSettings,
    staff: CurrentStaff,
    status: View = "open",
    tier: Tier | None = None,
    assigned: Annotated[
        str | None, Query(max_length=64, description="me, none (unheld), any (held) or a staff id")
    ] = None,
    overdue: bool | None = None,
    created_after: dt.datetime | None = None,
    created_before: dt.datetime | None = None,
    patient_id: Annotated[str | None, Query(max_length=128)] = None,
    sort: Annotated[Sort | None, Query(description="Default: priority (resolved: latest resolved first)")] = None,
    cursor: Annotated[str | None, Query(max_length=1000, description="next_cursor from the previous page")] = None,
    limit: Annotated[int, Query(ge=1, le=service.MAX_PAGE)] = 100,
) -> EscalationQueue:
    """The queue, one row per case: filters, a sort, counts per tier and cursor pagination
    (follow `next_cursor` to the end: no cap on the total). No message text."""
    query = service.queue_query(
        staff.id, status, tier, assigned, overdue, created_after, created_before, patient_id, sort, cursor, limit
    )
    return service.load_queue(db, settings, query)


@api_router.get("/{escalation_id}", response_model=EscalationDetail, responses=_ONE)
def get_escalation(
    request: Request, db: DbSession, settings: AppSettings, staff: CurrentStaff, escalation: StaffEscalation
) -> EscalationDetail:
    """The case: SBAR summary (with the callback contact), each report, and the conversation's
    transcript. Every call is audited."""
    return service.view_or_404(db, request_context(request, staff.id, staff.role), settings, escalation.id)


def _apply(
    db: Session,
    events: EventHub,
    actx: RequestContext,
    settings: Settings,
    change: Callable[[Session], service.Transition],
) -> EscalationSummary:
    result = change(db)
    # Committed either way: a refused change (409) keeps its audit row too.
    db.commit()
    if not result.ok:
        raise ApiError(409, result.problem or "invalid transition", "invalid_transition")
    events.publish(service.status_event(result.escalation, result.names))  # after commit
    return EscalationSummary.build(result.escalation, result.names, service.sla_clock(settings))


def _actx(request: Request, staff: StaffPrincipal) -> RequestContext:
    return request_context(request, staff.id, staff.role)


@api_router.post(
    "/{escalation_id}/acknowledge",
    response_model=EscalationSummary,
    responses={**_ONE, 409: {"description": "Not open any more (someone else acknowledged it)"}},
)
def acknowledge(
    request: Request,
    db: DbSession,
    events: Events,
    settings: AppSettings,
    staff: CurrentStaff,
    escalation: StaffEscalation,
) -> EscalationSummary:
    """Take the escalation: open -> acknowledged (and held by the caller if nobody holds it).
    Of two concurrent calls exactly one succeeds."""
    actx = _actx(request, staff)
    return _apply(db, events, actx, settings, lambda s: service.acknowledge(s, actx, escalation.id))


@api_router.post(
    "/{escalation_id}/assign",
    response_model=EscalationSummary,
    responses={**_ONE, 409: {"description": "Held by someone else, or resolved"}},
)
def assign_to_me(
    request: Request,
    db: DbSession,
    events: Events,
    settings: AppSettings,
    staff: CurrentStaff,
    escalation: StaffEscalation,
) -> EscalationSummary:
    """Hold the case ("assign to me"); an open case is acknowledged too. Audited."""
    actx = _actx(request, staff)
    return _apply(db, events, actx, settings, lambda s: service.assign_to_me(s, actx, escalation.id))


@api_router.post(
    "/{escalation_id}/release",
    response_model=EscalationSummary,
    responses={**_ONE, 409: {"description": "The caller does not hold the case"}},
)
def release(
    request: Request,
    db: DbSession,
    events: Events,
    settings: AppSettings,
    staff: CurrentStaff,
    escalation: StaffEscalation,
) -> EscalationSummary:
    """Let go of a held case: back to the queue unheld, its SLA clock restarted. Audited."""
    actx = _actx(request, staff)
    return _apply(db, events, actx, settings, lambda s: service.release(s, actx, escalation.id))


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
    settings: AppSettings,
    staff: CurrentStaff,
    escalation: StaffEscalation,
) -> EscalationSummary:
    """Close it with a note on what was done: acknowledged -> resolved. A later report in the
    conversation opens a new case."""
    actx = _actx(request, staff)
    return _apply(db, events, actx, settings, lambda s: service.resolve(s, actx, escalation.id, body.note))


router = APIRouter()
router.include_router(api_router)
router.include_router(pages.router)
