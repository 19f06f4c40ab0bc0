"""Metric functions, checked with tiny fake replies and known reference values."""

from __future__ import annotations

import pytest

from aftercare_tools.evaluation.metrics import (
    NO_TOPIC,
    Gate,
    Observation,
    RowResult,
    clopper_pearson,
    compute_metrics,
    confusion_matrix,
    miss_rate_upper_bound,
    tier_rank,
    tier_value,
)
from aftercare_tools.evaluation.runner import evaluate, latency_summary
from bot.triage.vocabulary import Tier

from .fakes import FakeReply, ScriptedAssistant, case


def obs(tier="none", signs=(), topic=None, error=None):
    return Observation(tier=tier, signs=tuple(signs), topic=topic, error=error)


# ---------------------------------------------------------------- Clopper-Pearson
@pytest.mark.parametrize(
    ("k", "n", "lower", "upper"),
    [
        (0, 10, 0.0, 0.3084971),  # 1 - 0.025 ** (1 / 10)
        (1, 10, 0.0025286, 0.4450161),  # published exact-interval tables
        (5, 10, 0.1870860, 0.8129140),
        (0, 150, 0.0, 0.0242926),
        (2, 100, 0.0024313, 0.0703839),
        (10, 10, 0.6915029, 1.0),
    ],
)
def test_clopper_pearson_matches_reference_values(k, n, lower, upper):
    lo, hi = clopper_pearson(k, n)
    assert lo == pytest.approx(lower, abs=1e-6)
    assert hi == pytest.approx(upper, abs=1e-6)


def test_miss_rate_upper_bound_with_no_misses_is_closed_form():
    for n in (1, 30, 149, 400):
        assert miss_rate_upper_bound(0, n) == pytest.approx(1 - 0.025 ** (1 / n))


def test_clopper_pearson_edge_cases():
    assert clopper_pearson(0, 0) == (0.0, 1.0)
    with pytest.raises(ValueError):
        clopper_pearson(3, 2)


# ---------------------------------------------------------------- tiers
def test_tier_value_accepts_enums_and_strings():
    assert tier_value(Tier.EMERGENCY) == "emergency"
    assert tier_value("call_provider") == "call_provider"
    assert tier_value(None) == "none"
    assert tier_rank(Tier.NONE) < tier_rank("call_provider") < tier_rank(Tier.EMERGENCY)
    with pytest.raises(ValueError):
        tier_value("urgent")


def test_observation_from_reply():
    reply = FakeReply(tier=Tier.CALL_PROVIDER, signs=["fever"], topic=None)
    assert Observation.from_reply(reply) == Observation("call_provider", ("fever",), None)
    assert Observation.from_reply(FakeReply(topic="")).topic is None


# ---------------------------------------------------------------- recall
def test_recall_counts_a_report_as_caught_at_call_provider_or_above():
    results = [
        RowResult(case("r1", "report", "call_provider", ["fever"]), obs("call_provider", ["fever"])),
        RowResult(case("r2", "report", "emergency", ["chest_pain"]), obs("call_provider")),
        RowResult(case("r3", "report", "call_provider", ["redness"]), obs("emergency", ["redness"])),
        RowResult(case("r4", "report", "call_provider", ["swelling"]), obs("none")),
    ]
    m = compute_metrics(results)
    assert m.reports == 4
    assert m.recall == pytest.approx(0.75)
    assert [r["id"] for r in m.missed] == ["r4"]
    assert m.miss_rate_upper_95 == pytest.approx(clopper_pearson(1, 4)[1])
    assert "recall" in " ".join(m.gate_failures())


