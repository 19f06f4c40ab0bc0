"""The audit trail page for admins (AC-3): filters, names instead of ids, bounded pages, and
a link to the CSV export with the same filters. Reading it is audited like the API."""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response

from api.audit import repository, service
from api.core.audit_log import request_context
from api.deps import AppSettings, DbSession
from api.staff.console import PageStaff, admin_refusal, page, to_login

router = APIRouter(prefix="/staff/admin", include_in_schema=False)
PAGE_SIZE = 50


def _day(value: str) -> dt.datetime | None:
    """A yyyy-mm-dd from a date input as UTC midnight; anything else is no filter."""
    try:
        return dt.datetime.strptime(value, "%Y-%m-%d").replace(tzinfo=dt.timezone.utc)
    except ValueError:
        return None


def _text(value: str, limit: int) -> str | None:
    value = value.strip()
    return value[:limit] if value else None


@router.get("/audit")
def audit_page(
    request: Request,
    db: DbSession,
    settings: AppSettings,
    staff: PageStaff,
    actor: str = "",
    action: str = "",
    object_type: str = "",
    object_id: str = "",
    since: str = "",
    until: str = "",
    before_id: int | None = None,
) -> Response:
    refusal = admin_refusal(request, db, settings, staff)
    if refusal is not None or staff is None:
        return refusal or to_login(request)
    start, end = _day(since), _day(until)
    f = repository.AuditFilter(
        actor=_text(actor, 254),
        action=_text(action, 64),
        object_type=_text(object_type, 32),
        object_id=_text(object_id, 64),
        since=start,
        until=end + dt.timedelta(days=1) if end else None,  # the "until" day is included
        before_id=before_id if before_id and before_id > 0 else None,
    )
    actx = request_context(request, staff.id, staff.role)
    items = service.read_trail(db, actx, f, PAGE_SIZE, "audit.query")
    form = {
        "actor": actor,
        "action": action,
        "object_type": object_type,
        "object_id": object_id,
        "since": since if start else "",
        "until": until if end else "",
    }
    kept = {k: v for k, v in form.items() if v}
    older = urlencode({**kept, "before_id": items[-1].id}) if len(items) == PAGE_SIZE else None
    api_filter = {
        k: v
        for k, v in (
            ("actor", f.actor),
            ("action", f.action),
            ("object_type", f.object_type),
            ("object_id", f.object_id),
        )
        if v
    }
    if f.since:
        api_filter["since"] = f.since.isoformat()
    if f.until:
        api_filter["until"] = f.until.isoformat()
    return page(
        request,
        settings,
        "audit.html",
        staff,
        items=items,
        form=form,
        actions=repository.actions(db),
        older=older,
        newest=urlencode(kept) if f.before_id else None,
        export="/api/v1/audit-events/export" + ("?" + urlencode(api_filter) if api_filter else ""),
    )
