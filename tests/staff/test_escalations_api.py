"""The queue, the audited detail view, and the acknowledge/resolve transitions (AUD-2, AC-1)."""

from __future__ import annotations

import datetime as dt
import logging

from api.db import transaction
from api.escalations.service import open_escalation
from tests.staff.conftest import WARNING_MESSAGE, audit_rows, login

BASE = "/api/v1/escalations"


def _add(ctx, escalation_id: str, tier: str, minutes_ago: int) -> str:
    """A case in a new conversation of the same patient, backdated: for ordering tests.
    (Another report in the same conversation would attach to its open case.)"""
    with transaction(ctx.sessions) as session:
        from api.conversations import repository
        from api.escalations.models import Escalation

        template = session.get(Escalation, escalation_id)
        original = repository.get_conversation(session, template.conversation_id)
        assert original is not None
        conversation = repository.create_conversation(session, original.patient_id)
        message = repository.add_message(session, conversation.id, "patient", "report", "call_provider")
        row = open_escalation(session, conversation.id, message.id, tier, ["test"], False)
        row.created_at = dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=minutes_ago)
        return row.id


def test_a_patient_warning_sign_appears_in_the_open_queue(client, nurse_headers, escalation):
    queue = client.get(BASE, headers=nurse_headers).json()
    assert queue["status"] == "open" and queue["total"] == 1
    [item] = queue["items"]
    assert item["id"] == escalation and item["status"] == "open"
    assert item["tier"] in {"emergency", "call_provider"} and "fever" in item["signs"]


def test_the_queue_is_emergency_first_then_oldest_first(client, ctx, nurse_headers, escalation):
    ids = {
        name: _add(ctx, escalation, tier, minutes)
        for name, tier, minutes in [
            ("old_callback", "callback", 90),
            ("new_emergency", "emergency", 1),
            ("old_emergency", "emergency", 30),
            ("old_provider", "call_provider", 60),
            ("new_provider", "call_provider", 5),
        ]
    }
    order = [i["id"] for i in client.get(BASE, headers=nurse_headers).json()["items"] if i["id"] != escalation]
    expected = ["old_emergency", "new_emergency", "old_provider", "new_provider", "old_callback"]
    assert order == [ids[name] for name in expected]


def test_the_queue_list_carries_no_message_text_or_patient_id(client, nurse_headers, raise_escalation):
    raise_escalation(patient_id="patient-canary", text="CANARY-7731 fever of 39.5 and bleeding")
    body = client.get(BASE, headers=nurse_headers).text
    assert "CANARY-7731" not in body and "patient-canary" not in body


def test_the_queue_filters_by_status(client, nurse_headers, escalation):
    client.post(f"{BASE}/{escalation}/acknowledge", headers=nurse_headers)
    assert client.get(BASE, headers=nurse_headers).json()["items"] == []
    acknowledged = client.get(BASE, params={"status": "acknowledged"}, headers=nurse_headers).json()
    assert [i["id"] for i in acknowledged["items"]] == [escalation]
    assert acknowledged["items"][0]["acknowledged_by"]["name"] == "Nora Nurse"
    assert client.get(BASE, params={"status": "closed"}, headers=nurse_headers).status_code == 422
    assert client.get(BASE, params={"limit": 1000}, headers=nurse_headers).status_code == 422


def test_detail_has_the_transcript_and_patient_id(client, nurse_headers, raise_escalation):
    escalation = raise_escalation(patient_id="patient-42")
    detail = client.get(f"{BASE}/{escalation}", headers=nurse_headers).json()
    assert detail["patient_id"] == "patient-42"
    assert detail["transcript"][0]["role"] == "patient" and detail["transcript"][0]["text"] == WARNING_MESSAGE
    assert detail["transcript"][0]["id"] == detail["message_id"]
    assert detail["transcript"][-1]["role"] == "assistant" and detail["transcript_truncated"] is False


def test_every_transcript_view_is_audited(client, ctx, nurse, nurse_headers, escalation):
    conversation = client.get(f"{BASE}/{escalation}", headers=nurse_headers).json()["conversation_id"]
    client.get(f"{BASE}/{escalation}", headers=nurse_headers)
    rows = audit_rows(ctx, action="transcript.view")
    assert len(rows) == 2
    assert {(r.actor_id, r.actor_role, r.object_type, r.object_id, r.outcome) for r in rows} == {
        (nurse, "nurse", "conversation", conversation, "success")
    }


def test_an_unknown_escalation_is_404_and_not_audited(client, ctx, nurse_headers):
    for path in ("", "/acknowledge"):
        assert (
            client.request("GET" if not path else "POST", f"{BASE}/{'a' * 32}{path}", headers=nurse_headers).status_code
            == 404
        )
    assert audit_rows(ctx, object_type="escalation") == [] and audit_rows(ctx, action="transcript.view") == []


