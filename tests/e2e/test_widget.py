"""The patient chat widget in a real browser (Debian's headless chromium, never a downloaded one).

Two servers on loopback: the API (uvicorn in a thread, serving the widget and the dev demo) and
a stand-in clinic portal on another port, which embeds the widget cross-origin the way a real
portal does. The portal is reachable as http://127.0.0.1:<port> (an allowed origin) and as
http://localhost:<port> (the same page from an origin the API does not allow).
"""

from __future__ import annotations

import json
import os
import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import httpx
import pytest
import yaml
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect

from api.identity import mint_patient_token
from api.main import create_app
from api.settings import Settings
from bot.content import get_clinic
from bot.content.sources import SOURCES_FILE
from tests.conftest import settings_in
from tests.e2e.live import LiveServer, bound_socket, fresh_page, port_of, portal_server

SOURCE_IDS = tuple(yaml.safe_load(SOURCES_FILE.read_text(encoding="utf-8")))

pytestmark = [pytest.mark.browser, pytest.mark.integration]  # chromium and the trained model

ROOT = Path(__file__).resolve().parents[2]
STORAGE_KEY = "marrow-aftercare:conversation"
REPLY_TIMEOUT_MS = 20_000
LAUNCHER = "Aftercare questions"


# --- servers ----------------------------------------------------------------------------------


def portal_handler(api_url: str, settings: Settings) -> type[BaseHTTPRequestHandler]:
    """A clinic portal: a page with the one script tag, and its back end's token endpoint."""
    page = f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>Clinic portal</title>
<script src="{api_url}/widget/widget.js" defer
        data-api-base="{api_url}" data-token-url="/token"></script>
</head><body><main><h1>Clinic portal</h1></main></body></html>""".encode()

    class Portal(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self._send(200, "text/html", page)

        def do_POST(self) -> None:  # a real portal checks its own session cookie here
            token = mint_patient_token("portal-patient", settings)
            self._send(200, "application/json", json.dumps({"token": token}).encode())

        def _send(self, status: int, media_type: str, body: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", media_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args) -> None:  # keep test output quiet
            pass

    return Portal


@pytest.fixture(scope="module")
def servers(tmp_path_factory, assistant):
    """`assistant`: the suite's session-wide real Rasa agent (tests/conftest.py)."""
    api_socket, portal_socket = bound_socket(), bound_socket()
    api_port, portal_port = port_of(api_socket), port_of(portal_socket)
    tmp = tmp_path_factory.mktemp("widget-e2e")
    settings = settings_in(  # rate limits opened: every test is the same demo patient
        tmp, allowed_origins=f"http://127.0.0.1:{api_port},http://127.0.0.1:{portal_port}"
    )
    api = LiveServer(create_app(settings, assistant=assistant, load_assistant=False), api_socket)
    api.start()
    ready = httpx.get(f"{api.url}/readyz")
    assert ready.status_code == 200, ready.text  # the real model, and the database
    portal = portal_server(portal_socket, portal_handler(api.url, settings))
    threading.Thread(target=portal.serve_forever, daemon=True).start()
    yield {
        "api": api.url,
        "demo": f"{api.url}/demo/portal",
        "portal": f"http://127.0.0.1:{portal_port}/",
        "foreign_portal": f"http://localhost:{portal_port}/",
    }
    portal.shutdown()
    portal.server_close()
    api.stop()


# --- browser ----------------------------------------------------------------------------------


@pytest.fixture
def page(browser) -> Iterator[Page]:
    with fresh_page(browser, 1000, 720) as page:
        yield page


def open_chat(page: Page, url: str) -> None:
    page.goto(url)
    page.get_by_role("button", name=LAUNCHER).click()
    expect(page.get_by_role("dialog", name="Aftercare assistant")).to_be_visible()
    expect(page.get_by_label("Your message")).to_be_focused()


def send(page: Page, text: str) -> None:
    page.get_by_label("Your message").fill(text)
    page.get_by_label("Your message").press("Enter")


