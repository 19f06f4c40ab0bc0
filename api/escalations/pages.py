"""The staff dashboard's escalation pages: the queue and one escalation with its transcript."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from api.core.audit_log import request_context
from api.deps import AppSettings, DbSession
from api.escalations import service
from api.escalations.repository import STATUSES
from api.escalations.schemas import Status
from api.staff.console import PageStaff, page, to_login

router = APIRouter(prefix="/staff", include_in_schema=False)


@router.get("/")
def queue_page(
    request: Request, db: DbSession, settings: AppSettings, staff: PageStaff, status: str = Status.OPEN.value
) -> Response:
    if staff is None:
        return to_login(request)
    shown = Status(status) if status in STATUSES else Status.OPEN  # a bad ?status= shows open
    queue = service.load_queue(db, shown, 200, 0)
    return page(request, settings, "queue.html", staff, queue=queue, status=shown, statuses=STATUSES)


@router.get("/escalations/{escalation_id}")
def conversation_page(
    escalation_id: str, request: Request, db: DbSession, settings: AppSettings, staff: PageStaff
) -> Response:
    if staff is None:
        return to_login(request)
    if service.visible(db, staff, escalation_id) is None:
        return page(request, settings, "message.html", staff, 404, title="Not found", message="No such escalation.")
    actx = request_context(request, staff.id, staff.role)
    detail = service.view_or_404(db, actx, escalation_id)  # an audited view
    return page(request, settings, "conversation.html", staff, e=detail)
