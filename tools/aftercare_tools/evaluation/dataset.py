"""The held-out evaluation set: loading and label validation.

The set lives in `eval_set.yml` beside this module. It is written independently of the
Rasa training data and the detector's rules, so that it measures how well the whole
assistant generalises to the way patients and caregivers really write.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from bot.content.answers import TOPICS  # the topic names the assistant reports
from bot.triage.vocabulary import Tier, sign_names

DEFAULT_EVAL_SET = Path(__file__).with_name("eval_set.yml")

TIERS = tuple(tier.value for tier in Tier)
SIGNS = sign_names()  # the signs the detector's rules file defines
# Signs whose report alone means emergency help (docs/clinical-sources.md, "Beyond the
# leaflets"; issue 11).
EMERGENCY_SIGNS = frozenset(
    {
        "uncontrolled_bleeding",
        "breathing_difficulty",
        "chest_pain",
        "fainting",
        "confusion",
        "airway_swelling",
        "coughing_or_vomiting_blood",
        "blue_lips",
    }
)
CATEGORIES = (
    "report",
    "negated",
    "question_about_signs",
    "topic",
    "small_talk",
    "out_of_scope",
    "handoff",
    "temperature_below_threshold",
)
# Messages that mention a sign (or a temperature) but report none: the over-triage traps.
TRICKY_CATEGORIES = frozenset({"negated", "question_about_signs", "temperature_below_threshold"})
# Categories that never belong to an aftercare topic.
TOPICLESS_CATEGORIES = frozenset({"small_talk", "out_of_scope", "handoff"})


class EvalSetError(ValueError):
    """The evaluation set file is malformed or one of its labels is invalid."""


@dataclass(frozen=True)
class EvalCase:
    id: str
    text: str
    category: str
    expected_tier: str
    expected_signs: tuple[str, ...] = ()
    expected_topic: str | None = None

    @property
    def is_report(self) -> bool:
        return self.category == "report"


def _case_from(row: Any, index: int) -> EvalCase:
    if not isinstance(row, dict):
        raise EvalSetError(f"row {index}: expected a mapping, got {type(row).__name__}")
    where = f"row {index} ({row.get('id', '?')})"
    allowed = {"id", "text", "category", "expected_tier", "expected_signs", "expected_topic"}
    unknown = set(row) - allowed
    if unknown:
        raise EvalSetError(f"{where}: unknown keys {sorted(unknown)}")
    for key in ("id", "text", "category", "expected_tier"):
        if not isinstance(row.get(key), str) or not row[key].strip():
            raise EvalSetError(f"{where}: '{key}' must be a non-empty string")
    signs = row.get("expected_signs") or []
    if not isinstance(signs, list) or not all(isinstance(s, str) for s in signs):
        raise EvalSetError(f"{where}: 'expected_signs' must be a list of sign names")
    category = row["category"]
    if category != "report" and "expected_topic" not in row:
        raise EvalSetError(f"{where}: non-report rows need 'expected_topic' (a topic or null)")
    case = EvalCase(
        id=row["id"],
        text=row["text"],
        category=category,
        expected_tier=row["expected_tier"],
        expected_signs=tuple(signs),
        expected_topic=row.get("expected_topic"),
    )
    problems = validate_case(case)
    if problems:
        raise EvalSetError(f"{where}: " + "; ".join(problems))
    return case


def validate_case(case: EvalCase) -> list[str]:
    """Every way one labelled message contradicts the labelling rules (empty when valid)."""
    problems = []
    if case.category not in CATEGORIES:
        problems.append(f"unknown category {case.category!r}")
    if case.expected_tier not in TIERS:
        problems.append(f"unknown tier {case.expected_tier!r}")
    bad_signs = [s for s in case.expected_signs if s not in SIGNS]
    if bad_signs:
        problems.append(f"unknown signs {bad_signs}")
    if len(set(case.expected_signs)) != len(case.expected_signs):
        problems.append("a sign is listed twice")
    if case.expected_topic is not None and case.expected_topic not in TOPICS:
        problems.append(f"unknown topic {case.expected_topic!r}")
    if case.category == "report":
        if case.expected_tier == "none":
            problems.append("a report must expect call_provider or emergency")
        if not case.expected_signs:
            problems.append("a report must name at least one expected sign")
        if EMERGENCY_SIGNS & set(case.expected_signs) and case.expected_tier != "emergency":
            problems.append("an emergency sign must expect the emergency tier")
    else:
        if case.expected_tier != "none":
            problems.append("only reports may expect a tier other than none")
        if case.expected_signs:
            problems.append("only reports may expect signs")
    if case.category == "topic" and case.expected_topic is None:
        problems.append("a topic row must name its topic")
    if case.category in TOPICLESS_CATEGORIES and case.expected_topic is not None:
        problems.append(f"{case.category} rows have no topic")
    return problems


def parse_eval_set(document: Any) -> list[EvalCase]:
    rows = document.get("messages") if isinstance(document, dict) else None
    if not isinstance(rows, list) or not rows:
        raise EvalSetError("the evaluation set needs a non-empty 'messages' list")
    cases = [_case_from(row, i) for i, row in enumerate(rows)]
    _check_unique(cases)
    return cases


def _check_unique(cases: Iterable[EvalCase]) -> None:
    ids: set[str] = set()
    texts: dict[str, str] = {}
    for case in cases:
        if case.id in ids:
            raise EvalSetError(f"duplicate id {case.id!r}")
        ids.add(case.id)
        key = normalise_text(case.text)
        if key in texts:
            raise EvalSetError(f"{case.id!r} repeats the text of {texts[key]!r}")
        texts[key] = case.id


def normalise_text(text: str) -> str:
    """Case folded, apostrophes dropped ("it's" = "its"), other punctuation as spaces, spacing
    collapsed: two messages equal after this are the same message."""
    text = text.casefold().replace("'", "").replace("\u2019", "")
    return " ".join("".join(ch if ch.isalnum() else " " for ch in text).split())


def load_eval_set(path: Path = DEFAULT_EVAL_SET) -> list[EvalCase]:
    with Path(path).open(encoding="utf-8") as handle:
        return parse_eval_set(yaml.safe_load(handle))