def wait_until_delivered(page: Page) -> None:
    """Every patient message answered: no "Sending…" left, no typing indicator."""
    expect(page.locator(".ma-msg--patient .ma-status")).to_have_count(0, timeout=REPLY_TIMEOUT_MS)
    expect(page.locator(".ma-typing")).to_be_empty()


def replies(page: Page):
    return page.locator(".ma-msg--assistant")


def screenshot_path(name: str, tmp_path: Path) -> Path:
    """AFTERCARE_UPDATE_SCREENSHOT=1 refreshes the README's pictures of the widget in docs/."""
    return (ROOT / "docs" if os.environ.get("AFTERCARE_UPDATE_SCREENSHOT") else tmp_path) / name


def storage(page: Page) -> dict:
    return page.evaluate("""async () => ({
        local: Object.assign({}, localStorage),
        session: Object.assign({}, sessionStorage),
        cookies: document.cookie,
        indexedDB: (await indexedDB.databases()).map((db) => db.name),
        caches: self.caches ? await caches.keys() : [],
    })""")


# --- conversation -----------------------------------------------------------------------------


def test_a_question_gets_an_answer(page, servers):
    open_chat(page, servers["demo"])
    send(page, "How long will the soreness last?")
    expect(page.locator(".ma-msg--patient")).to_contain_text("How long will the soreness last?")
    expect(replies(page)).not_to_have_count(0, timeout=REPLY_TIMEOUT_MS)
    expect(replies(page).first).to_contain_text("sore")  # the soreness answer, from the real model
    expect(page.locator(".ma-typing")).to_be_empty()  # the typing indicator is gone
    expect(page.locator(".ma-alert")).to_be_empty()  # no banner for an ordinary question


def test_a_typing_indicator_shows_while_the_reply_is_on_its_way(page, servers):
    held = []
    page.route("**/messages", lambda route: held.append(route))  # hold the request until the indicator is checked
    open_chat(page, servers["demo"])
    send(page, "Can I take a bath?")
    expect(page.get_by_role("status")).to_have_text("The assistant is writing…")
    while not held:
        page.wait_for_timeout(50)
    held[0].continue_()
    expect(replies(page)).not_to_have_count(0, timeout=REPLY_TIMEOUT_MS)
    expect(page.locator(".ma-typing")).to_be_empty()


def test_a_fever_report_shows_the_call_provider_banner(page, servers):
    clinic = get_clinic()
    open_chat(page, servers["demo"])
    send(page, "I have a fever of 38.6")
    banner = page.get_by_role("alert")
    expect(banner).to_contain_text("Call your care team now", timeout=REPLY_TIMEOUT_MS)
    link = banner.get_by_role("link")
    numbers = {clinic.clinic_phone_day, clinic.clinic_phone_after_hours}
    assert link.inner_text().removeprefix("Call ") in numbers
    assert link.get_attribute("href") in {"tel:" + re.sub(r"[^0-9+]", "", n) for n in numbers}
    expect(page.locator(".ma-msg--triage")).not_to_have_count(0)


def test_an_emergency_shows_the_emergency_banner_and_is_never_downgraded(page, servers):
    open_chat(page, servers["demo"])
    send(page, "I am short of breath")
    banner = page.get_by_role("alert")
    expect(banner).to_contain_text("This may be an emergency", timeout=REPLY_TIMEOUT_MS)
    expect(banner.get_by_role("link")).to_have_attribute("href", "tel:" + get_clinic().emergency_number)
    send(page, "I have a fever of 38.6")
    wait_until_delivered(page)
    expect(banner).to_contain_text("This may be an emergency")


