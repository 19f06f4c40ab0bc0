"""The held-out evaluation set is large enough, correctly labelled and free of duplicates."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml

from aftercare_tools.evaluation.dataset import (
    CATEGORIES,
    EMERGENCY_SIGNS,
    SIGNS,
    TOPICS,
    TRICKY_CATEGORIES,
    EvalSetError,
    load_eval_set,
    parse_eval_set,
    validate_case,
)

from .fakes import case

REPO = Path(__file__).resolve().parents[2]
RULES_FILE = REPO / "bot" / "triage" / "warning_signs.yml"
NUMBER = re.compile(r"(?<![\d.,])(\d{2,3}(?:[.,]\d)?)(?!\d)")


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


def test_the_signs_are_the_detectors_signs_with_its_tiers():
    """The set labels exactly the signs the rules file defines, and its emergency signs are
    the ones the rules escalate as emergencies: a renamed or added sign cannot go unmeasured."""
    rules = yaml.safe_load(RULES_FILE.read_text(encoding="utf-8"))["signs"]
    assert set(SIGNS) == set(rules)
    assert EMERGENCY_SIGNS == {sign for sign, rule in rules.items() if rule["tier"] == "emergency"}


def test_every_topic_is_one_the_model_can_answer():
    """A topic is reported from an `ask_<topic>` intent: each labelled topic needs one in the domain."""
    intents = set(yaml.safe_load((REPO / "domain.yml").read_text(encoding="utf-8"))["intents"])
    assert {f"ask_{topic}" for topic in TOPICS} <= intents


def test_emergency_fevers_name_their_reason(cases):
    """Only an emergency sign, or a fever on chemotherapy or with low counts (NICE CG151),
    justifies the emergency tier."""
    unjustified = [
        c.id
        for c in cases
        if c.expected_tier == "emergency"
        and not EMERGENCY_SIGNS & set(c.expected_signs)
        and not any(word in c.text.lower() for word in ("chemo", "neutropen", "counts", "low white"))
    ]
    assert unjustified == []
    emergencies = [c for c in cases if c.expected_tier == "emergency"]
    assert len(emergencies) >= 5 * 12


def _temperatures_c(text: str) -> list[float]:
    """Numbers that read as a body temperature, in Celsius (Fahrenheit converted)."""
    values = [float(v.replace(",", ".")) for v in NUMBER.findall(text)]
    return [v if v <= 43.5 else (v - 32) * 5 / 9 for v in values if 34 <= v <= 43.5 or 93 <= v <= 110]


def test_stated_temperatures_agree_with_the_fever_labels(cases):
    """Below-threshold rows state only temperatures under the rules file's threshold; a fever
    report that states temperatures reaches it."""
    threshold = yaml.safe_load(RULES_FILE.read_text(encoding="utf-8"))["fever"]["threshold_c"]
    wrong = []
    for c in cases:
        readings = _temperatures_c(c.text)
        if c.category == "temperature_below_threshold" and not (readings and max(readings) < threshold):
            wrong.append((c.id, readings))
        if "fever" in c.expected_signs and readings and max(readings) < threshold - 0.05:
            wrong.append((c.id, readings))
    assert wrong == []


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
        c.category == "report" and c.expected_signs == ("fever",) and not any(ch.isdigit() for ch in c.text)
        for c in cases
    )  # no number at all


# ---------------------------------------------------------------- the loader's checks
def _doc(*rows):
    return {"messages": list(rows)}


GOOD: dict[str, Any] = {
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
    with pytest.raises(EvalSetError, match="repeats the text"):  # "it's" and "its" are one message
        parse_eval_set(_doc({**GOOD, "text": "it's sore"}, {**GOOD, "id": "b", "text": "its SORE"}))
    with pytest.raises(EvalSetError, match="non-empty 'messages'"):
        parse_eval_set({"messages": []})


def test_validate_case_helper():
    assert validate_case(case("t", topic="results")) == []
    assert validate_case(case("t", topic=None)) == ["a topic row must name its topic"]
