"""401 and 403 first: every staff route refuses the anonymous, admin routes refuse nurses
(AC-3), and cookie-authenticated state changes need the CSRF header (SES-2)."""

from __future__ import annotations

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from tests.staff.conftest import audit_rows, login

ESC = "/api/v1/escalations/{id}"
PROTECTED = [
    ("GET", "/api/v1/staff/session"),
    ("DELETE", "/api/v1/staff/session"),
    ("GET", "/api/v1/escalations"),
    ("GET", "/api/v1/escalations/stream"),
    ("GET", ESC),
    ("POST", ESC + "/acknowledge"),
    ("POST", ESC + "/resolve"),
    ("POST", ESC + "/messages"),
    ("POST", ESC + "/assign"),
    ("POST", ESC + "/release"),
    ("GET", "/api/v1/audit-events"),
    ("GET", "/api/v1/audit-events/export"),
    ("GET", "/api/v1/checkins/unanswered"),
    ("GET", "/api/v1/checkins/{checkin_id}/questionnaire-response"),
]
ACCOUNT = "/api/v1/staff/accounts/{account_id}"
ACCOUNTS_ADMIN = [
    ("GET", "/api/v1/staff/accounts"),
    ("POST", "/api/v1/staff/accounts"),
    ("POST", ACCOUNT + "/disable"),
    ("POST", ACCOUNT + "/enable"),
    ("POST", ACCOUNT + "/role"),
    ("POST", ACCOUNT + "/reset-password"),
]
PROTECTED += ACCOUNTS_ADMIN
ADMIN_ONLY = [("GET", "/api/v1/audit-events"), ("GET", "/api/v1/audit-events/export"), *ACCOUNTS_ADMIN]
# The login itself, and redeeming a one-time set-password link (its secret is the credential).
PUBLIC = {("POST", "/api/v1/staff/session"), ("POST", "/api/v1/staff/set-password")}
# Under a staff prefix but the patient's own: a patient token (tests/checkins/test_followup.py).
PATIENT = {("GET", "/api/v1/checkins/waiting")}


def _call(client, method, path, escalation="0" * 32, **kwargs):
    bodies = {"/resolve": {"note": "called back"}, "/messages": {"text": "hello"}}
    body = next((b for suffix, b in bodies.items() if path.endswith(suffix)), None)
    return client.request(method, path.replace("{id}", escalation), json=body, **kwargs)


def test_the_table_covers_every_staff_route(client):
    routes = {
        (m, r.path.replace("{escalation_id}", "{id}"))
        for r in client.app.routes
        if isinstance(r, APIRoute)
        for m in r.methods
        if r.path.startswith(("/api/v1/staff", "/api/v1/escalations", "/api/v1/audit", "/api/v1/checkins"))
    }
    assert routes - PUBLIC - PATIENT == set(PROTECTED)


@pytest.mark.parametrize(("method", "path"), PROTECTED)
def test_anonymous_gets_401(client, method, path):
    response = _call(client, method, path)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthorized"
    assert response.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize(("method", "path"), PROTECTED)
def test_an_unknown_token_gets_401(client, method, path):
    assert _call(client, method, path, headers={"Authorization": "Bearer not-a-session"}).status_code == 401


@pytest.mark.parametrize(("method", "path"), PROTECTED)
def test_a_patient_token_is_not_a_staff_token(client, settings, method, path):
    from api.identity import mint_patient_token

    headers = {"Authorization": f"Bearer {mint_patient_token('patient-1', settings)}"}
    assert _call(client, method, path, headers=headers).status_code == 401


@pytest.mark.parametrize(("method", "path"), ADMIN_ONLY)
def test_a_nurse_gets_403_on_admin_routes_and_it_is_audited(client, ctx, nurse, nurse_headers, method, path):
    response = _call(client, method, path, headers=nurse_headers)
    assert response.status_code == 403
    [row] = audit_rows(ctx, action="authz.denied")
    assert (row.actor_id, row.actor_role, row.outcome) == (nurse, "nurse", "denied")
    assert row.object_type == "route" and row.object_id == f"{method} {path}"


