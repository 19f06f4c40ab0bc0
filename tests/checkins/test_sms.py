"""The SMS channel (issue 15 part 3, SMS-1): signed webhooks only, the patient found by the
enrolled number, the same triage and escalation path as the widget, minimal replies, and
STOP / START / HELP."""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from twilio.request_validator import RequestValidator

from api.conversations.models import Conversation
from api.db import transaction
from api.enrollments.checkins import run_due
from api.enrollments.models import CheckIn, Enrollment
from api.escalations.models import Escalation
from api.main import create_app
from api.sms.client import sms_sender
from tests.checkins.conftest import PUBLIC_BASE, TWILIO_TOKEN
from tests.checkins.helpers import enroll_patient

PATIENT_PHONE = "+15555550123"
WEBHOOK = "/webhooks/sms/twilio"
DAY_1 = dt.datetime.fromisoformat("2026-12-01T10:05:00-06:00")


@pytest.fixture
def app_client(settings, assistant):
    with TestClient(create_app(settings, assistant=assistant, load_assistant=False)) as client:
        yield client


@pytest.fixture
def sessions(app_client):
    return app_client.app.state.ctx.sessions


def text_in(client, body: str, sender: str = PATIENT_PHONE, url: str = PUBLIC_BASE + WEBHOOK):
    form = {
        "From": sender,
        "To": "+15550001111",
        "Body": body,
        "MessageSid": "SM" + "1" * 32,
        "AccountSid": "AC" + "0" * 32,
    }
    signature = RequestValidator(TWILIO_TOKEN).compute_signature(url, form)
    return client.post(WEBHOOK, data=form, headers={"X-Twilio-Signature": signature})


def reply_of(response) -> str:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/xml")
    message = ET.fromstring(response.text).find("Message")  # noqa: S314 (our own reply)
    assert message is not None and message.text
    return message.text


def _escalations(sessions) -> list[Escalation]:
    with transaction(sessions) as session:
        return list(session.execute(sa.select(Escalation)).scalars())


def test_unsigned_or_wrongly_signed_webhooks_are_403(app_client):
    form = {"From": PATIENT_PHONE, "Body": "hello"}
    assert app_client.post(WEBHOOK, data=form).status_code == 403
    forged = {"X-Twilio-Signature": "bm90LWEtc2lnbmF0dXJl"}
    assert app_client.post(WEBHOOK, data=form, headers=forged).status_code == 403
    # Signed for the address the app sees, not the public one Twilio calls: refused.
    assert text_in(app_client, "hello", url="http://testserver" + WEBHOOK).status_code == 403


def test_a_bleeding_answer_by_sms_opens_an_escalation_and_the_reply_gives_the_number(
    app_client, settings, sessions, fake_twilio
):
    enroll_patient(sessions, settings, channels=["sms"])
    assert run_due(sessions, settings, DAY_1, sms_sender(settings)).sent == 1
    reply = reply_of(text_in(app_client, "it's bleeding through the dressing"))
    assert settings.clinic.phone_now() in reply
    assert "bleeding" not in reply.lower() and "dressing" not in reply.lower()  # no transcript, no diagnosis
    [escalation] = _escalations(sessions)
    with transaction(sessions) as session:
        checkin = session.execute(sa.select(CheckIn).where(CheckIn.day_offset == 1)).scalar_one()
        assert escalation.conversation_id == checkin.conversation_id
        assert checkin.status == "answered"
        assert checkin.response["bleeding"] is True and checkin.response["triage"] != "none"


def test_an_ordinary_answer_is_stored_without_an_escalation(app_client, settings, sessions, fake_twilio):
    enroll_patient(sessions, settings, channels=["sms"])
    run_due(sessions, settings, DAY_1, sms_sender(settings))
    reply = reply_of(text_in(app_client, "1 no 2 no 3 better 4 no 5 no"))
    assert settings.clinic.phone_now() in reply
    assert _escalations(sessions) == []
    with transaction(sessions) as session:
        response = session.execute(sa.select(CheckIn.response).where(CheckIn.day_offset == 1)).scalar_one()
    assert response["pain"] == "better" and response["bleeding"] is False


def test_an_unknown_number_gets_a_fixed_reply_and_no_data(app_client, settings, sessions):
    enroll_patient(sessions, settings, channels=["sms"])
    reply = reply_of(text_in(app_client, "who is enrolled here?", sender="+15559998888"))
    assert "not set up for check-ins" in reply and settings.clinic.phone_now() in reply
    assert "patient-1" not in reply
    with transaction(sessions) as session:
        assert session.execute(sa.select(sa.func.count()).select_from(Conversation)).scalar_one() == 0


