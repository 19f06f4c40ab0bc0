"""The detector runs once per patient message: the API detects, and its detection travels with
the message through the NLU component to the triage action (real model, real detector)."""

from __future__ import annotations

import asyncio

import pytest

from bot.triage import Detector, get_detector


@pytest.fixture
def detect_calls(monkeypatch) -> list[str]:
    """Every Detector.detect call in this process, on any detector instance."""
    calls: list[str] = []
    real_detect = Detector.detect

    def counting_detect(self, text):
        calls.append(text)
        return real_detect(self, text)

    monkeypatch.setattr(Detector, "detect", counting_detect)
    return calls


@pytest.mark.integration
@pytest.mark.parametrize(
    ("text", "level"),
    [
        ("my hip is bleeding and I have a fever of 39", "call_provider"),  # triage action
        ("I feel hot and shivery", "call_provider"),  # triage action, then asks for a number
        ("he fainted and now he is confused", "emergency"),
        ("is it normal to be sore after the biopsy?", "none"),  # a topic answer
    ],
)
def test_one_detector_run_per_api_message(client, patient, conversation, detect_calls, text, level):
    response = client.post(f"/api/v1/conversations/{conversation}/messages", json={"text": text}, headers=patient)
    body = response.json()
    assert response.status_code == 200 and body["answered_by"] == "assistant", body
    assert body["triage"]["level"] == level
    assert detect_calls == [text]


@pytest.mark.integration
def test_the_assistant_detects_once_when_no_detection_came_along(assistant, detect_calls):
    """`aftercare eval`, rasa shell: the NLU component detects and the action reuses it."""
    reply = asyncio.run(assistant.respond("once-test-1", "the site is red and swollen"))
    assert reply.tier.value == "call_provider"
    assert detect_calls == ["the site is red and swollen"]


@pytest.mark.integration
def test_the_assistant_uses_the_detection_it_is_given(assistant, detect_calls):
    detection = get_detector().detect("I have chest pain")
    detect_calls.clear()
    reply = asyncio.run(assistant.respond("once-test-2", "I have chest pain", detection=detection))
    assert reply.tier.value == "emergency" and reply.signs == ["chest_pain"]
    assert detect_calls == []
