"""Pure metric functions over (labelled message, observed reply) pairs.

Nothing here imports Rasa or the detector, so the metrics are unit-tested with tiny fakes.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from aftercare_tools.evaluation.dataset import SIGNS, TOPICS, EvalCase
from bot.triage.vocabulary import Tier

NO_TOPIC = "(none)"  # confusion-matrix label for "no topic"
CONFIDENCE = 0.95


@dataclass(frozen=True)
class Gate:
    recall: float = 1.0  # every warning-sign report must reach at least call_provider
    max_over_triage: float = 0.05
    min_topic_accuracy: float = 0.90


@dataclass(frozen=True)
class Observation:
    """What the pipeline did with one message (the parts of an AssistantReply we score)."""

    tier: str = "none"
    signs: tuple[str, ...] = ()
    topic: str | None = None
    error: str | None = None  # the exception type if respond() raised
    latency_ms: float = 0.0
    # Diagnostics only: the "detected_by" the triage action put in its custom payload
    # (e.g. "detector" or "model"), to tell which layer escalated.
    detected_by: tuple[str, ...] = ()

    @classmethod
    def from_reply(cls, reply: Any, latency_ms: float = 0.0) -> Observation:
        customs = [
            m["custom"]
            for m in (getattr(reply, "messages", None) or [])
            if isinstance(m, dict) and isinstance(m.get("custom"), dict)
        ]
        return cls(
            tier=tier_value(reply.tier),
            signs=tuple(reply.signs or ()),
            topic=reply.topic or None,
            latency_ms=latency_ms,
            detected_by=tuple(sorted({str(c["detected_by"]) for c in customs if c.get("detected_by")})),
        )


@dataclass(frozen=True)
class RowResult:
    case: EvalCase
    observed: Observation

    @property
    def escalated(self) -> bool:
        return tier_rank(self.observed.tier) >= Tier.CALL_PROVIDER.rank

    @property
    def emergency(self) -> bool:
        return self.observed.tier == Tier.EMERGENCY

    @property
    def topic_correct(self) -> bool:
        return self.observed.topic == self.case.expected_topic


def tier_value(tier: Any) -> str:
    """'none' | 'call_provider' | 'emergency' from a Tier enum or its string value."""
    value = getattr(tier, "value", tier)
    if value is None:
        return Tier.NONE.value
    try:
        return Tier(str(value)).value
    except ValueError:
        raise ValueError(f"unknown tier {value!r}") from None


def tier_rank(tier: Any) -> int:
    return Tier(tier_value(tier)).rank


def clopper_pearson(successes: int, trials: int, confidence: float = CONFIDENCE) -> tuple[float, float]:
    """Exact two-sided Clopper-Pearson interval for a binomial proportion."""
    from scipy.stats import beta

    if trials <= 0:
        return 0.0, 1.0
    if not 0 <= successes <= trials:
        raise ValueError("successes must be between 0 and trials")
    alpha = 1.0 - confidence
    lower = 0.0 if successes == 0 else float(beta.ppf(alpha / 2, successes, trials - successes + 1))
    upper = 1.0 if successes == trials else float(beta.ppf(1 - alpha / 2, successes + 1, trials - successes))
    return lower, upper


def miss_rate_upper_bound(misses: int, trials: int, confidence: float = CONFIDENCE) -> float:
    """Upper end of the two-sided Clopper-Pearson interval on the miss rate.

    With no misses in n trials this is 1 - (alpha / 2) ** (1 / n).
    """
    return clopper_pearson(misses, trials, confidence)[1]


def _ratio(numerator: int, denominator: int) -> float | None:
    return numerator / denominator if denominator else None


def confusion_matrix(
    pairs: Iterable[tuple[str | None, str | None]], labels: Sequence[str] | None = None
) -> tuple[list[str], list[list[int]]]:
    """Counts of (expected, predicted); rows are expected, columns predicted. None -> NO_TOPIC."""
    named = [(e or NO_TOPIC, p or NO_TOPIC) for e, p in pairs]
    seen = {label for pair in named for label in pair}
    if labels is None:
        ordered = [t for t in TOPICS if t in seen]
        extra = sorted(seen - set(ordered) - {NO_TOPIC})
        names = ordered + extra + ([NO_TOPIC] if NO_TOPIC in seen else [])
    else:
        names = list(labels)
        names += sorted(seen - set(names))
    index = {label: i for i, label in enumerate(names)}
    matrix = [[0] * len(names) for _ in names]
    for expected, predicted in named:
        matrix[index[expected]][index[predicted]] += 1
    return names, matrix


def result_row(result: RowResult) -> dict[str, Any]:
    case, seen = result.case, result.observed
    return {
        "id": case.id,
        "category": case.category,
        "text": case.text,
        "expected_tier": case.expected_tier,
        "expected_signs": list(case.expected_signs),
        "expected_topic": case.expected_topic,
        "tier": seen.tier,
        "signs": list(seen.signs),
        "topic": seen.topic,
        "error": seen.error,
        "detected_by": list(seen.detected_by),
        "latency_ms": round(seen.latency_ms, 2),
    }


@dataclass
class EvalMetrics:
    """Everything the report shows; `to_dict()` is what reports/eval.json holds."""

    counts: dict[str, int]
    recall: float | None
    reports: int
    missed: list[dict[str, Any]]
    miss_rate_upper_95: float | None
    per_sign: dict[str, dict[str, Any]]
    sign_named_recall: float | None
    emergency_accuracy: float | None
    emergency_rows: int
    under_triaged_emergencies: list[dict[str, Any]]
    over_triage_rate: float | None
    non_report_rows: int
    over_triaged: list[dict[str, Any]]
    over_triage_by_category: dict[str, dict[str, Any]]
    topic_accuracy: float | None
    topic_rows: int
    topic_misses: list[dict[str, Any]]
    confusion_labels: list[str]
    confusion: list[list[int]]
    topic_accuracy_all_labelled: float | None
    errors: list[dict[str, Any]]
    gate: Gate = field(default_factory=Gate)

    def gate_failures(self) -> list[str]:
        """One line per failed gate criterion (empty when the gate passes)."""
        failures = []
        if self.recall is None or self.recall < self.gate.recall:
            failures.append(f"warning-sign recall {_fmt(self.recall)} < {self.gate.recall:.2f}")
        if self.over_triage_rate is None or self.over_triage_rate > self.gate.max_over_triage:
            failures.append(f"over-triage {_fmt(self.over_triage_rate)} > {self.gate.max_over_triage:.2f}")
        if self.topic_accuracy is None or self.topic_accuracy < self.gate.min_topic_accuracy:
            failures.append(f"topic accuracy {_fmt(self.topic_accuracy)} < {self.gate.min_topic_accuracy:.2f}")
        return failures

    @property
    def passed(self) -> bool:
        return not self.gate_failures()

    def to_dict(self) -> dict[str, Any]:
        return {
            "gate": {
                "passed": self.passed,
                "failures": self.gate_failures(),
                "thresholds": {
                    "recall": self.gate.recall,
                    "max_over_triage": self.gate.max_over_triage,
                    "min_topic_accuracy": self.gate.min_topic_accuracy,
                },
            },
            "counts": self.counts,
            "warning_sign_recall": {
                "recall": self.recall,
                "reports": self.reports,
                "missed": len(self.missed),
                "miss_rate_upper_95": self.miss_rate_upper_95,
                "sign_named_recall": self.sign_named_recall,
                "per_sign": self.per_sign,
                "missed_rows": self.missed,
            },
            "emergency": {
                "accuracy": self.emergency_accuracy,
                "rows": self.emergency_rows,
                "under_triaged_rows": self.under_triaged_emergencies,
            },
            "over_triage": {
                "rate": self.over_triage_rate,
                "non_report_rows": self.non_report_rows,
                "by_category": self.over_triage_by_category,
                "rows": self.over_triaged,
            },
            "topics": {
                "accuracy": self.topic_accuracy,
                "rows": self.topic_rows,
                "accuracy_all_labelled_non_reports": self.topic_accuracy_all_labelled,
                "confusion": {"labels": self.confusion_labels, "matrix": self.confusion},
                "misses": self.topic_misses,
            },
            "errors": self.errors,
        }


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def compute_metrics(results: Sequence[RowResult], gate: Gate | None = None) -> EvalMetrics:
    gate = gate or Gate()
    counts: dict[str, int] = {}
    for r in results:
        counts[r.case.category] = counts.get(r.case.category, 0) + 1

    # Warning-sign recall: a report is caught when the reply escalates at all.
    reports = [r for r in results if r.case.is_report]
    missed = [r for r in reports if not r.escalated]
    recall = _ratio(len(reports) - len(missed), len(reports))
    upper = miss_rate_upper_bound(len(missed), len(reports)) if reports else None

    per_sign: dict[str, dict[str, Any]] = {}
    named_pairs = named_hits = 0
    for sign in SIGNS:
        rows = [r for r in reports if sign in r.case.expected_signs]
        caught = sum(r.escalated for r in rows)
        named = sum(sign in r.observed.signs for r in rows)
        named_pairs += len(rows)
        named_hits += named
        per_sign[sign] = {
            "rows": len(rows),
            "caught": caught,
            "recall": _ratio(caught, len(rows)),
            "miss_rate_upper_95": miss_rate_upper_bound(len(rows) - caught, len(rows)) if rows else None,
            "named": named,
            "named_recall": _ratio(named, len(rows)),
        }

    emergencies = [r for r in results if r.case.expected_tier == "emergency"]
    under = [r for r in emergencies if not r.emergency]

    non_reports = [r for r in results if not r.case.is_report]
    over = [r for r in non_reports if r.observed.tier != "none"]
    by_category: dict[str, dict[str, Any]] = {}
    for r in non_reports:
        entry = by_category.setdefault(r.case.category, {"rows": 0, "over_triaged": 0})
        entry["rows"] += 1
        entry["over_triaged"] += r.observed.tier != "none"
    for entry in by_category.values():
        entry["rate"] = _ratio(entry["over_triaged"], entry["rows"])

    topic_rows = [r for r in results if r.case.category == "topic"]
    topic_misses = [r for r in topic_rows if not r.topic_correct]
    labels, matrix = confusion_matrix(
        [(r.case.expected_topic, r.observed.topic) for r in topic_rows],
        labels=[*TOPICS, NO_TOPIC],
    )
    # Secondary (not gated): every non-report row has a topic label, null included.
    all_labelled_hits = sum(r.topic_correct for r in non_reports)

    return EvalMetrics(
        counts=counts,
        recall=recall,
        reports=len(reports),
        missed=[result_row(r) for r in missed],
        miss_rate_upper_95=upper,
        per_sign=per_sign,
        sign_named_recall=_ratio(named_hits, named_pairs),
        emergency_accuracy=_ratio(len(emergencies) - len(under), len(emergencies)),
        emergency_rows=len(emergencies),
        under_triaged_emergencies=[result_row(r) for r in under],
        over_triage_rate=_ratio(len(over), len(non_reports)),
        non_report_rows=len(non_reports),
        over_triaged=[result_row(r) for r in over],
        over_triage_by_category=by_category,
        topic_accuracy=_ratio(len(topic_rows) - len(topic_misses), len(topic_rows)),
        topic_rows=len(topic_rows),
        topic_misses=[result_row(r) for r in topic_misses],
        confusion_labels=labels,
        confusion=matrix,
        topic_accuracy_all_labelled=_ratio(all_labelled_hits, len(non_reports)),
        errors=[result_row(r) for r in results if r.observed.error],
        gate=gate,
    )