def test_answers_stay_under_their_questions_when_typed_quickly(page, servers):
    open_chat(page, servers["demo"])
    send(page, "How long will the soreness last?")
    send(page, "When will I get my results?")  # typed before the first answer arrives
    wait_until_delivered(page)
    roles = page.locator(".ma-msg").evaluate_all("els => els.map(e => e.classList[1])")
    second_question = roles.index("ma-msg--patient", 1)
    assert roles[0] == "ma-msg--patient" and second_question > 1 and roles[-1] == "ma-msg--assistant"


def test_reply_buttons_send_their_payload(page, servers):
    """The bot defines no buttons yet, so the first reply is stubbed; the second is real."""
    sent = []
    menu = {
        "text": "What would you like to know?",
        "kind": "answer",
        "sources": [],
        "phone": None,
        "buttons": [{"title": "Soreness", "payload": "/ask_soreness"}],
    }

    def stub_first_reply(route):
        sent.append(route.request.post_data_json["text"])
        if len(sent) > 1:
            return route.continue_()
        return route.fulfill(
            json={
                "conversation_id": "x",
                "replies": [menu],
                "topic": None,
                "triage": {"level": "none", "signs": []},
                "escalation_id": None,
                "answered_by": "assistant",
            }
        )

    page.route("**/messages", stub_first_reply)
    open_chat(page, servers["demo"])
    send(page, "Help")
    page.get_by_role("button", name="Soreness").click()
    wait_until_delivered(page)
    assert sent == ["Help", "/ask_soreness"]
    expect(page.locator(".ma-msg--patient").last).to_contain_text("Soreness")  # the title shows
    expect(page.get_by_role("button", name="Soreness")).to_have_count(0)  # used once
    expect(page.get_by_label("Your message")).to_be_focused()
    expect(replies(page).last).to_contain_text("sore")


def test_a_reload_shows_the_conversation_again_from_the_api(page, servers):
    open_chat(page, servers["demo"])
    send(page, "Can I shower tonight?")
    expect(replies(page)).not_to_have_count(0, timeout=REPLY_TIMEOUT_MS)
    page.reload()
    page.get_by_role("button", name=LAUNCHER).click()
    expect(page.locator(".ma-msg--patient")).to_contain_text("Can I shower tonight?")
    expect(replies(page)).not_to_have_count(0)


# --- failures ---------------------------------------------------------------------------------


def test_a_failed_send_keeps_the_message_and_can_be_retried(page, servers):
    blocked = {"on": True}
    page.route("**/messages", lambda route: route.abort() if blocked["on"] else route.continue_())
    open_chat(page, servers["demo"])
    send(page, "Can I go back to work tomorrow?")
    message = page.locator(".ma-msg--patient").last
    retry = message.get_by_role("button", name="Retry sending this message")
    expect(retry).to_be_visible(timeout=10_000)  # after one automatic retry
    expect(message).to_contain_text("Not sent")
    expect(message).to_contain_text("Can I go back to work tomorrow?")
    blocked["on"] = False
    retry.click()
    expect(replies(page)).not_to_have_count(0, timeout=REPLY_TIMEOUT_MS)
    expect(message.locator(".ma-status")).to_have_count(0)


def test_an_expired_token_is_replaced_once_from_the_portal(page, servers):
    token_requests = []
    page.on("request", lambda r: token_requests.append(r.url) if r.url.endswith("/demo/token") else None)
    expired = {"left": 1}

    def first_call_expired(route):
        if expired["left"] and route.request.method == "POST":
            expired["left"] -= 1
            return route.fulfill(
                status=401,
                content_type="application/json",
                body='{"error": {"code": "unauthorized", "message": "expired"}}',
            )
        return route.continue_()

    page.route("**/messages", first_call_expired)
    open_chat(page, servers["demo"])
    send(page, "Is bruising normal?")
    expect(replies(page)).not_to_have_count(0, timeout=REPLY_TIMEOUT_MS)
    assert len(token_requests) == 2  # the first token, then one fresh one after the 401


