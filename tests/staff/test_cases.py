"""Cases (issue 12): later reports in a conversation attach to its open case, raise its tier and
announce the change; holding, SLA targets, the one overdue event; the SBAR summary."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest
import sqlalchemy as sa

from api.db import transaction
from api.escalations.models import Escalation, EscalationReport, OutboxEvent
from api.escalations.overdue import announce_overdue, claim_overdue
from api.identity import mint_patient_token
from tests.staff.conftest import audit_rows, login

BASE = "/api/v1/escalations"
FEVER = "I have a fever of 39 and the site is bleeding"
EMERGENCY = "the site is bleeding and I can't breathe properly"
HOOK = "https://hooks.clinic.example/aftercare"


@pytest.fixture
def settings(make_settings):
    return make_settings(webhook_url=HOOK)


@pytest.fixture
def patient(client, settings):
    """A patient with a conversation started from the portal, with name and number claims."""
    token = mint_patient_token("patient-7", settings, name="Pat Example", phone_number="+1 555 0142")
    headers = {"Authorization": f"Bearer {token}"}
    conversation = client.post("/api/v1/conversations", headers=headers).json()["conversation_id"]

    def send(text: str) -> dict:
        response = client.post(f"/api/v1/conversations/{conversation}/messages", json={"text": text}, headers=headers)
        assert response.status_code == 200, response.text
        return response.json()

    return send


def _outbox(ctx) -> list[tuple[str, dict]]:
    with ctx.sessions() as session:
        return [
            (r.topic, r.payload) for r in session.execute(sa.select(OutboxEvent).order_by(OutboxEvent.id)).scalars()
        ]


def _backdate(ctx, escalation_id: str, minutes: int) -> None:
    """The SLA clock started `minutes` ago (instead of waiting for it)."""
    with transaction(ctx.sessions) as session:
        row = session.get(Escalation, escalation_id)
        row.tier_since = dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=minutes)


def test_two_reports_in_one_conversation_make_one_case_whose_tier_rises(client, ctx, patient, nurse_headers):
    first = patient(FEVER)
    second = patient(EMERGENCY)
    assert first["escalation_id"] == second["escalation_id"]
    queue = client.get(BASE, headers=nurse_headers).json()
    [case] = queue["items"]
    assert queue["total"] == 1 and case["tier"] == "emergency" and case["priority"] == 0
    assert case["report_count"] == 2
    assert queue["counts"] == {"emergency": 1, "call_provider": 0, "callback": 0}
    topics = [topic for topic, _ in _outbox(ctx)]
    assert topics == ["escalation.created", "escalation.updated"]
    updated = _outbox(ctx)[1][1]
    assert updated["tier"] == "emergency" and updated["report_count"] == 2 and "text" not in updated
    with ctx.sessions() as session:
        reports = session.execute(sa.select(EscalationReport.tier).order_by(EscalationReport.id)).scalars().all()
    assert reports == ["call_provider", "emergency"]


def test_a_lower_tier_report_attaches_without_lowering_the_case(client, patient, nurse_headers):
    patient(EMERGENCY)
    patient(FEVER)
    [case] = client.get(BASE, headers=nurse_headers).json()["items"]
    assert case["tier"] == "emergency" and case["report_count"] == 2


def test_a_report_after_resolution_opens_a_new_case(client, patient, nurse_headers):
    first = patient(FEVER)["escalation_id"]
    assert client.post(f"{BASE}/{first}/assign", headers=nurse_headers).status_code == 200
    resolved = client.post(f"{BASE}/{first}/resolve", json={"note": "called back"}, headers=nurse_headers)
    assert resolved.status_code == 200
    second = patient(FEVER)["escalation_id"]
    assert second != first
    assert [c["id"] for c in client.get(BASE, headers=nurse_headers).json()["items"]] == [second]


def test_a_report_on_an_acknowledged_case_attaches_to_it(client, patient, nurse_headers):
    case = patient(FEVER)["escalation_id"]
    client.post(f"{BASE}/{case}/acknowledge", headers=nurse_headers)
    assert patient(EMERGENCY)["escalation_id"] == case
    [row] = client.get(BASE, params={"status": "acknowledged"}, headers=nurse_headers).json()["items"]
    assert row["tier"] == "emergency" and row["report_count"] == 2


def test_the_live_hub_hears_the_update(client, ctx, patient, monkeypatch):
    published: list[dict] = []
    monkeypatch.setattr(ctx.events, "publish", published.append)
    patient(FEVER)
    patient(EMERGENCY)
    assert [e["event"] for e in published] == ["escalation.created", "escalation.updated"]
    assert published[1]["tier"] == "emergency"


def test_assign_and_release_are_audited_and_shown_in_the_queue(client, ctx, patient, nurse, nurse_headers, make_staff):
    case = patient(FEVER)["escalation_id"]
    held = client.post(f"{BASE}/{case}/assign", headers=nurse_headers).json()
    assert held["assigned_to"]["name"] == "Nora Nurse" and held["status"] == "acknowledged"
    make_staff("other@clinic.test", "Omar Other")
    other = login(client, "other@clinic.test")
    refused = client.post(f"{BASE}/{case}/assign", headers=other)
    assert refused.status_code == 409 and "Nora Nurse" in refused.json()["error"]["message"]
    assert client.post(f"{BASE}/{case}/release", headers=other).status_code == 409
    [row] = client.get(BASE, params={"status": "active", "assigned": "me"}, headers=nurse_headers).json()["items"]
    assert row["assigned_to"]["id"] == nurse and row["waited_seconds"] >= 0
    released = client.post(f"{BASE}/{case}/release", headers=nurse_headers).json()
    assert released["assigned_to"] is None
    actions = [
        (r.action, r.outcome) for r in audit_rows(ctx, object_id=case) if "assign" in r.action or "release" in r.action
    ]
    assert actions == [
        ("escalation.assign", "success"),
        ("escalation.assign", "failure"),
        ("escalation.release", "failure"),
        ("escalation.release", "success"),
    ]


@pytest.mark.usefixtures("passes_run_by_the_test")
def test_an_unheld_case_past_its_target_is_overdue_and_announced_once(client, ctx, patient, nurse_headers):
    case = patient(FEVER)["escalation_id"]  # call provider: 30 minutes by default
    assert client.get(BASE, params={"overdue": "true"}, headers=nurse_headers).json()["total"] == 0
    _backdate(ctx, case, 31)
    [row] = client.get(BASE, params={"overdue": "true"}, headers=nurse_headers).json()["items"]
    assert row["id"] == case and row["overdue"] is True
    published: list[dict] = []
    ctx.events.publish = published.append  # this app only, for this test
    assert asyncio.run(announce_overdue(ctx)) == 1
    assert asyncio.run(announce_overdue(ctx)) == 0  # once per case
    assert [e["event"] for e in published] == ["escalation.overdue"]
    assert [t for t, _ in _outbox(ctx)].count("escalation.overdue") == 1
    client.post(f"{BASE}/{case}/assign", headers=nurse_headers)
    assert client.get(BASE, params={"overdue": "true", "status": "active"}, headers=nurse_headers).json()["total"] == 0


def test_a_held_case_is_not_claimed_as_overdue(client, ctx, patient, nurse_headers):
    case = patient(FEVER)["escalation_id"]
    client.post(f"{BASE}/{case}/assign", headers=nurse_headers)
    _backdate(ctx, case, 120)
    with transaction(ctx.sessions) as session:
        assert claim_overdue(session, ctx.settings) == []


def test_the_sbar_summary_names_the_callback_number_and_each_report(client, patient, nurse_headers):
    case = patient(FEVER)["escalation_id"]
    patient(EMERGENCY)
    detail = client.get(f"{BASE}/{case}", headers=nurse_headers).json()
    summary = detail["summary"]
    assert summary["contact"] == {"name": "Pat Example", "phone": "+1 555 0142", "source": "portal"}
    assert summary["situation"]["tier"] == "emergency"
    assert summary["situation"]["told_number"] == client.app.state.ctx.clinic.emergency_number
    assert summary["situation"]["told"], "what the assistant answered to the latest report"
    assert [a["words"] for a in summary["assessment"]] == [FEVER, EMERGENCY]
    assert summary["background"]["enrolled"] is False
    assert "+1 555 0142" in summary["recommendation"]


def test_a_token_without_contact_claims_leaves_the_contact_empty(client, settings, nurse_headers, raise_escalation):
    case = raise_escalation()
    contact = client.get(f"{BASE}/{case}", headers=nurse_headers).json()["summary"]["contact"]
    assert contact == {"name": None, "phone": None, "source": None}


def test_a_case_held_by_another_nurse_is_theirs_to_resolve(client, patient, nurse_headers, make_staff):
    case = patient(FEVER)["escalation_id"]
    client.post(f"{BASE}/{case}/assign", headers=nurse_headers)
    make_staff("other@clinic.test", "Omar Other")
    other = login(client, "other@clinic.test")
    refused = client.post(f"{BASE}/{case}/resolve", json={"note": "called"}, headers=other)
    assert refused.status_code == 409 and "held by Nora Nurse" in refused.json()["error"]["message"]
    make_staff("boss@clinic.test", "Ada Admin", "admin")
    admin = login(client, "boss@clinic.test")
    assert client.post(f"{BASE}/{case}/resolve", json={"note": "shift ended"}, headers=admin).status_code == 200


def test_the_background_and_callback_number_come_from_the_enrollment(client, ctx, nurse_headers, raise_escalation):
    from api.enrollments.models import Enrollment

    with transaction(ctx.sessions) as session:
        session.add(
            Enrollment(
                external_id="ext-1",
                source="test",
                patient_id="patient-1",
                procedure_at=dt.datetime(2026, 11, 26, 9, tzinfo=dt.timezone.utc),
                timezone="America/Chicago",
                channels=["sms"],
                phone_number="+15550177",
                site="hip",
                risk_flags=["anticoagulant"],
            )
        )
    case = raise_escalation("patient-1")  # a token without contact claims
    summary = client.get(f"{BASE}/{case}", headers=nurse_headers).json()["summary"]
    assert summary["background"] == {
        "enrolled": True,
        "procedure_at": "2026-11-26T09:00:00+00:00",
        "site": "hip",
        "risk_factors": ["anticoagulant"],
    }
    assert summary["contact"] == {"name": None, "phone": "+15550177", "source": "enrollment"}
