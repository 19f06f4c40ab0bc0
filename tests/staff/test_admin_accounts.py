"""Account administration by admins (AC-3): list, create with a one-time set-password link,
disable, re-enable, change role, reset password; each audited, nurses refused and audited."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from api.db import transaction
from api.staff.models import PasswordLink, StaffUser
from tests.staff.conftest import PASSWORD, audit_rows, login

NEW_PASSWORD = "a brand new passphrase"  # noqa: S105 (test account)


def _secret(url: str) -> str:
    path, _, secret = url.partition("#")
    assert path.endswith("/staff/set-password") and "?" not in path  # LOG-2: never in the query
    return secret


def _create(client, headers, email="new@clinic.test", role="nurse") -> dict:
    response = client.post(
        "/api/v1/staff/accounts", json={"email": email, "name": "Nina New", "role": role}, headers=headers
    )
    assert response.status_code == 201, response.text
    return response.json()


def _set_password(client, secret: str, password: str = NEW_PASSWORD):
    return client.post("/api/v1/staff/set-password", json={"secret": secret, "password": password})


def test_admin_lists_accounts_with_role_state_and_last_login(client, ctx, admin_headers, nurse):
    response = client.get("/api/v1/staff/accounts", headers=admin_headers)
    assert response.status_code == 200
    rows = {a["email"]: a for a in response.json()}
    assert rows["nurse@clinic.test"]["role"] == "nurse" and rows["nurse@clinic.test"]["enabled"]
    assert rows["nurse@clinic.test"]["last_login_at"] is None  # never logged in
    assert rows["admin@clinic.test"]["last_login_at"] is not None
    assert [r.outcome for r in audit_rows(ctx, action="staff.list")] == ["success"]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/api/v1/staff/accounts"),
        ("post", "/api/v1/staff/accounts/x/disable"),
        ("post", "/api/v1/staff/accounts/x/enable"),
        ("post", "/api/v1/staff/accounts/x/reset-password"),
    ],
)
def test_a_nurse_is_refused_and_the_refusal_audited(client, ctx, nurse_headers, nurse, method, path):
    response = getattr(client, method)(path, headers=nurse_headers)
    assert response.status_code == 403
    [row] = audit_rows(ctx, action="authz.denied")
    assert (row.actor_id, row.outcome) == (nurse, "denied")


def test_a_nurse_cannot_change_a_role_or_create(client, ctx, nurse_headers, admin):
    assert (
        client.post(f"/api/v1/staff/accounts/{admin}/role", json={"role": "nurse"}, headers=nurse_headers).status_code
        == 403
    )
    assert (
        client.post(
            "/api/v1/staff/accounts",
            json={"email": "x@clinic.test", "name": "X", "role": "admin"},
            headers=nurse_headers,
        ).status_code
        == 403
    )
    with ctx.sessions() as session:
        assert session.get(StaffUser, admin).role == "admin"
        assert session.execute(sa.select(sa.func.count()).select_from(StaffUser)).scalar_one() == 2


def test_create_gives_a_one_time_link_that_sets_the_password(client, ctx, admin_headers, admin):
    created = _create(client, admin_headers)
    secret = _secret(created["set_password_url"])
    # No password yet: nothing logs in.
    assert client.post("/api/v1/staff/session", json={"email": "new@clinic.test", "password": ""}).status_code in (
        401,
        422,
    )
    with ctx.sessions() as session:  # only the hash is stored
        [link] = session.execute(sa.select(PasswordLink)).scalars()
        assert secret not in link.id
    assert _set_password(client, secret).status_code == 204
    login(client, "new@clinic.test", NEW_PASSWORD)
    assert _set_password(client, secret, "another long passphrase").status_code == 400  # once only
    [create] = audit_rows(ctx, action="staff.create", actor_id=admin)
    assert (create.actor_id, create.object_id) == (admin, created["account"]["id"])
    outcomes = [(r.actor_id, r.outcome) for r in audit_rows(ctx, action="staff.password_set")]
    assert outcomes == [(created["account"]["id"], "success"), (None, "failure")]


def test_a_weak_password_leaves_the_link_usable(client, admin_headers):
    secret = _secret(_create(client, admin_headers)["set_password_url"])
    assert _set_password(client, secret, "short").status_code == 422
    assert _set_password(client, secret).status_code == 204


def test_an_expired_link_is_refused(client, ctx, admin_headers):
    secret = _secret(_create(client, admin_headers)["set_password_url"])
    with transaction(ctx.sessions) as session:
        session.execute(sa.update(PasswordLink).values(expires_at=dt.datetime(2020, 1, 1, tzinfo=dt.timezone.utc)))
    assert _set_password(client, secret).status_code == 400


def test_disable_ends_sessions_and_enable_lets_the_account_back(client, ctx, admin_headers, nurse, nurse_headers):
    response = client.post(f"/api/v1/staff/accounts/{nurse}/disable", headers=admin_headers)
    assert response.status_code == 200 and response.json()["enabled"] is False
    assert client.get("/api/v1/staff/session", headers=nurse_headers).status_code == 401
    response = client.post(f"/api/v1/staff/accounts/{nurse}/enable", headers=admin_headers)
    assert response.json()["enabled"] is True
    login(client, "nurse@clinic.test")
    actions = [
        r.action for r in audit_rows(ctx, object_id=nurse) if r.action.startswith("staff.") and r.actor_role == "admin"
    ]
    assert actions == ["staff.disable", "staff.enable"]


def test_change_role_takes_effect_on_the_next_request(client, ctx, admin_headers, nurse, nurse_headers):
    assert client.get("/api/v1/audit-events", headers=nurse_headers).status_code == 403
    response = client.post(f"/api/v1/staff/accounts/{nurse}/role", json={"role": "admin"}, headers=admin_headers)
    assert response.status_code == 200 and response.json()["role"] == "admin"
    assert client.get("/api/v1/audit-events", headers=nurse_headers).status_code == 200
    [row] = audit_rows(ctx, action="staff.role_change")
    assert row.object_id == nurse and row.outcome == "success"


def test_an_admin_cannot_lock_themselves_or_everyone_out(client, ctx, admin, admin_headers):
    assert client.post(f"/api/v1/staff/accounts/{admin}/disable", headers=admin_headers).status_code == 409
    assert (
        client.post(f"/api/v1/staff/accounts/{admin}/role", json={"role": "nurse"}, headers=admin_headers).status_code
        == 409
    )
    assert [r.outcome for r in audit_rows(ctx, object_id=admin, actor_id=admin) if r.action != "staff.login"] == [
        "failure",
        "failure",
    ]


def test_reset_password_ends_the_old_password_and_sessions(client, ctx, admin_headers, nurse, nurse_headers):
    response = client.post(f"/api/v1/staff/accounts/{nurse}/reset-password", headers=admin_headers)
    assert response.status_code == 200
    secret = _secret(response.json()["set_password_url"])
    assert client.get("/api/v1/staff/session", headers=nurse_headers).status_code == 401
    old = client.post("/api/v1/staff/session", json={"email": "nurse@clinic.test", "password": PASSWORD})
    assert old.status_code == 401
    assert _set_password(client, secret).status_code == 204
    login(client, "nurse@clinic.test", NEW_PASSWORD)
    assert [r.outcome for r in audit_rows(ctx, action="staff.password_reset")] == ["success"]


def test_a_new_link_voids_the_older_one(client, admin_headers, nurse):
    first = client.post(f"/api/v1/staff/accounts/{nurse}/reset-password", headers=admin_headers).json()
    second = client.post(f"/api/v1/staff/accounts/{nurse}/reset-password", headers=admin_headers).json()
    assert _set_password(client, _secret(first["set_password_url"])).status_code == 400
    assert _set_password(client, _secret(second["set_password_url"])).status_code == 204


def test_unknown_account_is_404_and_audited(client, ctx, admin_headers):
    assert client.post("/api/v1/staff/accounts/nope/disable", headers=admin_headers).status_code == 404
    [row] = audit_rows(ctx, action="staff.disable")
    assert row.outcome == "failure"


def test_cookie_actions_need_the_csrf_header(client, ctx, admin, nurse):
    login(client, "admin@clinic.test", keep_cookie=True)
    response = client.post(f"/api/v1/staff/accounts/{nurse}/disable")  # cookie, no X-CSRF-Token
    assert response.status_code == 403
    with ctx.sessions() as session:
        assert not session.get(StaffUser, nurse).disabled


def test_set_password_from_another_site_is_refused(client, admin_headers):
    secret = _secret(_create(client, admin_headers)["set_password_url"])
    response = client.post(
        "/api/v1/staff/set-password",
        json={"secret": secret, "password": NEW_PASSWORD},
        headers={"Origin": "https://evil.example"},
    )
    assert response.status_code == 403


def test_accounts_page_for_admins_and_an_audited_403_page_for_nurses(client, ctx, admin, nurse):
    login(client, "nurse@clinic.test", keep_cookie=True)
    response = client.get("/staff/admin/accounts")
    assert response.status_code == 403 and "Admins only" in response.text
    assert [r.actor_id for r in audit_rows(ctx, action="authz.denied")] == [nurse]
    client.cookies.clear()
    login(client, "admin@clinic.test", keep_cookie=True)
    response = client.get("/staff/admin/accounts")
    assert response.status_code == 200
    assert "Nora Nurse" in response.text and "nurse@clinic.test" in response.text
    assert "Reset password" in response.text


def test_the_set_password_page_carries_no_secret(client):
    response = client.get("/staff/set-password")
    assert response.status_code == 200 and 'id="setpw-form"' in response.text