def test_an_unknown_conversation_starts_a_new_one(page, servers):
    open_chat(page, servers["demo"])
    page.evaluate(f"sessionStorage.setItem('{STORAGE_KEY}', 'someone-elses-conversation')")
    send(page, "Hello")
    expect(replies(page)).not_to_have_count(0, timeout=REPLY_TIMEOUT_MS)
    assert storage(page)["session"][STORAGE_KEY] != "someone-elses-conversation"


# --- privacy (WEB-1) --------------------------------------------------------------------------


def test_browser_storage_holds_no_message_text(page, servers):
    canary = "canary-5e1f soreness near my hip"
    open_chat(page, servers["demo"])
    send(page, canary)
    expect(replies(page)).not_to_have_count(0, timeout=REPLY_TIMEOUT_MS)
    reply_text = replies(page).first.inner_text()
    stored = storage(page)
    assert stored["local"] == {}
    assert list(stored["session"]) == [STORAGE_KEY]  # the conversation id, nothing else
    assert re.fullmatch(r"[A-Za-z0-9_-]{8,64}", stored["session"][STORAGE_KEY])
    assert stored["cookies"] == "" and stored["indexedDB"] == [] and stored["caches"] == []
    everything = json.dumps(stored)
    assert "canary" not in everything and reply_text[:40] not in everything


def test_logout_clears_the_conversation_and_the_screen(page, servers):
    open_chat(page, servers["demo"])
    send(page, "I have a fever of 38.6")
    expect(page.get_by_role("alert")).not_to_be_empty(timeout=REPLY_TIMEOUT_MS)
    page.get_by_role("button", name="Sign out").click()
    assert storage(page)["session"] == {}
    expect(page.get_by_role("dialog")).to_be_hidden()
    expect(page.locator(".ma-msg")).to_have_count(0)
    expect(page.locator(".ma-alert")).to_be_empty()
    page.reload()  # and nothing comes back after a reload
    page.get_by_role("button", name=LAUNCHER).click()
    expect(page.locator(".ma-msg")).to_have_count(0)


# --- origins (CORS-1) -------------------------------------------------------------------------


def test_a_portal_on_an_allowed_origin_embeds_the_widget_cross_origin(page, servers):
    open_chat(page, servers["portal"])
    expect(page.get_by_role("button", name=LAUNCHER)).to_have_css("position", "fixed")  # widget.css loaded
    send(page, "When will I get my results?")
    expect(replies(page)).not_to_have_count(0, timeout=REPLY_TIMEOUT_MS)


def test_a_portal_on_another_origin_is_refused(page, servers):
    foreign = servers["foreign_portal"].rstrip("/")
    preflight = httpx.options(
        f"{servers['api']}/api/v1/conversations",
        headers={
            "Origin": foreign,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization,content-type",
        },
    )
    assert "access-control-allow-origin" not in preflight.headers

    open_chat(page, servers["foreign_portal"])  # the script itself loads: <script src> needs no CORS
    send(page, "When will I get my results?")
    failed = page.locator(".ma-msg--patient").last
    expect(failed.get_by_role("button", name="Retry sending this message")).to_be_visible(timeout=10_000)
    expect(failed).to_contain_text("Not sent")
    expect(replies(page)).to_have_count(0)


# --- accessibility (WEB-2) and CSP ------------------------------------------------------------


def test_the_widget_works_from_the_keyboard_alone(page, servers):
    page.goto(servers["demo"])
    launcher = page.get_by_role("button", name=LAUNCHER)
    for _ in range(10):
        page.keyboard.press("Tab")
        if launcher.evaluate("el => el === document.activeElement"):
            break
    expect(launcher).to_be_focused()
    outline = launcher.evaluate("el => getComputedStyle(el).outlineStyle + ' ' + getComputedStyle(el).outlineWidth")
    assert outline == "solid 3px"  # visible focus
    page.keyboard.press("Enter")
    expect(launcher).to_have_attribute("aria-expanded", "true")
    expect(page.get_by_label("Your message")).to_be_focused()
    page.keyboard.type("Can I drive today?")
    page.keyboard.press("Enter")
    expect(replies(page)).not_to_have_count(0, timeout=REPLY_TIMEOUT_MS)
    page.keyboard.press("Escape")
    expect(page.get_by_role("dialog")).to_be_hidden()
    expect(launcher).to_be_focused()
    expect(launcher).to_have_attribute("aria-expanded", "false")


