"""Metrics of the multi-turn evaluation: pure functions over (conversation, observed turns).

A check is one gated expectation of one turn: its level, and its no_question flag when set.
Under-triage: a turn whose reply's level is below the expected one (an unanswered turn counts
as level none). A question after an emergency: a reply that asks anything in a conversation
whose replies have already gone to (or are at) the emergency level.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from aftercare_tools.evaluation.conversation_runner import TurnObservation
from aftercare_tools.evaluation.conversations import CATEGORIES, Conversation, Turn
from aftercare_tools.evaluation.metrics import clopper_pearson
from bot.triage.vocabulary import Tier


@dataclass(frozen=True)
class ConversationGate:
    """Hard: every turn answered (HTTP 200 and a reply: no crash, no 500). Floors: figures that
    may not get worse (the defaults set none; REGRESSION_FLOOR holds today's). They only stop
    regressions: the conversation-aware triage engine of issue 11 is to raise them to 100% of
    checks, 0 under-triaged turns and 0 questions after an emergency, and they move with it."""

    min_checks_passed: int = 0
    max_under_triaged: int = 10**6
    max_questions_after_emergency: int = 10**6


# Measured 2026-11-27 on conversations.yml (91 conversations, 195 turns, 225 checks) with the
# conversation triage engine of issue 11 wired into the API (state per conversation, the
# assessment's disposition and question): 195 checks passed, 1 under-triaged turn (was 167 and
# 22 when each message was judged alone); 200 once a risk factor said alone stopped escalating.
# No question may follow an emergency reply (safety rule 1), so that floor is 0. Session 3
# (feeling hot asks first, bleeding tiers, acknowledgements, complaints elsewhere, plain
# denials): all 225 checks, 0 under-triaged turns.
REGRESSION_FLOOR = ConversationGate(min_checks_passed=225, max_under_triaged=0, max_questions_after_emergency=0)


@dataclass(frozen=True)
class TurnResult:
    conversation: Conversation
    number: int  # 1-based position in the conversation
    observed: TurnObservation
    after_emergency: bool  # an earlier or this turn's reply was at the emergency level

    @property
    def turn(self) -> Turn:
        return self.conversation.turns[self.number - 1]

    @property
    def expected_rank(self) -> int:
        return Tier(self.turn.expect.level).rank

    @property
    def observed_rank(self) -> int:
        return Tier(self.observed.level).rank

    @property
    def level_ok(self) -> bool:
        return self.observed.error is None and self.observed_rank == self.expected_rank

    @property
    def under_triaged(self) -> bool:
        return self.observed_rank < self.expected_rank

    @property
    def over_triaged(self) -> bool:
        return self.observed_rank > self.expected_rank

    @property
    def question_ok(self) -> bool | None:
        """None when the turn has no no_question check."""
        if not self.turn.expect.no_question:
            return None
        return self.observed.error is None and not self.observed.asked_question

    @property
    def checks(self) -> int:
        return 1 + (self.question_ok is not None)

    @property
    def checks_passed(self) -> int:
        return int(self.level_ok) + int(bool(self.question_ok))

    @property
    def passed(self) -> bool:
        return self.checks_passed == self.checks

    @property
    def question_after_emergency(self) -> bool:
        return self.after_emergency and self.observed.asked_question

    def row(self) -> dict[str, Any]:
        expect, seen = self.turn.expect, self.observed
        return {
            "conversation": self.conversation.id,
            "category": self.conversation.category,
            "turn": self.number,
            "text": self.turn.text,
            "expected_level": expect.level,
            "no_question": expect.no_question,
            "expected_asks": expect.asks,
            "level": seen.level,
            "asked_question": seen.asked_question,
            "asked": list(seen.asked),
            "answered_by": seen.answered_by,
            "status": seen.status,
            "error": seen.error,
            "passed": self.passed,
            "latency_ms": round(seen.latency_ms, 2),
        }


def turn_results(conversation: Conversation, observed: Sequence[TurnObservation]) -> list[TurnResult]:
    if len(observed) != len(conversation.turns):
        raise ValueError(f"{conversation.id}: {len(observed)} observations for {len(conversation.turns)} turns")
    results, emergency_seen = [], False
    for number, seen in enumerate(observed, start=1):
        emergency_seen = emergency_seen or seen.level == "emergency"
        results.append(TurnResult(conversation, number, seen, emergency_seen))
    return results


def _rate(numerator: int, denominator: int) -> dict[str, Any]:
    low, high = clopper_pearson(numerator, denominator)
    return {
        "count": numerator,
        "of": denominator,
        "rate": numerator / denominator if denominator else None,
        "ci95": [low, high],
    }


def _tally(turns: Sequence[TurnResult]) -> dict[str, Any]:
    return {
        "turns": len(turns),
        "checks": sum(t.checks for t in turns),
        "checks_passed": sum(t.checks_passed for t in turns),
        "under_triaged": sum(t.under_triaged for t in turns),
        "over_triaged": sum(t.over_triaged for t in turns),
        "questions_after_emergency": sum(t.question_after_emergency for t in turns),
    }


@dataclass
class ConversationMetrics:
    """Everything the report shows; to_dict() is reports/eval_conversations.json's body."""

    results: list[TurnResult]
    gate: ConversationGate = field(default_factory=ConversationGate)

    @property
    def conversations(self) -> dict[str, list[TurnResult]]:
        grouped: dict[str, list[TurnResult]] = {}
        for result in self.results:
            grouped.setdefault(result.conversation.id, []).append(result)
        return grouped

    @property
    def totals(self) -> dict[str, Any]:
        return _tally(self.results)

    @property
    def errors(self) -> list[TurnResult]:
        return [r for r in self.results if r.observed.error is not None]

    @property
    def conversations_passed(self) -> int:
        return sum(all(t.passed for t in turns) for turns in self.conversations.values())

    def by_category(self) -> dict[str, dict[str, Any]]:
        out = {}
        for category in CATEGORIES:
            turns = [r for r in self.results if r.conversation.category == category]
            if not turns:
                continue
            conversations = {r.conversation.id for r in turns}
            failed = {r.conversation.id for r in turns if not r.passed}
            out[category] = {
                **_tally(turns),
                "conversations": len(conversations),
                "conversations_passed": len(conversations - failed),
            }
        return out

    def asks(self) -> dict[str, Any]:
        """Reported only: turns labelled `asks`, and whether the reply asked that."""
        labelled = [r for r in self.results if r.turn.expect.asks]
        hits = [r for r in labelled if r.turn.expect.asks in r.observed.asked]
        return {"labelled": len(labelled), "asked": len(hits)}

    def gate_failures(self) -> list[str]:
        totals, g = self.totals, self.gate
        failures = []
        if self.errors:
            failures.append(f"{len(self.errors)} turns got no reply (HTTP error or crash)")
        if totals["checks_passed"] < g.min_checks_passed:
            failures.append(f"checks passed {totals['checks_passed']} < floor {g.min_checks_passed}")
        if totals["under_triaged"] > g.max_under_triaged:
            failures.append(f"under-triaged turns {totals['under_triaged']} > floor {g.max_under_triaged}")
        if totals["questions_after_emergency"] > g.max_questions_after_emergency:
            failures.append(
                f"questions after an emergency {totals['questions_after_emergency']} > floor "
                f"{g.max_questions_after_emergency}"
            )
        return failures

    @property
    def passed(self) -> bool:
        return not self.gate_failures()

    def to_dict(self) -> dict[str, Any]:
        totals = self.totals
        return {
            "gate": {
                "passed": self.passed,
                "failures": self.gate_failures(),
                "hard": "every turn answered with HTTP 200 and a reply",
                "floors": {
                    "min_checks_passed": self.gate.min_checks_passed,
                    "max_under_triaged": self.gate.max_under_triaged,
                    "max_questions_after_emergency": self.gate.max_questions_after_emergency,
                },
            },
            "conversations": len(self.conversations),
            "conversations_passed": self.conversations_passed,
            **totals,
            "check_pass_rate": _rate(totals["checks_passed"], totals["checks"]),
            "turn_pass_rate": _rate(sum(r.passed for r in self.results), totals["turns"]),
            "under_triage_rate": _rate(totals["under_triaged"], totals["turns"]),
            "over_triage_rate": _rate(totals["over_triaged"], totals["turns"]),
            "errors": len(self.errors),
            "answered_by": _count(r.observed.answered_by or "(none)" for r in self.results),
            "asks": self.asks(),
            "by_category": self.by_category(),
        }


def _count(values) -> dict[str, int]:
    counts: dict[str, int] = {}
    for value in values:
        counts[value] = counts.get(value, 0) + 1
    return dict(sorted(counts.items()))


def compute_conversation_metrics(
    played: Sequence[tuple[Conversation, Sequence[TurnObservation]]], gate: ConversationGate | None = None
) -> ConversationMetrics:
    results = [r for conversation, observed in played for r in turn_results(conversation, observed)]
    return ConversationMetrics(results, gate or ConversationGate())
