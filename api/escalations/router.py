"""Staff API on escalations: the queue, one escalation with its transcript, and its transitions."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from starlette.concurrency import run_in_threadpool

from api.audit.service import RequestContext, request_context
from api.context import AppContext
from api.db import in_transaction, transaction
from api.deps import Ctx
from api.errors import ApiError
from api.escalations import repository, service, stream
from api.escalations.models import Escalation
from api.escalations.schemas import (
    EscalationDetail,
    EscalationQueue,
    EscalationSummary,
    ResolveRequest,
    Status,
)
from api.staff.deps import CurrentStaff, visible_escalation

router = APIRouter(prefix="/api/v1/escalations", tags=["staff"])
router.include_router(stream.router)  # before /{escalation_id}, so "stream" is not taken for an id

StaffEscalation = Annotated[Escalation, Depends(visible_escalation)]
_AUTH = {
    401: {"description": "No valid staff session"},
    403: {"description": "Cookie request without the CSRF header"},
}
_ONE = {**_AUTH, 404: {"description": "No such escalation"}}


def load_queue(ctx: AppContext, status: str, limit: int, offset: int) -> EscalationQueue:
    with ctx.sessions() as session:
        total, rows = repository.queue(session, status, limit, offset)
        names = repository.staff_names(
            session, {r.acknowledged_by for r in rows} | {r.resolved_by for r in rows}
        )
        return EscalationQueue(
            status=status, total=total, items=[EscalationSummary.build(r, names) for r in rows]
        )


@router.get("", response_model=EscalationQueue, responses=_AUTH)
async def list_escalations(
    ctx: Ctx,
    staff: CurrentStaff,
    status: Status = "open",
    limit: Annotated[int, Query(ge=1, le=200)] = 100,
    offset: Annotated[int, Query(ge=0, le=10_000)] = 0,
) -> EscalationQueue:
    """The queue: emergency first, then oldest first (resolved: latest first). No message text."""
    return await run_in_threadpool(load_queue, ctx, status, limit, offset)


def view_escalation(ctx: AppContext, actx: RequestContext, escalation_id: str) -> EscalationDetail:
    with transaction(ctx.sessions) as session:
        detail = service.view(session, actx, escalation_id)
    if detail is None:
        raise ApiError(404, "escalation not found")
    return detail


@router.get("/{escalation_id}", response_model=EscalationDetail, responses=_ONE)
async def get_escalation(
    request: Request, ctx: Ctx, staff: CurrentStaff, escalation: StaffEscalation
) -> EscalationDetail:
    """The escalation with the conversation's transcript and patient id. Every call is audited."""
    actx = request_context(request, staff.id, staff.role)
    return await run_in_threadpool(view_escalation, ctx, actx, escalation.id)


async def _apply(request: Request, ctx: AppContext, staff, action, *args) -> EscalationSummary:
    actx = request_context(request, staff.id, staff.role)
    # One transaction that commits the audit row even when the change was refused (409).
    result = await in_transaction(ctx.sessions, action, actx, *args)
    if not result.ok:
        raise ApiError(409, result.problem, "invalid_transition")
    ctx.events.publish(
        service.status_event(result.escalation, result.names)
    )  # after commit: dashboards update
    return EscalationSummary.build(result.escalation, result.names)


@router.post(
    "/{escalation_id}/acknowledge",
    response_model=EscalationSummary,
    responses={**_ONE, 409: {"description": "Not open any more (someone else acknowledged it)"}},
)
async def acknowledge(
    request: Request, ctx: Ctx, staff: CurrentStaff, escalation: StaffEscalation
) -> EscalationSummary:
    """Take the escalation: open -> acknowledged. Of two concurrent calls exactly one succeeds."""
    return await _apply(request, ctx, staff, service.acknowledge, escalation.id)


@router.post(
    "/{escalation_id}/resolve",
    response_model=EscalationSummary,
    responses={**_ONE, 409: {"description": "Not acknowledged yet, or already resolved"}},
)
async def resolve(
    body: ResolveRequest,
    request: Request,
    ctx: Ctx,
    staff: CurrentStaff,
    escalation: StaffEscalation,
) -> EscalationSummary:
    """Close it with a note on what was done: acknowledged -> resolved."""
    return await _apply(request, ctx, staff, service.resolve, escalation.id, body.note)
