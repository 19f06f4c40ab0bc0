"""A callback number given in the chat, end to end in a real browser (Debian's chromium): the
patient asks for a nurse in the widget, types a number, presses Yes; the nurse's case page
shows it as a tel: link "(given in the chat)", accessible (axe)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
import sqlalchemy as sa
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect

from api.db import transaction
from api.escalations.models import Escalation
from api.main import create_app
from api.staff.accounts import create_staff
from tests.conftest import settings_in
from tests.e2e.live import LiveServer, bound_socket, fresh_page, port_of

pytestmark = [pytest.mark.browser, pytest.mark.integration]  # chromium and the trained model

EMAIL, PASSWORD = "callback.e2e@clinic.test", "a long ward passphrase"
REPLY_TIMEOUT_MS = 20_000


@pytest.fixture(scope="module")
def server(tmp_path_factory, assistant):
    sock = bound_socket()
    port = port_of(sock)
    settings = settings_in(tmp_path_factory.mktemp("callback-e2e"), allowed_origins=f"http://127.0.0.1:{port}")
    app = create_app(settings, assistant=assistant, load_assistant=False)
    running = LiveServer(app, sock)
    running.start()
    assert httpx.get(f"{running.url}/readyz").status_code == 200
    with transaction(app.state.ctx.sessions) as session:
        create_staff(session, EMAIL, "Nora Nurse", "nurse", PASSWORD)
    yield running, app.state.ctx
    running.stop()


@pytest.fixture
def patient_page(browser) -> Iterator[Page]:
    with fresh_page(browser, 390, 844) as page:  # a phone
        yield page


@pytest.fixture
def nurse_page(browser) -> Iterator[Page]:
    with fresh_page(browser, 1280, 800) as page:
        yield page


def _send(page: Page, text: str) -> None:
    page.get_by_label("Your message").fill(text)
    page.get_by_label("Your message").press("Enter")


def test_a_number_confirmed_in_the_widget_is_a_tel_link_on_the_case(patient_page, nurse_page, server):
    live, ctx = server
    patient_page.goto(f"{live.url}/demo/portal")
    patient_page.get_by_role("button", name="Aftercare questions").click()
    chat = patient_page.get_by_role("dialog", name="Aftercare assistant")
    _send(patient_page, "Could somebody from the nurses phone me back please")
    expect(chat).to_contain_text("What phone number should the nurse call you back on?", timeout=REPLY_TIMEOUT_MS)
    _send(patient_page, "it's +44 (0)7700 900123")
    expect(chat).to_contain_text("The nurse will call you on +44 7700 900123. Is that right?", timeout=REPLY_TIMEOUT_MS)
    chat.get_by_role("button", name="Yes", exact=True).last.click()
    expect(chat).to_contain_text("The nurse will call you back on +44 7700 900123", timeout=REPLY_TIMEOUT_MS)

    with ctx.sessions() as session:
        case = session.execute(sa.select(Escalation.id).where(Escalation.tier == "callback")).scalar_one()
    nurse_page.goto(f"{live.url}/staff/")
    nurse_page.get_by_label("E-mail").fill(EMAIL)
    nurse_page.get_by_label("Password").fill(PASSWORD)
    nurse_page.get_by_label("Password").press("Enter")
    expect(nurse_page).to_have_url(f"{live.url}/staff/")
    nurse_page.goto(f"{live.url}/staff/escalations/{case}")
    number = nurse_page.locator("#contact-phone")
    expect(number).to_have_text("+44 7700 900123")
    expect(number).to_have_attribute("href", "tel:+447700900123")
    expect(nurse_page.locator("#contact-source")).to_have_text("(given in the chat)")
    results = Axe().run(nurse_page)
    assert results.violations_count == 0, results.generate_report()
