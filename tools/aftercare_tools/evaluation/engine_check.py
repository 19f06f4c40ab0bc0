"""Plays conversations.yml through the detector and the conversation engine directly (no Rasa,
no API) and counts the per-turn checks: a quick yardstick while the engine is built, and the
engine's cost per message.

    PYTHONPATH=$PWD:$PWD/tools python -m aftercare_tools.evaluation.engine_check [--verbose]

It measures the engine alone; `aftercare eval --conversations` through the API stays the gate.
Prints conversation ids and levels only, never message text, unless --verbose is given.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from aftercare_tools.evaluation.conversations import Conversation, Turn, load_conversations
from bot.triage import get_detector
from bot.triage.conversation import Assessment, ConversationState, assess


@dataclass(frozen=True)
class Played:
    """One turn played through the detector and the conversation engine."""

    conversation: Conversation
    number: int  # 1-based turn number
    turn: Turn
    state: ConversationState  # after the turn
    assessment: Assessment
    ms: float  # detector + assess, by the replay's clock


def replay(
    detector: Any,
    conversations: Sequence[Conversation] | None = None,
    fever_threshold_c: float = 38.0,
    clock: Callable[[], float] = time.perf_counter,
) -> Iterator[Played]:
    """Every turn of every conversation (each from an empty state), as the service judges a
    message: the detector, then the conversation's assessment, timed by `clock` (seconds).
    Also what `aftercare bench` times as the detector + conversation context cost."""
    for conversation in load_conversations() if conversations is None else conversations:
        state = ConversationState.empty()
        for number, turn in enumerate(conversation.turns, start=1):
            started = clock()
            detection = detector.detect(turn.text)
            state, assessment = assess(state, detection, turn.text, fever_threshold_c=fever_threshold_c)
            yield Played(conversation, number, turn, state, assessment, (clock() - started) * 1000)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--verbose", action="store_true", help="print the failing turns' text")
    args = parser.parse_args(argv)
    detector = get_detector()
    checks = passed = asked_after_emergency = asks_expected = asks_met = 0
    failed_by_category: Counter[str] = Counter()
    timings: list[float] = []
    for played in replay(detector):
        conversation, turn, state, assessment = played.conversation, played.turn, played.state, played.assessment
        timings.append(played.ms)
        level_ok = assessment.tier.value == turn.expect.level
        question_ok = not (turn.expect.no_question and assessment.question)
        asked_after_emergency += int(state.emergency_told and assessment.question is not None)
        asks_expected += int(turn.expect.asks is not None)
        asks_met += int(turn.expect.asks is not None and assessment.question == turn.expect.asks)
        checks += 1 + int(turn.expect.no_question)
        passed += int(level_ok) + int(turn.expect.no_question and question_ok)
        if not (level_ok and question_ok):
            failed_by_category[conversation.category] += 1
            text = f"  {turn.text!r}" if args.verbose else ""
            print(
                f"FAIL {conversation.id} turn {played.number}: expected {turn.expect.level}, got "
                f"{assessment.tier.value} ({assessment.disposition}, question {assessment.question}){text}"
            )
    print(f"checks passed: {passed}/{checks}; questions after an emergency: {asked_after_emergency}")
    print(f"expected questions asked (reported, not gated): {asks_met}/{asks_expected}")
    print("failed turns by category:", dict(failed_by_category.most_common()))
    timings.sort()
    print(
        f"detector + assess per message: p50 {statistics.median(timings):.2f} ms, "
        f"p95 {timings[int(len(timings) * 0.95)]:.2f} ms over {len(timings)} messages"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
