"""The staff enrollments page: each enrolled patient's check-ins, what was sent, answered,
escalated or left unanswered, the one reminder, and SMS opt-outs; filtered by the due date
(in the patient's timezone) and by status. The "no response" list is the `unanswered` filter.

Any staff role may read it (nurses follow up on unanswered check-ins); each view is audited,
like every other look at patient data. The template is with the other staff pages
(api/staff/templates/enrollments.html); this module sits in its domain, like
api.escalations.pages, so that staff never imports a domain that imports staff."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Request
from fastapi.responses import Response

from api.core.audit_log import record, request_context
from api.core.time import utcnow
from api.deps import Ctx, DbSession
from api.enrollments import overview
from api.staff.console import PageStaff, page, to_login

router = APIRouter(prefix="/staff", include_in_schema=False)

STATUS_LABELS = {
    "scheduled": "Scheduled",
    "awaiting": "Sent, awaiting answer",
    "unanswered": "No response",
    "answered": "Answered",
    "escalated": "Escalated",
    "cancelled": "Cancelled",
    "failed": "Failed to send",
}


@router.get("/enrollments")
def enrollments_page(
    request: Request,
    db: DbSession,
    ctx: Ctx,
    staff: PageStaff,
    date: str = "",
    status: str = "",
    opted_out: bool = False,
) -> Response:
    if staff is None:
        return to_login(request)
    on_date = _date(date)
    wanted = status if status in overview.STATUSES else None
    rows = overview.rows(db, ctx.settings, ctx.detector, utcnow(), on_date, wanted, opted_out)
    record(db, request_context(request, staff.id, staff.role), "enrollments.view", "enrollment", None, "success")
    return page(
        request,
        ctx.settings,
        "enrollments.html",
        staff,
        rows=rows,
        form={"date": on_date.isoformat() if on_date else "", "status": wanted or "", "opted_out": opted_out},
        statuses=STATUS_LABELS,
        no_response_hours=ctx.settings.checkin_no_response_hours,
        reminder_hours=ctx.settings.checkin_reminder_hours,
    )


def _date(value: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if value else None
    except ValueError:
        return None  # a mistyped date shows every day rather than an error page
