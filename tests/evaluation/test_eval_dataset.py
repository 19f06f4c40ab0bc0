"""The held-out evaluation set is large enough, correctly labelled and free of duplicates."""

from __future__ import annotations

from collections import Counter

import pytest
import yaml

from aftercare_tools.evaluation.dataset import (
    CATEGORIES,
    DEFAULT_EVAL_SET,
    EMERGENCY_SIGNS,
    SIGNS,
    TIERS,
    TOPICLESS_CATEGORIES,
    TOPICS,
    TRICKY_CATEGORIES,
    EvalSetError,
    load_eval_set,
    normalise_text,
    parse_eval_set,
    validate_case,
)

from .fakes import case


@pytest.fixture(scope="module")
def cases():
    return load_eval_set()


def test_the_set_has_at_least_320_messages(cases):
    assert len(cases) >= 320


@pytest.mark.parametrize("sign", SIGNS)
def test_every_sign_has_at_least_12_reports(cases, sign):
    reports = [c for c in cases if c.category == "report" and sign in c.expected_signs]
    assert len(reports) >= 12, f"{sign}: only {len(reports)} reports"


@pytest.mark.parametrize("topic", TOPICS)
def test_every_topic_has_at_least_15_questions(cases, topic):
    questions = [c for c in cases if c.category == "topic" and c.expected_topic == topic]
    assert len(questions) >= 15, f"{topic}: only {len(questions)} questions"


def test_at_least_30_benign_but_tricky_messages(cases):
    tricky = [c for c in cases if c.category in TRICKY_CATEGORIES]
    assert len(tricky) >= 30
    counts = Counter(c.category for c in tricky)
    assert all(counts[category] >= 10 for category in TRICKY_CATEGORIES), counts


def test_every_category_is_present(cases):
    assert set(CATEGORIES) <= {c.category for c in cases}


def test_every_label_is_valid(cases):
    problems = {c.id: validate_case(c) for c in cases}
    assert {k: v for k, v in problems.items() if v} == {}
    for c in cases:
        assert c.expected_tier in TIERS
        assert set(c.expected_signs) <= set(SIGNS)
        assert c.expected_topic is None or c.expected_topic in TOPICS


def test_tiers_follow_the_clinical_facts(cases):
    for c in cases:
        if c.category != "report":
            assert (c.expected_tier, c.expected_signs) == ("none", ()), c.id
        elif EMERGENCY_SIGNS & set(c.expected_signs):
            assert c.expected_tier == "emergency", c.id
        else:
            assert c.expected_tier in ("call_provider", "emergency"), c.id
    emergencies = [c for c in cases if c.expected_tier == "emergency"]
    assert len(emergencies) >= 5 * 12


def test_topic_labels_by_category(cases):
    for c in cases:
        if c.category == "topic":
            assert c.expected_topic in TOPICS, c.id
        if c.category in TOPICLESS_CATEGORIES:
            assert c.expected_topic is None, c.id


def test_no_duplicate_ids_or_texts(cases):
    ids = Counter(c.id for c in cases)
    texts = Counter(normalise_text(c.text) for c in cases)
    assert [i for i, n in ids.items() if n > 1] == []
    assert [t for t, n in texts.items() if n > 1] == []


def test_every_non_report_row_states_its_topic_explicitly():
    """`expected_topic: null` must be written out, so a forgotten label cannot pass as null."""
    document = yaml.safe_load(DEFAULT_EVAL_SET.read_text(encoding="utf-8"))
    for row in document["messages"]:
        if row["category"] != "report":
            assert "expected_topic" in row, row["id"]


def test_the_set_reads_like_real_patients(cases):
    """Variety the set promises: both temperature scales, caregivers, lower case, long messages."""
    texts = [c.text for c in cases]
    assert sum(t == t.lower() for t in texts) >= len(texts) // 2
    assert sum(len(t) > 200 for t in texts) >= 11
    assert (
        sum(
            any(
                w in t.lower()
                for w in (
                    "my wife",
                    "my husband",
                    "my dad",
                    "mom",
                    "mum",
                    "my son",
                    "my daughter",
                    "my father",
                    "he's",
                    "she's",
                )
            )
            for t in texts
        )
        >= 20
    )
    fever_texts = [c.text for c in cases if "fever" in c.expected_signs]
    assert any("38" in t or "39" in t for t in fever_texts)  # Celsius
    assert any("100" in t or "101" in t or "102" in t for t in fever_texts)  # Fahrenheit
    assert any(
        c.category == "report"
        and c.expected_signs == ("fever",)
        and not any(ch.isdigit() for ch in c.text)
        for c in cases
    )  # no number at all


# ---------------------------------------------------------------- the loader's checks
def _doc(*rows):
    return {"messages": list(rows)}


GOOD = {
    "id": "a",
    "text": "hi",
    "category": "small_talk",
    "expected_tier": "none",
    "expected_signs": [],
    "expected_topic": None,
}


def test_parse_accepts_a_valid_row():
    assert parse_eval_set(_doc(GOOD))[0].id == "a"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"category": "gossip"}, "unknown category"),
        ({"expected_tier": "urgent"}, "unknown tier"),
        ({"expected_signs": ["itching"]}, "only reports may expect signs"),
        ({"expected_topic": "billing"}, "unknown topic"),
        ({"expected_topic": "results"}, "small_talk rows have no topic"),
        ({"colour": "red"}, "unknown keys"),
        ({"text": ""}, "'text' must be a non-empty string"),
    ],
)
def test_parse_rejects_invalid_rows(change, message):
    with pytest.raises(EvalSetError, match=message):
        parse_eval_set(_doc({**GOOD, **change}))


def test_parse_rejects_missing_topic_on_non_reports_and_report_rules():
    row = {k: v for k, v in GOOD.items() if k != "expected_topic"}
    with pytest.raises(EvalSetError, match="expected_topic"):
        parse_eval_set(_doc(row))
    report = {
        "id": "r",
        "text": "i fainted",
        "category": "report",
        "expected_tier": "call_provider",
        "expected_signs": ["fainting"],
    }
    with pytest.raises(EvalSetError, match="emergency tier"):
        parse_eval_set(_doc(report))
    with pytest.raises(EvalSetError, match="at least one expected sign"):
        parse_eval_set(_doc({**report, "expected_tier": "emergency", "expected_signs": []}))


def test_parse_rejects_duplicates():
    with pytest.raises(EvalSetError, match="duplicate id"):
        parse_eval_set(_doc(GOOD, {**GOOD, "text": "hello"}))
    with pytest.raises(EvalSetError, match="repeats the text"):
        parse_eval_set(_doc(GOOD, {**GOOD, "id": "b", "text": "Hi!"}))
    with pytest.raises(EvalSetError, match="non-empty 'messages'"):
        parse_eval_set({"messages": []})


def test_validate_case_helper():
    assert validate_case(case("t", topic="results")) == []
    assert validate_case(case("t", topic=None)) == ["a topic row must name its topic"]
