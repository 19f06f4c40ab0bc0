"""Staff session API (login, logout, who am I) plus the dashboard pages and their static files."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response, status

from api.core.audit_log import request_context
from api.core.time import utcnow
from api.deps import AppSettings, DbSession
from api.errors import ApiError
from api.ratelimit import RateLimits, client_address
from api.staff import admin, pages, service
from api.staff.accounts import login_identifier
from api.staff.deps import CurrentStaff, clear_session_cookie, same_origin, set_session_cookie
from api.staff.schemas import LoginRequest, SessionCreated, SessionInfo, StaffOut
from api.staff.sessions import StaffPrincipal, ends_at, idle_limit

api_router = APIRouter(prefix="/api/v1/staff", tags=["staff"])
_UNAUTHORIZED: dict[int | str, dict[str, Any]] = {401: {"description": "No valid staff session"}}


def _staff_out(staff: StaffPrincipal) -> StaffOut:
    return StaffOut(id=staff.id, name=staff.name, role=staff.role)


@api_router.post(
    "/session",
    status_code=status.HTTP_201_CREATED,
    response_model=SessionCreated,
    responses={
        401: {"description": "Wrong e-mail or password"},
        429: {"description": "Too many attempts"},
    },
)
def create_session(
    body: LoginRequest, request: Request, response: Response, db: DbSession, settings: AppSettings
) -> SessionCreated:
    """Log in. Sets the dashboard's session cookie and returns the same token for API clients."""
    actx = request_context(request)
    if not same_origin(request):  # login CSRF: another site logging the browser in
        service.login_refused(db, actx, body.email)
        raise ApiError(403, "cross-site login refused")
    # Failed attempts per (account, client) with back-off, plus a global guard (PW-1, RES-5):
    # someone else's guesses never lock the owner's own client out.
    guard = request.app.state.login_guard
    limits: RateLimits = request.app.state.rate_limits
    account, client = login_identifier(body.email), client_address(request)
    wait = guard.retry_after(account, client)
    if wait is not None or not limits.hit("client", client):
        if request.app.state.login_throttle_audit.should_record(client):  # counted, not one row each
            service.login_refused(db, actx, None)
        raise ApiError(
            429, "too many login attempts; please wait and try again", headers={"Retry-After": str(wait or 60)}
        )
    result = service.login(db, settings, actx, body.email, body.password)
    if result is None:  # the failed attempt's audit row commits with the 401
        guard.failed(account, client)
        raise ApiError(401, "e-mail or password is incorrect, or the account is disabled")
    guard.succeeded(account, client)
    set_session_cookie(response, settings, result.token)
    return SessionCreated(
        access_token=result.token,
        expires_in=int(idle_limit(settings).total_seconds()),
        staff=_staff_out(result.principal),
    )


@api_router.get("/session", response_model=SessionInfo, responses=_UNAUTHORIZED)
def read_session(settings: AppSettings, staff: CurrentStaff) -> SessionInfo:
    """Who is logged in. Also the dashboard's keep-alive: it extends the idle timer (never
    the absolute limit, whose remaining time it reports)."""
    end = ends_at(settings, staff)
    return SessionInfo(
        staff=_staff_out(staff),
        idle_timeout_seconds=int(idle_limit(settings).total_seconds()),
        absolute_remaining_seconds=max(int((end - utcnow()).total_seconds()), 0) if end else None,
    )


@api_router.delete(
    "/session",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses={**_UNAUTHORIZED, 403: {"description": "Cookie request without the CSRF header"}},
)
def delete_session(request: Request, db: DbSession, settings: AppSettings, staff: CurrentStaff) -> Response:
    """Log out: the session ends server side at once, whichever way the token was sent."""
    service.logout(db, request_context(request, staff.id, staff.role), staff)
    response = Response(status_code=status.HTTP_204_NO_CONTENT)
    clear_session_cookie(response, settings)
    return response


router = APIRouter()
router.include_router(api_router)
router.include_router(admin.router)
router.include_router(pages.router)
