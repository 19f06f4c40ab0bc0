"""The staff pages' script-handled forms say method="post".

Their scripts are deferred: a form submitted before its script runs (a slow page, a quick
nurse) is sent by the browser itself. Without a method that is a GET, which put the e-mail
and password, a reply to the patient or a resolve note into the URL, and so into access logs
and the browser's history. POST keeps them out of every URL (the page answers 405; the nurse
sends again once the page has loaded)."""

from __future__ import annotations

import re
from pathlib import Path

TEMPLATES = Path(__file__).resolve().parents[2] / "api" / "staff" / "templates"
FORM = re.compile(r"<form\b[^>]*>")


def test_every_staff_form_names_its_method_and_only_filters_use_get():
    forms = {(path.name, tag) for path in TEMPLATES.glob("*.html") for tag in FORM.findall(path.read_text())}
    assert len(forms) >= 9
    for name, tag in forms:
        method = re.search(r'\bmethod="(get|post)"', tag)
        assert method, (name, tag)
        if method.group(1) == "get":
            assert "filters" in tag, (name, tag)  # a filter's fields belong in its URL; nothing else's do


def test_a_login_sent_before_the_script_ran_is_refused_without_a_url_holding_the_password(client):
    response = client.post(
        "/staff/login", data={"email": "nurse@clinic.test", "password": "a long passphrase"}, follow_redirects=False
    )
    assert response.status_code == 405
    assert "passphrase" not in str(response.url) and "passphrase" not in response.text