def test_axe_finds_no_serious_or_critical_violations(page, servers, tmp_path):
    axe = Axe()
    page.set_viewport_size({"width": 1100, "height": 860})  # room for the screenshot
    page.goto(servers["demo"])
    closed = axe.run(page)
    open_chat(page, servers["demo"])
    send(page, "How long will the soreness last?")
    send(page, "I have a fever of 38.6")
    expect(page.get_by_role("alert")).not_to_be_empty(timeout=REPLY_TIMEOUT_MS)
    wait_until_delivered(page)
    page.screenshot(path=str(screenshot_path("widget.png", tmp_path)))
    page.route("**/messages", lambda route: route.abort())  # a failed message and its Retry too
    send(page, "Is this normal?")
    expect(page.get_by_role("button", name="Retry sending this message")).to_be_visible(timeout=10_000)
    opened = axe.run(page)
    for results in (closed, opened):
        serious = [v for v in results.response["violations"] if v["impact"] in ("serious", "critical")]
        assert serious == [], results.generate_report()


def test_the_demo_page_runs_under_the_strict_csp(page, servers):
    open_chat(page, servers["demo"])
    send(page, "I have a fever of 38.6")
    expect(page.get_by_role("alert")).not_to_be_empty(timeout=REPLY_TIMEOUT_MS)
    assert page.evaluate("window.__cspViolations") == []


# --- issue 12: banner after reload, phones, failed sends, sources, phone links, greeting ------

DESKTOP, PHONE, SMALL_PHONE = (1280, 800), (390, 844), (320, 568)
VIEWPORTS = pytest.mark.parametrize("viewport", [DESKTOP, PHONE, SMALL_PHONE], ids=lambda v: f"{v[0]}x{v[1]}")


@pytest.fixture
def sized_page(browser, viewport) -> Iterator[Page]:
    with fresh_page(browser, *viewport) as page:
        yield page


def tel(number: str) -> str:
    return "tel:" + re.sub(r"[^0-9+]", "", number)


def clinic_numbers() -> set[str]:
    """The day line or the after-hours line: which one depends on the clock."""
    clinic = get_clinic()
    return {clinic.clinic_phone_day, clinic.clinic_phone_after_hours}


def reopen_after_reload(page: Page) -> None:
    page.reload()
    page.get_by_role("button", name=LAUNCHER).click()
    expect(page.locator(".ma-msg--patient")).not_to_have_count(0)


def test_a_reload_brings_the_call_now_banner_back(page, servers):
    open_chat(page, servers["demo"])
    send(page, "I have a fever of 38.6")
    expect(page.get_by_role("alert")).to_contain_text("Call your care team now", timeout=REPLY_TIMEOUT_MS)
    reopen_after_reload(page)
    banner = page.get_by_role("alert")
    expect(banner).to_contain_text("Call your care team now")
    assert banner.get_by_role("link").get_attribute("href") in {tel(n) for n in clinic_numbers()}


def test_a_reload_never_downgrades_an_emergency_banner(page, servers):
    open_chat(page, servers["demo"])
    send(page, "I am short of breath")
    send(page, "I have a fever of 38.6")  # a lesser warning after the emergency
    wait_until_delivered(page)
    reopen_after_reload(page)
    banner = page.get_by_role("alert")
    expect(banner).to_contain_text("This may be an emergency")
    expect(banner.get_by_role("link")).to_have_attribute("href", tel(get_clinic().emergency_number))


