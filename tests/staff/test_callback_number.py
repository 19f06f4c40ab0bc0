"""A callback number confirmed in the chat (issue 12 item 2), through the API with the real
model: asked after "a nurse should call me" when no number is known, confirmed with Yes/No,
stored as the conversation's contact (source chat), announced on the case, shown in the SBAR.
A message that also reports a warning sign is triaged first; an emergency reply is never
followed by the question. The number never reaches a log line or an event."""

from __future__ import annotations

import logging

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from api.conversations.callback_number import (
    NO_PAYLOAD,
    YES_PAYLOAD,
    find_number,
    is_essentially_number,
    without_numbers,
)
from api.conversations.models import Conversation
from api.escalations.models import OutboxEvent
from api.identity import mint_patient_token
from api.main import create_app
from api.messaging import callback_number
from api.messaging.answer import Answer
from bot.triage import Tier
from tests.staff.conftest import login

HOOK = "https://hooks.clinic.example/aftercare"
ASK_FOR_A_PERSON = "Could somebody from the nurses phone me back please"
NUMBER_WORDS = ("07700", "900123", "7700900123")


@pytest.fixture
def settings(make_settings):
    return make_settings(webhook_url=HOOK)


@pytest.fixture
def client(settings, assistant):
    with TestClient(create_app(settings, assistant=assistant, load_assistant=False)) as test_client:
        yield test_client


@pytest.fixture
def published(ctx) -> list[dict]:
    events: list[dict] = []
    original = ctx.events.publish

    def publish(event: dict) -> None:
        events.append(event)
        original(event)

    ctx.events.publish = publish
    return events


def _start(client, settings, **claims: str):
    headers = {"Authorization": f"Bearer {mint_patient_token('patient-9', settings, 600, **claims)}"}
    conversation = client.post("/api/v1/conversations", headers=headers).json()["conversation_id"]

    def send(text: str) -> dict:
        response = client.post(f"/api/v1/conversations/{conversation}/messages", json={"text": text}, headers=headers)
        assert response.status_code == 200, response.text
        return response.json()

    return conversation, send


def _kinds(result: dict) -> list[str | None]:
    return [reply["kind"] for reply in result["replies"]]


def _contact(ctx, conversation_id: str) -> tuple[str | None, str | None, str | None]:
    with ctx.sessions() as session:
        row = session.get(Conversation, conversation_id)
        return row.contact_phone, row.contact_phone_source, row.callback_step


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("07700 900123", "07700 900123"),
        ("it's 07700-900-123", "07700 900 123"),
        ("call me on +44 (0)7700 900123 thanks", "+44 7700 900123"),
        ("(555) 014-2345", "555 014 2345"),
        ("my daughter\u2019s number is 5550142345", "555 014 2345"),
        ("+447700900123", "+44 7700 900123"),
        ("you can reach me at +1 555.014.2345", "+1 555 014 2345"),
    ],
)
def test_lay_formats_are_read_as_a_number_and_shown_grouped(text, shown):
    assert find_number(text) == shown
    assert is_essentially_number(text)


@pytest.mark.parametrize(
    "text",
    ["my temperature is 38.5", "27.11.2026", "since 2026-11-27", "it hurts", "101.3 F", "room 12", "no fever"],
)
def test_readings_dates_and_words_are_not_numbers(text):
    assert find_number(text) is None and not is_essentially_number(text)


def test_the_model_reads_my_number_where_the_patient_typed_digits():
    assert without_numbers("ring me back on 07700 900123 please") == "ring me back on my number please"
    assert without_numbers("it's 38.5 since 2026-11-27") == "it's 38.5 since 2026-11-27"  # not numbers
    assert without_numbers("the site is bleeding") == "the site is bleeding"


def test_a_number_with_other_words_is_not_only_a_number():
    assert find_number("07700 900123 and the site is bleeding") == "07700 900123"
    assert not is_essentially_number("07700 900123 and the site is bleeding")


def test_asked_confirmed_stored_announced_and_shown_on_the_case(client, ctx, settings, nurse_headers, published):
    conversation, send = _start(client, settings)
    asked = send(ASK_FOR_A_PERSON)
    assert _kinds(asked) == ["handoff", "callback_number"] and asked["escalation_id"]
    assert "what phone number" in asked["replies"][-1]["text"].lower()

    proposed = send("it's 07700 900123")
    [confirm] = proposed["replies"]
    assert confirm["text"] == "The nurse will call you on 07700 900123. Is that right?"
    assert [b["title"] for b in confirm["buttons"]] == ["Yes", "No"]
    assert _contact(ctx, conversation) == (None, None, "confirming")  # nothing stored before the Yes

    published.clear()
    saved = send(confirm["buttons"][0]["payload"])
    assert _kinds(saved) == ["callback_number"] and "07700 900123" in saved["replies"][0]["text"]
    assert _contact(ctx, conversation) == ("07700 900123", "chat", None)

    case = client.get(f"/api/v1/escalations/{asked['escalation_id']}", headers=nurse_headers).json()
    assert case["summary"]["contact"] == {"name": None, "phone": "07700 900123", "source": "chat"}
    assert "on 07700 900123" in case["summary"]["recommendation"]
    [event] = [e for e in published if e["event"] == "escalation.updated"]
    assert event["change"] == "contact" and event["escalation_id"] == asked["escalation_id"]
    with ctx.sessions() as session:
        outbox = session.execute(sa.select(OutboxEvent.topic, OutboxEvent.payload).order_by(OutboxEvent.id)).all()
    assert [topic for topic, _ in outbox] == ["escalation.created", "escalation.updated"]
    assert outbox[-1][1]["change"] == "contact"
    assert not any(word in str(payload) + str(event) for _, payload in outbox for word in NUMBER_WORDS)


