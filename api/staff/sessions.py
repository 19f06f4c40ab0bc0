"""Server-side staff sessions (SES-1): an opaque token, stored only as its SHA-256.

The same token serves as the dashboard cookie and as the API's Bearer access token. A session
ends after `staff_session_idle_minutes` without a request, `staff_session_absolute_hours` after
login, at logout, or when the account is disabled, whichever comes first; all checked here.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Literal

import sqlalchemy as sa
from sqlalchemy.orm import Session

from api.core.time import as_utc, utcnow
from api.settings import Settings
from api.staff.models import StaffSession, StaffUser

_MAX_TOKEN_CHARS = 128
Role = Literal["nurse", "admin"]


@dataclass(frozen=True)
class StaffPrincipal:
    id: str
    name: str
    email: str
    role: Role
    session_id: str  # the token's SHA-256, never the token
    started_at: dt.datetime | None = None  # login time: the absolute limit counts from it

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def idle_limit(settings: Settings) -> dt.timedelta:
    return dt.timedelta(minutes=settings.staff_session_idle_minutes)


def absolute_limit(settings: Settings) -> dt.timedelta:
    return dt.timedelta(hours=settings.staff_session_absolute_hours)


def start_session(session: Session, user: StaffUser) -> str:
    token = secrets.token_urlsafe(32)
    session.add(StaffSession(id=token_hash(token), staff_id=user.id, created_at=utcnow(), last_seen_at=utcnow()))
    return token


def authenticate(session: Session, settings: Settings, token: str, touch: bool = True) -> StaffPrincipal | None:
    """The live session's principal, or None. `touch` extends the idle timer (a real request)."""
    if not token or len(token) > _MAX_TOKEN_CHARS:
        return None
    return live_session(session, settings, token_hash(token), touch)


def live_session(session: Session, settings: Settings, session_id: str, touch: bool = False) -> StaffPrincipal | None:
    row = session.execute(
        sa.select(StaffSession, StaffUser)
        .join(StaffUser, StaffUser.id == StaffSession.staff_id)
        .where(StaffSession.id == session_id)
    ).one_or_none()
    if row is None:
        return None
    staff_session, user = row
    current = utcnow()
    if (
        staff_session.revoked_at is not None
        or user.disabled
        or current - as_utc(staff_session.last_seen_at) > idle_limit(settings)
        or current - as_utc(staff_session.created_at) > absolute_limit(settings)
    ):
        return None
    if touch:
        staff_session.last_seen_at = current
    return StaffPrincipal(user.id, user.name, user.email, user.role, staff_session.id, as_utc(staff_session.created_at))


def ends_at(settings: Settings, principal: StaffPrincipal) -> dt.datetime | None:
    """When the absolute limit ends this session, whatever the activity."""
    return principal.started_at + absolute_limit(settings) if principal.started_at else None


def revoke(session: Session, session_id: str) -> None:
    session.execute(
        sa.update(StaffSession)
        .where(StaffSession.id == session_id, StaffSession.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )


def csrf_token(settings: Settings, session_id: str) -> str:
    """Derived from the session (signed double-submit): nothing to store, dies with the session."""
    key = settings.staff_session_key.encode()
    return hmac.new(key, b"csrf:" + session_id.encode(), hashlib.sha256).hexdigest()


def csrf_valid(settings: Settings, session_id: str, presented: str | None) -> bool:
    if not presented:
        return False
    return hmac.compare_digest(csrf_token(settings, session_id).encode(), presented.encode())
