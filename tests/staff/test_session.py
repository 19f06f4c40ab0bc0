"""Login, logout and session lifetime (SES-1, SES-2, PW-1), each login audited (AUD-2)."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from api.db import transaction
from api.staff.accounts import disable_staff
from api.staff.models import StaffSession, StaffUser
from tests.staff.conftest import PASSWORD, audit_rows, login

LOGIN = "/api/v1/staff/session"


def _login(client, email="nurse@clinic.test", password=PASSWORD):
    return client.post(LOGIN, json={"email": email, "password": password})


def _age_session(ctx, **ages: dt.timedelta) -> None:
    """Moves the session's timestamps into the past (staff_sessions is not append-only)."""
    now = dt.datetime.now(dt.timezone.utc)
    with transaction(ctx.sessions) as session:
        session.execute(sa.update(StaffSession).values({column: now - age for column, age in ages.items()}))


def test_login_returns_a_token_and_sets_a_strict_httponly_cookie(client, nurse):
    response = _login(client)
    assert response.status_code == 201
    body = response.json()
    assert body["token_type"] == "bearer"  # noqa: S105
    assert body["expires_in"] == 15 * 60
    assert body["staff"] == {"id": nurse, "name": "Nora Nurse", "role": "nurse"}
    cookie = response.headers["set-cookie"]
    assert f"aftercare_staff={body['access_token']}" in cookie
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/" in cookie
    assert "Secure" not in cookie  # development only; see the production test below


def test_the_cookie_is_secure_outside_development(nurse):
    from fastapi import Response

    from api.settings import Settings
    from api.staff.deps import set_session_cookie

    production = Settings.construct(environment="production")  # unvalidated: no production secrets needed
    response = Response()
    set_session_cookie(response, production, "token")
    assert "Secure" in response.headers["set-cookie"]


def test_successful_login_is_audited(client, ctx, nurse):
    _login(client)
    [row] = audit_rows(ctx, action="staff.login")
    assert (row.actor_id, row.actor_role, row.object_id, row.outcome) == (
        nurse,
        "nurse",
        nurse,
        "success",
    )
    assert row.request_id and row.client_address == "testclient" and row.at is not None


def test_only_the_token_hash_is_stored(client, ctx, nurse):
    token = _login(client).json()["access_token"]
    with ctx.sessions() as session:
        [stored] = session.execute(sa.select(StaffSession.id)).scalars().all()
    assert stored != token and len(stored) == 64


def test_password_is_stored_as_argon2id(ctx, nurse):
    with ctx.sessions() as session:
        stored = session.get(StaffUser, nurse).password_hash
    assert stored.startswith("$argon2id$") and PASSWORD not in stored


def test_wrong_password_is_401_and_audited_as_failure(client, ctx, nurse):
    response = _login(client, password="not the password")  # noqa: S106
    assert response.status_code == 401
    assert "set-cookie" not in response.headers
    [row] = audit_rows(ctx, action="staff.login")
    assert (row.actor_id, row.outcome) == (nurse, "failure")


def test_unknown_email_is_audited_with_the_attempted_email_and_never_the_password(client, ctx):
    assert (
        _login(client, email="Nobody@Clinic.test", password="guess-guess-guess").status_code  # noqa: S106 == 401
    )
    [row] = audit_rows(ctx, action="staff.login")
    assert (row.actor_id, row.actor_role, row.outcome) == ("nobody@clinic.test", None, "failure")
    assert not any("guess-guess-guess" in str(value) for value in vars(row).values())


def test_wrong_email_and_wrong_password_get_the_same_answer(client, nurse):
    unknown = _login(client, email="nobody@clinic.test", password="x" * 12).json()["error"]["message"]
    wrong = _login(client, password="x" * 12).json()["error"]["message"]
    assert unknown == wrong


def test_login_is_rate_limited_per_account_and_client_and_the_refusal_is_audited(client, ctx, nurse):
    statuses = [_login(client, password="wrong password").status_code for _ in range(6)]  # noqa: S106
    assert statuses == [401] * 5 + [429]
    assert _login(client).status_code == 429  # from this client, until the window passes
    assert [r.outcome for r in audit_rows(ctx, action="staff.login")][-1:] == ["denied"]


def test_the_token_works_as_bearer(client, nurse):
    headers = login(client, "nurse@clinic.test")
    assert client.get(LOGIN, headers=headers).json()["staff"]["id"] == nurse


def test_logout_ends_the_session_server_side_and_is_audited(client, ctx, nurse):
    headers = login(client, "nurse@clinic.test")
    assert client.delete(LOGIN, headers=headers).status_code == 204
    assert client.get("/api/v1/escalations", headers=headers).status_code == 401
    [row] = audit_rows(ctx, action="staff.logout")
    assert (row.actor_id, row.outcome) == (nurse, "success")


def test_logout_clears_the_cookie(client, nurse):
    headers = login(client, "nurse@clinic.test")
    response = client.delete(LOGIN, headers=headers)
    assert 'aftercare_staff=""' in response.headers["set-cookie"] and "Max-Age=0" in response.headers["set-cookie"]


def test_fifteen_idle_minutes_end_the_session(client, ctx, nurse):
    headers = login(client, "nurse@clinic.test")
    _age_session(ctx, last_seen_at=dt.timedelta(minutes=14))
    assert client.get(LOGIN, headers=headers).status_code == 200  # and this request resets the clock
    _age_session(ctx, last_seen_at=dt.timedelta(minutes=15, seconds=5))
    assert client.get(LOGIN, headers=headers).status_code == 401


def test_eight_hours_end_the_session_even_when_active(client, ctx, nurse):
    headers = login(client, "nurse@clinic.test")
    _age_session(ctx, created_at=dt.timedelta(hours=8, seconds=5))
    assert client.get(LOGIN, headers=headers).status_code == 401


def test_disabling_an_account_ends_its_sessions_at_once(client, ctx, nurse):
    headers = login(client, "nurse@clinic.test")
    with transaction(ctx.sessions) as session:
        disable_staff(session, "nurse@clinic.test")
    assert client.get(LOGIN, headers=headers).status_code == 401
    assert _login(client).status_code == 401
    assert [r.outcome for r in audit_rows(ctx, action="staff.disable")] == ["success"]


def test_login_body_is_validated(client):
    assert client.post(LOGIN, json={"email": "a@b.c"}).status_code == 422
    assert client.post(LOGIN, json={"email": "a@b.c", "password": "x" * 2000}).status_code == 422


def test_the_session_read_is_the_keep_alive_and_reports_the_absolute_limit(client, ctx, nurse, nurse_headers):
    with ctx.sessions() as session:
        before = session.execute(sa.select(StaffSession.last_seen_at)).scalar_one()
    body = client.get("/api/v1/staff/session", headers=nurse_headers).json()
    assert body["idle_timeout_seconds"] == 15 * 60
    assert 8 * 3600 - 60 < body["absolute_remaining_seconds"] <= 8 * 3600
    with ctx.sessions() as session:
        assert session.execute(sa.select(StaffSession.last_seen_at)).scalar_one() > before


def test_pages_carry_the_idle_limit_and_the_session_end(client, nurse):
    login(client, "nurse@clinic.test", keep_cookie=True)
    html = client.get("/staff/").text
    assert 'data-idle-seconds="900"' in html and 'data-session-ends="20' in html
    assert 'id="stay-signed-in"' in html and "/staff/static/session.js" in html
