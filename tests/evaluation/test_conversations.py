"""The multi-turn set (conversations.yml): its loader, its metrics and its report, without Rasa."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from aftercare_tools.evaluation.conversation_metrics import (
    REGRESSION_FLOOR,
    ConversationGate,
    compute_conversation_metrics,
)
from aftercare_tools.evaluation.conversation_report import render_markdown, summary_text, write_reports
from aftercare_tools.evaluation.conversation_runner import TurnObservation
from aftercare_tools.evaluation.conversations import (
    ASKS,
    CATEGORIES,
    ConversationSetError,
    load_conversations,
    parse_conversations,
)


def _doc(*conversations):
    return {"conversations": list(conversations)}


def _conv(cid="c-1", category="benign", turns=None):
    turns = turns or [
        {"text": "can I shower", "expect": {"level": "none"}},
        {"text": "thanks", "expect": {"level": "none"}},
    ]
    return {"id": cid, "category": category, "turns": turns}


def _turn(text, level, **flags):
    return {"text": text, "expect": {"level": level, **flags}}


# --- the shipped set ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def shipped():
    return load_conversations()


def test_the_set_has_at_least_70_conversations_of_2_to_6_turns(shipped):
    assert len(shipped) >= 70
    assert all(2 <= len(c.turns) <= 6 for c in shipped)


def test_every_category_has_at_least_5_conversations(shipped):
    counts = Counter(c.category for c in shipped)
    assert {category: counts[category] for category in CATEGORIES if counts[category] < 5} == {}


def test_every_level_and_every_asked_question_is_labelled_somewhere(shipped):
    turns = [t for c in shipped for t in c.turns]
    assert {t.expect.level for t in turns} == {"none", "call_provider", "emergency"}
    assert {t.expect.asks for t in turns} - {None} == set(ASKS)


def test_the_safety_categories_expect_what_their_names_say(shipped):
    """Guards against a relabelling that would quietly empty a category of its point."""
    for conversation in shipped:
        levels = [t.expect.level for t in conversation.turns]
        if conversation.category in ("benign", "unrelated", "risk_alone"):
            assert set(levels) == {"none"}, conversation.id
        if conversation.category == "risk_then_sign":
            assert levels[0] == "none" and levels[-1] != "none", conversation.id
        if conversation.category == "emergency_then_more":
            assert levels[0] == "emergency", conversation.id


# --- the loader -----------------------------------------------------------------------------


def test_a_valid_document_parses_into_turns_and_expectations():
    [conversation] = parse_conversations(
        _doc(_conv(turns=[_turn("hot", "none", asks="temperature"), _turn("38.6", "call_provider")]))
    )
    assert [t.text for t in conversation.turns] == ["hot", "38.6"]
    assert conversation.turns[0].expect.asks == "temperature"
    assert conversation.turns[1].expect.level == "call_provider"
    assert conversation.turns[1].expect.no_question is False


@pytest.mark.parametrize(
    ("conversation", "message"),
    [
        (_conv(category="gossip"), "unknown category"),
        (_conv(turns=[_turn("only one", "none")]), "2 to 6 turns"),
        (_conv(turns=[_turn("a", "urgent"), _turn("b", "none")]), "turn 1: level must be one of"),
        (_conv(turns=[_turn("a", "none"), _turn("b", "none", asks="colour")]), "turn 2: asks must be one of"),
        (_conv(turns=[_turn("a", "none"), _turn("", "none")]), "turn 2: 'text' must be a non-empty string"),
        (_conv(turns=[_turn("a", "none"), {"text": "b"}]), "turn 2: 'expect' must be a mapping"),
        (_conv(turns=[_turn("a", "none"), _turn("b", "none", no_question="yes")]), "no_question must be"),
        (_conv(turns=[_turn("a", "none"), _turn("b", "none", mood="sad")]), "unknown expect keys"),
        (
            _conv(turns=[_turn("a", "emergency", no_question=True), _turn("b", "none")]),
            "turn 2: turns from an emergency on need no_question",
        ),
        (_conv(turns=[_turn("a", "emergency"), _turn("b", "none")]), "turn 1: turns from an emergency on"),
        (
            _conv(turns=[_turn("a", "none", asks="size", no_question=True), _turn("b", "none")]),
            "both expect a question and forbid one",
        ),
    ],
)
def test_errors_name_the_conversation_and_the_problem(conversation, message):
    with pytest.raises(ConversationSetError) as raised:
        parse_conversations(_doc(conversation))
    assert "c-1" in str(raised.value)
    assert message in str(raised.value)


def test_duplicate_ids_and_repeated_openings_are_refused():
    with pytest.raises(ConversationSetError, match="c-1: duplicate conversation id"):
        parse_conversations(_doc(_conv(), _conv()))
    other = _conv("c-2", turns=[_turn("Can I  shower?", "none"), _turn("ok", "none")])
    with pytest.raises(ConversationSetError, match="c-2: opens with the same message as c-1"):
        parse_conversations(_doc(_conv(), other))


def test_an_empty_or_wrongly_shaped_document_is_refused():
    documents: tuple[Any, ...] = (None, {}, {"conversations": []}, ["not", "a", "mapping"])
    for document in documents:
        with pytest.raises(ConversationSetError, match="non-empty 'conversations' list"):
            parse_conversations(document)


# --- metrics ----------------------------------------------------------------------------


def _seen(level="none", question=False, error=None, asked=()):
    return TurnObservation(
        level=level,
        asked_question=question,
        asked=asked,
        answered_by="assistant",
        status=200 if error is None else 500,
        error=error,
    )


@pytest.fixture
def played():
    """Three conversations: one perfect, one under-triaged follow-up, one emergency then a question."""
    perfect, missed, questioned = parse_conversations(
        _doc(
            _conv(
                "ok-1",
                "fever_number_later",
                [_turn("i feel hot", "none", asks="temperature"), _turn("38.6", "call_provider")],
            ),
            _conv(
                "miss-1",
                "bleeding_followup",
                [
                    _turn("bleeding a bit", "call_provider"),
                    _turn("15 min pressing, still going", "emergency", no_question=True),
                ],
            ),
            _conv(
                "ask-1",
                "emergency_then_more",
                [_turn("i passed out", "emergency", no_question=True), _turn("ok calling", "none", no_question=True)],
            ),
        )
    )
    return [
        (perfect, [_seen("none", question=True, asked=("temperature",)), _seen("call_provider")]),
        (missed, [_seen("call_provider"), _seen("call_provider")]),
        (questioned, [_seen("emergency", question=True, asked=("temperature",)), _seen("none")]),
    ]


def test_a_known_under_triage_is_counted_as_one(played):
    m = compute_conversation_metrics(played)
    d = m.to_dict()
    assert d["under_triaged"] == 1
    assert d["over_triaged"] == 0
    [under] = [r for r in m.results if r.under_triaged]
    assert (under.conversation.id, under.number) == ("miss-1", 2)
    assert d["by_category"]["bleeding_followup"]["under_triaged"] == 1


def test_checks_count_levels_and_no_question_flags(played):
    d = compute_conversation_metrics(played).to_dict()
    # 6 level checks + 3 no_question checks; failing: miss-1 turn 2 (level), ask-1 turn 1 (question)
    assert (d["checks"], d["checks_passed"]) == (9, 7)
    assert (d["conversations"], d["conversations_passed"]) == (3, 1)
    assert d["questions_after_emergency"] == 1
    assert d["asks"] == {"labelled": 1, "asked": 1}


def test_rates_carry_clopper_pearson_bounds(played):
    rate = compute_conversation_metrics(played).to_dict()["check_pass_rate"]
    assert rate["rate"] == pytest.approx(7 / 9)
    assert rate["ci95"] == pytest.approx([0.3999, 0.9719], abs=1e-4)  # exact interval for 7 of 9


def test_a_question_in_a_later_turn_after_an_emergency_counts(played):
    conversation, _ = played[2]
    m = compute_conversation_metrics([(conversation, [_seen("emergency"), _seen("none", question=True)])])
    assert m.to_dict()["questions_after_emergency"] == 1


def test_an_unanswered_turn_fails_the_hard_gate_and_counts_as_under_triage(played):
    conversation, _ = played[1]
    m = compute_conversation_metrics([(conversation, [_seen("call_provider"), _seen(error="HTTP 500")])])
    assert m.to_dict()["under_triaged"] == 1
    assert m.gate_failures() == ["1 turns got no reply (HTTP error or crash)"]


def test_over_triage_on_a_turn_expecting_none(played):
    conversation, _ = played[0]
    d = compute_conversation_metrics([(conversation, [_seen("call_provider"), _seen("call_provider")])]).to_dict()
    assert (d["over_triaged"], d["under_triaged"]) == (1, 0)


def test_the_floors_gate_regressions_only(played):
    floor = ConversationGate(min_checks_passed=7, max_under_triaged=1, max_questions_after_emergency=1)
    assert compute_conversation_metrics(played, floor).passed
    stricter = ConversationGate(min_checks_passed=8, max_under_triaged=0, max_questions_after_emergency=0)
    assert len(compute_conversation_metrics(played, stricter).gate_failures()) == 3


def test_todays_floor_allows_no_under_triage_and_no_question_after_an_emergency():
    assert REGRESSION_FLOOR.max_under_triaged == 0 and REGRESSION_FLOOR.max_questions_after_emergency == 0
    assert REGRESSION_FLOOR.min_checks_passed > 0


def test_a_mismatched_number_of_observations_is_an_error(played):
    conversation, observed = played[0]
    with pytest.raises(ValueError, match="ok-1"):
        compute_conversation_metrics([(conversation, observed[:1])])


# --- observations and the report ------------------------------------------------------------


def test_an_api_body_becomes_an_observation():
    body = {
        "replies": [
            {"text": "Please call your care team.", "kind": "triage"},
            {"text": "Please take your temperature and tell me the number.", "kind": "follow_up"},
        ],
        "triage": {"level": "call_provider", "signs": ["fever"]},
        "answered_by": "safety_net",
    }
    seen = TurnObservation.from_body(body, latency_ms=12.0)
    assert (seen.level, seen.asked_question, seen.asked, seen.answered_by) == (
        "call_provider",
        True,
        ("temperature",),
        "safety_net",
    )
    plain = TurnObservation.from_body({"replies": [{"text": "How long has it bled?"}], "triage": {"level": "none"}}, 1)
    assert plain.asked_question and plain.asked == ("duration",)
    assert TurnObservation.from_body({"replies": [], "triage": {"level": "none"}}, 1.0).error == "no reply"


def test_the_report_lists_failing_conversations_and_categories(played, tmp_path):
    m = compute_conversation_metrics(played)
    meta = {
        "generated": "now",
        "conversation_set": "x.yml",
        "seconds": 1.0,
        "latency": {"mean_ms": 1.0, "p50_ms": 1.0, "p95_ms": 2.0, "max_ms": 3.0},
    }
    markdown = render_markdown(m, meta)
    assert "### miss-1 (bleeding_followup)" in markdown and "### ask-1" in markdown
    assert "### ok-1" not in markdown
    assert "| bleeding_followup | 0/1 | 2 | 2/3 | 1 | 0 | 0 |" in markdown
    paths = write_reports(m, meta, tmp_path)
    assert paths["json"].read_text().count('"conversation": "miss-1"') == 2
    assert "15 min pressing" not in summary_text(m)  # the console summary carries no patient text
