"""Deterministic warning-sign detector for aftercare messages (no Rasa; runs when Rasa is down).

    from bot.triage import get_detector
    detection = get_detector().detect("my hip is bleeding and I feel dizzy")
    detection.tier, detection.signs, detection.needs_temperature

The clinical rules live in warning_signs.yml beside this file.
"""
from bot.triage.detector import Detector, get_detector
from bot.triage.model import Detection, Finding, Tier
from bot.triage.rules import DEFAULT_RULES, RulesError, load_rules
from bot.triage.temperature import Temperature, parse_temperatures

__all__ = ["DEFAULT_RULES", "Detection", "Detector", "Finding", "RulesError", "Temperature", "Tier",
           "get_detector", "load_rules", "parse_temperatures"]
