"""Answers and fixed replies, loaded from a clinician-reviewable YAML file."""

from __future__ import annotations

import datetime as dt
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
# Every topic answer ends with when to call (the safety-net line), except the warning-signs
# answer, which is itself the list of when to call.
SAFETY_NET_TOPICS = frozenset(TOPICS) - {"warning_signs_info"}


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


def _celsius_and_fahrenheit(celsius: float) -> str:
    """38.0 -> "38.0 °C (100.4 °F)": US patients read Fahrenheit (38.4 °C is 101.1 °F)."""
    return f"{celsius:.1f} °C ({celsius * 9 / 5 + 32:.1f} °F)"


class _Placeholders(dict):
    """Leaves unknown {placeholders} as they are instead of raising."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


@dataclass(frozen=True)
class Content:
    topics: dict
    replies: dict
    safety_net: str
    safety_net_sources: tuple[str, ...] = ()

    def _fill(self, template: str, clinic: ClinicSettings, now: dt.datetime | None, **extra: object) -> str:
        values = _Placeholders(
            clinic=clinic.clinic_name,
            phone=clinic.phone_now(now),
            emergency_number=clinic.emergency_number,
            threshold=_celsius_and_fahrenheit(clinic.fever_threshold_c),
            **extra,
        )
        return " ".join(template.format_map(values).split())

    # `now` (default: the clock) picks the day or after-hours number; tests pass a fixed time.
    def topic_answer(self, topic: str, clinic: ClinicSettings, now: dt.datetime | None = None) -> Answer:
        entry = self.topics[topic]
        text = self._fill(entry["text"], clinic, now)
        sources = tuple(entry.get("sources", ()))
        if topic in SAFETY_NET_TOPICS:
            text = f"{text} {self._fill(self.safety_net, clinic, now)}"
            sources += tuple(s for s in self.safety_net_sources if s not in sources)
        return Answer(text=text, sources=sources)

    def safety_net_line(self, clinic: ClinicSettings, now: dt.datetime | None = None) -> str:
        """When to call: the sentence every self-care answer ends with."""
        return self._fill(self.safety_net, clinic, now)

    def reply(self, name: str, clinic: ClinicSettings, now: dt.datetime | None = None, **extra: object) -> Answer:
        return Answer(
            text=self._fill(self.replies[name], clinic, now, **extra),
            sources=tuple(self.replies.get(f"{name}_sources", ())),
        )


@lru_cache(maxsize=4)
def load_content(path: Path) -> Content:
    raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    missing = [t for t in TOPICS if t not in raw.get("topics", {})]
    if missing:
        raise ValueError(f"{path}: no answer for topics {missing}")
    return Content(
        topics=raw["topics"],
        replies=raw["replies"],
        safety_net=raw["safety_net"],
        safety_net_sources=tuple(raw.get("safety_net_sources", ())),
    )
