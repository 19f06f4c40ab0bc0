"""A nurse replies to the patient: stored in the transcript (role staff, with the nurse's name),
audited, shown live in the patient's feed, and while the nurse holds the case the assistant
steps back on routine questions, never on warning signs."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncGenerator

from api.care_team.stream import staff_messages
from api.identity import mint_patient_token
from tests.staff.conftest import WARNING_MESSAGE, audit_rows, login

ROUTINE = "when can I have a shower?"
REPLY = "Hello, this is Nora. Please keep the dressing on today; I will call you at 3."


def _patient(settings, patient_id: str = "patient-1") -> dict:
    return {"Authorization": f"Bearer {mint_patient_token(patient_id, settings)}"}


def _conversation_of(client, headers, escalation) -> str:
    return client.get(f"/api/v1/escalations/{escalation}", headers=headers).json()["conversation_id"]


def _acknowledge(client, headers, escalation) -> None:
    assert client.post(f"/api/v1/escalations/{escalation}/acknowledge", headers=headers).status_code == 200


def _reply(client, headers, escalation, text: str = REPLY):
    return client.post(f"/api/v1/escalations/{escalation}/messages", json={"text": text}, headers=headers)


def test_a_reply_joins_the_patients_transcript_with_the_nurses_name(client, settings, nurse_headers, escalation):
    _acknowledge(client, nurse_headers, escalation)
    response = _reply(client, nurse_headers, escalation)
    assert response.status_code == 201, response.text
    conversation = response.json()["conversation_id"]
    lines = client.get(f"/api/v1/conversations/{conversation}/messages", headers=_patient(settings)).json()
    last = lines["messages"][-1]
    assert (last["role"], last["text"], last["author"]) == ("staff", REPLY, "Nora Nurse")
    assert last["id"] == response.json()["message"]["id"]


def test_a_reply_is_audited_without_its_text(client, ctx, nurse, nurse_headers, escalation):
    _acknowledge(client, nurse_headers, escalation)
    _reply(client, nurse_headers, escalation)
    rows = audit_rows(ctx, action="escalation.reply")
    assert [(r.actor_id, r.object_id, r.outcome) for r in rows] == [(nurse, escalation, "success")]
    assert all(REPLY not in str(value) for r in rows for value in vars(r).values())


def test_replying_needs_the_case_held_and_not_resolved(client, ctx, nurse_headers, escalation):
    refused = _reply(client, nurse_headers, escalation)
    assert refused.status_code == 409 and "acknowledge" in refused.json()["error"]["message"]
    _acknowledge(client, nurse_headers, escalation)
    client.post(f"/api/v1/escalations/{escalation}/resolve", json={"note": "called back"}, headers=nurse_headers)
    after = _reply(client, nurse_headers, escalation)
    assert after.status_code == 409 and "resolved" in after.json()["error"]["message"]
    assert [r.outcome for r in audit_rows(ctx, action="escalation.reply")] == ["failure", "failure"]


def test_a_reply_needs_staff_and_a_visible_case(client, settings, nurse_headers, escalation):
    assert _reply(client, _patient(settings), escalation).status_code == 401
    assert _reply(client, nurse_headers, "no-such-case").status_code == 404
    assert _reply(client, nurse_headers, escalation, "   ").status_code == 422


def test_a_cookie_reply_needs_the_csrf_header(client, ctx, nurse, escalation):
    from api.staff.sessions import csrf_token, token_hash

    _acknowledge(client, login(client, "nurse@clinic.test"), escalation)
    login(client, "nurse@clinic.test", keep_cookie=True)
    assert _reply(client, {}, escalation).status_code == 403
    csrf = csrf_token(ctx.settings, token_hash(client.cookies["aftercare_staff"]))
    assert _reply(client, {"X-CSRF-Token": csrf}, escalation).status_code == 201


def _say(client, settings, conversation: str, text: str) -> dict:
    response = client.post(
        f"/api/v1/conversations/{conversation}/messages", json={"text": text}, headers=_patient(settings)
    )
    assert response.status_code == 200, response.text
    return response.json()


def test_while_held_routine_questions_wait_for_the_nurse(client, settings, nurse_headers, escalation):
    conversation = _conversation_of(client, nurse_headers, escalation)
    before = _say(client, settings, conversation, ROUTINE)
    assert before["replies"][0]["kind"] != "held"  # open, nobody holds it yet
    _acknowledge(client, nurse_headers, escalation)
    held = _say(client, settings, conversation, ROUTINE)
    assert held["replies"][0]["kind"] == "held"
    assert "Nora Nurse" in held["replies"][0]["text"] and "reply here" in held["replies"][0]["text"]
    assert held["replies"][0]["phone"]


def test_while_held_a_warning_sign_still_gets_the_safe_reply_at_once(client, settings, nurse_headers, escalation):
    conversation = _conversation_of(client, nurse_headers, escalation)
    _acknowledge(client, nurse_headers, escalation)
    warning = _say(client, settings, conversation, WARNING_MESSAGE)
    assert warning["triage"]["level"] != "none" and warning["replies"][0]["kind"] == "triage"
    assert warning["replies"][0]["phone"]


def test_resolving_hands_the_conversation_back(client, settings, nurse_headers, escalation):
    conversation = _conversation_of(client, nurse_headers, escalation)
    _acknowledge(client, nurse_headers, escalation)
    client.post(f"/api/v1/escalations/{escalation}/resolve", json={"note": "called back"}, headers=nurse_headers)
    assert _say(client, settings, conversation, ROUTINE)["replies"][0]["kind"] != "held"


# --- the patient's live feed ------------------------------------------------------------------


def test_the_patients_feed_delivers_a_reply_sent_while_listening(client, ctx, nurse_headers, escalation):
    _acknowledge(client, nurse_headers, escalation)
    conversation = _conversation_of(client, nurse_headers, escalation)

    async def run() -> list[dict]:
        feed = staff_messages(ctx, conversation, 0, recheck_seconds=30)
        assert isinstance(feed, AsyncGenerator)  # typed as an iterator; closed below
        received = [await feed.__anext__()]  # ready: subscribed
        await asyncio.to_thread(_reply, client, nurse_headers, escalation)
        received.append(await feed.__anext__())  # woken by the hub's notice, not the 30 s re-read
        await feed.aclose()
        return received

    ready, message = asyncio.run(asyncio.wait_for(run(), 10))
    assert ready["event"] == "ready" and message["event"] == "staff-message"
    line = json.loads(message["data"])
    assert (line["role"], line["text"], line["author"]) == ("staff", REPLY, "Nora Nurse")
    assert message["id"] == str(line["id"])
    assert ctx.events._subscribers == set()


def test_the_feed_resumes_after_the_last_line_seen(client, ctx, nurse_headers, escalation):
    _acknowledge(client, nurse_headers, escalation)
    conversation = _conversation_of(client, nurse_headers, escalation)
    first = _reply(client, nurse_headers, escalation, "first").json()["message"]["id"]
    _reply(client, nurse_headers, escalation, "second")

    async def run() -> list[dict]:
        feed = staff_messages(ctx, conversation, first, recheck_seconds=30)
        assert isinstance(feed, AsyncGenerator)  # typed as an iterator; closed below
        received = [await feed.__anext__(), await feed.__anext__()]
        await feed.aclose()
        return received

    _, message = asyncio.run(asyncio.wait_for(run(), 10))
    assert json.loads(message["data"])["text"] == "second"


def test_the_feed_is_the_owners_only(client, settings, escalation, nurse_headers):
    conversation = _conversation_of(client, nurse_headers, escalation)
    response = client.get(f"/api/v1/conversations/{conversation}/events", headers=_patient(settings, "someone-else"))
    assert response.status_code == 404
    assert client.get(f"/api/v1/conversations/{conversation}/events").status_code == 401