def test_the_case_page_shows_the_number_given_in_the_chat_as_a_tel_link(client, settings, nurse):
    _conversation, send = _start(client, settings)
    case_id = send(ASK_FOR_A_PERSON)["escalation_id"]
    send("call me on +44 7700 900123")
    send(YES_PAYLOAD)
    login(client, "nurse@clinic.test", keep_cookie=True)
    page = client.get(f"/staff/escalations/{case_id}").text
    assert 'href="tel:+447700900123"' in page and "+44 7700 900123" in page and "given in the chat" in page


def test_no_asks_once_more_then_stops_asking(client, ctx, settings):
    conversation, send = _start(client, settings)
    send(ASK_FOR_A_PERSON)
    send("07700 900123")
    again = send(NO_PAYLOAD)
    assert _kinds(again) == ["callback_number"] and "what number" in again["replies"][0]["text"].lower()
    send("07700 900124")
    given_up = send("nope")
    assert _kinds(given_up) == ["callback_number"] and "records" in given_up["replies"][0]["text"]
    assert _contact(ctx, conversation) == (None, None, None)
    later = send("07700 900125")
    assert "callback_number" not in _kinds(later)  # not asked again, so not read as an answer


def test_a_known_number_is_not_asked_for(client, ctx, settings):
    conversation, send = _start(client, settings, phone_number="+1 555 0142")
    asked = send(ASK_FOR_A_PERSON)
    assert "callback_number" not in _kinds(asked)
    assert _contact(ctx, conversation) == ("+1 555 0142", None, None)


def test_a_warning_sign_with_the_number_is_triaged_first_and_the_question_follows(client, ctx, settings):
    conversation, send = _start(client, settings)
    case = send(ASK_FOR_A_PERSON)["escalation_id"]
    result = send("call me on 07700 900123, I have a fever of 39.2")
    assert result["triage"]["level"] == "call_provider" and result["escalation_id"] == case
    assert _kinds(result)[0] == "triage" and _kinds(result)[-1] == "callback_number"
    assert "07700 900123" in result["replies"][-1]["text"]
    assert _contact(ctx, conversation)[2] == "confirming"


def test_a_clarifying_question_goes_first_and_the_number_waits(client, ctx, settings):
    conversation, send = _start(client, settings)
    send(ASK_FOR_A_PERSON)
    result = send("call me on 07700 900123, the biopsy site has started bleeding")
    assert result["triage"]["level"] == "call_provider" and result["replies"][-1]["kind"] == "follow_up"
    assert "callback_number" not in _kinds(result)
    assert _contact(ctx, conversation)[2] == "asking"


def test_an_emergency_reply_is_never_followed_by_the_number_question(client, ctx, settings):
    conversation, send = _start(client, settings)
    send(ASK_FOR_A_PERSON)
    result = send("07700 900123 I can't breathe and my chest is tight")
    assert result["triage"]["level"] == "emergency"
    assert "callback_number" not in _kinds(result)
    assert _contact(ctx, conversation)[2] == "asking"  # still waiting, for a calmer message
    assert all(word not in " ".join(r["text"] for r in result["replies"]) for word in NUMBER_WORDS)


def test_a_yes_that_also_reports_a_sign_is_triaged_not_taken_as_a_confirmation(client, ctx, settings):
    conversation, send = _start(client, settings)
    send(ASK_FOR_A_PERSON)
    send("07700 900123")
    result = send("yes but now I have a fever of 39")
    assert result["triage"]["level"] != "none" and "callback_number" not in _kinds(result)
    assert _contact(ctx, conversation) == (None, None, "confirming")


def test_the_number_is_never_logged(client, settings, caplog):
    caplog.set_level(logging.DEBUG)
    _conversation, send = _start(client, settings)
    send(ASK_FOR_A_PERSON)
    send("it's 07700 900123")
    send(YES_PAYLOAD)
    logged = " ".join(record.getMessage() + str(record.__dict__) for record in caplog.records)
    assert logged and not any(word in logged for word in NUMBER_WORDS)


def test_a_failing_callback_step_still_sends_the_turns_own_reply(client, settings, monkeypatch):
    from api.messaging import callback_number

    def broken(*_args, **_kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(callback_number, "_step", broken)
    _conversation, send = _start(client, settings)
    result = send(ASK_FOR_A_PERSON)
    assert _kinds(result) == ["handoff"] and result["escalation_id"]


def test_a_number_given_with_the_request_is_confirmed_without_asking_for_it(client, ctx, settings):
    conversation, send = _start(client, settings)
    result = send("can a nurse ring me back on 07700 900123 please")
    assert _kinds(result) == ["handoff", "callback_number"] and result["escalation_id"]
    assert result["replies"][-1]["text"] == "The nurse will call you on 07700 900123. Is that right?"
    send("yes")
    assert _contact(ctx, conversation) == ("07700 900123", "chat", None)


def test_a_bare_number_the_model_took_for_a_report_opens_nothing(client, ctx, settings):
    """The model may read a typed number as a warning sign; with nothing from the detector or the
    conversation behind it, the asked-for number is confirmed and no escalation report is made."""
    conversation, send = _start(client, settings)
    send(ASK_FOR_A_PERSON)
    misread = Answer([], Tier.CALL_PROVIDER, [], None, "assistant")
    answer = callback_number.follow_up(ctx, conversation, "07700 900123", misread)
    assert [r.kind for r in answer.replies] == ["callback_number"]
    assert answer.tier is Tier.NONE and answer.disposition is None
    backed = Answer([], Tier.CALL_PROVIDER, ["bleeding"], None, "assistant")  # a sign said earlier stands
    assert callback_number.follow_up(ctx, conversation, "07700 900123", backed).tier is Tier.CALL_PROVIDER