@VIEWPORTS
def test_the_latest_reply_stays_in_view_under_the_emergency_banner(sized_page, servers, viewport, tmp_path):
    page = sized_page
    width, height = viewport
    open_chat(page, servers["demo"])
    send(page, "How long will the soreness last?")
    wait_until_delivered(page)
    send(page, "I am short of breath")
    expect(page.get_by_role("alert")).to_contain_text("This may be an emergency", timeout=REPLY_TIMEOUT_MS)
    wait_until_delivered(page)
    log = page.get_by_role("log").bounding_box()
    panel = page.get_by_role("dialog").bounding_box()
    if width <= 480:  # phones: the panel is the whole screen, the log at least 40% of it
        assert (panel["x"], panel["y"], panel["width"], panel["height"]) == (0, 0, width, height)
        assert log["height"] >= 0.4 * height, log
    else:
        assert log["height"] >= 0.4 * panel["height"], (log, panel)
    expect(replies(page).last).to_be_in_viewport()  # not scrolled away, not under the banner
    expect(page.get_by_role("alert").get_by_role("link")).to_be_in_viewport()
    expect(page.get_by_label("Your message")).to_be_in_viewport()
    expect(page.get_by_role("button", name="Send")).to_be_in_viewport()
    if viewport == PHONE:
        page.screenshot(path=str(screenshot_path("widget-phone.png", tmp_path)))
    serious = [v for v in Axe().run(page).response["violations"] if v["impact"] in ("serious", "critical")]
    assert serious == [], serious
    page.get_by_role("button", name="Close chat").click()  # the launcher, hidden while full-screen,
    expect(page.get_by_role("button", name=LAUNCHER)).to_be_focused()  # is back, with focus


@VIEWPORTS
def test_a_failed_send_says_whom_to_call(sized_page, servers):
    page = sized_page
    clinic = get_clinic()
    page.route("**/messages", lambda route: route.abort())
    open_chat(page, servers["demo"])
    send(page, "my hip is bleeding a bit")  # a report: the clinic's number, not the emergency one
    report = page.locator(".ma-msg--patient").last
    expect(report.get_by_role("button", name="Retry sending this message")).to_be_visible(timeout=10_000)
    clinic_link = report.get_by_role("link", name=re.compile(r"\+"))
    assert clinic_link.inner_text() in clinic_numbers()
    assert clinic_link.get_attribute("href") == tel(clinic_link.inner_text())
    expect(report).to_contain_text(clinic.clinic_name)
    expect(report.get_by_role("link", name=clinic.emergency_number, exact=True)).to_have_count(0)
    expect(clinic_link).to_be_in_viewport()

    send(page, "I can't breathe properly")  # emergency words: the emergency number as well
    emergency = page.locator(".ma-msg--patient").last
    expect(emergency.get_by_role("button", name="Retry sending this message")).to_be_visible(timeout=10_000)
    link = emergency.get_by_role("link", name=clinic.emergency_number, exact=True)
    expect(link).to_have_attribute("href", tel(clinic.emergency_number))
    expect(emergency.get_by_role("link", name=re.compile(r"\+"))).to_have_count(1)  # and the clinic
    expect(link).to_be_in_viewport()


def test_a_failed_question_still_shows_the_clinic_number_and_goes_once_sent(page, servers):
    blocked = {"on": True}
    page.route("**/messages", lambda route: route.abort() if blocked["on"] else route.continue_())
    open_chat(page, servers["demo"])
    send(page, "Can I go back to work tomorrow?")
    message = page.locator(".ma-msg--patient").last
    expect(message.get_by_role("button", name="Retry sending this message")).to_be_visible(timeout=10_000)
    expect(message.get_by_role("link")).to_have_count(1)  # every failed send: the clinic's number
    blocked["on"] = False
    message.get_by_role("button", name="Retry sending this message").click()
    expect(replies(page)).not_to_have_count(0, timeout=REPLY_TIMEOUT_MS)
    expect(message.get_by_role("link")).to_have_count(0)  # sent after all: the reply takes over


