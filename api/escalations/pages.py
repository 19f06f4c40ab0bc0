"""The staff dashboard's escalation pages: the queue (one row per case, filtered, paged) and
one case with its SBAR summary and transcript."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response

from api.core.audit_log import request_context
from api.deps import AppSettings, DbSession
from api.errors import ApiError
from api.escalations import service
from api.escalations.repository import SORTS, VIEWS
from api.staff.console import TIER_LABELS, PageStaff, page, to_login

router = APIRouter(prefix="/staff", include_in_schema=False)
PAGE_SIZE = 50
FILTERS = ("status", "tier", "assigned", "overdue", "from", "to", "patient", "sort")


def _day(value: str) -> dt.datetime | None:
    try:
        return dt.datetime.combine(dt.date.fromisoformat(value), dt.time(), dt.timezone.utc)
    except ValueError:
        return None


@router.get("/")
def queue_page(request: Request, db: DbSession, settings: AppSettings, staff: PageStaff) -> Response:
    """Filters come from the query string; a value the queue does not know is ignored."""
    if staff is None:
        return to_login(request)
    args = {name: request.query_params.get(name, "").strip()[:128] for name in FILTERS}
    args["status"] = args["status"] if args["status"] in VIEWS else "active"
    args["tier"] = args["tier"] if args["tier"] in TIER_LABELS else ""
    args["assigned"] = args["assigned"] if args["assigned"] in ("me", "none", "any") else ""
    args["overdue"] = args["overdue"] if args["overdue"] in ("yes", "no") else ""
    args["sort"] = args["sort"] if args["sort"] in SORTS else ""
    to_day = _day(args["to"])
    query = service.queue_query(
        staff.id,
        args["status"],
        args["tier"] or None,
        args["assigned"] or None,
        {"yes": True, "no": False}.get(args["overdue"]),
        _day(args["from"]),
        to_day + dt.timedelta(days=1) if to_day else None,  # "to" includes that day
        args["patient"] or None,
        args["sort"] or None,
        request.query_params.get("cursor", "")[:1000] or None,
        PAGE_SIZE,
    )
    try:
        queue = service.load_queue(db, settings, query)
        bad_cursor = False
    except ApiError:  # a stale or edited cursor: start from the first page
        queue = service.load_queue(db, settings, replace(query, cursor=None))
        bad_cursor = True
    kept = {k: v for k, v in args.items() if v}
    return page(
        request,
        settings,
        "queue.html",
        staff,
        queue=queue,
        status=args["status"],
        args=args,
        filtered=any(args[k] for k in FILTERS if k not in ("status", "sort")),
        views=tuple(VIEWS),
        sorts=tuple(SORTS),
        first_url="/staff/?" + urlencode(kept),
        tier_urls={t: "/staff/?" + urlencode({**kept, "tier": t}) for t in TIER_LABELS},
        next_url="/staff/?" + urlencode({**kept, "cursor": queue.next_cursor}) if queue.next_cursor else None,
        paged=bool(query.cursor) and not bad_cursor,
        sla=service.sla_clock(settings).minutes,
    )


@router.get("/escalations/{escalation_id}")
def conversation_page(
    escalation_id: str, request: Request, db: DbSession, settings: AppSettings, staff: PageStaff
) -> Response:
    if staff is None:
        return to_login(request)
    if service.visible(db, staff, escalation_id) is None:
        return page(request, settings, "message.html", staff, 404, title="Not found", message="No such escalation.")
    actx = request_context(request, staff.id, staff.role)
    detail = service.view_or_404(db, actx, settings, escalation_id)  # an audited view
    return page(request, settings, "conversation.html", staff, e=detail, s=detail.summary)
