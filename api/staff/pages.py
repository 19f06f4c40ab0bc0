"""The staff dashboard's own pages (login) and its static files; the escalation pages are in
api.escalations.pages."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, RedirectResponse, Response

from api.core.audit_log import record, request_context
from api.deps import AppSettings, DbSession
from api.errors import ApiError
from api.staff import accounts
from api.staff.admin import account_out
from api.staff.console import PageStaff, admin_refusal, page, to_login

HERE = Path(__file__).parent
STATIC = {p.name: p for p in (HERE / "static").iterdir() if p.suffix in {".js", ".css", ".svg"}}

router = APIRouter(prefix="/staff", include_in_schema=False)


@router.get("")
async def staff_root() -> RedirectResponse:
    return RedirectResponse("/staff/", status_code=308)


@router.get("/login")
def login_page(request: Request, settings: AppSettings, staff: PageStaff, expired: bool = False) -> Response:
    if staff is not None:
        return RedirectResponse("/staff/", status_code=303)
    return page(request, settings, "login.html", None, expired=expired)


@router.get("/set-password")
def set_password_page(request: Request, settings: AppSettings) -> Response:
    """The secret is in the fragment, which the browser never sends: staff.js posts it."""
    return page(request, settings, "set_password.html", None)


@router.get("/admin/accounts")
def accounts_page(request: Request, db: DbSession, settings: AppSettings, staff: PageStaff) -> Response:
    refusal = admin_refusal(request, db, settings, staff)
    if refusal is not None or staff is None:
        return refusal or to_login(request)
    record(db, request_context(request, staff.id, staff.role), "staff.list", "staff", None, "success")
    rows = [account_out(u) for u in accounts.list_staff(db)]
    return page(request, settings, "accounts.html", staff, accounts=rows, roles=accounts.ROLES)


@router.get("/static/{name}")
async def static_file(name: str) -> FileResponse:
    path = STATIC.get(name)  # an allow-list: no path ever comes from the URL
    if path is None:
        raise ApiError(404, "not found")
    return FileResponse(path)
