"""The audit trail for privacy officers (admin role only, AC-3). Reading it is audited too."""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from api.audit import repository, service
from api.audit.schemas import FIELDS, AuditPage
from api.core.audit_log import request_context
from api.core.time import as_utc
from api.db import MAX_ID
from api.deps import DbSession
from api.errors import ApiError
from api.staff.deps import AdminStaff

router = APIRouter(prefix="/api/v1/audit-events", tags=["audit"])
_AUTH: dict[int | str, dict[str, Any]] = {
    401: {"description": "No valid staff session"},
    403: {"description": "Not an admin"},
}
EXPORT_LIMIT = 10_000


def audit_filter(
    actor: Annotated[
        str | None, Query(max_length=254, description="Staff id, cli, or an e-mail (account and logins tried)")
    ] = None,
    action: Annotated[str | None, Query(max_length=64, description="e.g. staff.login, transcript.view")] = None,
    object_type: Annotated[str | None, Query(max_length=32)] = None,
    object_id: Annotated[str | None, Query(max_length=64)] = None,
    since: Annotated[dt.datetime | None, Query(description="Inclusive, ISO 8601")] = None,
    until: Annotated[dt.datetime | None, Query(description="Exclusive, ISO 8601")] = None,
    before_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
) -> repository.AuditFilter:
    return repository.AuditFilter(
        actor, action, object_type, object_id, _query_time(since), _query_time(until), before_id
    )


def _query_time(value: dt.datetime | None) -> dt.datetime | None:
    try:
        return as_utc(value)
    except OverflowError:  # e.g. 9999-12-31T23:59-23:59 is past the calendar's end in UTC (RES-3)
        raise ApiError(422, "since/until is outside the range of dates in UTC") from None


Filter = Annotated[repository.AuditFilter, Depends(audit_filter)]


@router.get("", response_model=AuditPage, responses=_AUTH)
def list_audit_events(
    request: Request,
    db: DbSession,
    staff: AdminStaff,
    f: Filter,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> AuditPage:
    """Newest first; filter by actor, action, object and time; page with `before_id`."""
    actx = request_context(request, staff.id, staff.role)
    items = service.read_trail(db, actx, f, limit, "audit.query")
    return AuditPage(items=items, next_before_id=items[-1].id if len(items) == limit else None)


@router.get("/export", responses={**_AUTH, 200: {"content": {"text/csv": {}}}})
def export_audit_events(request: Request, db: DbSession, staff: AdminStaff, f: Filter) -> Response:
    """The same filters as CSV (up to 10,000 rows, newest first). Every export is audited."""
    actx = request_context(request, staff.id, staff.role)
    items = service.read_trail(db, actx, f, EXPORT_LIMIT, "audit.export")
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(FIELDS)
    for item in items:
        writer.writerow([_cell(getattr(item, name)) for name in FIELDS])
    return Response(
        out.getvalue(),
        media_type="text/csv",
        headers={"Content-Disposition": 'attachment; filename="audit-events.csv"'},
    )


def _cell(value: object) -> str:
    text = value.isoformat() if isinstance(value, dt.datetime) else ("" if value is None else str(value))
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text  # no formula injection in spreadsheets
