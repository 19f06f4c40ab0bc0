"""Live updates in a real browser (Debian's headless chromium): the staff queue after its event
stream drops, and a nurse's reply reaching the patient's open widget.

Fail-safe replies (no model): the detector alone raises the escalations, which is all these
tests need, and the widget's live feed does not depend on the assistant.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest
import sqlalchemy as sa
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, Route, expect

from api.db import transaction
from api.escalations.models import Escalation
from api.identity import mint_patient_token
from api.main import create_app
from api.staff.accounts import create_staff
from tests.conftest import settings_in
from tests.e2e.cuttable_proxy import CuttableProxy
from tests.e2e.live import LiveServer, bound_socket, fresh_page

pytestmark = pytest.mark.browser

EMAIL, PASSWORD = "nurse.live@clinic.test", "a long ward passphrase"
EMERGENCY = "I can't breathe and my chest hurts since the biopsy"
BLEEDING = "the biopsy site is bleeding through the dressing"
REDNESS = "the biopsy site is red and swollen"  # call provider: queued below an emergency
TITLE_WITH_EMERGENCY = re.compile(r"^\(\d+\) EMERGENCY – Queue · Marrow Aftercare$")
REPLY = "Hello, this is Nora from the day unit. Press on the dressing firmly; I am calling you now."


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[LiveServer]:
    sock = bound_socket()
    settings = settings_in(tmp_path_factory.mktemp("live-e2e"), login_rate_limit="50/minute")
    app = create_app(settings, load_assistant=False)
    running = LiveServer(app, sock)
    running.start()
    running.settings, running.ctx = settings, app.state.ctx  # type: ignore[attr-defined]
    with transaction(app.state.ctx.sessions) as session:
        create_staff(session, EMAIL, "Nora Nurse", "nurse", PASSWORD)
    yield running
    running.stop()


@pytest.fixture
def nurse_page(browser) -> Iterator[Page]:
    with fresh_page(browser, 1280, 800) as page:
        yield page


@pytest.fixture
def patient_page(browser) -> Iterator[Page]:
    with fresh_page(browser, 390, 844) as page:  # a phone
        yield page


def patient_says(server, text: str, patient_id: str = "patient-live") -> str:
    headers = {"Authorization": f"Bearer {mint_patient_token(patient_id, server.settings)}"}
    with httpx.Client(base_url=server.url, headers=headers, timeout=30) as client:
        conversation = client.post("/api/v1/conversations").json()["conversation_id"]
        response = client.post(f"/api/v1/conversations/{conversation}/messages", json={"text": text})
        assert response.status_code == 200, response.text
        escalation = response.json()["escalation_id"]
        assert escalation
        return escalation


def log_in(page: Page, server) -> None:
    page.goto(f"{server.url}/staff/login")
    page.get_by_label("E-mail").fill(EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_label("Password").press("Enter")
    expect(page).to_have_url(f"{server.url}/staff/")


def assert_accessible(page: Page) -> None:
    results = Axe().run(page)
    serious = [v for v in results.response["violations"] if v["impact"] in {"serious", "critical"}]
    assert serious == [], results.generate_report()
    assert page.evaluate("window.__cspViolations") == []


@pytest.fixture
def proxy(server) -> Iterator[CuttableProxy]:
    running = CuttableProxy(int(server.url.rsplit(":", 1)[1]))
    yield running
    running.close()


def test_an_emergency_raised_while_the_stream_is_down_shows_after_the_reconnect(nurse_page, server, proxy):
    """The nurse's browser reaches the server through a proxy that the test cuts."""
    page = nurse_page
    log_in(page, proxy)
    live = page.locator("#live-state")
    expect(live).to_have_attribute("data-state", "live", timeout=10_000)
    page.evaluate("window.__sameDocument = true")  # gone if the page reloads
    first = patient_says(server, REDNESS, "patient-before")
    expect(page.locator(f'tr[data-id="{first}"]')).to_be_visible()  # live, and the stream has an id now

    proxy.cut()  # the stream drops, and reconnecting fails for now
    expect(live).to_have_attribute("data-state", "offline")
    emergency = patient_says(server, EMERGENCY, "patient-in-the-gap")  # raised during the gap
    page.wait_for_timeout(500)  # a reconnect attempt or two fail meanwhile
    proxy.restore()

    row = page.locator(f'tr[data-id="{emergency}"]')
    expect(row).to_be_visible(timeout=15_000)  # the browser's retry, or ours after 5 s
    expect(live).to_have_attribute("data-state", "live")
    assert page.evaluate("window.__sameDocument") is True, "no manual reload"
    expect(row.locator(".badge")).to_have_text("Emergency")
    order = page.locator("#queue-rows tr").evaluate_all("rows => rows.map(r => r.dataset.id)")
    assert order.index(emergency) < order.index(first)  # in its place: emergency first
    expect(page).to_have_title(TITLE_WITH_EMERGENCY)


