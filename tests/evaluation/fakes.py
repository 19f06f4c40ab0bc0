"""Tiny stand-ins for the assistant and its replies, so the evaluation is tested without Rasa."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from aftercare_tools.evaluation.dataset import EvalCase
from bot.triage.vocabulary import Tier  # the real one: it imports neither spaCy nor Rasa


@dataclass
class FakeReply:
    tier: Tier = Tier.NONE
    signs: list[str] = field(default_factory=list)
    topic: str | None = None
    messages: list[dict] = field(default_factory=list)


def case(
    id: str,
    category: str = "topic",
    tier: str = "none",
    signs: Iterable[str] = (),
    topic: str | None = "soreness",
    text: str | None = None,
) -> EvalCase:
    if category == "report":
        topic = None
    return EvalCase(
        id=id,
        text=text or f"message {id}",
        category=category,
        expected_tier=tier,
        expected_signs=tuple(signs),
        expected_topic=topic,
    )


class ScriptedAssistant:
    """Answers from a text -> FakeReply table; unknown texts get a plain tier-none reply."""

    def __init__(self, replies: dict[str, FakeReply] | None = None, fail_on: set[str] | None = None):
        self.replies = replies or {}
        self.fail_on = fail_on or set()
        self.calls: list[tuple[str, str]] = []

    async def respond(self, conversation_id: str, text: str) -> FakeReply:
        self.calls.append((conversation_id, text))
        if text in self.fail_on:
            raise RuntimeError(f"boom on {text}")
        return self.replies.get(text, FakeReply())
