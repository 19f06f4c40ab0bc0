"""Cases under concurrency on PostgreSQL: reports racing into one conversation make one case,
and each overdue case is announced exactly once however many processes run the pass."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
import sqlalchemy as sa

from api.conversations import repository
from api.db import make_engine, make_session_factory, migrate, transaction
from api.escalations.models import Escalation, EscalationReport, OutboxEvent
from api.escalations.overdue import claim_overdue
from api.escalations.service import open_escalation
from tests.scale.racing import race_two_processes

CASES = 60
REPORTS = 20


def _sessions(url: str):
    engine = make_engine(url)
    migrate(engine)
    return make_session_factory(engine)


@pytest.mark.postgres
def test_reports_racing_into_one_conversation_make_one_case(postgres_url):
    sessions = _sessions(postgres_url)
    with transaction(sessions) as session:
        conversation = repository.create_conversation(session, "patient-1").id
    start = threading.Barrier(4)

    def report(n: int) -> None:
        start.wait()
        for i in range(REPORTS // 4):
            with transaction(sessions) as session:
                tier = "emergency" if (n, i) == (3, 4) else "call_provider"
                message = repository.add_message(session, conversation, "patient", "report", tier)
                open_escalation(session, conversation, message.id, tier, ["fever"], notify_webhook=True)

    threads = [threading.Thread(target=report, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    with sessions() as session:
        [case] = session.execute(sa.select(Escalation)).scalars().all()
        reports = session.execute(sa.select(sa.func.count()).select_from(EscalationReport)).scalar_one()
        topics = session.execute(sa.select(OutboxEvent.topic)).scalars().all()
    assert case.report_count == REPORTS and reports == REPORTS and case.tier == "emergency"
    assert sorted(topics) == ["escalation.created"] + ["escalation.updated"] * (REPORTS - 1)


@pytest.mark.postgres
def test_two_processes_announce_each_overdue_case_once(postgres_url, tmp_path):
    sessions = _sessions(postgres_url)
    long_ago = dt.datetime.now(dt.timezone.utc) - dt.timedelta(hours=6)
    with transaction(sessions) as session:
        for n in range(CASES):
            conversation = repository.create_conversation(session, f"patient-{n}").id
            message = repository.add_message(session, conversation, "patient", "report", "call_provider")
            case = open_escalation(session, conversation, message.id, "call_provider", ["fever"], notify_webhook=False)
            case.tier_since = long_ago
    counts = race_two_processes(claim_overdue, postgres_url, str(tmp_path))
    assert sum(counts) == CASES
    with sessions() as session:
        overdue = (
            session.execute(sa.select(OutboxEvent.payload).where(OutboxEvent.topic == "escalation.overdue"))
            .scalars()
            .all()
        )
    assert len(overdue) == CASES and len({p["escalation_id"] for p in overdue}) == CASES
