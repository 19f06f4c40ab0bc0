"""Deterministic warning-sign detector for aftercare messages (no Rasa; runs when Rasa is down).

    from bot.triage import get_detector
    detection = get_detector().detect("my hip is bleeding and I feel dizzy")
    detection.tier, detection.signs, detection.needs_temperature

The clinical rules live in warning_signs.yml beside this file. The shared words (Tier, sign
names, escalation states) and the result types import without spaCy; the detector, its rules
and the temperature parser load spaCy on first use, so `from bot.triage import Tier` stays light.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from bot.triage.model import Detection, Finding
from bot.triage.vocabulary import Tier

if TYPE_CHECKING:
    from bot.triage.detector import Detector, get_detector
    from bot.triage.rules import DEFAULT_RULES, RulesError, load_rules
    from bot.triage.temperature import Temperature, parse_temperatures

_NEEDS_SPACY = {
    "Detector": "bot.triage.detector",
    "get_detector": "bot.triage.detector",
    "DEFAULT_RULES": "bot.triage.rules",
    "RulesError": "bot.triage.rules",
    "load_rules": "bot.triage.rules",
    "Temperature": "bot.triage.temperature",
    "parse_temperatures": "bot.triage.temperature",
}


def __getattr__(name: str) -> object:
    module = _NEEDS_SPACY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


__all__ = [
    "DEFAULT_RULES",
    "Detection",
    "Detector",
    "Finding",
    "RulesError",
    "Temperature",
    "Tier",
    "get_detector",
    "load_rules",
    "parse_temperatures",
]
