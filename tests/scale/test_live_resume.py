"""Across processes through Redis: the recent-events buffer is shared (a dashboard reconnecting
to another replica is replayed what it missed) and a nurse's reply written on one replica
reaches the patient's feed on another."""

from __future__ import annotations

import json
import time

import httpx
import pytest

from api.db import transaction
from api.escalations.events import RedisEventHub
from api.main import create_app
from api.staff.accounts import create_staff
from tests.conftest import auth
from tests.scale.servers import serving, wait_for

PASSWORD = "correct horse battery staple"
EVENT = {"event": "escalation.created", "escalation_id": "e1", "tier": "emergency", "signs": [], "created_at": "t"}


@pytest.mark.redis
def test_the_recent_events_buffer_is_shared_and_keeps_order(redis_url):
    a, b = RedisEventHub(redis_url), RedisEventHub(redis_url)
    try:
        for n in (1, 2, 3):
            a.publish({**EVENT, "escalation_id": f"e{n}"})
        replayed = b.since(1)
        assert replayed is not None
        assert [(e["seq"], e["escalation_id"]) for e in replayed] == [(2, "e2"), (3, "e3")]
        assert replayed[0]["signs"] == []  # stays a list through Redis
        assert b.since(3) == [] and b.since(40) is None
    finally:
        a.close()
        b.close()


@pytest.mark.redis
def test_a_reply_on_a_reaches_the_patients_feed_on_b(shared_settings):
    app_a = create_app(shared_settings("a"), load_assistant=False)  # fail-safe: the detector escalates
    app_b = create_app(shared_settings("b"), load_assistant=False)
    with serving(app_a) as url_a, serving(app_b) as url_b:
        wait_for(
            lambda: app_a.state.ctx.events.listening and app_b.state.ctx.events.listening,
            what="the live subscriptions",
        )
        with transaction(app_a.state.ctx.sessions) as session:
            create_staff(session, "nurse@clinic.test", "Nora Nurse", "nurse", PASSWORD)
        login = httpx.post(f"{url_a}/api/v1/staff/session", json={"email": "nurse@clinic.test", "password": PASSWORD})
        staff = {"Authorization": f"Bearer {login.json()['access_token']}"}
        patient = auth(shared_settings("b"))
        conversation = httpx.post(f"{url_b}/api/v1/conversations", headers=patient).json()["conversation_id"]
        escalation = httpx.post(
            f"{url_b}/api/v1/conversations/{conversation}/messages",
            json={"text": "the biopsy site is bleeding"},
            headers=patient,
            timeout=30,
        ).json()["escalation_id"]
        assert httpx.post(f"{url_a}/api/v1/escalations/{escalation}/acknowledge", headers=staff).status_code == 200

        with (
            httpx.Client(timeout=10) as client,
            client.stream("GET", f"{url_b}/api/v1/conversations/{conversation}/events", headers=patient) as feed,
        ):
            event, deadline, sent = "", time.monotonic() + 10, False
            for line in feed.iter_lines():
                assert time.monotonic() < deadline, "A's reply never reached B's feed"
                if line.startswith("event:"):
                    event = line.split(":", 1)[1].strip()
                elif event == "ready" and not sent and line.startswith("data:"):
                    reply = httpx.post(
                        f"{url_a}/api/v1/escalations/{escalation}/messages", json={"text": "On my way"}, headers=staff
                    )
                    assert reply.status_code == 201, reply.text
                    sent = True
                elif event == "staff-message" and line.startswith("data:"):
                    data = json.loads(line.split(":", 1)[1])
                    assert (data["text"], data["author"]) == ("On my way", "Nora Nurse")
                    break
