"""Two nurses press Acknowledge at the same moment: exactly one wins, both are audited."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from api.core.audit_log import RequestContext
from api.db import transaction
from api.escalations import service
from tests.staff.conftest import audit_rows, login


@pytest.fixture
def two_nurses(client, make_staff, nurse):
    make_staff("second@clinic.test", "Sam Second")
    return [login(client, "nurse@clinic.test"), login(client, "second@clinic.test")]


def _race(calls):
    barrier = threading.Barrier(len(calls))

    def run(call):
        barrier.wait()
        return call()

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(run, calls))


def test_concurrent_acknowledges_through_the_api(client, ctx, two_nurses, escalation):
    url = f"/api/v1/escalations/{escalation}/acknowledge"
    responses = _race([lambda h=h: client.post(url, headers=h) for h in two_nurses])
    assert sorted(r.status_code for r in responses) == [200, 409]
    winner = next(r for r in responses if r.status_code == 200).json()["acknowledged_by"]["id"]
    outcomes = {(r.actor_id, r.outcome) for r in audit_rows(ctx, action="escalation.acknowledge")}
    assert len(outcomes) == 2 and (winner, "success") in outcomes


@pytest.mark.parametrize("round_", range(5))
def test_concurrent_acknowledges_in_the_service_many_times(ctx, client, raise_escalation, round_):
    """Straight at the compare-and-set, eight at once: still exactly one success."""
    escalation = raise_escalation(patient_id=f"race-{round_}")

    def acknowledge(actor):
        with transaction(ctx.sessions) as session:
            return service.acknowledge(session, RequestContext(actor, "nurse", None, "test"), escalation).ok

    results = _race([lambda i=i: acknowledge(f"nurse-{i}") for i in range(8)])
    assert results.count(True) == 1
    assert [r.outcome for r in audit_rows(ctx, object_id=escalation)].count("success") == 1
