"""Staff accounts: create and disable (from the `aftercare` command line), audited as "cli"."""

from __future__ import annotations

import re
import sys
from collections.abc import Callable

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from api.core.audit_log import CLI_CONTEXT, RequestContext, record
from api.core.time import utcnow
from api.settings import Settings
from api.staff.models import StaffSession, StaffUser
from api.staff.passwords import WeakPassword, hash_password

ROLES = ("nurse", "admin")
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$")


class AccountError(ValueError):
    """A reason to refuse, worded for the person at the terminal."""


def normalize_email(email: str) -> str:
    return email.strip().lower()


def get_by_email(session: Session, email: str) -> StaffUser | None:
    query = sa.select(StaffUser).where(StaffUser.email == normalize_email(email))
    user: StaffUser | None = session.execute(query).scalar_one_or_none()
    return user


def create_staff(
    session: Session,
    email: str,
    name: str,
    role: str,
    password: str,
    actor: RequestContext = CLI_CONTEXT,
) -> StaffUser:
    email, name = normalize_email(email), name.strip()
    if not _EMAIL.match(email) or len(email) > 254:
        raise AccountError("that does not look like an e-mail address")
    if not name or len(name) > 200:
        raise AccountError("name must be 1 to 200 characters")
    if role not in ROLES:
        raise AccountError(f"role must be one of: {', '.join(ROLES)}")
    if get_by_email(session, email) is not None:
        raise AccountError(f"a staff account with e-mail {email} already exists")
    try:
        user = StaffUser(
            email=email, name=name, role=role, password_hash=hash_password(password), disabled=False
        )
    except WeakPassword as error:
        raise AccountError(str(error)) from None
    session.add(user)
    try:
        session.flush()
    except IntegrityError:  # a concurrent create won the unique e-mail
        raise AccountError(f"a staff account with e-mail {email} already exists") from None
    record(session, actor, "staff.create", "staff", user.id, "success")
    return user


def disable_staff(session: Session, email: str, actor: RequestContext = CLI_CONTEXT) -> StaffUser:
    """Disables the account and ends its sessions at once (SES-1)."""
    user = get_by_email(session, email)
    if user is None:
        raise AccountError(f"no staff account with e-mail {normalize_email(email)}")
    user.disabled = True
    session.execute(
        sa.update(StaffSession)
        .where(StaffSession.staff_id == user.id, StaffSession.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
    record(session, actor, "staff.disable", "staff", user.id, "success")
    return user


def _run_cli(action: Callable[[Session], StaffUser], settings: Settings | None) -> str:
    from api.db import make_engine, make_session_factory, migrate, transaction

    engine = make_engine((settings or Settings()).database_url)  # AFTERCARE_* as the server reads them
    try:
        migrate(engine)
        with transaction(make_session_factory(engine)) as session:
            return str(action(session).id)
    except AccountError as error:
        sys.exit(f"error: {error}")
    finally:
        engine.dispose()


def create_staff_from_cli(
    email: str, name: str, role: str, password: str, settings: Settings | None = None
) -> None:
    """`aftercare create-staff`: prints the new account's id."""
    print(_run_cli(lambda session: create_staff(session, email, name, role, password), settings))


def disable_staff_from_cli(email: str, settings: Settings | None = None) -> None:
    """`aftercare disable-staff`: prints the disabled account's id."""
    print(_run_cli(lambda session: disable_staff(session, email), settings))
