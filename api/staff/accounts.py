"""Staff accounts: create, list, disable, re-enable, change role, reset password.

Shared by the admin pages (actor: the admin) and the `aftercare` command line (actor: "cli");
every change writes its audit row in the caller's transaction (AUD-1).
"""

from __future__ import annotations

import datetime as dt
import re
import sys
from collections.abc import Callable

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from api.core.audit_log import CLI_CONTEXT, RequestContext, record
from api.core.time import as_utc, utcnow
from api.settings import Settings
from api.staff import password_links
from api.staff.models import StaffSession, StaffUser
from api.staff.passwords import WeakPassword, hash_password

ROLES = ("nurse", "admin")
# Not an Argon2 hash, so no password ever verifies against it: an account waiting for its
# set-password link, or one whose password an admin reset.
NO_PASSWORD = "!unset"  # noqa: S105 (a marker, not a password)
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$")


class AccountError(ValueError):
    """A reason to refuse, worded for the person at the terminal."""


def normalize_email(email: str) -> str:
    return email.strip().lower()


def login_identifier(typed: str) -> str:
    """What an audit row keeps of the e-mail field of a failed login: the normalised address,
    bounded, or a placeholder when it is no address at all (often a password typed there)."""
    email = normalize_email(typed)
    return email if _EMAIL.match(email) and len(email) <= 254 else "(not an e-mail address)"


def get_by_email(session: Session, email: str) -> StaffUser | None:
    query = sa.select(StaffUser).where(StaffUser.email == normalize_email(email))
    user: StaffUser | None = session.execute(query).scalar_one_or_none()
    return user


def create_staff(
    session: Session,
    email: str,
    name: str,
    role: str,
    password: str | None,
    actor: RequestContext = CLI_CONTEXT,
) -> StaffUser:
    """`password` None: the account can log in only after its set-password link is used."""
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
            email=email,
            name=name,
            role=role,
            password_hash=NO_PASSWORD if password is None else hash_password(password, email),
            disabled=False,
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


def list_staff(session: Session) -> list[StaffUser]:
    return list(session.execute(sa.select(StaffUser).order_by(StaffUser.name, StaffUser.email)).scalars())


def find(session: Session, email: str) -> StaffUser:
    user = get_by_email(session, email)
    if user is None:
        raise AccountError(f"no staff account with e-mail {normalize_email(email)}")
    return user


def _end_sessions(session: Session, user: StaffUser) -> None:
    session.execute(
        sa.update(StaffSession)
        .where(StaffSession.staff_id == user.id, StaffSession.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )


def _keep_an_admin(session: Session, user: StaffUser, actor: RequestContext) -> None:
    """Refuses to lock everyone out: your own account, or the last enabled admin."""
    if actor.actor_id == user.id:
        raise AccountError("you cannot disable your own account or change your own role")
    if user.role == "admin" and not user.disabled:
        others = session.execute(
            sa.select(sa.func.count())
            .select_from(StaffUser)
            .where(StaffUser.role == "admin", StaffUser.disabled.is_(False), StaffUser.id != user.id)
        ).scalar_one()
        if others == 0:
            raise AccountError(f"{user.email} is the last enabled admin")


def disable_staff(session: Session, email: str, actor: RequestContext = CLI_CONTEXT) -> StaffUser:
    return disable_account(session, find(session, email), actor)


def disable_account(session: Session, user: StaffUser, actor: RequestContext) -> StaffUser:
    """Disables the account and ends its sessions at once (SES-1)."""
    if not user.disabled:
        _keep_an_admin(session, user, actor)
    user.disabled = True
    _end_sessions(session, user)
    record(session, actor, "staff.disable", "staff", user.id, "success")
    return user


def enable_account(session: Session, user: StaffUser, actor: RequestContext) -> StaffUser:
    """Back in with the password it had (reset it too if that may be known to someone else)."""
    user.disabled = False
    record(session, actor, "staff.enable", "staff", user.id, "success")
    return user


def set_role(session: Session, user: StaffUser, role: str, actor: RequestContext) -> StaffUser:
    """Takes effect on the account's next request: sessions read the role from the account."""
    if role not in ROLES:
        raise AccountError(f"role must be one of: {', '.join(ROLES)}")
    if role != user.role:
        _keep_an_admin(session, user, actor)
        user.role = role
    record(session, actor, "staff.role_change", "staff", user.id, "success")
    return user


def reset_password(
    session: Session, settings: Settings, user: StaffUser, actor: RequestContext
) -> tuple[str, dt.datetime]:
    """The old password stops working and its sessions end now; the link sets a new one."""
    user.password_hash = NO_PASSWORD
    _end_sessions(session, user)
    link = password_links.issue(session, settings, user)
    record(session, actor, "staff.password_reset", "staff", user.id, "success")
    return link


def describe(user: StaffUser) -> str:
    """One readable line for the terminal."""
    last = as_utc(user.last_login_at)
    seen = f"last login {last:%Y-%m-%d %H:%M} UTC" if last else "never logged in"
    state = "disabled" if user.disabled else "enabled"
    return f"{user.email}  {user.name}  {user.role}  {state}  {seen}"


def _run_cli(action: Callable[[Session, Settings], str], settings: Settings | None) -> str:
    from api.db import make_engine, make_session_factory, migrate, transaction

    settings = settings or Settings()  # AFTERCARE_* as the server reads them
    engine = make_engine(settings.database_url)
    try:
        migrate(engine)
        with transaction(make_session_factory(engine)) as session:
            return action(session, settings)
    except AccountError as error:
        sys.exit(f"error: {error}")
    finally:
        engine.dispose()


def create_staff_from_cli(email: str, name: str, role: str, password: str, settings: Settings | None = None) -> None:
    """`aftercare create-staff`: prints the new account's id."""
    print(_run_cli(lambda s, _: create_staff(s, email, name, role, password).id, settings))


def disable_staff_from_cli(email: str, settings: Settings | None = None) -> None:
    """`aftercare disable-staff`: prints the disabled account's id."""
    print(_run_cli(lambda s, _: disable_staff(s, email).id, settings))


def list_staff_from_cli(settings: Settings | None = None) -> None:
    """`aftercare list-staff`: one line per account."""
    lines = _run_cli(lambda s, _: "\n".join(describe(u) for u in list_staff(s)), settings)
    print(lines or "no staff accounts yet")


def enable_staff_from_cli(email: str, settings: Settings | None = None) -> None:
    def enable(session: Session, _: Settings) -> str:
        return "enabled: " + describe(enable_account(session, find(session, email), CLI_CONTEXT))

    print(_run_cli(enable, settings))


def set_role_from_cli(email: str, role: str, settings: Settings | None = None) -> None:
    def change(session: Session, _: Settings) -> str:
        return "role set: " + describe(set_role(session, find(session, email), role, CLI_CONTEXT))

    print(_run_cli(change, settings))


def reset_password_from_cli(email: str, settings: Settings | None = None) -> None:
    def reset(session: Session, cli_settings: Settings) -> str:
        user = find(session, email)
        url, expires = reset_password(session, cli_settings, user, CLI_CONTEXT)
        return (
            f"password reset for {user.email}: sessions ended; give them this one-time link "
            f"(valid until {as_utc(expires):%Y-%m-%d %H:%M} UTC): {url}"
        )

    print(_run_cli(reset, settings))
