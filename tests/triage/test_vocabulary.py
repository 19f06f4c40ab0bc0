"""The shared vocabulary (bot.triage.vocabulary) and the detection that travels with a message."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

import bot.triage
from bot.triage import Detection, Detector, Tier, get_detector, load_rules
from bot.triage.detector import carried_or_detect
from bot.triage.model import DETECTION_KEY, carried_in
from bot.triage.vocabulary import EscalationStatus, EscalationTier, sign_names
from tests.conftest import ROOT


@pytest.mark.parametrize(
    "statement",
    [
        "import bot.triage.vocabulary",
        "from bot.triage import Tier, Detection",
        "import aftercare_tools.evaluation.metrics",
        "import api.escalations.schemas",
        "import bot.assistant.runtime",
    ],
)
def test_the_vocabulary_imports_without_spacy(statement: str) -> None:
    code = f"{statement}; import sys; assert 'spacy' not in sys.modules, 'spacy was imported'"
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]


def test_the_detector_still_loads_through_the_package() -> None:
    assert isinstance(get_detector(), Detector)
    with pytest.raises(AttributeError):
        bot.triage.no_such_name  # noqa: B018


def test_tiers_are_ordered_by_rank_not_alphabetically() -> None:
    assert [t.rank for t in (Tier.NONE, Tier.CALL_PROVIDER, Tier.EMERGENCY)] == [0, 1, 2]
    assert Tier.NONE < Tier.CALL_PROVIDER < Tier.EMERGENCY  # "call_provider" < "emergency" < "none" as str
    assert Tier.EMERGENCY > "call_provider" and Tier.NONE <= "none"
    assert Tier.highest(["call_provider", Tier.EMERGENCY, "none"]) is Tier.EMERGENCY
    assert Tier.highest([]) is Tier.NONE
    assert sorted([Tier.EMERGENCY, Tier.NONE, Tier.CALL_PROVIDER]) == [Tier.NONE, Tier.CALL_PROVIDER, Tier.EMERGENCY]


def test_escalation_queue_order_follows_the_tier_ranks() -> None:
    assert [t.priority for t in EscalationTier] == [0, 1, 2]  # emergency, call_provider, callback
    assert EscalationTier.for_triage(Tier.EMERGENCY).priority < EscalationTier.for_triage(Tier.CALL_PROVIDER).priority
    assert EscalationTier.CALLBACK.priority > max(EscalationTier.for_triage(t).priority for t in Tier if t.rank)
    with pytest.raises(ValueError):
        EscalationTier.for_triage(Tier.NONE)


def test_escalation_words_print_as_their_values() -> None:
    """They go into SQL, JSON and templates as plain strings."""
    assert [s.value for s in EscalationStatus] == ["open", "acknowledged", "resolved"]
    assert str(EscalationStatus.OPEN) == f"{EscalationStatus.OPEN}" == "open"
    assert {"open": "a plain string key"}[EscalationStatus.OPEN]  # equal to, and hashed as, its value
    assert json.dumps([EscalationTier.CALLBACK]) == '["callback"]'


def test_sign_names_are_the_rules_files_signs() -> None:
    assert sign_names() == tuple(load_rules().signs)
    assert {"fever", "bleeding", "chest_pain"} <= set(sign_names())


@pytest.mark.parametrize(
    "text",
    [
        "my hip is bleeding and I feel dizzy",
        "I feel hot and shivery",
        "it's 37.1, is that a fever?",
        "no redness, temp 39.2 and I'm on chemo",
        "",
    ],
)
def test_a_detection_survives_the_trip_as_json(text: str) -> None:
    detection = get_detector().detect(text)
    carried = json.loads(json.dumps(detection.to_dict()))
    assert Detection.from_dict(carried) == detection
    assert carried_or_detect(carried, "unrelated text") == detection  # what came along is used


@pytest.mark.parametrize(
    "carried",
    [
        None,
        "not a mapping",
        {},
        {"findings": [{"sign": "fever"}], "temperature_c": None, "feels_feverish": False},
        {"findings": [], "temperature_c": "hot", "feels_feverish": False},
        {"findings": [], "temperature_c": None, "feels_feverish": "yes"},
    ],
)
def test_a_missing_or_malformed_detection_is_detected_again(carried: object) -> None:
    assert carried_or_detect(carried, "my hip is bleeding").signs == ["bleeding"]


def test_carried_in_reads_metadata_or_parse_data() -> None:
    assert carried_in({DETECTION_KEY: {"x": 1}}) == {"x": 1}
    assert carried_in(None) is None and carried_in({"text": "hi"}) is None