def test_answers_show_their_sources_by_name_with_links(page, servers):
    open_chat(page, servers["demo"])
    send(page, "How long will the soreness last?")
    expect(replies(page)).not_to_have_count(0, timeout=REPLY_TIMEOUT_MS)
    sources = replies(page).first.locator(".ma-sources")
    expect(sources).to_contain_text("Sources: MedlinePlus")
    shown = sources.inner_text()
    assert not [i for i in SOURCE_IDS if re.search(rf"(?<![\w-]){re.escape(i)}(?![\w-])", shown)], shown  # no bare ids
    link = sources.get_by_role("link", name=re.compile("MedlinePlus"))
    assert link.get_attribute("href").startswith("https://medlineplus.gov/")
    assert (link.get_attribute("target"), link.get_attribute("rel")) == ("_blank", "noopener noreferrer")


def test_phone_numbers_in_answers_are_tel_links(page, servers):
    open_chat(page, servers["demo"])
    send(page, "How long will the soreness last?")  # the answer ends with the clinic's number
    expect(replies(page)).not_to_have_count(0, timeout=REPLY_TIMEOUT_MS)
    link = replies(page).first.locator(".ma-text").get_by_role("link")
    expect(link).to_have_count(1)
    assert link.inner_text() in clinic_numbers()
    assert link.get_attribute("href") == tel(link.inner_text())
    send(page, "I am short of breath")  # the emergency reply names the emergency number
    expect(page.get_by_role("alert")).to_contain_text("This may be an emergency", timeout=REPLY_TIMEOUT_MS)
    wait_until_delivered(page)
    emergency = replies(page).last.locator(".ma-text").get_by_role("link", name=get_clinic().emergency_number)
    expect(emergency.first).to_have_attribute("href", tel(get_clinic().emergency_number))


def test_reply_text_is_never_parsed_as_html(page, servers):
    markup = '<img src=x onerror="window.__owned=1"> call +1-555-0100'
    reply = {
        "text": markup,
        "kind": "answer",
        "sources": [],
        "phone": None,
        "buttons": [],
        "source_links": [{"id": "X", "name": "<b>bold</b>", "url": "javascript:alert(1)"}],
    }
    page.route(
        "**/messages",
        lambda route: route.fulfill(
            json={
                "conversation_id": "x",
                "replies": [reply],
                "topic": None,
                "triage": {"level": "none", "signs": []},
                "escalation_id": None,
                "answered_by": "assistant",
            }
        ),
    )
    open_chat(page, servers["demo"])
    send(page, "Hello")
    expect(replies(page).first).to_contain_text('<img src=x onerror="window.__owned=1"> call')
    expect(replies(page).first.locator("img, b")).to_have_count(0)
    expect(replies(page).first.get_by_role("link", name="+1-555-0100")).to_have_attribute("href", "tel:+15550100")
    expect(replies(page).first.locator(".ma-sources a")).to_have_count(0)  # no javascript: links
    assert page.evaluate("window.__owned") is None


def test_a_new_conversation_opens_with_three_suggested_questions(page, servers):
    open_chat(page, servers["demo"])
    greeting = page.locator(".ma-greeting")
    expect(greeting).to_contain_text("Hello")
    suggestions = greeting.get_by_role("button")
    expect(suggestions).to_have_text(
        ["When can I shower?", "What pain medicine can I take?", "What warning signs should I watch for?"]
    )
    suggestions.first.click()
    expect(page.locator(".ma-msg--patient")).to_have_text(re.compile("When can I shower?"))
    expect(replies(page)).not_to_have_count(0, timeout=REPLY_TIMEOUT_MS)
    expect(replies(page).first).to_contain_text("shower")  # sent as a normal message: the real answer
    expect(greeting.get_by_role("button")).to_have_count(0)  # used once
    expect(page.get_by_label("Your message")).to_be_focused()
    reopen_after_reload(page)  # an ongoing conversation is shown again, without the greeting
    expect(page.locator(".ma-greeting")).to_have_count(0)
