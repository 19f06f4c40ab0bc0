"""A proactive check-in in the patient widget, in a real browser (Debian's chromium), with the
real model: the check-in is sent (controlled clock) before the patient opens the portal; the
launcher shows a badge; opening the chat shows the check-in's questions with answer buttons; a
"worse" answer is triaged like typed text (the call-your-care-team banner) and the check-in no
longer waits. Then a nurse finds an unanswered check-in on the staff console's Check-ins page."""

from __future__ import annotations

import datetime as dt
import re
import threading
from collections.abc import Iterator
from zoneinfo import ZoneInfo

import httpx
import pytest
from playwright.sync_api import Page, expect

from api.core.time import utcnow
from api.db import transaction
from api.enrollments.checkins import run_due
from api.identity import mint_patient_token
from api.main import create_app
from api.staff.accounts import create_staff
from tests.checkins.helpers import enroll_patient
from tests.conftest import settings_in
from tests.e2e.live import LiveServer, bound_socket, fresh_page, port_of, portal_server
from tests.e2e.test_staff_console import assert_accessible
from tests.e2e.test_widget import LAUNCHER, REPLY_TIMEOUT_MS, portal_handler

pytestmark = [pytest.mark.browser, pytest.mark.integration]

PATIENT = "portal-patient"  # whom the stand-in portal signs in
WITH_BADGE = re.compile(r"^Aftercare questions\W+a check-in from your clinic is waiting$")  # said in words too


def morning_in_chicago(days_ago: int) -> dt.datetime:
    """10:05 in the patient's zone, `days_ago` days back by the real clock (the staff page reads
    it). The two tests share a server, and `run_due` sends every patient's due check-ins: on
    fixed dates the first patient's day-3 check-in fell due in the second test's run once the
    calendar passed it. A day apart, neither schedule is due in the other's run."""
    local = (utcnow() - dt.timedelta(days=days_ago)).astimezone(ZoneInfo("America/Chicago"))
    return local.replace(hour=10, minute=5, second=0, microsecond=0)


@pytest.fixture(scope="module")
def servers(tmp_path_factory, assistant):
    api_socket, portal_socket = bound_socket(), bound_socket()
    api_port, portal_port = port_of(api_socket), port_of(portal_socket)
    settings = settings_in(
        tmp_path_factory.mktemp("checkin-e2e"),
        allowed_origins=f"http://127.0.0.1:{api_port},http://127.0.0.1:{portal_port}",
    )
    app = create_app(settings, assistant=assistant, load_assistant=False)
    api = LiveServer(app, api_socket)
    api.start()
    assert httpx.get(f"{api.url}/readyz").status_code == 200
    portal = portal_server(portal_socket, portal_handler(api.url, settings))
    threading.Thread(target=portal.serve_forever, daemon=True).start()
    yield {"api": api.url, "portal": f"http://127.0.0.1:{portal_port}/", "app": app, "settings": settings}
    portal.shutdown()
    portal.server_close()
    api.stop()


@pytest.fixture
def page(browser) -> Iterator[Page]:
    with fresh_page(browser, 1000, 720) as page:
        yield page


def waiting(servers) -> list[dict]:
    token = mint_patient_token(PATIENT, servers["settings"])
    response = httpx.get(f"{servers['api']}/api/v1/checkins/waiting", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.text
    return list(response.json()["checkins"])


def test_a_checkin_waits_with_a_badge_and_is_answered_with_a_button(page, servers):
    settings, sessions = servers["settings"], servers["app"].state.ctx.sessions
    day_1 = morning_in_chicago(days_ago=1)
    procedure_at = (day_1 - dt.timedelta(days=1)).isoformat()
    enroll_patient(
        sessions, settings, patient_id=PATIENT, channels=["portal"], phone_number=None, procedure_at=procedure_at
    )
    assert run_due(sessions, settings, day_1, None).sent == 1

    page.goto(servers["portal"])
    launcher = page.get_by_role("button", name=LAUNCHER)
    expect(launcher).to_contain_text("1")  # the badge, before the chat is opened
    expect(launcher).to_have_accessible_name(
        re.compile(r"^Aftercare questions\W+a check-in from your clinic is waiting")
    )

    launcher.click()
    log = page.get_by_role("log", name="Conversation")
    expect(log).to_contain_text("day 1 check-in")
    expect(log).to_contain_text("Is the pain better, the same or worse?")
    answers = page.get_by_role("group", name="Quick answers to your check-in")
    expect(answers.get_by_role("button")).to_have_count(6)
    expect(page.get_by_role("button", name=LAUNCHER)).not_to_contain_text("1")  # badge gone once seen

    answers.get_by_role("button", name="Pain is worse").click()
    expect(page.locator(".ma-msg--patient")).to_contain_text("Pain is worse")
    expect(page.get_by_role("alert")).to_contain_text("Call your care team now", timeout=REPLY_TIMEOUT_MS)
    expect(answers).to_have_count(0)  # answered: the buttons go
    assert waiting(servers) == []

    with page.expect_response("**/api/v1/checkins/waiting"):
        page.reload()  # a fresh page load asks again: nothing waits any more, so no badge
    expect(page.get_by_role("button", name=LAUNCHER)).to_have_accessible_name("Aftercare questions")


def test_a_nurse_finds_an_unanswered_checkin_on_the_checkins_page(page, servers):
    settings, sessions = servers["settings"], servers["app"].state.ctx.sessions
    sent_at = morning_in_chicago(days_ago=2)  # past the 24 h without an answer
    enroll_patient(
        sessions,
        settings,
        external_id="ehr-quiet",
        patient_id="quiet-patient",
        channels=["portal"],
        phone_number=None,
        procedure_at=(sent_at - dt.timedelta(days=1)).isoformat(),
    )
    assert run_due(sessions, settings, sent_at, None).sent == 1
    with transaction(sessions) as session:
        create_staff(session, "nurse.checkins@clinic.test", "Nina Nurse", "nurse", "a long ward passphrase")

    page.goto(f"{servers['api']}/staff/login")
    page.get_by_label("E-mail").fill("nurse.checkins@clinic.test")
    page.get_by_label("Password").fill("a long ward passphrase")
    page.get_by_label("Password").press("Enter")
    expect(page).to_have_url(f"{servers['api']}/staff/")
    page.get_by_role("link", name="Check-ins").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check-ins of enrolled patients")

    page.get_by_label("Status").select_option(label="No response")
    page.get_by_role("button", name="Filter").click()
    expect(page).to_have_url(re.compile(r"status=unanswered"))
    rows = page.locator("#checkins tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("quiet-patient")
    expect(rows.first).to_contain_text("No response")
    assert_accessible(page)
