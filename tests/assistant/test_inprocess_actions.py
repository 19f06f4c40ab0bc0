"""The in-process action endpoint behaves like a real action server for Rasa."""

import asyncio

import pytest
from rasa.utils.endpoints import ClientResponseError

from bot.assistant.inprocess_actions import InProcessActionEndpoint
from bot.content import ClinicSettings


def _call(action_name: str, intent: str = "ask_results") -> dict:
    tracker = {
        "sender_id": "s",
        "slots": {},
        "latest_message": {"text": "when are results back", "intent": {"name": intent}, "entities": []},
        "events": [],
        "paused": False,
        "followup_action": None,
        "active_loop": {},
        "latest_action_name": "action_listen",
    }
    return {"next_action": action_name, "tracker": tracker, "domain": {}, "version": "3.6.21"}


def test_runs_a_registered_action_and_returns_responses():
    result = asyncio.run(InProcessActionEndpoint().request(json=_call("action_answer_topic")))
    assert result["responses"][0]["custom"]["topic"] == "results"


def test_unknown_action_is_a_404_like_an_action_server():
    with pytest.raises(ClientResponseError) as error:
        asyncio.run(InProcessActionEndpoint().request(json=_call("action_does_not_exist")))
    assert error.value.status == 404


def test_actions_answer_with_the_clinic_settings_they_are_given():
    """The service hands its own clinic settings down; nothing reads a global on the way."""
    clinic = ClinicSettings(clinic_phone_day="+1-555-0123", clinic_phone_after_hours="+1-555-0123")
    result = asyncio.run(InProcessActionEndpoint(clinic).request(json=_call("action_answer_topic", "ask_soreness")))
    assert "+1-555-0123" in result["responses"][0]["text"]
