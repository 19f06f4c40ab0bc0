"""If the model fails, times out or is not loaded, the detector still triages and escalates."""

import asyncio

import pytest
import sqlalchemy as sa
from fastapi import FastAPI

from api.escalations.models import Escalation
from tests.conftest import make_client


class _Raising:
    async def respond(self, conversation_id, text, detection=None, assessment=None):
        raise RuntimeError("model crashed")


class _Slow:
    async def respond(self, conversation_id, text, detection=None, assessment=None):
        await asyncio.sleep(10)


FAILURES = {"raises": _Raising(), "times-out": _Slow(), "not-loaded": None}


@pytest.fixture(params=list(FAILURES))
def broken_client(request, settings):
    settings.agent_timeout_seconds = 0.2
    with make_client(settings, FAILURES[request.param]) as client:
        yield client


def _send(client, patient, text):
    cid = client.post("/api/v1/conversations", headers=patient).json()["conversation_id"]
    response = client.post(f"/api/v1/conversations/{cid}/messages", json={"text": text}, headers=patient)
    assert response.status_code == 200
    return response.json()


def test_warning_sign_still_gets_call_provider_reply_and_escalation(broken_client, patient):
    body = _send(broken_client, patient, "my wife has a fever of 101.8")
    assert body["answered_by"] == "failsafe"
    triage = body["triage"]
    assert (triage["level"], triage["signs"], triage["disposition"]) == ("call_provider", ["fever"], "call_now")
    [finding] = triage["findings"]
    assert (finding["sign"], finding["temperature_f"]) == ("fever", 101.8)
    assert broken_client.app.state.ctx.clinic.phone_now() in body["replies"][0]["text"]
    with broken_client.app.state.ctx.sessions() as session:
        [escalation] = session.execute(sa.select(Escalation)).scalars().all()
    assert escalation.id == body["escalation_id"]


def test_emergency_still_gets_emergency_reply(broken_client, patient):
    body = _send(broken_client, patient, "he fainted and now he is confused")
    assert body["triage"]["level"] == "emergency"
    assert body["replies"][0]["phone"] == broken_client.app.state.ctx.clinic.emergency_number


def test_other_message_gets_apology_with_clinic_number(broken_client, patient):
    body = _send(broken_client, patient, "when will my results be ready?")
    assert body["triage"]["level"] == "none" and body["escalation_id"] is None
    assert broken_client.app.state.ctx.clinic.phone_now() in body["replies"][0]["text"]


class _UnderTriaging:
    """A model that answers a warning sign with an ordinary answer (what rule 1 forbids)."""

    async def respond(self, conversation_id, text, detection=None, assessment=None):
        from bot.assistant.runtime import AssistantReply

        custom = {"kind": "answer", "tier": "none", "topic": "soreness"}
        return AssistantReply.from_messages([{"text": "Soreness is normal.", "custom": custom}])


def test_detector_overrides_an_under_triaging_model(settings, patient):
    with make_client(settings, _UnderTriaging()) as client:
        body = _send(client, patient, "the pain keeps getting worse and there is pus")
    assert body["answered_by"] == "safety_net"
    assert body["triage"]["level"] == "call_provider"
    assert all("Soreness is normal" not in reply["text"] for reply in body["replies"])


def test_database_failure_still_answers_and_loses_no_escalation(settings, patient, monkeypatch):
    from api.messaging import service

    def database_down(*args, **kwargs):
        raise sa.exc.OperationalError("INSERT", {}, Exception("database is locked"))

    with make_client(settings, None) as client:
        cid = client.post("/api/v1/conversations", headers=patient).json()["conversation_id"]
        with monkeypatch.context() as patched:
            patched.setattr(service, "_persist", database_down)
            body = client.post(
                f"/api/v1/conversations/{cid}/messages", json={"text": "the site won't stop bleeding"}, headers=patient
            ).json()
        assert body["triage"]["level"] == "emergency"
        assert settings.spool_path.exists()
        # The next message that reaches the database replays the spooled escalation first.
        client.post(f"/api/v1/conversations/{cid}/messages", json={"text": "hello"}, headers=patient)
        app = client.app
        assert isinstance(app, FastAPI)  # TestClient types it as any ASGI app
        with app.state.ctx.sessions() as session:
            [escalation] = session.execute(sa.select(Escalation)).scalars().all()
    assert escalation.tier == "emergency" and escalation.conversation_id == cid
    assert not settings.spool_path.exists()
