"""The server-rendered dashboard: login redirect, CSP-clean markup, escaping, audited views."""

from __future__ import annotations

import re

import pytest

from tests.staff.conftest import audit_rows, login


@pytest.fixture
def browser(client, nurse):
    """A client holding the dashboard's session cookie (as a browser would)."""
    login(client, "nurse@clinic.test", keep_cookie=True)
    return client


def test_pages_send_the_anonymous_to_the_login_page(client, escalation):
    for path in ("/staff/", f"/staff/escalations/{escalation}"):
        response = client.get(path, follow_redirects=False)
        assert response.status_code == 303 and response.headers["location"] == "/staff/login"


def test_a_stale_cookie_says_the_session_ended(client):
    client.cookies.set("aftercare_staff", "expired-token")
    response = client.get("/staff/", follow_redirects=False)
    assert response.headers["location"] == "/staff/login?expired=1"


def test_the_login_page_has_labelled_fields_and_no_inline_code(client):
    html = client.get("/staff/login").text
    assert '<label for="email">' in html and '<label for="password">' in html
    _assert_csp_clean(html)


def _assert_csp_clean(html: str) -> None:
    """script-src 'self'; style-src 'self': no inline scripts, handlers or style attributes."""
    assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", html) == []
    assert not re.search(r"\son[a-z]+=", html) and " style=" not in html and "<style" not in html


def test_pages_are_never_cached_and_carry_the_csp(client):
    response = client.get("/staff/login")
    assert response.headers["cache-control"] == "no-store"
    assert "script-src 'self'" in response.headers["content-security-policy"]


@pytest.mark.parametrize("path", ["/staff/login", "/staff/", "/staff/static/staff.js", "/staff/nowhere"])
def test_staff_pages_can_never_be_framed_not_even_by_the_portal(client, path):
    """HDR-2: a portal page framing the console could overlay it (clickjacking a resolve)."""
    csp = client.get(path, follow_redirects=False).headers["content-security-policy"]
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
    assert directives["frame-ancestors"] == "'none'"


def test_the_queue_page_lists_escalations_without_message_text(browser, raise_escalation):
    escalation = raise_escalation(text="QCANARY fever of 39.6 and bleeding")
    html = browser.get("/staff/").text
    assert f'href="/staff/escalations/{escalation}"' in html and "badge-" in html
    assert "QCANARY" not in html
    assert re.search(r'<meta name="csrf-token" content="[0-9a-f]{64}">', html)
    _assert_csp_clean(html)


def test_the_conversation_page_shows_the_transcript_escaped_and_audits_the_view(browser, ctx, nurse, raise_escalation):
    escalation = raise_escalation(patient_id="patient-77", text="<script>alert(1)</script> fever 39.5, bleeding")
    html = browser.get(f"/staff/escalations/{escalation}").text
    assert "patient-77" in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script>alert(1)" not in html
    _assert_csp_clean(html)
    [row] = audit_rows(ctx, action="transcript.view")
    assert row.actor_id == nurse


def test_bidi_controls_in_patient_text_are_shown_inert(browser, raise_escalation):
    """DISP-1: a right-to-left override would show "fever 39" reversed; staff see the code point."""
    escalation = raise_escalation(text="fever \u202e39\u202c and bleeding \u2067x\u2069")
    html = browser.get(f"/staff/escalations/{escalation}").text
    assert "fever [U+202E]39[U+202C] and bleeding [U+2067]x[U+2069]" in html
    assert not any(ch in html for ch in "\u202e\u202c\u2067\u2069")


def test_an_unknown_escalation_page_is_404(browser):
    assert browser.get("/staff/escalations/" + "b" * 32).status_code == 404


def test_static_files_come_from_an_allow_list(client):
    assert (
        client.get("/staff/static/staff.js")
        .headers["content-type"]
        .startswith(("text/javascript", "application/javascript"))
    )
    assert client.get("/staff/static/staff.css").status_code == 200
    for name in ("../pages.py", "..%2Fpages.py", "missing.js"):
        assert client.get(f"/staff/static/{name}").status_code == 404


def test_the_queue_page_falls_back_to_open_and_held_cases_for_an_unknown_status(browser):
    assert "Open and held cases" in browser.get("/staff/", params={"status": "nope"}).text
