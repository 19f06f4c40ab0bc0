"""Staff accounts from the command line: Argon2 hashes, clear errors, disabling (PW-1, ID-1)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher

from api.core.audit_log import AuditEvent
from api.db import make_engine, make_session_factory, migrate, transaction
from api.staff.accounts import (
    AccountError,
    create_staff,
    create_staff_from_cli,
    disable_staff_from_cli,
)
from api.staff.models import StaffUser
from tests.staff.conftest import PASSWORD, PRODUCTION_HASHER


@pytest.fixture
def cli_database(tmp_path, monkeypatch):
    """The CLI reads AFTERCARE_* settings like the server does."""
    url = f"sqlite:///{tmp_path}/cli.db"
    monkeypatch.setenv("AFTERCARE_DATABASE_URL", url)
    engine = make_engine(url)
    migrate(engine)
    yield make_session_factory(engine)
    engine.dispose()


def _users(factory) -> list[StaffUser]:
    with factory() as session:
        return list(session.execute(sa.select(StaffUser)).scalars())


def test_create_staff_prints_the_id_and_stores_an_argon2_hash(cli_database, capsys):
    create_staff_from_cli(email="Nurse@Clinic.test", name="Nora Nurse", role="nurse", password=PASSWORD)
    [user] = _users(cli_database)
    assert capsys.readouterr().out.strip() == user.id
    assert user.email == "nurse@clinic.test" and user.role == "nurse" and not user.disabled
    assert user.password_hash.startswith("$argon2id$")


def test_account_creation_is_audited_as_the_cli(cli_database):
    create_staff_from_cli(email="a@clinic.test", name="Ada", role="admin", password=PASSWORD)
    with cli_database() as session:
        [row] = session.execute(sa.select(AuditEvent)).scalars().all()
    assert (row.actor_id, row.action, row.object_type, row.outcome) == (
        "cli",
        "staff.create",
        "staff",
        "success",
    )


def test_a_duplicate_email_is_a_clear_error(cli_database):
    create_staff_from_cli(email="nurse@clinic.test", name="Nora", role="nurse", password=PASSWORD)
    with pytest.raises(SystemExit, match="already exists"):
        create_staff_from_cli(email="NURSE@clinic.test", name="Other", role="nurse", password=PASSWORD)
    assert len(_users(cli_database)) == 1


@pytest.mark.parametrize(
    ("email", "name", "role", "password", "reason"),
    [
        ("not-an-email", "N", "nurse", PASSWORD, "e-mail"),
        ("n@clinic.test", "", "nurse", PASSWORD, "name"),
        ("n@clinic.test", "N", "doctor", PASSWORD, "role"),
        ("n@clinic.test", "N", "nurse", "short", "at least 12"),
    ],
)
def test_bad_account_details_are_refused(cli_database, email, name, role, password, reason):
    with transaction(cli_database) as session, pytest.raises(AccountError, match=reason):
        create_staff(session, email, name, role, password)


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("aaaaaaaaaaaa", "short pattern"),
        ("abcabcabcabc", "short pattern"),
        ("123456789012", "sequence"),
        ("QWERTYUIOPAS", "sequence"),
        ("1qaz2wsx3edc", "sequence"),
        ("Password1234!", "common passwords"),
        ("Sunshine2026!", "common passwords"),
        ("iloveyou!!!!", "common passwords"),
        ("nora.nurse-2026", "e-mail"),
    ],
)
def test_guessable_passwords_are_refused(cli_database, password, reason):
    """PW-1: length alone let `aaaaaaaaaaaa` through; common and patterned passwords are refused."""
    with transaction(cli_database) as session, pytest.raises(AccountError, match=reason):
        create_staff(session, "nora.nurse@clinic.test", "Nora", "nurse", password)
    assert _users(cli_database) == []


def test_the_common_password_list_is_shipped_and_used():
    from api.staff.passwords import common_passwords, weakness

    assert len(common_passwords()) >= 10_000 - 50  # the file's lines, lower-cased and deduplicated
    assert {"123456", "password", "qwerty", "letmein"} <= common_passwords()
    assert weakness("trombone-lantern-seventy") is None and weakness(PASSWORD) is None


def test_disable_staff_from_the_cli(cli_database, capsys):
    create_staff_from_cli(email="nurse@clinic.test", name="Nora", role="nurse", password=PASSWORD)
    disable_staff_from_cli(email="nurse@clinic.test")
    assert _users(cli_database)[0].disabled
    with pytest.raises(SystemExit, match="no staff account"):
        disable_staff_from_cli(email="ghost@clinic.test")


def test_the_aftercare_command_has_disable_staff():
    from bot.cli import build_parser

    args = build_parser().parse_args(["disable-staff", "--email", "n@clinic.test"])
    assert args.email == "n@clinic.test" and callable(args.func)


def test_production_hashing_uses_argon2id_at_rfc9106_strength():
    from argon2 import Type

    assert PRODUCTION_HASHER.type is Type.ID
    assert PRODUCTION_HASHER.time_cost >= 3 and PRODUCTION_HASHER.memory_cost >= 64 * 1024


def test_an_outdated_hash_is_upgraded_at_login(client, ctx, nurse):
    from api.staff import passwords

    with transaction(ctx.sessions) as session:  # as if made with older, weaker parameters
        old = PasswordHasher(time_cost=1, memory_cost=512, parallelism=1).hash(PASSWORD)
        session.get(StaffUser, nurse).password_hash = old
    assert (
        client.post("/api/v1/staff/session", json={"email": "nurse@clinic.test", "password": PASSWORD}).status_code
        == 201
    )
    with ctx.sessions() as session:
        assert not passwords.needs_rehash(session.get(StaffUser, nurse).password_hash)


def _cli_lines(capsys) -> list[str]:
    return capsys.readouterr().out.strip().splitlines()


def test_list_staff_prints_one_readable_line_per_account(cli_database, capsys):
    from api.staff.accounts import list_staff_from_cli

    list_staff_from_cli()
    assert _cli_lines(capsys) == ["no staff accounts yet"]
    create_staff_from_cli(email="nurse@clinic.test", name="Nora Nurse", role="nurse", password=PASSWORD)
    capsys.readouterr()
    list_staff_from_cli()
    assert _cli_lines(capsys) == ["nurse@clinic.test  Nora Nurse  nurse  enabled  never logged in"]


def test_a_disabled_account_comes_back_with_enable_staff(cli_database, capsys):
    from api.staff.accounts import enable_staff_from_cli

    create_staff_from_cli(email="nurse@clinic.test", name="Nora", role="nurse", password=PASSWORD)
    disable_staff_from_cli(email="nurse@clinic.test")
    capsys.readouterr()
    enable_staff_from_cli(email="nurse@clinic.test")
    assert _cli_lines(capsys) == ["enabled: nurse@clinic.test  Nora  nurse  enabled  never logged in"]
    assert not _users(cli_database)[0].disabled
    with cli_database() as session:
        actions = [r.action for r in session.execute(sa.select(AuditEvent).order_by(AuditEvent.id)).scalars()]
    assert actions == ["staff.create", "staff.disable", "staff.enable"]


def test_set_role_from_the_cli(cli_database, capsys):
    from api.staff.accounts import set_role_from_cli

    create_staff_from_cli(email="nurse@clinic.test", name="Nora", role="nurse", password=PASSWORD)
    capsys.readouterr()
    set_role_from_cli(email="nurse@clinic.test", role="admin")
    assert _cli_lines(capsys) == ["role set: nurse@clinic.test  Nora  admin  enabled  never logged in"]
    with pytest.raises(SystemExit, match="role must be one of"):
        set_role_from_cli(email="nurse@clinic.test", role="doctor")
    with pytest.raises(SystemExit, match="last enabled admin"):
        set_role_from_cli(email="nurse@clinic.test", role="nurse")


def test_reset_password_from_the_cli_prints_a_fragment_link(cli_database, capsys, monkeypatch):
    from api.staff.accounts import reset_password_from_cli

    monkeypatch.setenv("AFTERCARE_PUBLIC_URL", "https://care.clinic.test")
    create_staff_from_cli(email="nurse@clinic.test", name="Nora", role="nurse", password=PASSWORD)
    capsys.readouterr()
    reset_password_from_cli(email="nurse@clinic.test")
    [line] = _cli_lines(capsys)
    assert line.startswith("password reset for nurse@clinic.test: sessions ended;")
    assert "https://care.clinic.test/staff/set-password#" in line
    assert _users(cli_database)[0].password_hash == "!unset"


def test_the_aftercare_command_has_every_account_verb():
    from bot.cli import build_parser

    parser = build_parser()
    for argv in (
        ["list-staff"],
        ["enable-staff", "--email", "n@c.test"],
        ["set-role", "--email", "n@c.test", "--role", "admin"],
        ["reset-password", "--email", "n@c.test"],
    ):
        assert callable(parser.parse_args(argv).func)
