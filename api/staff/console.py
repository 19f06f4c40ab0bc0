"""The staff dashboard's page rendering (Jinja2, same origin), shared by every domain's pages.

Pages authenticate by the session cookie only and redirect to the login page without one.
Everything that changes state goes through the JSON API from staff.js, with the CSRF header
whose value each page carries in <meta name="csrf-token">.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from markupsafe import Markup
from sqlalchemy.orm import Session

from api.core.text import neutralise_bidi
from api.core.time import as_utc, utcnow
from api.settings import Settings
from api.staff.deps import SESSION_COOKIE, deny, optional_staff
from api.staff.sessions import StaffPrincipal, csrf_token, ends_at

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=str(HERE / "templates"))  # autoescapes .html
TIER_LABELS = {
    "emergency": "Emergency",
    "call_provider": "Call provider",
    "callback": "Callback request",
}

PageStaff = Annotated[StaffPrincipal | None, Depends(optional_staff)]


def _neutralised(value: object) -> object:
    if isinstance(value, Markup):  # server-built HTML (a chart): keep it markup, bidi-neutral too
        return Markup(neutralise_bidi(str(value)))  # noqa: S704 (the replacements hold no markup)
    return neutralise_bidi(value) if isinstance(value, str) else value


def waited(since: dt.datetime | None) -> str:
    if since is None:
        return ""
    minutes = max(int((utcnow() - as_utc(since)).total_seconds() // 60), 0)
    if minutes < 1:
        return "<1 min"
    if minutes < 60:
        return f"{minutes} min"
    if minutes < 24 * 60:
        return f"{minutes // 60} h {minutes % 60} min"
    return f"{minutes // 1440} d {minutes % 1440 // 60} h"


templates.env.filters["waited"] = waited
templates.env.filters["sign"] = lambda value: str(value).replace("_", " ")
templates.env.finalize = _neutralised  # every {{ value }} on every staff page (DISP-1)
templates.env.globals["tier_label"] = lambda tier: TIER_LABELS.get(tier, tier)


def page(
    request: Request,
    settings: Settings,
    name: str,
    staff: StaffPrincipal | None,
    status_code: int = 200,
    **context: Any,
) -> Response:
    csrf = csrf_token(settings, staff.session_id) if staff else ""
    return templates.TemplateResponse(
        request,
        name,
        {
            "staff": staff,
            "csrf": csrf,
            "idle_seconds": settings.staff_session_idle_minutes * 60,
            "session_ends": ends_at(settings, staff) if staff else None,
            **context,
        },
        status_code=status_code,
    )


def to_login(request: Request) -> RedirectResponse:
    """To the login page; saying the session expired when the browser still sent a cookie."""
    expired = SESSION_COOKIE in request.cookies
    return RedirectResponse("/staff/login?expired=1" if expired else "/staff/login", status_code=303)


def admin_refusal(request: Request, db: Session, settings: Settings, staff: StaffPrincipal | None) -> Response | None:
    """For admin pages (AC-3): the login page without a session, an audited 403 page for a
    nurse (AUD-2), None for an admin."""
    if staff is None:
        return to_login(request)
    if not staff.is_admin:
        deny(db, request, staff, "this needs the admin role")  # the audit row; the page is ours
        return page(
            request,
            settings,
            "message.html",
            staff,
            403,
            title="Admins only",
            message="This page is for admin accounts.",
        )
    return None
