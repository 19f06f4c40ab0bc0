"""A nurse connected to one instance sees an escalation raised on another, live."""

from __future__ import annotations

import json
import time

import httpx
import pytest

from api.db import transaction
from api.main import create_app
from api.staff.accounts import create_staff
from tests.conftest import auth
from tests.scale.servers import serving, wait_for

PASSWORD = "correct horse battery staple"


@pytest.mark.redis
def test_nurse_on_a_sees_the_escalation_raised_on_b(shared_settings):
    settings_a, settings_b = shared_settings("a"), shared_settings("b")
    app_a = create_app(settings_a, load_assistant=False)  # fail-safe replies: the detector escalates
    app_b = create_app(settings_b, load_assistant=False)
    with serving(app_a) as url_a, serving(app_b) as url_b:
        wait_for(
            lambda: app_a.state.ctx.events.listening and app_b.state.ctx.events.listening,
            what="the live-queue subscriptions",
        )
        with transaction(app_a.state.ctx.sessions) as session:
            create_staff(session, "nurse@clinic.test", "Nora Nurse", "nurse", PASSWORD)
        login = httpx.post(f"{url_a}/api/v1/staff/session", json={"email": "nurse@clinic.test", "password": PASSWORD})
        staff = {"Authorization": f"Bearer {login.json()['access_token']}"}
        patient = auth(settings_b)

        with (
            httpx.Client(timeout=10) as client,
            client.stream("GET", f"{url_a}/api/v1/escalations/stream", headers=staff) as stream,
        ):
            escalation_id = None
            deadline = time.monotonic() + 10
            event = ""
            for line in stream.iter_lines():
                assert time.monotonic() < deadline, "B's escalation never reached A's stream"
                if line.startswith("event:"):
                    event = line.split(":", 1)[1].strip()
                if event == "ready" and escalation_id is None and line.startswith("data:"):
                    conversation = httpx.post(f"{url_b}/api/v1/conversations", headers=patient).json()
                    reply = httpx.post(
                        f"{url_b}/api/v1/conversations/{conversation['conversation_id']}/messages",
                        json={"text": "the biopsy site is bleeding and I have a fever"},
                        headers=patient,
                        timeout=30,
                    ).json()
                    escalation_id = reply["escalation_id"]
                    assert escalation_id
                elif event == "escalation.created" and line.startswith("data:"):
                    data = json.loads(line.split(":", 1)[1])
                    if data["escalation_id"] == escalation_id:
                        assert "text" not in data and "conversation_id" not in data
                        break
