"""Background work runs once across processes: outbox rows and spooled escalations."""

from __future__ import annotations

import multiprocessing
import threading
from pathlib import Path

import pytest
import sqlalchemy as sa

from api.conversations import repository
from api.db import make_engine, make_session_factory, migrate, transaction
from api.escalations.models import Escalation, EscalationReport
from api.escalations.outbox import claim_due
from api.escalations.service import open_escalation
from api.messaging.spool import EscalationSpool

ROWS = 45  # more than two batches


def _sessions(url: str):
    engine = make_engine(url)
    migrate(engine)
    return make_session_factory(engine)


@pytest.mark.postgres
def test_two_workers_racing_claim_each_outbox_row_once(postgres_url):
    sessions = _sessions(postgres_url)
    with transaction(sessions) as session:
        conversation = repository.create_conversation(session, "patient-1")
        message = repository.add_message(session, conversation.id, "patient", "fever", "call_provider")
        for _ in range(ROWS):
            open_escalation(session, conversation.id, message.id, "call_provider", ["fever"], notify_webhook=True)
    claimed: list[list[int]] = [[], []]
    start = threading.Barrier(2)

    def worker(n: int) -> None:
        start.wait()
        while True:
            with transaction(sessions) as session:
                batch = claim_due(session)
            if not batch:
                return
            claimed[n].extend(row_id for row_id, _payload, _attempts in batch)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    every = claimed[0] + claimed[1]
    assert len(every) == ROWS and len(set(every)) == ROWS


def _replay(url: str, path: str, ready, go) -> None:
    sessions = _sessions(url)
    ready.wait()
    go.wait()
    EscalationSpool(Path(path)).replay(sessions, notify_webhook=False)


@pytest.mark.postgres
def test_two_processes_replaying_one_spool_write_each_escalation_once(postgres_url, tmp_path):
    sessions = _sessions(postgres_url)
    with transaction(sessions) as session:
        conversation_id = repository.create_conversation(session, "patient-1").id
    spool = EscalationSpool(tmp_path / "spool.jsonl")
    for n in range(ROWS):
        spool.save(conversation_id, f"bleeding {n}", "call_provider", ["bleeding"])
    fork = multiprocessing.get_context("fork")
    ready, go = fork.Barrier(3), fork.Event()
    workers = [fork.Process(target=_replay, args=(postgres_url, str(spool.path), ready, go)) for _ in range(2)]
    for worker in workers:
        worker.start()
    ready.wait()
    go.set()
    for worker in workers:
        worker.join(timeout=60)
    assert [worker.exitcode for worker in workers] == [0, 0]
    with transaction(sessions) as session:
        # One conversation: every spooled report lands once, all in its one case.
        assert session.execute(sa.select(sa.func.count()).select_from(EscalationReport)).scalar_one() == ROWS
        assert session.execute(sa.select(sa.func.count()).select_from(Escalation)).scalar_one() == 1
    assert not spool.pending()


def _migrate(url: str, go) -> None:
    go.wait()
    migrate(make_engine(url))


@pytest.mark.postgres
def test_replicas_starting_together_migrate_one_at_a_time(postgres_url):
    fork = multiprocessing.get_context("fork")
    go = fork.Event()
    workers = [fork.Process(target=_migrate, args=(postgres_url, go)) for _ in range(3)]
    for worker in workers:
        worker.start()
    go.set()
    for worker in workers:
        worker.join(timeout=120)
    assert [worker.exitcode for worker in workers] == [0, 0, 0]