def test_per_sign_recall_and_sign_named_recall_are_separate():
    results = [
        # caught by the model only: escalated, but the sign was not named
        RowResult(case("a", "report", "call_provider", ["drainage"]), obs("call_provider", [])),
        RowResult(
            case("b", "report", "call_provider", ["drainage", "redness"]),
            obs("call_provider", ["redness"]),
        ),
        RowResult(case("c", "report", "call_provider", ["redness"]), obs("none")),
    ]
    m = compute_metrics(results)
    drainage, redness = m.per_sign["drainage"], m.per_sign["redness"]
    assert (drainage["rows"], drainage["caught"], drainage["named"]) == (2, 2, 0)
    assert drainage["recall"] == 1.0 and drainage["named_recall"] == 0.0
    assert (redness["rows"], redness["caught"], redness["named"]) == (2, 1, 1)
    assert redness["recall"] == 0.5
    assert m.per_sign["fever"]["rows"] == 0 and m.per_sign["fever"]["recall"] is None
    assert m.sign_named_recall == pytest.approx(1 / 4)


def test_emergency_accuracy_counts_only_exact_emergency():
    results = [
        RowResult(case("e1", "report", "emergency", ["fainting"]), obs("emergency")),
        RowResult(case("e2", "report", "emergency", ["confusion"]), obs("call_provider")),
        RowResult(case("c1", "report", "call_provider", ["fever"]), obs("emergency")),
    ]
    m = compute_metrics(results)
    assert m.emergency_rows == 2
    assert m.emergency_accuracy == 0.5
    assert [r["id"] for r in m.under_triaged_emergencies] == ["e2"]


# ---------------------------------------------------------------- over-triage
def test_over_triage_is_share_of_non_reports_with_any_tier():
    results = [
        RowResult(case("n1", "negated", topic="soreness"), obs("call_provider", ["fever"], "soreness")),
        RowResult(case("n2", "negated", topic="soreness"), obs("none", [], "soreness")),
        RowResult(case("q1", "question_about_signs", topic="warning_signs_info"), obs("emergency")),
        RowResult(case("t1", "topic", topic="results"), obs("none", [], "results")),
        RowResult(case("s1", "small_talk", topic=None), obs("none")),
        # reports never count towards over-triage
        RowResult(case("r1", "report", "call_provider", ["fever"]), obs("emergency")),
    ]
    m = compute_metrics(results)
    assert m.non_report_rows == 5
    assert m.over_triage_rate == pytest.approx(2 / 5)
    assert sorted(r["id"] for r in m.over_triaged) == ["n1", "q1"]
    assert m.over_triage_by_category["negated"] == {"rows": 2, "over_triaged": 1, "rate": 0.5}
    assert m.over_triage_by_category["topic"]["over_triaged"] == 0


def test_over_triage_at_exactly_the_threshold_passes():
    rows = [RowResult(case(f"t{i}", topic="results"), obs("none", [], "results")) for i in range(19)]
    rows.append(RowResult(case("t19", topic="results"), obs("call_provider", [], "results")))
    rows.append(RowResult(case("r", "report", "call_provider", ["fever"]), obs("call_provider")))
    m = compute_metrics(rows)
    assert m.over_triage_rate == pytest.approx(0.05)
    assert m.passed


# ---------------------------------------------------------------- topics
def test_confusion_matrix_counts_expected_by_predicted():
    labels, matrix = confusion_matrix(
        [
            ("soreness", "soreness"),
            ("soreness", "pain_medication"),
            ("results", None),
            ("results", "results"),
            ("results", "results"),
        ]
    )
    assert labels == ["soreness", "pain_medication", "results", NO_TOPIC]
    assert matrix == [[1, 1, 0, 0], [0, 0, 0, 0], [0, 0, 2, 1], [0, 0, 0, 0]]


def test_confusion_matrix_with_fixed_labels_adds_unknown_predictions():
    labels, matrix = confusion_matrix([("activity", "chit_chat")], labels=["activity", NO_TOPIC])
    assert labels == ["activity", NO_TOPIC, "chit_chat"]
    assert matrix == [[0, 0, 1], [0, 0, 0], [0, 0, 0]]


