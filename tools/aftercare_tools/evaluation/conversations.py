"""The multi-turn evaluation set: loading and validation (conversations.yml, schema in its header).

Every error names the conversation (and turn) it is about, so a bad edit is found at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from aftercare_tools.evaluation.dataset import TIERS, normalise_text

DEFAULT_CONVERSATIONS = Path(__file__).with_name("conversations.yml")

CATEGORIES = (
    "fever_number_later",
    "bare_number",
    "trend_answer",
    "bleeding_followup",
    "size_change",
    "risk_then_sign",
    "risk_alone",
    "correction",
    "negation",
    "emergency_then_more",
    "benign",
    "unrelated",
)
ASKS = ("temperature", "duration", "trend", "size")
MIN_TURNS, MAX_TURNS = 2, 6
_CONVERSATION_KEYS = {"id", "category", "turns"}
_TURN_KEYS = {"text", "expect"}
_EXPECT_KEYS = {"level", "no_question", "asks"}


class ConversationSetError(ValueError):
    """conversations.yml is malformed; the message names the conversation."""


@dataclass(frozen=True)
class Expectation:
    level: str
    no_question: bool = False
    asks: str | None = None  # reported, not gated


@dataclass(frozen=True)
class Turn:
    text: str
    expect: Expectation


@dataclass(frozen=True)
class Conversation:
    id: str
    category: str
    turns: tuple[Turn, ...]


def _expectation(raw: Any, where: str) -> Expectation:
    if not isinstance(raw, dict):
        raise ConversationSetError(f"{where}: 'expect' must be a mapping with a 'level'")
    unknown = set(raw) - _EXPECT_KEYS
    if unknown:
        raise ConversationSetError(f"{where}: unknown expect keys {sorted(unknown)}")
    level = raw.get("level")
    if level not in TIERS:
        raise ConversationSetError(f"{where}: level must be one of {list(TIERS)}, got {level!r}")
    no_question = raw.get("no_question", False)
    if not isinstance(no_question, bool):
        raise ConversationSetError(f"{where}: no_question must be true or false")
    asks = raw.get("asks")
    if asks is not None and asks not in ASKS:
        raise ConversationSetError(f"{where}: asks must be one of {list(ASKS)}, got {asks!r}")
    if asks is not None and no_question:
        raise ConversationSetError(f"{where}: a turn cannot both expect a question and forbid one")
    return Expectation(level=level, no_question=no_question, asks=asks)


def _turn(raw: Any, where: str) -> Turn:
    if not isinstance(raw, dict):
        raise ConversationSetError(f"{where}: a turn must be a mapping with 'text' and 'expect'")
    unknown = set(raw) - _TURN_KEYS
    if unknown:
        raise ConversationSetError(f"{where}: unknown turn keys {sorted(unknown)}")
    text = raw.get("text")
    if not isinstance(text, str) or not text.strip():
        raise ConversationSetError(f"{where}: 'text' must be a non-empty string")
    return Turn(text=text, expect=_expectation(raw.get("expect"), where))


def _conversation(raw: Any, index: int) -> Conversation:
    if not isinstance(raw, dict):
        raise ConversationSetError(f"conversation {index}: expected a mapping")
    cid = raw.get("id")
    if not isinstance(cid, str) or not cid.strip():
        raise ConversationSetError(f"conversation {index}: 'id' must be a non-empty string")
    unknown = set(raw) - _CONVERSATION_KEYS
    if unknown:
        raise ConversationSetError(f"{cid}: unknown keys {sorted(unknown)}")
    if raw.get("category") not in CATEGORIES:
        raise ConversationSetError(f"{cid}: unknown category {raw.get('category')!r}")
    turns = raw.get("turns")
    if not isinstance(turns, list) or not MIN_TURNS <= len(turns) <= MAX_TURNS:
        raise ConversationSetError(f"{cid}: needs a list of {MIN_TURNS} to {MAX_TURNS} turns")
    parsed = tuple(_turn(t, f"{cid} turn {i + 1}") for i, t in enumerate(turns))
    _check_no_question_after_emergency(cid, parsed)
    return Conversation(id=cid, category=raw["category"], turns=parsed)


def _check_no_question_after_emergency(cid: str, turns: tuple[Turn, ...]) -> None:
    """Safety rule 1 is part of the labels: from the first emergency on, no turn may allow a question."""
    emergency_seen = False
    for number, turn in enumerate(turns, start=1):
        emergency_seen = emergency_seen or turn.expect.level == "emergency"
        if emergency_seen and not turn.expect.no_question:
            raise ConversationSetError(f"{cid} turn {number}: turns from an emergency on need no_question: true")


def parse_conversations(document: Any) -> list[Conversation]:
    rows = document.get("conversations") if isinstance(document, dict) else None
    if not isinstance(rows, list) or not rows:
        raise ConversationSetError("the set needs a non-empty 'conversations' list")
    conversations = [_conversation(row, i) for i, row in enumerate(rows)]
    seen: set[str] = set()
    for conversation in conversations:
        if conversation.id in seen:
            raise ConversationSetError(f"{conversation.id}: duplicate conversation id")
        seen.add(conversation.id)
    _check_repeated_first_turns(conversations)
    return conversations


def _check_repeated_first_turns(conversations: list[Conversation]) -> None:
    """Two conversations opening with the same message are one case counted twice."""
    openings: dict[str, str] = {}
    for conversation in conversations:
        key = normalise_text(conversation.turns[0].text)
        if key in openings:
            raise ConversationSetError(f"{conversation.id}: opens with the same message as {openings[key]}")
        openings[key] = conversation.id


def load_conversations(path: Path = DEFAULT_CONVERSATIONS) -> list[Conversation]:
    with Path(path).open(encoding="utf-8") as handle:
        return parse_conversations(yaml.safe_load(handle))