def test_an_admin_may_read_the_audit_trail(client, admin_headers):
    assert client.get("/api/v1/audit-events", headers=admin_headers).status_code == 200


# --- CSRF: the browser's cookie alone never changes anything --------------------------------


@pytest.fixture
def cookie_client(client, nurse):
    login(client, "nurse@clinic.test", keep_cookie=True)
    return client


def _csrf(client, ctx) -> str:
    from api.staff.sessions import csrf_token, token_hash

    return csrf_token(ctx.settings, token_hash(client.cookies["aftercare_staff"]))


def test_cookie_reads_need_no_csrf_header(cookie_client):
    assert cookie_client.get("/api/v1/escalations").status_code == 200


def test_cookie_post_without_csrf_header_is_refused_and_audited(cookie_client, ctx, escalation, nurse):
    response = cookie_client.post(f"/api/v1/escalations/{escalation}/acknowledge")
    assert response.status_code == 403
    assert "X-CSRF-Token" in response.json()["error"]["message"]
    assert [r.actor_id for r in audit_rows(ctx, action="authz.denied")] == [nurse]
    assert audit_rows(ctx, action="escalation.acknowledge") == []


def test_cookie_post_with_a_wrong_csrf_header_is_refused(cookie_client, escalation):
    response = cookie_client.post(f"/api/v1/escalations/{escalation}/acknowledge", headers={"X-CSRF-Token": "f" * 64})
    assert response.status_code == 403


def test_cookie_post_from_another_origin_is_refused_even_with_the_token(cookie_client, ctx, escalation):
    headers = {"X-CSRF-Token": _csrf(cookie_client, ctx), "Origin": "https://evil.example"}
    assert cookie_client.post(f"/api/v1/escalations/{escalation}/acknowledge", headers=headers).status_code == 403


def test_cookie_post_with_the_csrf_header_from_our_origin_works(cookie_client, ctx, escalation):
    headers = {"X-CSRF-Token": _csrf(cookie_client, ctx), "Origin": "http://testserver"}
    assert cookie_client.post(f"/api/v1/escalations/{escalation}/acknowledge", headers=headers).status_code == 200


def test_cookie_logout_needs_the_csrf_header(cookie_client, ctx):
    assert cookie_client.delete("/api/v1/staff/session").status_code == 403
    response = cookie_client.delete("/api/v1/staff/session", headers={"X-CSRF-Token": _csrf(cookie_client, ctx)})
    assert response.status_code == 204


def test_bearer_requests_need_no_csrf_header(client, nurse_headers, escalation):
    assert client.post(f"/api/v1/escalations/{escalation}/acknowledge", headers=nurse_headers).status_code == 200


def test_a_cross_site_login_is_refused_and_audited(client, ctx, nurse):
    response = client.post(
        "/api/v1/staff/session",
        headers={"Origin": "https://evil.example"},
        json={"email": "nurse@clinic.test", "password": "x" * 12},
    )
    assert response.status_code == 403
    assert [r.outcome for r in audit_rows(ctx, action="staff.login")] == ["denied"]


def test_staff_401s_are_audited_once_per_client_a_minute(client, ctx):
    """AUD-2: unauthenticated calls are recorded; RES-5: counted, so they cannot flood the table."""
    for _ in range(5):
        assert client.get("/api/v1/escalations").status_code == 401
    assert client.get("/api/v1/escalations", headers={"Authorization": "Bearer forged"}).status_code == 401
    rows = audit_rows(ctx, action="authn.failed")
    assert [(r.outcome, r.object_id, r.client_address) for r in rows] == [
        ("denied", "GET /api/v1/escalations", "testclient")
    ]
    other = TestClient(client.app, client=("198.51.100.20", 40000))
    assert other.get("/api/v1/audit-events").status_code == 401
    assert len(audit_rows(ctx, action="authn.failed")) == 2