def test_topic_accuracy_only_on_topic_rows_and_matrix_uses_all_topics():
    results = [
        RowResult(case("t1", topic="soreness"), obs("none", [], "soreness")),
        RowResult(case("t2", topic="activity"), obs("none", [], "wound_care")),
        RowResult(case("t3", topic="results"), obs("none", [], None)),
        RowResult(case("t4", topic="results"), obs("none", [], "results")),
        # non-topic rows never count towards the gated topic accuracy
        RowResult(case("n1", "negated", topic="soreness"), obs("none", [], "activity")),
        RowResult(case("s1", "small_talk", topic=None), obs("none", [], None)),
    ]
    m = compute_metrics(results)
    assert m.topic_rows == 4
    assert m.topic_accuracy == 0.5
    assert sorted(r["id"] for r in m.topic_misses) == ["t2", "t3"]
    assert m.confusion_labels[-1] == NO_TOPIC and len(m.confusion_labels) == 9
    index = {label: i for i, label in enumerate(m.confusion_labels)}
    assert m.confusion[index["activity"]][index["wound_care"]] == 1
    assert m.confusion[index["results"]][index[NO_TOPIC]] == 1
    assert sum(map(sum, m.confusion)) == 4
    assert m.topic_accuracy_all_labelled == pytest.approx(3 / 6)


# ---------------------------------------------------------------- gate
def test_gate_passes_when_everything_is_right_and_reports_each_failure():
    good = [
        RowResult(case("r", "report", "call_provider", ["fever"]), obs("call_provider", ["fever"])),
        RowResult(case("t", topic="results"), obs("none", [], "results")),
    ]
    assert compute_metrics(good).passed
    assert compute_metrics(good).to_dict()["gate"] == {
        "passed": True,
        "failures": [],
        "thresholds": {"recall": 1.0, "max_over_triage": 0.05, "min_topic_accuracy": 0.9},
    }
    bad = [
        RowResult(case("r", "report", "call_provider", ["fever"]), obs("none")),
        RowResult(case("t", topic="results"), obs("call_provider", [], "activity")),
    ]
    failures = compute_metrics(bad).gate_failures()
    assert len(failures) == 3
    assert compute_metrics(bad, Gate(recall=0.0, max_over_triage=1.0, min_topic_accuracy=0.0)).passed


def test_gate_fails_when_a_metric_cannot_be_computed():
    only_reports = [RowResult(case("r", "report", "call_provider", ["fever"]), obs("call_provider"))]
    failures = compute_metrics(only_reports).gate_failures()
    assert any("over-triage" in f for f in failures)
    assert any("topic" in f for f in failures)


# ---------------------------------------------------------------- runner
def test_runner_uses_a_fresh_conversation_per_message_and_records_errors():
    cases = [
        case("r", "report", "call_provider", ["fever"], text="temp 39"),
        case("t", topic="results", text="results?"),
        case("x", topic="activity", text="crash me"),
    ]
    assistant = ScriptedAssistant(
        {
            "temp 39": FakeReply(Tier.CALL_PROVIDER, ["fever"]),
            "results?": FakeReply(topic="results"),
        },
        fail_on={"crash me"},
    )
    results = evaluate(assistant, cases, progress=False)
    ids = [conversation for conversation, _ in assistant.calls]
    assert len(set(ids)) == 3
    assert [r.observed.tier for r in results] == ["call_provider", "none", "none"]
    assert results[2].observed.error == "RuntimeError"  # the type only, never the message
    m = compute_metrics(results)
    assert [r["id"] for r in m.errors] == ["x"]
    summary = latency_summary(results)
    assert summary is not None and summary["max_ms"] >= 0
    assert latency_summary([]) is None


def test_observation_records_which_layer_escalated():
    reply = FakeReply(
        tier=Tier.CALL_PROVIDER,
        messages=[
            {"text": "Please call your care team.", "custom": {"detected_by": "model"}},
            {"text": "no payload"},
        ],
    )
    assert Observation.from_reply(reply).detected_by == ("model",)
    assert Observation.from_reply(FakeReply()).detected_by == ()
