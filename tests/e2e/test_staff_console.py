"""The staff console in a real browser (Debian's headless chromium, never a downloaded one).

A patient's warning-sign message raises an escalation while a nurse watches the queue: the
row arrives live (server-sent events, no reload), the nurse opens the conversation, acknowledges
and resolves it with a note. AFTERCARE_UPDATE_SCREENSHOT=1 refreshes the README screenshots.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from axe_playwright_python.sync_playwright import Axe
from fastapi import FastAPI
from playwright.sync_api import Page, expect

from api.context import AppContext
from api.core.audit_log import AuditEvent
from api.db import transaction
from api.escalations.service import open_escalation
from api.identity import mint_patient_token
from api.main import create_app
from api.settings import Settings
from api.staff.accounts import create_staff
from tests.conftest import settings_in
from tests.e2e.live import LiveServer, bound_socket, fresh_page, port_of

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
MODEL = ROOT / "models" / "aftercare.tar.gz"
EMAIL, PASSWORD = "nurse.e2e@clinic.test", "a long ward passphrase"  # no name from the address (PW-1)
PATIENT = "demo-patient-0042"
WARNING = "I have a fever of 39 and the biopsy site is bleeding through the dressing"


@pytest.fixture(scope="module")
def model_assistant(request):
    """The real model when it is trained (the suite's shared one), else the fail-safe path."""
    return request.getfixturevalue("assistant") if MODEL.exists() else None


class StaffServer(LiveServer):
    """The live server, with the settings and app context the staff tests reach into."""

    def __init__(self, app: FastAPI, sock: socket.socket, settings: Settings) -> None:
        super().__init__(app, sock)
        self.app, self.settings = app, settings

    @property
    def ctx(self) -> AppContext:
        return self.app.state.ctx  # set by the app's start-up


@pytest.fixture(scope="module")
def server(tmp_path_factory, model_assistant):
    sock = bound_socket()
    port = port_of(sock)
    settings = settings_in(
        tmp_path_factory.mktemp("staff-e2e"),
        allowed_origins=f"http://127.0.0.1:{port}",
        login_rate_limit="50/minute",  # one nurse, many logins
    )
    app = create_app(settings, assistant=model_assistant, load_assistant=False)
    running = StaffServer(app, sock, settings)
    running.start()
    with transaction(running.ctx.sessions) as session:
        create_staff(session, EMAIL, "Nora Nurse", "nurse", PASSWORD)
    yield running
    running.stop()


@pytest.fixture
def page(browser) -> Iterator[Page]:
    with fresh_page(browser, 1280, 800) as page:  # a laptop; tablets get the same layout
        yield page


def patient_says(server: StaffServer, text: str, patient_id: str = PATIENT) -> str | None:
    headers = {"Authorization": f"Bearer {mint_patient_token(patient_id, server.settings)}"}
    with httpx.Client(base_url=server.url, headers=headers, timeout=30) as client:
        conversation = client.post("/api/v1/conversations").json()["conversation_id"]
        response = client.post(f"/api/v1/conversations/{conversation}/messages", json={"text": text})
        assert response.status_code == 200, response.text
        return response.json()["escalation_id"]


def seed_callback_request(server: StaffServer) -> None:
    """A patient's earlier request to talk to a person (queued below clinical escalations)."""
    patient_says(server, "thanks, that helps", patient_id="demo-patient-0017")
    with transaction(server.ctx.sessions) as session:
        conversation, message = session.execute(
            sa.text("SELECT conversation_id, id FROM messages WHERE role = 'patient' ORDER BY id DESC LIMIT 1")
        ).one()
        open_escalation(session, conversation, message, "callback", [], notify_webhook=False)


def assert_accessible(page: Page) -> None:
    """WEB-2: no axe-core violations, and nothing the CSP had to block."""
    results = Axe().run(page)
    assert results.violations_count == 0, results.generate_report()
    assert page.evaluate("window.__cspViolations") == []


def log_in_with_the_keyboard(page: Page, server: StaffServer) -> None:
    page.goto(f"{server.url}/staff/")
    expect(page).to_have_url(f"{server.url}/staff/login")
    assert_accessible(page)
    expect(page.get_by_label("E-mail")).to_be_focused()  # autofocus: straight to typing
    page.keyboard.type(EMAIL)
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    expect(page).to_have_url(f"{server.url}/staff/")
    # The URL changes before the deferred scripts run: until then "Log out" and the rows' live
    # updates do nothing (a click can land on a button with no handler yet).
    page.wait_for_load_state("load")


def test_a_nurse_sees_a_new_escalation_live_and_resolves_it(page, server, tmp_path):
    # AFTERCARE_UPDATE_SCREENSHOT=1 refreshes the README's pictures; otherwise they go to tmp.
    shots = ROOT / "docs" if os.environ.get("AFTERCARE_UPDATE_SCREENSHOT") else tmp_path
    seed_callback_request(server)
    log_in_with_the_keyboard(page, server)
    expect(page.locator("#live-state")).to_have_attribute("data-state", "live", timeout=10_000)
    page.evaluate("window.__sameDocument = true")  # gone if the page reloads

    escalation = patient_says(server, WARNING)
    assert escalation
    row = page.locator(f'tr[data-id="{escalation}"]')
    expect(row).to_be_visible(timeout=10_000)
    assert page.evaluate("window.__sameDocument") is True, "the row must arrive without a reload"
    assert row.locator(".badge").inner_text() in {"Emergency", "Call provider"}
    expect(page.locator("#queue-rows tr").first).to_have_attribute("data-id", escalation)  # above the callback
    expect(page.locator("#announcer")).to_contain_text("New")
    expect(page.locator("#queue-total")).to_have_text("2")
    tier = row.get_attribute("data-tier")
    expect(page.locator(f'[data-count="{tier}"]')).to_contain_text(": 1")  # the counts follow live rows
    assert WARNING not in page.content()  # the queue shows no message text
    assert_accessible(page)
    page.screenshot(path=str(shots / "staff-queue.png"), full_page=True)

    row.get_by_role("link").focus()
    page.keyboard.press("Enter")
    expect(page).to_have_url(f"{server.url}/staff/escalations/{escalation}")
    page.wait_for_load_state("load")  # staff.js handles Acknowledge: the parsed button alone does nothing
    expect(page.locator(".msg-trigger")).to_contain_text(WARNING)
    expect(page.locator(".facts")).to_contain_text(PATIENT)
    assert_accessible(page)

    page.get_by_role("button", name="Acknowledge").click()
    expect(page.locator("#status-text")).to_have_text("Acknowledged")
    expect(page.locator("#held-by")).to_have_text("Nora Nurse")  # acknowledging holds the case
    expect(page.get_by_role("button", name="Assign to me")).to_have_count(0)
    expect(page.get_by_label("What was done (required)")).to_be_focused()
    page.keyboard.type("Called the patient; coming to the day unit within the hour.")
    page.screenshot(path=str(shots / "staff-conversation.png"), full_page=True)
    page.get_by_role("button", name="Resolve").click()
    expect(page.locator("#status-text")).to_have_text("Resolved")
    expect(page.locator("#resolution-note")).to_have_text("Called the patient; coming to the day unit within the hour.")
    assert_accessible(page)

    with server.ctx.sessions() as session:
        actions = session.execute(
            sa.select(AuditEvent.action, AuditEvent.outcome).where(AuditEvent.actor_role == "nurse")
        ).all()
    assert [tuple(a) for a in actions] == [
        ("staff.login", "success"),
        ("transcript.view", "success"),
        ("escalation.acknowledge", "success"),
        ("escalation.resolve", "success"),
    ]


def test_another_nurses_acknowledge_moves_the_row_out_of_the_open_queue(page, server):
    with transaction(server.ctx.sessions) as session:
        create_staff(session, "second.e2e@clinic.test", "Sam Second", "nurse", PASSWORD)
    log_in_with_the_keyboard(page, server)
    page.get_by_role("link", name="Open", exact=True).click()  # the open tab: held cases leave it
    # The queue page being left was live already: wait for the open tab's own page and stream.
    expect(page).to_have_url(f"{server.url}/staff/?status=open")
    expect(page.locator("#live-state")).to_have_attribute("data-state", "live", timeout=10_000)
    escalation = patient_says(server, "fever of 38.9 since this morning", patient_id="demo-patient-0051")
    row = page.locator(f'tr[data-id="{escalation}"]')
    expect(row).to_be_visible(timeout=10_000)
    token = httpx.post(
        f"{server.url}/api/v1/staff/session",
        json={"email": "second.e2e@clinic.test", "password": PASSWORD},
    ).json()["access_token"]
    httpx.post(
        f"{server.url}/api/v1/escalations/{escalation}/acknowledge",
        headers={"Authorization": f"Bearer {token}"},
    ).raise_for_status()
    expect(row).to_have_count(0, timeout=10_000)
    expect(page.locator("#announcer")).to_contain_text("acknowledged by Sam Second")


@pytest.mark.parametrize("size", [{"width": 768, "height": 1024}, {"width": 1024, "height": 768}])
def test_the_queue_fits_a_tablet_without_sideways_scrolling(page, server, size):
    page.set_viewport_size(size)
    log_in_with_the_keyboard(page, server)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_a_wrong_password_is_announced_and_keeps_the_nurse_on_the_login_page(page, server):
    page.goto(f"{server.url}/staff/login")
    page.get_by_label("E-mail").fill(EMAIL)
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("alert")).to_contain_text("incorrect")
    expect(page.get_by_label("Password")).to_be_focused()


def test_logging_out_ends_the_session_and_returns_to_the_login_page(page, server):
    log_in_with_the_keyboard(page, server)
    page.get_by_role("button", name="Log out").click()
    expect(page).to_have_url(f"{server.url}/staff/login")
    page.goto(f"{server.url}/staff/")
    expect(page).to_have_url(f"{server.url}/staff/login")
