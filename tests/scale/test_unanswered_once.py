"""An unanswered temperature question opens exactly one case however many processes run the
pass at once (PostgreSQL: SKIP LOCKED and a compare-and-set on question_escalated_at)."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from api.conversations import repository
from api.conversations.models import TriageState
from api.db import make_engine, make_session_factory, migrate, transaction
from api.escalations.models import Escalation, EscalationReport, OutboxEvent
from api.escalations.unanswered import claim_unanswered
from tests.scale.racing import race_two_processes

QUESTIONS = 60  # more than one batch


@pytest.mark.postgres
def test_two_processes_open_one_case_per_unanswered_question(postgres_url, tmp_path):
    engine = make_engine(postgres_url)
    migrate(engine)
    sessions = make_session_factory(engine)
    long_ago = dt.datetime.now(dt.timezone.utc) - dt.timedelta(hours=2)
    with transaction(sessions) as session:
        for n in range(QUESTIONS):
            conversation = repository.create_conversation(session, f"patient-{n}").id
            repository.add_message(session, conversation, "patient", "I feel hot", "none")
            repository.save_triage_state(session, conversation, "{}", "temperature")
        session.execute(sa.update(TriageState).values(question_asked_at=long_ago))
    counts = race_two_processes(claim_unanswered, postgres_url, str(tmp_path))
    assert sum(counts) == QUESTIONS
    with sessions() as session:
        per_conversation = session.execute(
            sa.select(Escalation.conversation_id, sa.func.count()).group_by(Escalation.conversation_id)
        ).all()
        reports = session.execute(sa.select(sa.func.count()).select_from(EscalationReport)).scalar_one()
        topics = session.execute(sa.select(OutboxEvent.topic)).scalars().all()
    assert len(per_conversation) == QUESTIONS and {count for _, count in per_conversation} == {1}
    assert reports == QUESTIONS and topics == ["escalation.created"] * QUESTIONS
