"""Tests for the warning-sign detector (bot.triage): the labelled table, then the parts."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
import yaml

from bot.triage import DEFAULT_RULES, Detection, Detector, Finding, RulesError, Tier, get_detector
from bot.triage.model import STATUSES
from bot.triage.temperature import parse_temperatures
from bot.triage.vocabulary import sign_names

CASES = yaml.safe_load(Path(__file__).with_name("detector_cases.yml").read_text(encoding="utf-8"))
REPORTS = [c for c in CASES if c["signs"]]
NOT_REPORTS = [c for c in CASES if not c["signs"]]


@pytest.fixture(scope="module")
def detector() -> Detector:
    return get_detector()


def _row(case: dict, detection: Detection) -> str:
    seen = ", ".join(f"{f.sign}:{f.status}:{f.evidence!r}" for f in detection.findings) or "nothing"
    return (
        f"  {case['text']!r}\n    expected {case['signs']} / {case['tier']}, "
        f"got {detection.signs} / {detection.tier.value} ({seen})"
    )


# ------------------------------------------------------------------ the labelled table
def test_table_is_big_and_covers_every_sign() -> None:
    assert len(CASES) >= 500
    covered = {s for c in REPORTS for s in c["signs"]}
    assert covered == set(sign_names())
    assert all(set(c["signs"]) <= set(sign_names()) and Tier(c["tier"]) for c in CASES)


def test_every_reported_sign_is_found(detector: Detector) -> None:
    """Recall must be 1.0: a missed warning sign is the failure that matters."""
    failures = []
    for case in REPORTS:
        detection = detector.detect(case["text"])
        found, tier = set(detection.signs), detection.tier
        if not set(case["signs"]) <= found or tier is not Tier(case["tier"]):
            failures.append(_row(case, detection))
    assert not failures, f"{len(failures)}/{len(REPORTS)} missed:\n" + "\n".join(failures)


def test_nothing_reported_for_negations_questions_and_benign(detector: Detector) -> None:
    failures = [_row(c, d) for c in NOT_REPORTS if (d := detector.detect(c["text"])).reported]
    assert not failures, f"{len(failures)}/{len(NOT_REPORTS)} reported:\n" + "\n".join(failures)


# ------------------------------------------------------------------ temperatures
@pytest.mark.parametrize(
    ("text", "expected_c"),
    [
        ("38.5", [38.5]),
        ("38.5C", [38.5]),
        ("38,5 °C", [38.5]),
        ("101 F", [38.33]),
        ("101.2 degrees", [38.44]),
        ("temp of 100.9", [38.28]),
        ("temperature is 39", [39.0]),
        ("102F", [38.89]),
        ("it was 37.2 then 38.9", [37.2, 38.9]),
        ("temp:38.2", [38.2]),
        ("39 degrees C", [39.0]),
        ("fever 99.5 f", [37.5]),
    ],
)
def test_temperatures_are_parsed(text: str, expected_c: list[float]) -> None:
    assert [t.value_c for t in parse_temperatures(text)] == expected_c


@pytest.mark.parametrize(
    "text",
    [
        "500 mg",
        "took 2 tablets at 10:30",
        "on 12/03",
        "for 2 days",
        "I'm 38 years old",
        "she is 39",
        "38 weeks",
        "blood pressure 120/80",
        "pulse 100",
        "room 101",
        "in 1998",
        "call 555-0100",
        "100%",
        "45 minutes",
    ],
)
def test_other_numbers_are_not_temperatures(text: str) -> None:
    assert parse_temperatures(text) == []


def test_evidence_of_a_temperature_is_the_number(detector: Detector) -> None:
    detection = detector.detect("my son is fine but the thermometer says 101.5F")
    (finding,) = detection.reported
    assert (finding.sign, finding.evidence) == ("fever", "101.5F")
    assert detection.temperature_c == pytest.approx(38.61)


def test_highest_temperature_is_kept(detector: Detector) -> None:
    assert detector.detect("37.9 at noon, 38.7 now").temperature_c == 38.7
    assert detector.detect("what if it hits 39.5?").temperature_c is None  # imagined, not measured


# ------------------------------------------------------------------ tiers
def test_tier_order() -> None:
    assert Tier.NONE < Tier.CALL_PROVIDER < Tier.EMERGENCY
    assert Tier.EMERGENCY >= Tier.CALL_PROVIDER > Tier.NONE
    assert [t.rank for t in Tier] == [0, 1, 2]
    assert max([Tier.CALL_PROVIDER, Tier.EMERGENCY, Tier.NONE], key=Tier.rank) is Tier.EMERGENCY
    assert Tier.highest([]) is Tier.NONE
    assert Tier.highest(["call_provider", Tier.NONE]) is Tier.CALL_PROVIDER
    assert sorted([Tier.EMERGENCY, Tier.NONE, Tier.CALL_PROVIDER]) == list(Tier)
    assert Tier("emergency") == "emergency"  # still a str enum for JSON


@pytest.mark.parametrize(
    ("text", "tier"),
    [
        ("I have a fever and I can't breathe", Tier.EMERGENCY),
        ("it's red", Tier.CALL_PROVIDER),
        ("it's a bit sore", Tier.NONE),
    ],
)
def test_message_tier_is_the_highest_reported(detector: Detector, text: str, tier: Tier) -> None:
    assert detector.detect(text).tier is tier


def test_fever_with_chemotherapy_is_an_emergency(detector: Detector) -> None:
    (finding,) = detector.detect("I'm having chemotherapy and my temp is 38.4").reported
    assert finding.tier is Tier.EMERGENCY and "NICE-CG151" in finding.source


# ------------------------------------------------------------------ needs_temperature
@pytest.mark.parametrize(
    ("text", "needs"),
    [
        ("I feel hot and shivery", True),
        ("I think I have a fever", True),
        ("chills all night", True),
        ("I have a fever, 38.6", False),
        ("I feel hot, temp 37.2", False),
        ("no fever", False),
        ("what if I get a fever?", False),
        ("my hip is bleeding", False),
    ],
)
def test_needs_temperature(detector: Detector, text: str, needs: bool) -> None:
    assert detector.detect(text).needs_temperature is needs


# ------------------------------------------------------------------ threshold and rules file
@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("took paracetamol two hours ago and my temp is 37.2", True),
        ("had some tylenol, thermometer says 98.9", True),
        ("my temp is 37.2", False),
        ("took paracetamol and my temp is 38.6", False),  # a fever anyway: reported, not masked
    ],
)
def test_fever_medicine_masks_a_normal_reading(detector: Detector, text: str, masked: bool) -> None:
    assert detector.detect(text).fever_masked is masked


def test_a_sign_placed_away_from_the_biopsy_is_elsewhere(detector: Detector) -> None:
    detection = detector.detect("my acne is red and oozing")
    assert detection.elsewhere_only and detection.tier is Tier.NONE
    assert {f.status for f in detection.findings} == {"elsewhere"}
    assert detector.detect("my face and the skin round the biopsy site are red").signs == ["redness"]


def test_threshold_override() -> None:
    assert get_detector().detect("my temperature is 37.8").signs == []
    assert get_detector(37.5).detect("my temperature is 37.8").signs == ["fever"]
    assert Detector(fever_threshold_c=38.4).detect("temp 38.2").signs == []
    assert get_detector(37.5) is get_detector(37.5)


def _rules_with(tmp_path: Path, *edits: tuple[str, str]) -> Path:
    """A copy of the shipped rules file with each (old, new) edit made once, as a clinician would."""
    text = DEFAULT_RULES.read_text(encoding="utf-8")
    for old, new in edits:
        assert old in text, f"the rules file no longer contains {old!r}"
        text = text.replace(old, new, 1)
    rules = tmp_path / "warning_signs.yml"
    rules.write_text(text, encoding="utf-8")
    return rules


def test_clinician_edits_to_the_rules_file_change_behaviour(tmp_path: Path) -> None:
    rules = _rules_with(
        tmp_path,
        ("phrases: [swollen,", "phrases: [like a balloon, swollen,"),
        ("threshold_c: 38.0", "threshold_c: 37.5"),
    )

    message = "my hip looks like a balloon"
    assert get_detector().detect(message).signs == []
    clinic = Detector(rules_path=rules)
    assert clinic.detect(message).signs == ["swelling"]
    assert clinic.detect("temp 37.6").signs == ["fever"]


def test_idioms_and_number_phrases_come_from_the_rules_file(tmp_path: Path) -> None:
    rules = _rules_with(
        tmp_path,
        ("idioms: [", "idioms: [\n  pink lemonade,"),
        ("phrases: [confused,", "phrases: [awake for <n> nights, confused,"),
    )

    assert get_detector().detect("I had some pink lemonade").signs == ["redness"]
    assert get_detector().detect("he's been awake for 3 nights").signs == []
    clinic = Detector(rules_path=rules)
    assert clinic.detect("I had some pink lemonade").signs == []
    assert clinic.detect("he's been awake for 3 nights").signs == ["confusion"]
    assert clinic.detect("he's been awake for three nights").signs == ["confusion"]


@pytest.mark.parametrize(
    ("threshold", "text", "signs"),
    [
        (None, "37.6 - is that a fever?", []),  # asked, and the number is below 38.0
        (37.5, "37.6 - is that a fever?", ["fever"]),  # the clinic's threshold decides
        (None, "I have a fever of 37.6", ["fever"]),  # stated: bias to escalate
        (None, "37.6 earlier, 38.3 now, is that a fever?", ["fever"]),  # the highest reading decides
    ],
)
def test_a_fever_asked_about_with_a_number_is_decided_by_the_number(
    threshold: float | None, text: str, signs: list[str]
) -> None:
    assert get_detector(threshold).detect(text).signs == signs


def test_malformed_rules_file_is_refused(tmp_path: Path) -> None:
    bad = _rules_with(tmp_path, ('preceding_negations: ["no",', "preceding_negations: [no,"))
    with pytest.raises(RulesError, match="quote no"):
        Detector(rules_path=bad)


# ------------------------------------------------------------------ findings
def test_findings_point_at_their_evidence(detector: Detector) -> None:
    text = "No fever. But my wife's hip is swolen and she fainted?"
    detection = detector.detect(text)
    assert detection.signs == ["fainting", "swelling"] and detection.tier is Tier.EMERGENCY
    for f in detection.findings:
        assert isinstance(f, Finding) and f.status in STATUSES
        assert text[f.start : f.end] == f.evidence
        assert f.source
    assert [f.status for f in detection.findings if f.sign == "fever"] == ["negated"]


@pytest.mark.parametrize("text", ["", "   ", "?", "🙂", "a" * 20000])
def test_odd_input_is_harmless(detector: Detector, text: str) -> None:
    assert detector.detect(text).tier is Tier.NONE


def test_message_text_is_never_logged(detector: Detector, caplog: pytest.LogCaptureFixture) -> None:
    message = "zebrafinch bleeding everywhere 39.9"
    with caplog.at_level(logging.DEBUG):
        detector.detect(message)
    assert "zebrafinch" not in caplog.text
