"""Login and logout, each audited in its own transaction (AUD-2), failures included."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from api.core.audit_log import RequestContext, record
from api.core.time import utcnow
from api.settings import Settings
from api.staff import sessions
from api.staff.accounts import get_by_email, login_identifier
from api.staff.passwords import MAX_LENGTH, needs_rehash, rehash, verify_password


@dataclass(frozen=True)
class LoggedIn:
    token: str
    principal: sessions.StaffPrincipal


def login(session: Session, settings: Settings, actx: RequestContext, email: str, password: str) -> LoggedIn | None:
    """None for any failure (unknown e-mail, wrong password, disabled): the same 401 for all."""
    user = get_by_email(session, email)
    ok = len(password) <= MAX_LENGTH and verify_password(user.password_hash if user else None, password)
    if user is None:
        # AUD-2: the attempted e-mail is the actor; the password is never recorded.
        record(
            session,
            actx.as_actor(login_identifier(email), None),
            "staff.login",
            "staff",
            None,
            "failure",
        )
        return None
    actor = actx.as_actor(user.id, user.role)
    if not ok or user.disabled:
        record(session, actor, "staff.login", "staff", user.id, "failure")
        return None
    if needs_rehash(user.password_hash):  # parameters were raised since this hash was made
        user.password_hash = rehash(password)
    user.last_login_at = utcnow()
    token = sessions.start_session(session, user)
    record(session, actor, "staff.login", "staff", user.id, "success")
    principal = sessions.StaffPrincipal(user.id, user.name, user.email, user.role, sessions.token_hash(token))
    return LoggedIn(token, principal)


def login_refused(session: Session, actx: RequestContext, email: str | None) -> None:
    """A refused login is still worth recording. Throttled ones pass no e-mail (and are recorded
    once per client per minute, see login_guard): the attacker chooses it, the row need not."""
    actor = login_identifier(email) if email is not None else None
    record(session, actx.as_actor(actor, None), "staff.login", "staff", None, "denied")


def logout(session: Session, actx: RequestContext, principal: sessions.StaffPrincipal) -> None:
    sessions.revoke(session, principal.session_id)
    record(session, actx, "staff.logout", "staff", principal.id, "success")
