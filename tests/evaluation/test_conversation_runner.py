"""The multi-turn runner through the real patient API (create_app on SQLite): first with a scripted
assistant to pin the plumbing, then two shipped conversations through the trained model."""

from __future__ import annotations

import pytest

from aftercare_tools.evaluation.conversation_runner import in_process_api, play_conversations
from aftercare_tools.evaluation.conversations import load_conversations, parse_conversations
from bot.assistant.runtime import AssistantReply
from bot.triage import Detection


class ScriptedAssistant:
    """Answers by message text and remembers which Rasa sender each message came under."""

    def __init__(self, script: dict[str, list[dict]]) -> None:
        self.script = script
        self.senders: dict[str, str] = {}

    async def respond(
        self, sender: str, text: str, detection: Detection | None = None, assessment: object = None
    ) -> AssistantReply:
        self.senders[text] = sender
        if text not in self.script:
            raise RuntimeError("the model failed")
        return AssistantReply.from_messages(self.script[text])


def _doc(*conversations):
    return parse_conversations({"conversations": list(conversations)})


SCRIPT = {
    "i passed out": [
        {"text": "Call 911 now.", "custom": {"kind": "triage", "tier": "emergency", "signs": ["fainting"]}},
        # A misbehaving assistant's question (the API drops its own follow_up kind after an
        # emergency reply; this one must still be seen by the runner).
        {"text": "Please tell me your temperature.", "custom": {"kind": "clarify", "tier": "emergency"}},
    ],
    "ok calling": [{"text": "Good.", "custom": {"kind": "answer"}}],
    "can I shower": [{"text": "After 24 hours.", "custom": {"kind": "answer", "topic": "wound_care"}}],
}


def test_turns_go_through_the_api_in_one_conversation_each():
    conversations = _doc(
        {
            "id": "e-1",
            "category": "emergency_then_more",
            "turns": [
                {"text": "i passed out", "expect": {"level": "emergency", "no_question": True}},
                {"text": "ok calling", "expect": {"level": "none", "no_question": True}},
            ],
        },
        {
            "id": "b-1",
            "category": "benign",
            "turns": [
                {"text": "can I shower", "expect": {"level": "none"}},
                {"text": "the model will fail on this one", "expect": {"level": "none"}},
            ],
        },
    )
    assistant = ScriptedAssistant(SCRIPT)
    with in_process_api(assistant) as (client, token_for):
        [(_, emergency), (_, benign)] = play_conversations(client, token_for, conversations, progress=False)

    assert [(o.level, o.asked_question, o.answered_by, o.status) for o in emergency] == [
        ("emergency", True, "assistant", 200),
        ("none", False, "assistant", 200),
    ]
    assert emergency[0].asked == ("temperature",)
    # A model failure is the API's fail-safe reply, not a crash of the evaluation.
    assert [(o.level, o.answered_by, o.error) for o in benign] == [
        ("none", "assistant", None),
        ("none", "failsafe", None),
    ]
    # Both turns of a conversation reach the assistant as one conversation; conversations differ.
    senders = assistant.senders
    assert senders["i passed out"] == senders["ok calling"] != senders["can I shower"]


@pytest.mark.integration
def test_two_shipped_conversations_through_the_trained_model(assistant):
    """The real product path end to end: detector, Rasa, escalations, SQLite."""
    wanted = {"em-01", "bg-01"}
    conversations = [c for c in load_conversations() if c.id in wanted]
    with in_process_api(assistant) as (client, token_for):
        played = dict(
            (c.id, observed) for c, observed in play_conversations(client, token_for, conversations, progress=False)
        )
    assert set(played) == wanted
    for observed in played.values():
        assert all(o.error is None and o.status == 200 for o in observed)
        assert all(o.answered_by in {"assistant", "safety_net"} for o in observed)
    assert played["em-01"][0].level == "emergency"  # "i fainted in the bathroom just now"
    assert [o.level for o in played["bg-01"]] == ["none", "none", "none"]  # shower, pain medicine, thanks
