"""CI gate: the real trained model must catch every warning-sign report in the held-out set,
over-triage at most 5% of other messages and answer at least 90% of topic questions right.

Multi-turn (conversations.yml through the patient API): every turn must get a reply (no
crash, no 500); the other figures are regression floors at today's values (REGRESSION_FLOOR),
to be raised to 100% by the conversation-aware triage engine of issue 11.

`make test` trains the model first; `aftercare eval` writes the same numbers to reports/eval.md
(and `aftercare eval --conversations` to reports/eval_conversations.md).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from aftercare_tools.evaluation.dataset import load_eval_set
from aftercare_tools.evaluation.metrics import EvalMetrics, Gate, compute_metrics

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
MODEL = REPO / "models" / "aftercare.tar.gz"
GATE = Gate()


@pytest.fixture(scope="session")
def eval_assistant(request):
    """The real assistant: the suite's shared session model when there is one, else our own."""
    if not MODEL.exists():
        pytest.skip(f"no trained model at {MODEL}: run `aftercare train` (`make test` trains first)")
    try:
        return request.getfixturevalue("assistant")  # tests/conftest.py: loaded once per session
    except pytest.FixtureLookupError:
        from aftercare_tools.evaluation.runner import load_assistant

        return load_assistant(MODEL)


@pytest.fixture(scope="session")
def eval_metrics(eval_assistant) -> EvalMetrics:
    """Every held-out message through the full pipeline, each in a fresh conversation."""
    from aftercare_tools.evaluation.runner import evaluate

    return compute_metrics(evaluate(eval_assistant, load_eval_set(), progress=False), GATE)


def _listing(rows, extra) -> str:
    return "\n".join(f"  [{r['id']}] {extra(r)}: {r['text']}" for r in rows)


def test_no_warning_sign_report_is_missed(eval_metrics):
    m = eval_metrics
    assert m.errors == [], "respond() raised for:\n" + _listing(m.errors, lambda r: r["error"])
    assert m.recall == GATE.recall, (
        f"warning-sign recall {m.recall:.3f} ({len(m.missed)} of {m.reports} reports missed):\n"
        + _listing(
            m.missed,
            lambda r: f"expected {r['expected_tier']} {r['expected_signs']}, got {r['tier']}",
        )
    )


def test_over_triage_is_at_most_five_percent(eval_metrics):
    m = eval_metrics
    assert m.over_triage_rate <= GATE.max_over_triage, (
        f"over-triage {m.over_triage_rate:.3f} ({len(m.over_triaged)} of {m.non_report_rows} "
        "non-report messages escalated):\n"
        + _listing(
            m.over_triaged,
            lambda r: f"{r['category']}, got {r['tier']} {r['signs']} by {r['detected_by']}",
        )
    )


def test_topic_accuracy_is_at_least_ninety_percent(eval_metrics):
    m = eval_metrics
    assert m.topic_accuracy >= GATE.min_topic_accuracy, (
        f"topic accuracy {m.topic_accuracy:.3f} ({len(m.topic_misses)} of {m.topic_rows} wrong):\n"
        + _listing(m.topic_misses, lambda r: f"expected {r['expected_topic']}, got {r['topic']}")
    )


@pytest.fixture(scope="session")
def conversation_metrics(eval_assistant):
    """Every multi-turn conversation through the patient API, in process on SQLite."""
    from aftercare_tools.evaluation.conversation_eval import run_conversation_eval

    metrics, _ = run_conversation_eval(assistant=eval_assistant, progress=False)
    return metrics


def _turns(results, extra) -> str:
    return "\n".join(f"  [{r.conversation.id} turn {r.number}] {extra(r)}: {r.turn.text}" for r in results)


def test_every_conversation_turn_gets_a_reply(conversation_metrics):
    m = conversation_metrics
    assert m.errors == [], "turns without a reply:\n" + _turns(m.errors, lambda r: r.observed.error)


def test_multi_turn_figures_do_not_regress(conversation_metrics):
    """Floors, not targets: today's engine judges each message alone (issue 11)."""
    m = conversation_metrics
    failures = [f for f in m.gate_failures() if "no reply" not in f]
    under = [r for r in m.results if r.under_triaged]
    assert not failures, (
        "\n".join(failures)
        + "\nunder-triaged turns:\n"
        + _turns(under, lambda r: f"expected {r.turn.expect.level}, got {r.observed.level}")
    )
