"""The patient API with the real model and a real (SQLite) database."""

import sqlalchemy as sa

from api.escalations.models import Escalation


def _send(client, patient, conversation, text):
    response = client.post(f"/api/v1/conversations/{conversation}/messages", json={"text": text}, headers=patient)
    assert response.status_code == 200, response.text
    return response.json()


def _escalations(client):
    with client.app.state.ctx.sessions() as session:
        return list(session.execute(sa.select(Escalation)).scalars())


def test_create_conversation_returns_201_and_an_id(client, patient):
    response = client.post("/api/v1/conversations", headers=patient)
    assert response.status_code == 201
    assert len(response.json()["conversation_id"]) >= 16


def test_question_gets_a_cited_answer_and_no_escalation(client, patient, conversation):
    body = _send(client, patient, conversation, "how long will my hip be sore after the biopsy?")
    assert body["topic"] == "soreness"
    assert body["triage"] == {"level": "none", "signs": [], "disposition": None, "findings": []}
    assert body["escalation_id"] is None
    assert body["answered_by"] == "assistant"
    assert body["replies"][0]["sources"]
    assert _escalations(client) == []


def test_warning_sign_is_escalated_before_the_reply(client, patient, conversation):
    body = _send(client, patient, conversation, "my temperature is 38.9 and the site looks red")
    assert body["triage"]["level"] == "call_provider"
    assert {"fever", "redness"} <= set(body["triage"]["signs"])
    assert body["replies"][0]["phone"]
    [escalation] = _escalations(client)
    assert (escalation.id, escalation.status, escalation.tier) == (body["escalation_id"], "open", "call_provider")


def test_emergency_beats_call_provider(client, patient, conversation):
    body = _send(client, patient, conversation, "the site is bleeding and I can't breathe properly")
    assert body["triage"]["level"] == "emergency"
    assert body["replies"][0]["phone"] == client.app.state.ctx.clinic.emergency_number


def test_request_for_a_person_opens_a_callback_request(client, patient, conversation):
    body = _send(client, patient, conversation, "can a nurse call me back please")
    [escalation] = _escalations(client)
    assert escalation.tier == "callback"
    assert body["escalation_id"] == escalation.id


def test_transcript_lists_both_sides_in_order(client, patient, conversation):
    _send(client, patient, conversation, "hello")
    _send(client, patient, conversation, "when can I shower?")
    response = client.get(f"/api/v1/conversations/{conversation}/messages", headers=patient)
    lines = response.json()["messages"]
    assert [line["role"] for line in lines][:2] == ["patient", "assistant"]
    assert lines[0]["text"] == "hello"
    assert [line["id"] for line in lines] == sorted(line["id"] for line in lines)
    assert response.headers["cache-control"] == "no-store"


def test_rest_webhook_accepts_json_sent_as_text_plain(client, patient):
    response = client.post(
        "/webhooks/rest/webhook",
        content='{"sender": "widget-123", "message": "hi there"}',
        headers={**patient, "Content-Type": "text/plain"},
    )
    assert response.status_code == 200
    [first, *_] = response.json()
    assert first["recipient_id"] == "widget-123" and first["text"]


def test_rest_webhook_reports_triage_in_custom(client, patient):
    response = client.post(
        "/webhooks/rest/webhook", json={"sender": "widget-456", "message": "I passed out"}, headers=patient
    )
    assert response.json()[0]["custom"]["triage"]["level"] == "emergency"
