"""An unanswered temperature question still reaches a nurse (issue 11, rule 3): after
`unanswered_question_minutes` with no answer and no open case, one call-provider case opens
with a note saying why; answering the question, or a case already open, means none."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest
import sqlalchemy as sa

from api.conversations import repository
from api.conversations.models import TriageState
from api.db import transaction
from api.escalations.models import Escalation, EscalationReport, OutboxEvent
from api.escalations.overdue import run_worker  # bound here: passes_run_by_the_test idles the app's
from api.escalations.service import open_escalation
from api.escalations.unanswered import open_unanswered
from api.identity import mint_patient_token

HOOK = "https://hooks.clinic.example/aftercare"
pytestmark = pytest.mark.usefixtures("passes_run_by_the_test")  # each test runs the pass itself


@pytest.fixture
def settings(make_settings):
    return make_settings(webhook_url=HOOK, unanswered_question_minutes=30)


def _asked(ctx, minutes_ago: float, question: str | None = "temperature") -> str:
    """A conversation whose latest patient message got `question`, asked `minutes_ago`."""
    with transaction(ctx.sessions) as session:
        conversation = repository.create_conversation(session, "patient-3").id
        repository.add_message(session, conversation, "patient", "I feel hot", "none")
        repository.save_triage_state(session, conversation, "{}", question)
    _backdate(ctx, conversation, minutes_ago)
    return conversation


def _backdate(ctx, conversation_id: str, minutes_ago: float) -> None:
    with transaction(ctx.sessions) as session:
        row = session.get(TriageState, conversation_id)
        if row.question_asked_at is not None:
            row.question_asked_at = dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=minutes_ago)


def _cases(ctx, conversation_id: str) -> list[Escalation]:
    with ctx.sessions() as session:
        query = sa.select(Escalation).where(Escalation.conversation_id == conversation_id)
        return list(session.execute(query).scalars())


def test_a_question_unanswered_past_the_limit_opens_one_case(ctx, nurse_headers, client):
    conversation = _asked(ctx, minutes_ago=31)
    published: list[dict] = []
    ctx.events.publish = published.append
    assert asyncio.run(open_unanswered(ctx)) == 1
    assert asyncio.run(open_unanswered(ctx)) == 0  # once per question
    [case] = _cases(ctx, conversation)
    assert case.tier == "call_provider" and case.signs == ["fever"] and case.status == "open"
    assert [e["event"] for e in published] == ["escalation.created"]
    with ctx.sessions() as session:
        topics = session.execute(sa.select(OutboxEvent.topic)).scalars().all()
        [report] = session.execute(sa.select(EscalationReport)).scalars().all()
    assert topics == ["escalation.created"]
    assert "unanswered for 30 minutes" in report.note
    summary = client.get(f"/api/v1/escalations/{case.id}", headers=nurse_headers).json()["summary"]
    [reported] = summary["assessment"]
    assert reported["words"] == "I feel hot" and "temperature question went unanswered" in reported["note"]


def test_the_background_loop_runs_the_pass(ctx):
    conversation = _asked(ctx, minutes_ago=31)

    async def until_opened() -> None:
        loop = asyncio.create_task(run_worker(ctx, poll_seconds=0.01))
        try:
            while not _cases(ctx, conversation):
                await asyncio.sleep(0.01)
        finally:
            loop.cancel()

    asyncio.run(asyncio.wait_for(until_opened(), timeout=30))
    assert [c.tier for c in _cases(ctx, conversation)] == ["call_provider"]


def test_a_question_asked_recently_waits(ctx):
    conversation = _asked(ctx, minutes_ago=29)
    assert asyncio.run(open_unanswered(ctx)) == 0
    assert _cases(ctx, conversation) == []


def test_other_questions_are_left_to_the_triage(ctx):
    conversation = _asked(ctx, minutes_ago=90, question="trend")
    assert asyncio.run(open_unanswered(ctx)) == 0
    assert _cases(ctx, conversation) == []


def test_an_open_case_already_reaches_a_nurse_and_a_resolved_one_does_not(ctx):
    conversation = _asked(ctx, minutes_ago=45)
    with transaction(ctx.sessions) as session:
        message = repository.add_message(session, conversation, "patient", "can a nurse call me", "none")
        callback = open_escalation(session, conversation, message.id, "callback", [], notify_webhook=False).id
    assert asyncio.run(open_unanswered(ctx)) == 0
    with transaction(ctx.sessions) as session:
        session.get(Escalation, callback).status = "resolved"
    assert asyncio.run(open_unanswered(ctx)) == 1
    assert sorted(c.tier for c in _cases(ctx, conversation)) == ["call_provider", "callback"]


def test_answering_the_question_cancels_it(client, ctx, settings):
    headers = {"Authorization": f"Bearer {mint_patient_token('patient-4', settings)}"}
    conversation = client.post("/api/v1/conversations", headers=headers).json()["conversation_id"]

    def send(text: str) -> dict:
        response = client.post(f"/api/v1/conversations/{conversation}/messages", json={"text": text}, headers=headers)
        assert response.status_code == 200
        return response.json()

    send("I feel hot")
    with ctx.sessions() as session:
        asked = session.get(TriageState, conversation)
        assert asked.pending_question == "temperature" and asked.question_asked_at is not None
    answered = send("it is 37.1")
    assert answered["triage"]["level"] == "none"
    with ctx.sessions() as session:
        row = session.get(TriageState, conversation)
        assert row.pending_question is None and row.question_asked_at is None
    opened_before = len(_cases(ctx, conversation))
    _backdate(ctx, conversation, 120)
    assert asyncio.run(open_unanswered(ctx)) == 0
    assert len(_cases(ctx, conversation)) == opened_before


def test_the_same_question_asked_again_keeps_its_first_time(ctx):
    conversation = _asked(ctx, minutes_ago=20)
    with ctx.sessions() as session:
        first = session.get(TriageState, conversation).question_asked_at
    with transaction(ctx.sessions) as session:
        repository.save_triage_state(session, conversation, "{}", "temperature")  # asked again
    with ctx.sessions() as session:
        assert session.get(TriageState, conversation).question_asked_at == first