def test_an_emergency_raised_before_the_stream_first_connects_shows(nurse_page, server):
    """Between the queue page's rendering and its stream's first `ready` nothing is replayed (a
    fresh connection has no Last-Event-ID): the page reads the queue again once connected."""
    page = nurse_page
    held: list[Route] = []
    page.route("**/api/v1/escalations/stream", lambda route: held.append(route))  # the first connect waits
    log_in(page, server)
    for _ in range(200):  # up to 10 s for the page to open its stream
        if held:
            break
        page.wait_for_timeout(50)
    assert held, "the queue page never opened its event stream"
    emergency = patient_says(server, EMERGENCY, "patient-before-the-stream")
    held[0].continue_()
    expect(page.locator("#live-state")).to_have_attribute("data-state", "live", timeout=10_000)
    row = page.locator(f'tr[data-id="{emergency}"]')
    expect(row).to_be_visible()
    expect(row).to_have_class(re.compile(r"\bis-new\b"))
    expect(page).to_have_title(TITLE_WITH_EMERGENCY)


def test_the_emergency_sound_is_off_by_default_and_rings_when_switched_on(nurse_page, server):
    page = nurse_page
    log_in(page, server)
    expect(page.locator("#live-state")).to_have_attribute("data-state", "live", timeout=10_000)
    toggle = page.get_by_label("Sound on a new emergency")
    expect(toggle).not_to_be_checked()
    patient_says(server, EMERGENCY, "patient-quiet")
    expect(page).to_have_title(TITLE_WITH_EMERGENCY)
    assert page.evaluate("document.documentElement.dataset.lastAlertSound") is None  # silent by default

    toggle.check()
    rang_for_the_sample = page.evaluate("document.documentElement.dataset.lastAlertSound")
    assert rang_for_the_sample, "switching it on plays a sample"
    patient_says(server, EMERGENCY, "patient-loud")
    expect(page.locator("html")).not_to_have_attribute("data-last-alert-sound", rang_for_the_sample or "")
    assert_accessible(page)


def test_a_nurses_reply_appears_in_the_patients_open_widget(nurse_page, patient_page, server):
    patient = patient_page
    patient.goto(f"{server.url}/demo/portal")
    patient.get_by_role("button", name="Aftercare questions").click()
    patient.get_by_label("Your message").fill(BLEEDING)
    patient.get_by_label("Your message").press("Enter")
    expect(patient.locator(".ma-msg--patient .ma-status")).to_have_count(0, timeout=20_000)
    expect(patient.locator(".ma-alert")).not_to_be_empty()  # the call-now banner

    conversation = patient.evaluate("sessionStorage.getItem('marrow-aftercare:conversation')")
    with server.ctx.sessions() as session:
        escalation = session.execute(
            sa.select(Escalation.id).where(Escalation.conversation_id == conversation)
        ).scalar_one()  # the widget's warning sign opened exactly one

    nurse = nurse_page
    log_in(nurse, server)
    nurse.goto(f"{server.url}/staff/escalations/{escalation}")
    expect(nurse.locator("#reply-section")).to_be_hidden()  # not held yet
    nurse.get_by_role("button", name="Acknowledge").click()
    expect(nurse.locator("#reply-section")).to_be_visible()
    assert_accessible(nurse)
    nurse.get_by_label("Your message (the patient sees it in their chat, with your name)").fill(REPLY)
    nurse.get_by_role("button", name="Send to patient").click()
    expect(nurse.locator("#reply-status")).to_have_text("Sent. The patient sees it in their chat.")
    expect(nurse.locator("#transcript .msg-staff")).to_contain_text(REPLY)

    # Within Playwright's default wait (5 s); measured delivery is far below a second.
    staff_line = patient.locator(".ma-msg--staff")
    expect(staff_line).to_contain_text(REPLY)
    expect(staff_line.locator(".ma-author")).to_have_text("Nora Nurse, care team")
    expect(staff_line).to_be_in_viewport()  # at 390x844 the reply is visible, not hidden by the banner

    # While Nora holds the case a routine question waits for her; the widget still works.
    patient.get_by_label("Your message").fill("when can I have a shower?")
    patient.get_by_label("Your message").press("Enter")
    expect(patient.locator(".ma-msg--assistant").last).to_contain_text("Nora Nurse", timeout=20_000)

    # After a reload the reply is still there, once, from the transcript.
    patient.reload()
    patient.get_by_role("button", name="Aftercare questions").click()
    expect(patient.locator(".ma-msg--staff")).to_have_count(1)
    expect(patient.locator(".ma-msg--staff")).to_contain_text(REPLY)
