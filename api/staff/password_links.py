"""One-time set-password links for new accounts and password resets.

The secret travels in the URL *fragment* (`/staff/set-password#<secret>`): browsers never send
a fragment to a server, so it stays out of access logs, proxies and Referer headers (LOG-2).
The page's script reads it, removes it from the address bar and POSTs it with the new password.
Only its SHA-256 is stored; it works once, until it expires, and issuing a new link for the
same account voids the older ones.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

import sqlalchemy as sa
from sqlalchemy.orm import Session

from api.core.time import as_utc, utcnow
from api.settings import Settings
from api.staff.models import PasswordLink, StaffSession, StaffUser
from api.staff.passwords import hash_password

SET_PASSWORD_PATH = "/staff/set-password"  # noqa: S105 (a path)
_MAX_SECRET_CHARS = 128


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def issue(session: Session, settings: Settings, user: StaffUser) -> tuple[str, dt.datetime]:
    """A fresh link for `user` (older unused ones are voided) and when it expires."""
    now = utcnow()
    session.execute(
        sa.update(PasswordLink)
        .where(PasswordLink.staff_id == user.id, PasswordLink.used_at.is_(None))
        .values(used_at=now)
    )
    secret = secrets.token_urlsafe(32)
    expires = now + dt.timedelta(hours=settings.staff_password_link_hours)
    session.add(PasswordLink(id=_digest(secret), staff_id=user.id, created_at=now, expires_at=expires))
    return f"{settings.console_url}{SET_PASSWORD_PATH}#{secret}", expires


def redeem(session: Session, secret: str, password: str) -> StaffUser | None:
    """Sets the password if the link is valid (raises WeakPassword first if it is too weak);
    None for an unknown, used or expired link, or a disabled account. Ends the account's
    sessions: whoever held the old password is out."""
    if not secret or len(secret) > _MAX_SECRET_CHARS:
        return None
    link = session.get(PasswordLink, _digest(secret), with_for_update=True)
    if link is None or link.used_at is not None or as_utc(link.expires_at) <= utcnow():
        return None
    user: StaffUser | None = session.get(StaffUser, link.staff_id)
    if user is None or user.disabled:
        return None
    user.password_hash = hash_password(password, user.email)  # WeakPassword leaves the link unused
    now = utcnow()
    link.used_at = now
    session.execute(
        sa.update(StaffSession)
        .where(StaffSession.staff_id == user.id, StaffSession.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    return user
