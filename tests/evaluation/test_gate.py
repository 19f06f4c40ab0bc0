"""CI gate: the real trained model must catch every warning-sign report in the held-out set,
over-triage at most 5% of other messages and answer at least 90% of topic questions right.

`make test` trains the model first; `aftercare eval` writes the same numbers to reports/eval.md.
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
        pytest.skip(
            f"no trained model at {MODEL}: run `aftercare train` (`make test` trains first)"
        )
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