def test_acknowledge_then_resolve_with_a_note(client, ctx, nurse, nurse_headers, escalation):
    acked = client.post(f"{BASE}/{escalation}/acknowledge", headers=nurse_headers).json()
    assert acked["status"] == "acknowledged" and acked["acknowledged_by"] == {
        "id": nurse,
        "name": "Nora Nurse",
    }
    resolved = client.post(
        f"{BASE}/{escalation}/resolve",
        json={"note": "Called back; coming in."},
        headers=nurse_headers,
    ).json()
    assert resolved["status"] == "resolved" and resolved["resolved_by"]["id"] == nurse
    detail = client.get(f"{BASE}/{escalation}", headers=nurse_headers).json()
    assert detail["resolution_note"] == "Called back; coming in."


def test_each_state_change_writes_one_audit_row(client, ctx, nurse, nurse_headers, escalation):
    client.post(f"{BASE}/{escalation}/acknowledge", headers=nurse_headers)
    client.post(f"{BASE}/{escalation}/resolve", json={"note": "Called back"}, headers=nurse_headers)
    rows = [
        (r.action, r.actor_id, r.object_type, r.object_id, r.outcome) for r in audit_rows(ctx, object_type="escalation")
    ]
    assert rows == [
        ("escalation.acknowledge", nurse, "escalation", escalation, "success"),
        ("escalation.resolve", nurse, "escalation", escalation, "success"),
    ]


def test_the_resolution_note_never_reaches_the_audit_trail(client, ctx, nurse_headers, escalation):
    client.post(f"{BASE}/{escalation}/acknowledge", headers=nurse_headers)
    client.post(f"{BASE}/{escalation}/resolve", json={"note": "NOTE-CANARY-55"}, headers=nurse_headers)
    assert not any("NOTE-CANARY-55" in str(vars(row)) for row in audit_rows(ctx))


def test_resolve_needs_a_note(client, nurse_headers, escalation):
    client.post(f"{BASE}/{escalation}/acknowledge", headers=nurse_headers)
    for body in ({}, {"note": "   "}, {"note": "x" * 2001}):
        response = client.post(f"{BASE}/{escalation}/resolve", json=body, headers=nurse_headers)
        assert response.status_code == 422, body


def test_resolving_an_open_escalation_is_409_with_a_clear_message(client, ctx, nurse_headers, escalation):
    response = client.post(f"{BASE}/{escalation}/resolve", json={"note": "done"}, headers=nurse_headers)
    assert response.status_code == 409
    assert response.json()["error"] == {
        "code": "invalid_transition",
        "message": "acknowledge this escalation before resolving it",
    }
    assert [r.outcome for r in audit_rows(ctx, action="escalation.resolve")] == ["failure"]


def test_acknowledging_twice_is_409_naming_who_has_it(client, ctx, nurse_headers, make_staff, escalation):
    make_staff("second@clinic.test", "Sam Second")
    client.post(f"{BASE}/{escalation}/acknowledge", headers=nurse_headers)
    response = client.post(f"{BASE}/{escalation}/acknowledge", headers=login(client, "second@clinic.test"))
    assert response.status_code == 409
    assert response.json()["error"]["message"] == "this escalation was already acknowledged by Nora Nurse"


def test_a_resolved_escalation_stays_resolved(client, nurse_headers, escalation):
    client.post(f"{BASE}/{escalation}/acknowledge", headers=nurse_headers)
    client.post(f"{BASE}/{escalation}/resolve", json={"note": "done"}, headers=nurse_headers)
    for action, body in (("acknowledge", None), ("resolve", {"note": "again"})):
        response = client.post(f"{BASE}/{escalation}/{action}", json=body, headers=nurse_headers)
        assert response.status_code == 409 and "already resolved" in response.json()["error"]["message"]


def test_staff_work_keeps_message_text_out_of_the_logs(client, nurse_headers, raise_escalation, caplog):
    """LOG-1 for the staff side: viewing and resolving never log the transcript or the note."""
    caplog.set_level(logging.DEBUG)
    escalation = raise_escalation(text="LOGCANARY-9 fever 39.4 and bleeding")
    client.get(f"{BASE}/{escalation}", headers=nurse_headers)
    client.post(f"{BASE}/{escalation}/acknowledge", headers=nurse_headers)
    client.post(f"{BASE}/{escalation}/resolve", json={"note": "NOTECANARY-9"}, headers=nurse_headers)
    logged = "\n".join(f"{r.getMessage()} {vars(r)}" for r in caplog.records)
    assert "LOGCANARY-9" not in logged and "NOTECANARY-9" not in logged
    assert nurse_headers["Authorization"].split()[1] not in logged
