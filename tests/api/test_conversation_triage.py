"""A message is triaged in its conversation, through the real API and the trained model: the
state kept in our database between messages (and across a restart), the enrolled patient's risk
flags, the disposition and findings in the response, the clarifying question, and a safe reply
when the state or the assessment fails."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from api.conversations import repository
from api.escalations.models import Escalation
from tests.conftest import auth, make_client

MESSAGES = "/api/v1/conversations/{}/messages"


def _say(client, headers, cid, text):
    response = client.post(MESSAGES.format(cid), json={"text": text}, headers=headers)
    assert response.status_code == 200
    return response.json()


def _state(client, cid) -> dict:
    with client.app.state.ctx.sessions() as session:
        stored = repository.get_triage_state(session, cid)
    assert stored is not None
    return json.loads(stored)


def _escalations(client, cid) -> list[Escalation]:
    with client.app.state.ctx.sessions() as session:
        return list(session.execute(sa.select(Escalation).where(Escalation.conversation_id == cid)).scalars())


def test_disposition_and_findings_are_in_the_response(client, patient, conversation):
    body = _say(client, patient, conversation, "my temperature is 38.6 and the site is bleeding")
    triage = body["triage"]
    assert triage["level"] == "call_provider" and triage["disposition"] == "call_now"
    fever = next(f for f in triage["findings"] if f["sign"] == "fever")
    assert (fever["temperature_c"], fever["temperature_f"]) == (38.6, 101.5)
    assert {"fever", "bleeding"} <= {f["sign"] for f in triage["findings"]}
    fields = {"sign", "site", "trend", "temperature_c", "temperature_f", "duration_minutes", "size"}
    assert set(triage["findings"][0]) == fields


def test_an_ordinary_question_has_no_disposition(client, patient, conversation):
    body = _say(client, patient, conversation, "when will my results be ready?")
    assert body["triage"]["disposition"] is None and body["triage"]["findings"] == []


def test_the_fever_number_given_later_is_understood_in_the_patients_units(client, patient, conversation):
    first = _say(client, patient, conversation, "I feel really hot and shivery")
    assert first["replies"][-1]["kind"] == "follow_up"  # what is your temperature?
    assert _state(client, conversation)["pending_question"] == "temperature"

    second = _say(client, patient, conversation, "it's 101.5")
    assert second["triage"]["level"] == "call_provider" and second["triage"]["disposition"] == "call_now"
    assert "101.5 °F (38.6 °C) is above the clinic's 100.4 °F (38.0 °C) fever line" in second["replies"][0]["text"]
    assert not [r for r in second["replies"] if r["kind"] == "follow_up"]
    assert _state(client, conversation)["pending_question"] is None


def test_feeling_warm_with_no_number_asks_first_and_the_number_decides(client, patient, conversation):
    """The detector sees a fever-like feeling, but with no number the reply is the temperature
    question with when to call (no escalation yet); the reading then decides."""
    first = _say(client, patient, conversation, "come over all hot and clammy since tea")
    assert (first["triage"]["level"], first["escalation_id"]) == ("none", None)
    [ask] = first["replies"]
    assert ask["kind"] == "follow_up" and "chills or shivers" in ask["text"]
    assert _state(client, conversation)["pending_question"] == "temperature"  # a follow-up case can open
    assert not _escalations(client, conversation)

    second = _say(client, patient, conversation, "just checked: 38.9")
    assert second["triage"]["disposition"] == "call_now" and second["escalation_id"]


@pytest.mark.parametrize(
    "text", ["I've got a fever tonight", "shivery and shaking under the duvet", "bleeding a bit and I feel hot"]
)
def test_a_fever_said_as_a_fact_chills_or_another_sign_do_not_wait_for_the_number(client, patient, conversation, text):
    body = _say(client, patient, conversation, text)
    assert body["triage"]["level"] == "call_provider" and body["escalation_id"]
    assert body["replies"][0]["kind"] == "triage" and body["replies"][-1]["kind"] == "follow_up"


def test_a_repeated_report_keeps_the_open_escalation(client, patient, conversation):
    first = _say(client, patient, conversation, "the site is bleeding through the dressing")
    again = _say(client, patient, conversation, "it is still bleeding")
    assert first["escalation_id"] and again["escalation_id"] == first["escalation_id"]
    assert len(_escalations(client, conversation)) == 1


def test_a_more_urgent_report_raises_the_conversations_case(client, patient, conversation):
    first = _say(client, patient, conversation, "the site is bleeding a little")
    worse = _say(client, patient, conversation, "now I fainted and I can't breathe")
    assert worse["triage"]["level"] == "emergency" and worse["escalation_id"] == first["escalation_id"]
    [case] = _escalations(client, conversation)
    assert case.tier == "emergency"


@pytest.mark.parametrize("risk", ["my partner's just started chemotherapy", "fyi he takes rivaroxaban daily"])
def test_a_risk_factor_alone_opens_nothing_but_raises_what_follows(client, patient, conversation, risk):
    noted = _say(client, patient, conversation, risk)
    assert (noted["triage"]["level"], noted["escalation_id"]) == ("none", None)
    assert not _escalations(client, conversation)
    later = _say(client, patient, conversation, "now there's swelling round the biopsy and a temp of 38.3")
    assert later["triage"]["level"] in {"call_provider", "emergency"} and later["escalation_id"]


def test_a_risk_factor_with_feeling_unwell_still_reaches_the_care_team(client, patient, conversation):
    body = _say(client, patient, conversation, "she's neutropenic and just seems really poorly today")
    assert body["triage"]["level"] != "none" and body["escalation_id"]


def test_no_question_follows_an_emergency_reply(client, patient, conversation):
    body = _say(client, patient, conversation, "I'm burning up and shivering and I passed out")
    assert body["triage"]["disposition"] == "emergency"
    assert [r["kind"] for r in body["replies"]] == ["triage"]
    assert _state(client, conversation)["pending_question"] is None


def test_doing_what_the_emergency_reply_said_opens_nothing_new(client, patient, conversation):
    first = _say(client, patient, conversation, "my husband just collapsed on the landing")
    assert first["triage"]["level"] == "emergency" and first["escalation_id"]
    then = _say(client, patient, conversation, "we've dialled for an ambulance")
    assert then["triage"]["level"] == "none" and not [r for r in then["replies"] if r["kind"] == "follow_up"]
    assert len(_escalations(client, conversation)) == 1


def test_going_on_about_a_complaint_elsewhere_is_not_escalated(client, patient, conversation):
    _say(client, patient, conversation, "my wrist aches from all the typing")
    then = _say(client, patient, conversation, "it's getting worse actually")
    assert (then["triage"]["level"], then["escalation_id"]) == ("none", None)


def test_the_state_survives_a_restart(make_settings, assistant):
    settings = make_settings()
    headers = auth(settings)
    with make_client(settings, assistant) as client:
        cid = client.post("/api/v1/conversations", headers=headers).json()["conversation_id"]
        _say(client, headers, cid, "I feel really hot and shivery")
    with make_client(settings, assistant) as restarted:
        state = _state(restarted, cid)
        assert state["turn"] == 1 and state["pending_question"] == "temperature"
        _say(restarted, headers, cid, "it's 38.6")
        state = _state(restarted, cid)
    assert state["turn"] == 2 and "fever" in state["findings"]


@pytest.mark.parametrize("stored", ["{not json", json.dumps({"pending_question": "shoe size"}), json.dumps([1])])
def test_an_unreadable_state_still_gets_a_safe_reply(client, patient, conversation, stored):
    _say(client, patient, conversation, "hello")
    with client.app.state.ctx.sessions() as session:
        repository.save_triage_state(session, conversation, stored)
        session.commit()
    body = _say(client, patient, conversation, "the site is red and swollen")
    assert body["triage"]["level"] == "call_provider" and body["escalation_id"]
    assert client.app.state.ctx.clinic.phone_now() in body["replies"][0]["text"]
    assert _state(client, conversation)["turn"] == 1  # started afresh, and stored again


def test_a_failing_assessment_falls_back_to_the_detection(client, patient, conversation, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("engine bug")

    monkeypatch.setattr("api.messaging.service.assess", broken)
    body = _say(client, patient, conversation, "my temperature is 38.9")
    assert body["triage"]["level"] == "call_provider" and body["escalation_id"]
    assert [f["sign"] for f in body["triage"]["findings"]] == ["fever"]


def test_enrolled_risk_flags_seed_the_conversations_risk_factors(make_settings, assistant):
    from api.enrollments.auth import mint_service_token

    key = "test-service-key-0123456789-abcdefghijklmnop"
    settings = make_settings(service_token_hs256_keys=key)
    service = {"Authorization": f"Bearer {mint_service_token('ehr-engine', settings)}"}
    enrollment = {
        "external_id": "ehr-0001",
        "patient_id": "patient-1",
        "procedure_at": "2026-11-30T14:00:00-06:00",
        "timezone": "America/Chicago",
        "channels": ["portal"],
        "risk_flags": ["anticoagulant", "chemotherapy"],
    }
    headers = auth(settings, "patient-1")
    with make_client(settings, assistant) as client:
        assert client.post("/api/v1/enrollments", json=enrollment, headers=service).status_code == 201
        cid = client.post("/api/v1/conversations", headers=headers).json()["conversation_id"]
        _say(client, headers, cid, "is it normal to be sore?")
        assert sorted(_state(client, cid)["risk_factors"]) == ["blood_thinner", "chemotherapy"]
        other = auth(settings, "patient-2")
        cid2 = client.post("/api/v1/conversations", headers=other).json()["conversation_id"]
        _say(client, other, cid2, "is it normal to be sore?")
        assert _state(client, cid2)["risk_factors"] == []


def test_a_buttons_intent_shortcut_is_not_read_as_a_report(client, patient, conversation):
    """'/ask_soreness' (a button's payload) asks the soreness question; it is not pain to ask about."""
    body = _say(client, patient, conversation, "/ask_soreness")
    assert body["topic"] == "soreness" and body["triage"]["disposition"] is None
    assert [r["kind"] for r in body["replies"]] == ["answer"]
