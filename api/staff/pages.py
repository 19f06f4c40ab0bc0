"""The staff dashboard: server-rendered pages (Jinja2) and their static files, same origin.

Pages authenticate by the session cookie only and redirect to the login page without one.
Everything that changes state goes through the JSON API from staff.js, with the CSRF header
whose value each page carries in <meta name="csrf-token">.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import FileResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from starlette.concurrency import run_in_threadpool

from api.audit.service import request_context
from api.deps import Ctx
from api.errors import ApiError
from api.escalations.repository import STATUSES
from api.escalations.router import load_queue, view_escalation
from api.staff.deps import SESSION_COOKIE, load_visible_escalation, optional_staff
from api.staff.sessions import StaffPrincipal, csrf_token
from api.staff.timeutil import as_utc, now

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=str(HERE / "templates"))  # autoescapes .html
STATIC = {p.name: p for p in (HERE / "static").iterdir() if p.suffix in {".js", ".css", ".svg"}}
TIER_LABELS = {
    "emergency": "Emergency",
    "call_provider": "Call provider",
    "callback": "Callback request",
}

router = APIRouter(prefix="/staff", include_in_schema=False)
PageStaff = Annotated[StaffPrincipal | None, Depends(optional_staff)]


def waited(since: dt.datetime | None) -> str:
    if since is None:
        return ""
    minutes = max(int((now() - as_utc(since)).total_seconds() // 60), 0)
    if minutes < 1:
        return "<1 min"
    if minutes < 60:
        return f"{minutes} min"
    if minutes < 24 * 60:
        return f"{minutes // 60} h {minutes % 60} min"
    return f"{minutes // 1440} d {minutes % 1440 // 60} h"


templates.env.filters["waited"] = waited
templates.env.filters["sign"] = lambda value: str(value).replace("_", " ")
templates.env.globals["tier_label"] = lambda tier: TIER_LABELS.get(tier, tier)


def _page(
    request: Request, name: str, staff: StaffPrincipal | None, status_code: int = 200, **context
) -> Response:
    csrf = csrf_token(request.app.state.ctx.settings, staff.session_id) if staff else ""
    return templates.TemplateResponse(
        request, name, {"staff": staff, "csrf": csrf, **context}, status_code=status_code
    )


def _to_login(expired: bool = False) -> RedirectResponse:
    return RedirectResponse(
        "/staff/login?expired=1" if expired else "/staff/login", status_code=303
    )


@router.get("")
async def staff_root() -> RedirectResponse:
    return RedirectResponse("/staff/", status_code=308)


@router.get("/login")
async def login_page(request: Request, staff: PageStaff, expired: bool = False) -> Response:
    if staff is not None:
        return RedirectResponse("/staff/", status_code=303)
    return _page(request, "login.html", None, expired=expired)


@router.get("/")
async def queue_page(
    request: Request, ctx: Ctx, staff: PageStaff, status: str = "open"
) -> Response:
    if staff is None:
        return _to_login(expired=SESSION_COOKIE in request.cookies)
    if status not in STATUSES:
        status = "open"
    queue = await run_in_threadpool(load_queue, ctx, status, 200, 0)
    return _page(request, "queue.html", staff, queue=queue, status=status, statuses=STATUSES)


@router.get("/escalations/{escalation_id}")
async def conversation_page(
    escalation_id: str, request: Request, ctx: Ctx, staff: PageStaff
) -> Response:
    if staff is None:
        return _to_login(expired=SESSION_COOKIE in request.cookies)
    if await run_in_threadpool(load_visible_escalation, ctx, staff, escalation_id) is None:
        return _page(
            request, "message.html", staff, 404, title="Not found", message="No such escalation."
        )
    actx = request_context(request, staff.id, staff.role)
    detail = await run_in_threadpool(view_escalation, ctx, actx, escalation_id)  # an audited view
    return _page(request, "conversation.html", staff, e=detail)


@router.get("/static/{name}")
async def static_file(name: str) -> FileResponse:
    path = STATIC.get(name)  # an allow-list: no path ever comes from the URL
    if path is None:
        raise ApiError(404, "not found")
    return FileResponse(path)
