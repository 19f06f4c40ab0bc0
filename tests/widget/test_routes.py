"""The widget's files, the dev-only demo, and the headers and origins around them.

HDR-1 (security headers), CORS-1 (portal origins only), WEB-1 (no transcript in storage).
"""

from __future__ import annotations

from html.parser import HTMLParser

import jwt
import pytest

from api.identity import verify_patient_token
from api.widget.router import DEMO_PATIENT_ID, STATIC

WIDGET_JS = (STATIC / "widget.js").read_text()
OUR_PAGES = [STATIC / "demo" / "portal.html"]


# --- the widget files -------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "media_type"), [("widget.js", "text/javascript"), ("widget.css", "text/css")])
def test_widget_files_are_served_with_their_type(client, name, media_type):
    response = client.get(f"/widget/{name}")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(media_type)  # required under nosniff
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["cross-origin-resource-policy"] == "cross-origin"


@pytest.mark.parametrize(
    "path",
    [
        "/widget/other.js",
        "/widget/router.py",
        "/widget/..%2Frouter.py",
        "/widget/demo%2Fportal.html",
    ],
)
def test_only_the_listed_widget_files_are_served(client, path):
    assert client.get(path).status_code == 404


def test_a_portal_may_load_the_script_with_crossorigin_and_sri(client, portal):
    """<script crossorigin integrity=...> makes a CORS request: allowed for the portal only."""
    allowed = client.get("/widget/widget.js", headers={"Origin": portal}).headers
    other = client.get("/widget/widget.js", headers={"Origin": "https://evil.example"}).headers
    assert allowed["access-control-allow-origin"] == portal
    assert "access-control-allow-origin" not in other


def test_the_widget_never_touches_local_storage_or_cookies():
    """WEB-1, statically; the browser tests check the storage itself."""
    assert "localStorage" not in WIDGET_JS
    assert "document.cookie" not in WIDGET_JS
    # The one write: the conversation id.
    assert WIDGET_JS.count("sessionStorage.setItem(") == 1
    assert "sessionStorage.setItem(STORAGE_KEY, id)" in WIDGET_JS


def test_the_widget_never_builds_html_from_strings():
    """Text goes in through textContent: no HTML injection, and no inline style under the CSP."""
    html_sinks = ["innerHTML", "outerHTML", "insertAdjacentHTML", "document.write"]
    for risky in (*html_sinks, ".style.", '"style"', "eval("):
        assert risky not in WIDGET_JS, risky


class _InlineFinder(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.problems: list[str] = []

    def handle_starttag(self, tag, attrs):
        names = {name for name, _ in attrs}
        if tag == "style":
            self.problems.append("<style> element")
        if tag == "script" and "src" not in names:
            self.problems.append("inline <script>")
        self.problems += [f"{name}= on <{tag}>" for name in names if name == "style" or name.startswith("on")]


@pytest.mark.parametrize("page", OUR_PAGES, ids=lambda p: p.name)
def test_our_pages_have_no_inline_script_or_style(page):
    finder = _InlineFinder()
    finder.feed(page.read_text())
    assert finder.problems == []


# --- headers (HDR-1) --------------------------------------------------------------------------


def test_the_csp_allows_framing_only_by_the_portal(client, portal):
    csp = client.get("/demo/portal").headers["content-security-policy"]
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
    assert directives["frame-ancestors"] == portal
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert directives["object-src"] == "'none'"


@pytest.mark.parametrize("path", ["/widget/widget.js", "/demo/portal", "/healthz", "/api/v1/conversations"])
def test_every_response_has_nosniff_and_no_referrer(client, path):
    headers = client.get(path).headers
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "no-referrer"


def test_patient_api_responses_are_never_cached(client):
    bearer = {"Authorization": f"Bearer {demo_token(client)}"}
    created = client.post("/api/v1/conversations", headers=bearer)
    refused = client.post("/api/v1/conversations")
    assert (created.status_code, refused.status_code) == (201, 401)
    assert created.headers["cache-control"] == refused.headers["cache-control"] == "no-store"


# --- origins (CORS-1) -------------------------------------------------------------------------


def preflight(client, origin: str):
    return client.options(
        "/api/v1/conversations",
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization,content-type",
        },
    )


def test_the_portal_origin_passes_the_preflight(client, portal):
    response = preflight(client, portal)
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == portal
    assert "authorization" in response.headers["access-control-allow-headers"].lower()
    assert "access-control-allow-credentials" not in response.headers  # bearer tokens, no cookies


@pytest.mark.parametrize(
    "origin",
    [
        "https://evil.example",
        "https://portal.example.org.evil.example",
        "http://portal.example.org",
        "null",
    ],
)
def test_other_origins_get_no_cors_grant(client, origin):
    response = preflight(client, origin)
    assert "access-control-allow-origin" not in response.headers
    assert response.status_code == 400


def test_an_actual_request_from_another_origin_gets_no_cors_grant(client):
    response = client.post("/api/v1/conversations", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in response.headers


# --- the development demo ---------------------------------------------------------------------


def demo_token(client) -> str:
    return client.post("/demo/token").json()["token"]


def test_the_demo_portal_embeds_the_widget(client):
    response = client.get("/demo/portal")
    assert response.status_code == 200
    one_tag = '<script src="/widget/widget.js" defer data-token-url="/demo/token"></script>'
    assert one_tag in response.text
    assert client.get("/demo/portal.js").status_code == 200
    assert client.get("/demo/portal.css").headers["content-type"].startswith("text/css")


def test_the_demo_token_is_a_short_lived_patient_token(client, make_settings):
    response = client.post("/demo/token")
    token = response.json()["token"]
    assert response.headers["cache-control"] == "no-store"
    assert verify_patient_token(token, make_settings()) == DEMO_PATIENT_ID
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["exp"] - claims["iat"] <= 15 * 60


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/demo/portal"), ("GET", "/demo/portal.js"), ("POST", "/demo/token")],
)
def test_the_demo_is_absent_outside_development(production_client, method, path):
    response = production_client.request(method, path)
    unknown = production_client.request(method, "/no/such/route")
    assert response.status_code == 404
    assert response.json()["error"] == unknown.json()["error"]  # indistinguishable from no route


def test_the_widget_is_served_in_production(production_client):
    assert production_client.get("/widget/widget.js").status_code == 200
