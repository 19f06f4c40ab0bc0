"""The admin pages and the session behaviour in a real browser (Debian's chromium), with axe.

An admin creates an account and hands over its one-time link; the new nurse sets a password
through it; the admin disables, re-enables and promotes the account, reads the audit trail and
the operations report. A nurse is refused the admin pages. Sessions: the idle warning and its
"Stay signed in", the watched queue's keep-alive, and a resolve note that survives a re-login.
AFTERCARE_UPDATE_SCREENSHOT=1 refreshes docs/staff-admin.png.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect

from api.core.audit_log import AuditEvent
from api.db import transaction
from api.main import create_app
from api.staff.accounts import create_staff
from api.staff.models import StaffSession
from tests.conftest import settings_in
from tests.e2e.live import LiveServer, bound_socket, fresh_page, port_of
from tests.e2e.test_staff_console import StaffServer, patient_says

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
ADMIN, NURSE, PASSWORD = "ada.e2e@clinic.test", "nora.e2e@clinic.test", "a long staff passphrase"
NEW_EMAIL, NEW_PASSWORD = "nina.e2e@clinic.test", "her own long passphrase"  # no name from the address (PW-1)


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[StaffServer]:
    """The fail-safe path (no model): a warning sign still opens an escalation."""
    sock = bound_socket()
    port = port_of(sock)
    settings = settings_in(
        tmp_path_factory.mktemp("admin-e2e"), allowed_origins=f"http://127.0.0.1:{port}", login_rate_limit="50/minute"
    )
    running = StaffServer(create_app(settings, load_assistant=False), sock, settings)
    running.start()
    with transaction(running.ctx.sessions) as session:
        create_staff(session, ADMIN, "Ada Admin", "admin", PASSWORD)
        create_staff(session, NURSE, "Nora Nurse", "nurse", PASSWORD)
    yield running
    LiveServer.stop(running)


@pytest.fixture
def page(browser) -> Iterator[Page]:
    with fresh_page(browser, 1280, 800) as page:
        yield page


def assert_accessible(page: Page) -> None:
    """No axe-core violations at all (stricter than the no-serious-or-critical bar), and
    nothing blocked by the Content-Security-Policy."""
    results = Axe().run(page)
    assert results.violations_count == 0, results.generate_report()
    assert page.evaluate("window.__cspViolations") == []


def log_in(page: Page, server: StaffServer, email: str, password: str = PASSWORD) -> None:
    page.goto(f"{server.url}/staff/login")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(f"{server.url}/staff/")
    # The URL changes before the deferred scripts run; a test that then moves a fake clock
    # would move it before session.js has set its timers (a CI run timed out on that).
    page.wait_for_load_state("load")


def _row(page: Page, name: str):
    return page.locator("tbody tr", has=page.get_by_role("rowheader", name=name))


def test_an_admin_manages_an_account_from_creation_to_promotion(page, browser, server, tmp_path):
    shots = ROOT / "docs" if os.environ.get("AFTERCARE_UPDATE_SCREENSHOT") else tmp_path
    page.on("dialog", lambda dialog: dialog.accept())  # the confirm() before disable/reset
    log_in(page, server, ADMIN)
    page.get_by_role("navigation", name="Admin").get_by_role("link", name="Accounts").click()
    expect(page.get_by_role("heading", name="Staff accounts")).to_be_visible()
    page.wait_for_load_state("load")  # admin.js (deferred) handles the form: parsed HTML is not enough
    assert_accessible(page)

    page.get_by_label("Name (as colleagues see it)").fill("Nina New")
    page.get_by_label("E-mail").fill(NEW_EMAIL)
    page.get_by_role("button", name="Create account").click()
    expect(page.locator("#admin-status")).to_contain_text("Account created for Nina New")
    link = page.get_by_role("textbox", name="Link to give them").input_value()
    assert "/staff/set-password#" in link and "?" not in link
    expect(_row(page, "Nina New")).to_contain_text("never")
    assert_accessible(page)
    page.screenshot(path=str(shots / "staff-admin.png"), full_page=True)
    page.reload()
    expect(page.locator("#link-panel")).to_be_hidden()  # shown once

    with fresh_page(browser, 1280, 800) as newcomer:
        newcomer.goto(link)
        expect(newcomer).to_have_url(f"{server.url}/staff/set-password")  # the secret left the address bar
        assert_accessible(newcomer)
        newcomer.get_by_label("New password (at least 12 characters)").fill(NEW_PASSWORD)
        newcomer.get_by_label("The same password again").fill(NEW_PASSWORD)
        newcomer.get_by_role("button", name="Set password").click()
        expect(newcomer.locator("#setpw-done")).to_be_visible()
        log_in(newcomer, server, NEW_EMAIL, NEW_PASSWORD)

    page.reload()
    row = _row(page, "Nina New")
    expect(row).not_to_contain_text("never")  # last login shown
    row.get_by_role("button", name="Disable Nina New").click()
    expect(page.locator("#admin-status")).to_have_text("Nina New is disabled.")
    expect(_row(page, "Nina New")).to_contain_text("Disabled")
    _row(page, "Nina New").get_by_role("button", name="Re-enable Nina New").click()
    # Each action reloads the page; its rows are there before admin.js, which shows the outcome and
    # handles the next click. Wait for the outcome, or the next click can land on a dead button.
    expect(page.locator("#admin-status")).to_have_text("Nina New is enabled again.")
    expect(_row(page, "Nina New")).to_contain_text("Enabled")
    _row(page, "Nina New").get_by_label("Role for Nina New").select_option("admin")
    _row(page, "Nina New").get_by_role("button", name="Change role of Nina New").click()
    expect(page.locator("#admin-status")).to_have_text("Nina New is now admin.")
    _row(page, "Nina New").get_by_role("button", name="Reset password of Nina New").click()
    new_link = page.get_by_role("textbox", name="Link to give them")
    expect(new_link).to_have_value(re.compile(r"/staff/set-password#[\w-]{20,}$"))

    with server.ctx.sessions() as session:
        done = (
            session.execute(
                sa.select(AuditEvent.action)
                .where(AuditEvent.actor_role == "admin", AuditEvent.object_type == "staff")
                .where(AuditEvent.action != "staff.list")
                .order_by(AuditEvent.id)
            )
            .scalars()
            .all()
        )
    assert [a for a in done if a != "staff.login"] == [
        "staff.create",
        "staff.disable",
        "staff.enable",
        "staff.role_change",
        "staff.password_reset",
    ]


def test_the_audit_trail_page_filters_and_exports(page, server):
    log_in(page, server, ADMIN)
    page.goto(f"{server.url}/staff/admin/audit")
    assert_accessible(page)
    page.get_by_label("Actor (e-mail, staff id or cli)").fill(ADMIN)
    page.get_by_label("Action").select_option("staff.login")
    page.get_by_role("button", name="Filter").click()
    rows = page.locator("table.audit tbody tr")
    expect(rows.first).to_contain_text("Ada Admin")
    assert all("staff.login" in text for text in rows.all_inner_texts())
    with page.expect_download() as download:
        page.get_by_role("link", name="Download CSV").click()
    lines = Path(download.value.path()).read_text().splitlines()
    assert lines[0].startswith("id,at,actor_id,actor_name,actor_email") and "Ada Admin" in lines[1]
    assert_accessible(page)


def test_the_operations_report_page(page, server):
    patient_says(server, "the biopsy site is bleeding through the dressing", patient_id="report-patient")
    log_in(page, server, ADMIN)
    page.get_by_role("link", name="Operations report").click()
    expect(page.get_by_role("img", name="Cases per week by tier")).to_be_visible()
    expect(page.locator("table.report-tiers tbody tr").first).not_to_contain_text("No cases")
    assert_accessible(page)


def test_a_nurse_is_refused_the_admin_pages(page, server):
    log_in(page, server, NURSE)
    expect(page.get_by_role("navigation", name="Admin")).to_have_count(0)
    for path in ("accounts", "audit", "report"):
        response = page.goto(f"{server.url}/staff/admin/{path}")
        assert response is not None and response.status == 403
        expect(page.get_by_role("heading", name="Admins only")).to_be_visible()
    assert_accessible(page)


def _open_case(page: Page, server: StaffServer, patient: str) -> str:
    escalation = patient_says(server, "I have a fever of 39 and the site is bleeding", patient_id=patient)
    assert escalation
    page.goto(f"{server.url}/staff/escalations/{escalation}")
    page.get_by_role("button", name="Acknowledge").click()
    expect(page.locator("#status-text")).to_have_text("Acknowledged")
    return escalation


def test_the_idle_warning_and_stay_signed_in(page, server):
    page.clock.install()
    log_in(page, server, NURSE)
    _open_case(page, server, "idle-patient")
    warning = page.get_by_role("alertdialog", name="Still there?")
    expect(warning).to_be_hidden()
    page.clock.run_for(12 * 60 * 1000)
    expect(warning).to_be_hidden()
    page.clock.run_for(60 * 1000 + 10_000)  # under two minutes left
    expect(warning).to_be_visible()
    expect(warning).to_contain_text("signed out in 2 minutes")
    expect(page.get_by_role("button", name="Stay signed in")).to_be_focused()
    assert_accessible(page)
    with page.expect_response(lambda r: r.url.endswith("/api/v1/staff/session") and r.status == 200):
        page.get_by_role("button", name="Stay signed in").click()
    expect(warning).to_be_hidden()
    page.clock.run_for(12 * 60 * 1000)
    expect(warning).to_be_hidden()  # the keep-alive restarted the 15 minutes


def test_a_watched_queue_keeps_its_session_alive(page, server):
    page.clock.install()
    log_in(page, server, NURSE)
    with page.expect_request(lambda r: r.url.endswith("/api/v1/staff/session") and r.method == "GET"):
        page.clock.run_for(6 * 60 * 1000)
    page.clock.run_for(20 * 60 * 1000)  # well past the idle limit, the page watched throughout
    expect(page).to_have_url(f"{server.url}/staff/")
    expect(page.get_by_role("alertdialog", name="Still there?")).to_be_hidden()


def test_a_half_written_note_survives_a_session_expiry(page, server):
    log_in(page, server, NURSE)
    escalation = _open_case(page, server, "note-patient")
    note = "Called the patient back; advised to come to the day unit."
    page.get_by_label("What was done (required)").fill(note)
    with transaction(server.ctx.sessions) as session:  # the session ends meanwhile
        session.execute(sa.update(StaffSession).values(revoked_at=dt.datetime.now(dt.timezone.utc)))
    page.get_by_role("button", name="Resolve").click()
    expect(page).to_have_url(f"{server.url}/staff/login?expired=1&next=%2Fstaff%2Fescalations%2F{escalation}")
    page.wait_for_load_state("load")  # staff.js submits the form; before it runs, the browser would itself
    page.get_by_label("E-mail").fill(NURSE)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(f"{server.url}/staff/escalations/{escalation}")
    expect(page.get_by_label("What was done (required)")).to_have_value(note)
    expect(page.locator("#action-status")).to_have_text("Your unsent note was restored.")
    assert page.evaluate("localStorage.length") == 0  # patient-related text never in localStorage
    page.get_by_role("button", name="Resolve").click()
    expect(page.locator("#resolution-note")).to_have_text(note)
    assert page.evaluate(f"sessionStorage.getItem('aftercare-note:{escalation}')") is None
