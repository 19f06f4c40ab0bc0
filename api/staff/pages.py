"""The staff dashboard's own pages (login) and its static files; the escalation pages are in
api.escalations.pages."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, RedirectResponse, Response

from api.deps import AppSettings
from api.errors import ApiError
from api.staff.console import PageStaff, page

HERE = Path(__file__).parent
STATIC = {p.name: p for p in (HERE / "static").iterdir() if p.suffix in {".js", ".css", ".svg"}}

router = APIRouter(prefix="/staff", include_in_schema=False)


@router.get("")
async def staff_root() -> RedirectResponse:
    return RedirectResponse("/staff/", status_code=308)


@router.get("/login")
def login_page(
    request: Request, settings: AppSettings, staff: PageStaff, expired: bool = False
) -> Response:
    if staff is not None:
        return RedirectResponse("/staff/", status_code=303)
    return page(request, settings, "login.html", None, expired=expired)


@router.get("/static/{name}")
async def static_file(name: str) -> FileResponse:
    path = STATIC.get(name)  # an allow-list: no path ever comes from the URL
    if path is None:
        raise ApiError(404, "not found")
    return FileResponse(path)
