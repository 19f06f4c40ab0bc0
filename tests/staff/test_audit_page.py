"""The audit trail page (admins only): filters, names instead of ids, bounded pages, export."""

from __future__ import annotations

import csv
import io

import pytest

from api.core.audit_log import CLI_CONTEXT, record
from api.db import transaction
from tests.staff.conftest import audit_rows, login


@pytest.fixture
def admin_browser(client, admin, nurse):
    """An admin's browser (cookie); the nurse logged in once and failed once."""
    login(client, "nurse@clinic.test")
    client.post("/api/v1/staff/session", json={"email": "nurse@clinic.test", "password": "wrong password!"})
    login(client, "admin@clinic.test", keep_cookie=True)
    return client


def _rows(html: str) -> list[str]:
    body = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return [" ".join(r.split()) for r in body.split("<tr>")[1:]]


def test_names_not_ids(admin_browser, nurse):
    html = admin_browser.get("/staff/admin/audit", params={"action": "staff.login"}).text
    rows = _rows(html)
    assert any("Nora Nurse" in r and "nurse@clinic.test" in r and "failure" in r for r in rows)
    assert not any(nurse in r.split("staff:")[0] for r in rows)  # the actor column shows the name
    assert all("staff: Nora Nurse" in r or "staff: Ada Admin" in r for r in rows)


def test_filter_by_actor_email_action_and_day(admin_browser, ctx):
    rows = _rows(admin_browser.get("/staff/admin/audit", params={"actor": "NURSE@clinic.test"}).text)
    assert len(rows) == 2 and all("staff.login" in r for r in rows)
    rows = _rows(
        admin_browser.get("/staff/admin/audit", params={"actor": "nurse@clinic.test", "action": "staff.logout"}).text
    )
    assert rows == []
    today = audit_rows(ctx)[0].at.date().isoformat()
    rows = _rows(
        admin_browser.get("/staff/admin/audit", params={"since": today, "until": today, "action": "staff.login"}).text
    )
    assert len(rows) == 3
    rows = _rows(admin_browser.get("/staff/admin/audit", params={"until": "2000-01-01"}).text)
    assert rows == []


def test_pages_are_bounded_and_link_to_older_events(admin_browser, ctx):
    with transaction(ctx.sessions) as session:
        for _ in range(60):
            record(session, CLI_CONTEXT, "staff.list", "staff", None, "success")
    html = admin_browser.get("/staff/admin/audit").text
    assert len(_rows(html)) == 50
    older = html.split('href="/staff/admin/audit?', 1)[1].split('"', 1)[0].replace("&amp;", "&")
    second = admin_browser.get("/staff/admin/audit?" + older).text
    assert 0 < len(_rows(second)) <= 50 and "Newest events" in second
    assert "command line" in second or "command line" in html


def test_the_page_read_is_audited_and_nurses_get_an_audited_403(client, ctx, admin, nurse):
    login(client, "nurse@clinic.test", keep_cookie=True)
    assert client.get("/staff/admin/audit").status_code == 403
    assert [r.actor_id for r in audit_rows(ctx, action="authz.denied")] == [nurse]
    client.cookies.clear()
    login(client, "admin@clinic.test", keep_cookie=True)
    assert client.get("/staff/admin/audit").status_code == 200
    assert [r.actor_id for r in audit_rows(ctx, action="audit.query")] == [admin]


def test_the_export_link_carries_the_filters_and_names(admin_browser, ctx, admin):
    html = admin_browser.get("/staff/admin/audit", params={"actor": "nurse@clinic.test", "since": "2020-01-01"}).text
    link = html.split('href="/api/v1/audit-events/export', 1)[1].split('"', 1)[0].replace("&amp;", "&")
    response = admin_browser.get("/api/v1/audit-events/export" + link)
    assert response.status_code == 200
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert len(rows) == 2 and {r["actor_name"] for r in rows} == {"Nora Nurse"}
    assert {r["actor_email"] for r in rows} == {"nurse@clinic.test"}
    assert [r.actor_id for r in audit_rows(ctx, action="audit.export")] == [admin]


def test_a_failed_login_with_an_unknown_email_is_found_by_that_email(client, ctx, admin):
    client.post("/api/v1/staff/session", json={"email": "ghost@clinic.test", "password": "whatever it is"})
    login(client, "admin@clinic.test", keep_cookie=True)
    rows = _rows(client.get("/staff/admin/audit", params={"actor": "ghost@clinic.test"}).text)
    assert len(rows) == 1 and "(no such account)" in rows[0]