def test_stop_stops_everything_and_start_resumes(app_client, settings, sessions, fake_twilio):
    enroll_patient(sessions, settings, channels=["sms"])
    assert "no more texts" in reply_of(text_in(app_client, "STOP"))
    sender = sms_sender(settings)
    assert run_due(sessions, settings, DAY_1, sender).sent == 0
    assert fake_twilio.messages() == []
    with transaction(sessions) as session:
        assert session.execute(sa.select(Enrollment.sms_opted_out_at)).scalar_one() is not None
        assert session.execute(sa.select(CheckIn.status).where(CheckIn.day_offset == 1)).scalar_one() == "cancelled"
    assert "back on" in reply_of(text_in(app_client, "start"))
    assert run_due(sessions, settings, DAY_1 + dt.timedelta(days=2), sender).sent == 1  # day 3


def test_help_gives_the_clinics_numbers(app_client, settings):
    reply = reply_of(text_in(app_client, "HELP"))
    assert settings.clinic.phone_now() in reply and "STOP" in reply


def test_a_database_failure_still_gets_the_safe_reply_and_loses_no_escalation(
    app_client, settings, sessions, monkeypatch
):
    from api.sms import service

    def database_down(*args, **kwargs):
        raise sa.exc.OperationalError("SELECT", {}, Exception("database is down"))

    enroll_patient(sessions, settings, channels=["sms"])
    with monkeypatch.context() as patched:
        patched.setattr(service, "_conversation_for", database_down)
        reply = reply_of(text_in(app_client, "it's bleeding through the dressing"))
    assert "thank you" not in reply  # never the ordinary answer to a warning sign
    assert settings.clinic.phone_now() in reply
    assert _escalations(sessions) == []  # not yet: the database could not say whose number it was
    # The next text that reaches the database brings the waiting escalation in first.
    reply_of(text_in(app_client, "ok"))
    [escalation] = _escalations(sessions)
    assert escalation.tier == "call_provider"  # blood through the dressing: call now (FIRSTAID: 911 if pressure fails)


def test_a_model_failure_still_escalates(settings, fake_twilio):
    class Raising:
        async def respond(self, conversation_id, text, detection=None, assessment=None):
            raise RuntimeError("model down")

    with TestClient(create_app(settings, assistant=Raising(), load_assistant=False)) as client:
        sessions = client.app.state.ctx.sessions  # type: ignore[attr-defined]
        enroll_patient(sessions, settings, channels=["sms"])
        run_due(sessions, settings, DAY_1, sms_sender(settings))
        reply = reply_of(text_in(client, "my temp is 39.2 and the site is red"))
        assert settings.clinic.phone_now() in reply
        assert len(_escalations(sessions)) == 1


def test_delivery_status_is_stored(app_client, settings, sessions, fake_twilio):
    enroll_patient(sessions, settings, channels=["sms"])
    run_due(sessions, settings, DAY_1, sms_sender(settings))
    with transaction(sessions) as session:
        sid = session.execute(sa.select(CheckIn.sms_sid).where(CheckIn.day_offset == 1)).scalar_one()
    form = {"MessageSid": sid, "MessageStatus": "delivered"}
    url = PUBLIC_BASE + WEBHOOK + "/status"
    signature = RequestValidator(TWILIO_TOKEN).compute_signature(url, form)
    assert app_client.post(WEBHOOK + "/status", data=form, headers={"X-Twilio-Signature": signature}).status_code == 204
    with transaction(sessions) as session:
        assert session.execute(sa.select(CheckIn.sms_status).where(CheckIn.sms_sid == sid)).scalar_one() == "delivered"


def test_a_stop_while_the_database_is_down_is_applied_when_it_is_back(
    app_client, settings, sessions, fake_twilio, monkeypatch
):
    from api.sms import service

    def database_down(*args, **kwargs):
        raise sa.exc.OperationalError("UPDATE", {}, Exception("database is down"))

    enroll_patient(sessions, settings, channels=["sms"])
    with monkeypatch.context() as patched:
        patched.setattr(service, "set_sms_opt_out", database_down)
        assert "no more texts" in reply_of(text_in(app_client, "STOP"))
    reply_of(text_in(app_client, "HELP"))
    reply_of(text_in(app_client, "hello"))  # reaches the database: the waiting STOP is applied first
    assert run_due(sessions, settings, DAY_1, sms_sender(settings)).sent == 0
    assert fake_twilio.messages() == []
