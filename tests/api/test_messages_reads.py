"""A turn's reads before it answers (triage state, Rasa window, case holder) are one
transaction: each failure still gets a safe reply, with the real model and SQLite."""

import json

import sqlalchemy as sa

from api.conversations import repository
from api.db import transaction
from api.escalations.models import Escalation
from api.messaging import service


def _send(client, patient, conversation, text):
    response = client.post(f"/api/v1/conversations/{conversation}/messages", json={"text": text}, headers=patient)
    assert response.status_code == 200, response.text
    return response.json()


def _stored_state(client, conversation):
    with client.app.state.ctx.sessions() as session:
        stored = repository.get_triage_state(session, conversation)
    return None if stored is None else json.loads(stored)


def _escalations(client, conversation):
    with client.app.state.ctx.sessions() as session:
        query = sa.select(Escalation).where(Escalation.conversation_id == conversation)
        return list(session.execute(query).scalars())


def test_a_failing_case_holder_lookup_keeps_the_assistants_answer_and_the_state(
    client, patient, conversation, monkeypatch
):
    def lookup_fails(*args, **kwargs):
        raise sa.exc.OperationalError("SELECT", {}, Exception("database is locked"))

    monkeypatch.setattr(service, "holding_nurse", lookup_fails)
    body = _send(client, patient, conversation, "how long will my hip be sore after the biopsy?")
    assert body["answered_by"] == "assistant" and body["topic"] == "soreness"
    assert _stored_state(client, conversation)["turn"] == 1  # the state read before it was kept


def test_when_the_reads_fail_a_warning_sign_still_gets_the_safe_reply_and_its_case(
    client, patient, conversation, monkeypatch
):
    def database_down(*args, **kwargs):
        raise sa.exc.OperationalError("SELECT", {}, Exception("database is locked"))

    monkeypatch.setattr(service, "_rasa_sender", database_down)
    body = _send(client, patient, conversation, "the site won't stop bleeding")
    assert body["answered_by"] == "failsafe"
    assert body["triage"]["level"] == "emergency" and body["replies"][0]["phone"]
    assert body["escalation_id"] and len(_escalations(client, conversation)) == 1


def test_a_turn_is_one_read_transaction_and_one_write_transaction(client, patient, conversation, monkeypatch):
    opened = []
    real = transaction

    def counting(factory):
        opened.append(1)
        return real(factory)

    monkeypatch.setattr(service, "transaction", counting)
    body = _send(client, patient, conversation, "my temperature is 38.9")
    assert body["triage"]["level"] == "call_provider" and body["escalation_id"]
    assert len(opened) == 2  # the state, Rasa's window and the case holder; then the messages, state and case
