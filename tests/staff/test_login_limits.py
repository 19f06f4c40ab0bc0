"""Login limits that cannot be turned against the owner or into an audit flood (RES-5, PW-1, AUD-2)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from api.settings import Settings
from api.staff.login_guard import LoginGuard
from tests.staff.conftest import PASSWORD, audit_rows

LOGIN = "/api/v1/staff/session"
NURSE = "nurse@clinic.test"


def _from(client: TestClient, address: str) -> TestClient:
    """Another client address on the same running app (lifespan already ran)."""
    return TestClient(client.app, client=(address, 40000))


def _login(client, email=NURSE, password=PASSWORD):
    return client.post(LOGIN, json={"email": email, "password": password})


@pytest.fixture
def settings(tmp_path) -> Settings:
    return Settings(
        database_url=f"sqlite:///{tmp_path}/t.db",
        patient_rate_limit="1000/minute",
        client_rate_limit="30/minute",
    )


def test_someone_elses_guesses_never_lock_the_owner_out(client, nurse):
    """RES-5: five wrong guesses a minute used to keep the right password out for everyone."""
    attacker = _from(client, "203.0.113.9")
    assert [_login(attacker, password="wrong guess!").status_code for _ in range(8)] == [401] * 5 + [429] * 3
    assert _login(attacker).status_code == 429  # the guessing client backs off, right password or not
    assert _login(_from(client, "198.51.100.7")).status_code == 201  # the nurse, from her own client


def test_refused_logins_are_counted_not_written_one_row_each(client, ctx, nurse):
    """RES-5: a flood of throttled attempts with attacker-chosen e-mails writes one row a minute."""
    attacker = _from(client, "203.0.113.9")
    statuses = [_login(attacker, email=f"x{n}@evil.example", password="x" * 12).status_code for n in range(60)]
    assert statuses.count(401) == 30 and statuses.count(429) == 30  # the per-client limit
    rows = audit_rows(ctx, action="staff.login")
    denied = [r for r in rows if r.outcome == "denied"]
    assert len(denied) == 1 and denied[0].actor_id is None and denied[0].client_address == "203.0.113.9"
    assert len(rows) == 31  # 30 failures (AUD-2) and one row for all the refused attempts


def test_the_global_guard_stops_spread_out_guessing_but_not_a_known_owner(client, settings, nurse):
    """RES-5: failures across many clients are bounded; a pair that logged in before still gets in."""
    client.app.state.login_guard = LoginGuard(settings.login_rate_limit, global_failures="12/minute")
    assert _login(_from(client, "198.51.100.7")).status_code == 201  # the nurse's usual client
    for n in range(12):
        assert _login(_from(client, f"203.0.113.{n}"), password="wrong guess!").status_code == 401
    assert _login(_from(client, "203.0.113.200"), password="wrong guess!").status_code == 429
    assert _login(_from(client, "198.51.100.7")).status_code == 201


def test_text_typed_into_the_email_field_is_not_stored_unless_it_is_an_address(client, ctx):
    """PW-1/AUD-1: a password typed into the e-mail field must not land in the audit trail."""
    assert _login(client, email="Tr0ub4dor&3-secret", password="x" * 12).status_code == 401
    [row] = audit_rows(ctx, action="staff.login")
    assert row.actor_id == "(not an e-mail address)"
