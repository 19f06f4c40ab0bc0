"""Answers and fixed replies, loaded from a clinician-reviewable YAML file."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from bot.content.clinic import ClinicSettings

TOPICS = (
    "soreness",
    "pain_medication",
    "activity",
    "sedation_aftercare",
    "wound_care",
    "results",
    "procedure_info",
    "warning_signs_info",
)
# Topics whose answers are self-care advice, so they end with the safety-net line.
SELF_CARE_TOPICS = frozenset(TOPICS) - {"procedure_info", "results", "warning_signs_info"}


def describe_signs(signs: list[str]) -> str:
    """Sign names as words for a reply: ["increasing_pain"] -> "increasing pain"."""
    return ", ".join(s.replace("_", " ") for s in signs) or "a warning sign"


def topic_for_intent(intent: str | None) -> str | None:
    """`ask_soreness` -> `soreness`; None for intents that are not topic questions."""
    if intent and intent.startswith("ask_") and intent[4:] in TOPICS:
        return intent[4:]
    return None


@dataclass(frozen=True)
class Answer:
    text: str
    sources: tuple[str, ...]


class _Placeholders(dict):
    """Leaves unknown {placeholders} as they are instead of raising."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


@dataclass(frozen=True)
class Content:
    topics: dict
    replies: dict
    safety_net: str

    def _fill(self, template: str, clinic: ClinicSettings, **extra: object) -> str:
        values = _Placeholders(
            clinic=clinic.clinic_name,
            phone=clinic.phone_now(),
            emergency_number=clinic.emergency_number,
            threshold=f"{clinic.fever_threshold_c:.1f} °C",
            **extra,
        )
        return " ".join(template.format_map(values).split())

    def topic_answer(self, topic: str, clinic: ClinicSettings) -> Answer:
        entry = self.topics[topic]
        text = self._fill(entry["text"], clinic)
        if topic in SELF_CARE_TOPICS:
            text = f"{text} {self._fill(self.safety_net, clinic)}"
        return Answer(text=text, sources=tuple(entry.get("sources", ())))

    def reply(self, name: str, clinic: ClinicSettings, **extra: object) -> Answer:
        return Answer(
            text=self._fill(self.replies[name], clinic, **extra),
            sources=tuple(self.replies.get(f"{name}_sources", ())),
        )


@lru_cache(maxsize=4)
def load_content(path: Path) -> Content:
    raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    missing = [t for t in TOPICS if t not in raw.get("topics", {})]
    if missing:
        raise ValueError(f"{path}: no answer for topics {missing}")
    return Content(topics=raw["topics"], replies=raw["replies"], safety_net=raw["safety_net"])
