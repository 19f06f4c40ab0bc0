"""Account administration API (admin role only, AC-3); every change and the listing audited."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response, status
from sqlalchemy.orm import Session

from api.core.audit_log import RequestContext, record, request_context
from api.core.time import as_utc
from api.deps import AppSettings, DbSession
from api.errors import ApiError
from api.ratelimit import client_address
from api.staff import accounts, password_links
from api.staff.deps import AdminStaff, same_origin
from api.staff.models import StaffUser
from api.staff.passwords import WeakPassword
from api.staff.schemas import (
    AccountCreate,
    AccountOut,
    PasswordLinkOut,
    RoleChange,
    SetPassword,
)

router = APIRouter(prefix="/api/v1/staff", tags=["staff admin"])
_AUTH: dict[int | str, dict[str, Any]] = {
    401: {"description": "No valid staff session"},
    403: {"description": "Not an admin, or a cookie request without the CSRF header"},
}


def account_out(user: StaffUser) -> AccountOut:
    return AccountOut(
        id=user.id,
        email=user.email,
        name=user.name,
        role=user.role,
        enabled=not user.disabled,
        last_login_at=as_utc(user.last_login_at),
        created_at=as_utc(user.created_at),
    )


def _account(db: Session, actx: RequestContext, account_id: str, action: str) -> StaffUser:
    user: StaffUser | None = db.get(StaffUser, account_id) if len(account_id) <= 64 else None
    if user is None:
        record(db, actx, action, "staff", account_id, "failure")
        raise ApiError(404, "no such staff account")
    return user


def _refused(db: Session, actx: RequestContext, action: str, object_id: str | None, error: Exception) -> ApiError:
    record(db, actx, action, "staff", object_id, "failure")
    return ApiError(409 if isinstance(error, accounts.AccountError) else 422, str(error))


@router.get("/accounts", response_model=list[AccountOut], responses=_AUTH)
def list_accounts(request: Request, db: DbSession, staff: AdminStaff) -> list[AccountOut]:
    """Every account, by name (reading the list is audited)."""
    record(db, request_context(request, staff.id, staff.role), "staff.list", "staff", None, "success")
    return [account_out(u) for u in accounts.list_staff(db)]


@router.post("/accounts", status_code=status.HTTP_201_CREATED, response_model=PasswordLinkOut, responses=_AUTH)
def create_account(
    body: AccountCreate, request: Request, db: DbSession, settings: AppSettings, staff: AdminStaff
) -> PasswordLinkOut:
    """A new account without a password, and its one-time set-password link (shown once)."""
    actx = request_context(request, staff.id, staff.role)
    try:
        user = accounts.create_staff(db, body.email, body.name, body.role, None, actx)
    except accounts.AccountError as error:
        raise _refused(db, actx, "staff.create", None, error) from None
    url, expires = password_links.issue(db, settings, user)
    return PasswordLinkOut(account=account_out(user), set_password_url=url, expires_at=expires)


@router.post("/accounts/{account_id}/disable", response_model=AccountOut, responses=_AUTH)
def disable_account(account_id: str, request: Request, db: DbSession, staff: AdminStaff) -> AccountOut:
    """Disables the account and ends its sessions at once."""
    actx = request_context(request, staff.id, staff.role)
    user = _account(db, actx, account_id, "staff.disable")
    try:
        return account_out(accounts.disable_account(db, user, actx))
    except accounts.AccountError as error:
        raise _refused(db, actx, "staff.disable", user.id, error) from None


@router.post("/accounts/{account_id}/enable", response_model=AccountOut, responses=_AUTH)
def enable_account(account_id: str, request: Request, db: DbSession, staff: AdminStaff) -> AccountOut:
    actx = request_context(request, staff.id, staff.role)
    user = _account(db, actx, account_id, "staff.enable")
    return account_out(accounts.enable_account(db, user, actx))


@router.post("/accounts/{account_id}/role", response_model=AccountOut, responses=_AUTH)
def change_role(account_id: str, body: RoleChange, request: Request, db: DbSession, staff: AdminStaff) -> AccountOut:
    actx = request_context(request, staff.id, staff.role)
    user = _account(db, actx, account_id, "staff.role_change")
    try:
        return account_out(accounts.set_role(db, user, body.role, actx))
    except accounts.AccountError as error:
        raise _refused(db, actx, "staff.role_change", user.id, error) from None


@router.post("/accounts/{account_id}/reset-password", response_model=PasswordLinkOut, responses=_AUTH)
def reset_password(
    account_id: str, request: Request, db: DbSession, settings: AppSettings, staff: AdminStaff
) -> PasswordLinkOut:
    """The old password stops working and the account's sessions end; a new one-time link."""
    actx = request_context(request, staff.id, staff.role)
    user = _account(db, actx, account_id, "staff.password_reset")
    url, expires = accounts.reset_password(db, settings, user, actx)
    return PasswordLinkOut(account=account_out(user), set_password_url=url, expires_at=expires)


@router.post(
    "/set-password",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses={400: {"description": "Unknown, used or expired link"}, 422: {"description": "Weak password"}},
)
def set_password(body: SetPassword, request: Request, db: DbSession) -> Response:
    """Redeems a one-time link: no session needed, the link's secret is the credential."""
    actx = request_context(request)
    if not same_origin(request):
        record(db, actx, "staff.password_set", "staff", None, "denied")
        raise ApiError(403, "cross-site request refused")
    if not request.app.state.rate_limits.hit("client", client_address(request)):
        raise ApiError(429, "too many attempts; please wait a minute", headers={"Retry-After": "60"})
    try:
        user = password_links.redeem(db, body.secret, body.password)
    except WeakPassword as error:
        raise ApiError(422, str(error)) from None
    if user is None:
        record(db, actx, "staff.password_set", "staff", None, "failure")
        raise ApiError(400, "this link is not valid any more: ask an admin for a new one")
    record(db, actx.as_actor(user.id, user.role), "staff.password_set", "staff", user.id, "success")
    return Response(status_code=status.HTTP_204_NO_CONTENT)
