"""The edge of care_team: a nurse replies (staff API), the patient's widget listens (SSE)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request
from sse_starlette import EventSourceResponse

from api.care_team import service, stream
from api.care_team.schemas import StaffReply, StaffReplyRequest
from api.core.audit_log import request_context
from api.db import MAX_ID
from api.deps import Ctx, DbSession, Events, OwnedConversation
from api.errors import ApiError
from api.escalations import service as escalations
from api.staff.deps import CurrentStaff

router = APIRouter()

_REPLY_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"description": "No valid staff session"},
    403: {"description": "Cookie request without the CSRF header"},
    404: {"description": "No such escalation"},
    409: {"description": "The case is not held (acknowledge it first) or is resolved"},
}


@router.post(
    "/api/v1/escalations/{escalation_id}/messages",
    response_model=StaffReply,
    status_code=201,
    tags=["staff"],
    responses=_REPLY_RESPONSES,
)
def reply_to_patient(
    escalation_id: str,
    body: StaffReplyRequest,
    request: Request,
    db: DbSession,
    events: Events,
    staff: CurrentStaff,
) -> StaffReply:
    """Write to the patient: the line joins their transcript (role `staff`, with your name) and
    appears in their open widget. Audited."""
    if escalations.visible(db, staff, escalation_id) is None:
        raise ApiError(404, "escalation not found")
    actx = request_context(request, staff.id, staff.role)
    line, conversation_id = service.reply_to_patient(db, actx, staff, escalation_id, body.text)
    db.commit()  # stored before the patient is told there is something to read
    events.notify(*service.reply_notice(conversation_id, line.id))
    return StaffReply(escalation_id=escalation_id, conversation_id=conversation_id, message=line)


@router.get(
    "/api/v1/conversations/{conversation_id}/events",
    response_class=EventSourceResponse,
    tags=["patient"],
    responses={
        200: {
            "description": "`staff-message` events (a transcript line as JSON, `id:` = its id)",
            "content": {"text/event-stream": {}},
        },
        401: {"description": "No valid patient token"},
        404: {"description": "No such conversation"},
    },
)
async def conversation_events(
    request: Request,
    ctx: Ctx,
    conversation: OwnedConversation,
    after_id: Annotated[int, Query(ge=0, le=MAX_ID)] = 0,
    last_event_id: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> EventSourceResponse:
    """Your care team's replies, live, after `after_id` (or `Last-Event-ID`). Send the token in
    the Authorization header (fetch streaming), never in the URL. The stream ends after a few
    minutes; reconnect (the token is checked again)."""
    header = (last_event_id or "").strip()
    resume = int(header) if header.isdigit() and len(header) < 12 else 0
    return EventSourceResponse(
        stream.staff_messages(ctx, conversation.id, max(after_id, resume), request),
        ping=15,
        headers={"X-Accel-Buffering": "no", "Cache-Control": "no-store"},
    )
