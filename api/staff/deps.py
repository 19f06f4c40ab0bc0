"""Staff authentication and authorization, in one place.

Credentials: `Authorization: Bearer <access_token>` (API clients) or the session cookie (the
dashboard); both are the same opaque session token.

CSRF (SES-2): the cookie is SameSite=Strict, and on top of that every state-changing request
authenticated by the cookie must (1) come from our own origin (Origin host == Host, and not
`Sec-Fetch-Site: cross-site`) and (2) carry `X-CSRF-Token`, an HMAC of the session id that the
server renders into each dashboard page (signed double-submit; compared in constant time).
Bearer requests need neither: a browser never attaches that header on its own.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlsplit

from fastapi import Depends, Request, Response
from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from api.core.audit_log import record, request_context
from api.deps import AppSettings, DbSession
from api.errors import ApiError
from api.ratelimit import client_address
from api.settings import Settings
from api.staff import sessions
from api.staff.sessions import StaffPrincipal

SESSION_COOKIE = "aftercare_staff"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

_bearer = HTTPBearer(
    scheme_name="StaffBearer",
    auto_error=False,
    description="`access_token` from POST /api/v1/staff/session (not a patient token)",
)
_cookie = APIKeyCookie(
    name=SESSION_COOKIE,
    scheme_name="StaffCookie",
    auto_error=False,
    description="Set by POST /api/v1/staff/session; state changes also need X-CSRF-Token",
)
BearerCredentials = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
CookieToken = Annotated[str | None, Depends(_cookie)]


def set_session_cookie(response: Response, settings: Settings, token: str) -> None:
    # No Max-Age: a browser session cookie; the server enforces idle and absolute limits anyway.
    response.set_cookie(
        SESSION_COOKIE,
        token,
        path="/",
        httponly=True,
        samesite="strict",
        secure=settings.environment != "development",
    )


def clear_session_cookie(response: Response, settings: Settings) -> None:
    response.delete_cookie(
        SESSION_COOKIE,
        path="/",
        httponly=True,
        samesite="strict",
        secure=settings.environment != "development",
    )


def same_origin(request: Request) -> bool:
    if request.headers.get("sec-fetch-site") == "cross-site":
        return False
    origin = request.headers.get("origin")
    return origin is None or urlsplit(origin).netloc == request.headers.get("host")


def _route_label(request: Request) -> str:
    route = request.scope.get("route")
    return f"{request.method} {getattr(route, 'path', 'unmatched')}"[:64]


def deny(db: Session, request: Request, staff: StaffPrincipal | None, message: str) -> ApiError:
    """An authorization failure: audited (AUD-2), then a 403 for the caller to raise (the
    request's transaction commits the audit row with the refusal)."""
    actx = request_context(request, staff.id if staff else None, staff.role if staff else None)
    record(db, actx, "authz.denied", "route", _route_label(request), "denied")
    return ApiError(403, message)


def _unauthenticated(db: Session, request: Request, message: str) -> ApiError:
    """A 401 on a staff route, audited (AUD-2) once per client address a minute and counted
    otherwise: anyone can send these, so they must not become an audit flood (RES-5)."""
    if request.app.state.unauthenticated_audit.should_record(client_address(request)):
        record(db, request_context(request), "authn.failed", "route", _route_label(request), "denied")
    return ApiError(401, message, headers={"WWW-Authenticate": "Bearer"})


def _staff(
    request: Request,
    db: Session,
    settings: Settings,
    bearer: HTTPAuthorizationCredentials | None,
    cookie: str | None,
    touch: bool,
) -> StaffPrincipal:
    token = bearer.credentials if bearer else cookie
    if not token:
        raise _unauthenticated(db, request, "staff login required")
    staff = sessions.authenticate(db, settings, token, touch=touch)
    if staff is None:
        raise _unauthenticated(db, request, "session expired or invalid; please log in again")
    if bearer is None and request.method not in SAFE_METHODS:
        presented = request.headers.get(CSRF_HEADER)
        if not same_origin(request) or not sessions.csrf_valid(settings, staff.session_id, presented):
            raise deny(
                db,
                request,
                staff,
                f"cross-site request refused: send the {CSRF_HEADER} header "
                "from the dashboard page, or use a Bearer token",
            )
    request.state.staff = staff
    return staff


def current_staff(
    request: Request, db: DbSession, settings: AppSettings, bearer: BearerCredentials, cookie: CookieToken
) -> StaffPrincipal:
    return _staff(request, db, settings, bearer, cookie, touch=True)


def watching_staff(
    request: Request, db: DbSession, settings: AppSettings, bearer: BearerCredentials, cookie: CookieToken
) -> StaffPrincipal:
    """For long-lived streams: checks the session without counting as activity."""
    return _staff(request, db, settings, bearer, cookie, touch=False)


CurrentStaff = Annotated[StaffPrincipal, Depends(current_staff)]
WatchingStaff = Annotated[StaffPrincipal, Depends(watching_staff)]


def require_admin(request: Request, db: DbSession, staff: CurrentStaff) -> StaffPrincipal:
    if not staff.is_admin:
        raise deny(db, request, staff, "this needs the admin role")
    return staff


AdminStaff = Annotated[StaffPrincipal, Depends(require_admin)]


def optional_staff(db: DbSession, settings: AppSettings, cookie: CookieToken) -> StaffPrincipal | None:
    """Dashboard pages: None sends the browser to the login page instead of a JSON 401."""
    if not cookie:
        return None
    return sessions.authenticate(db, settings, cookie, touch=True)
