"""Issue 11, findings: where a finding is, whom it is about, and readings said in words."""

from __future__ import annotations

import pytest

from bot.triage import Detection, Detector, Finding, Tier, get_detector
from bot.triage.temperature import parse_temperatures


@pytest.fixture(scope="module")
def detector() -> Detector:
    return get_detector()


def _reported(detector: Detector, text: str, sign: str) -> Finding:
    return next(f for f in detector.detect(text).reported if f.sign == sign)


# ------------------------------------------------------------------ site
@pytest.mark.parametrize(
    ("text", "sign", "site"),
    [
        ("the site is red", "redness", "biopsy_site"),
        ("it's swollen", "swelling", "biopsy_site"),  # unplaced: the site (bias to escalate)
        ("my lower back is oozing", "drainage", "biopsy_site"),
        ("my nose has been bleeding", "bleeding", "elsewhere"),
        ("I have a fever", "fever", "systemic"),
        ("shivering under the blankets", "chills", "systemic"),
        ("my chest feels tight", "chest_pain", "systemic"),
        ("she passed out in the kitchen", "fainting", "systemic"),
        ("can't catch his breath", "breathing_difficulty", "systemic"),
    ],
)
def test_a_finding_says_where_it_is(detector: Detector, text: str, sign: str, site: str) -> None:
    assert _reported(detector, text, sign).site == site


def test_an_elsewhere_status_keeps_its_behaviour(detector: Detector) -> None:
    detection = detector.detect("my ear is really sore and getting worse")
    assert detection.elsewhere_only and detection.tier is Tier.NONE
    assert {(f.status, f.site) for f in detection.findings} == {("elsewhere", "elsewhere")}


def test_an_emergency_sign_is_never_elsewhere(detector: Detector) -> None:
    detection = detector.detect("my face has gone grey and my ear hurts a lot")
    assert detection.tier is Tier.EMERGENCY and "blue_lips" in detection.signs


# ------------------------------------------------------------------ who
@pytest.mark.parametrize(
    ("text", "sign", "who"),
    [
        ("my hip is bleeding", "bleeding", "patient"),
        ("the dressing is soaked with blood", "bleeding", "patient"),  # nobody named: the writer
        ("my son has a temp of 38.9", "fever", "child"),
        ("my little girl's plaster is bloody", "bleeding", "child"),
        ("Mum's hip is bright red", "redness", "other"),
        ("she is really confused", "confusion", "other"),
        ("My daughter had hers on Monday. Now her hip is swollen.", "swelling", "child"),
        ("the nurse said she'd ring back. My back is bleeding.", "bleeding", "patient"),
        ("my husband says I look pale and I fainted", "fainting", "patient"),
    ],
)
def test_a_finding_says_whom_it_is_about(detector: Detector, text: str, sign: str, who: str) -> None:
    assert _reported(detector, text, sign).who == who


# ------------------------------------------------------------------ backward compatibility
def test_detections_written_before_site_and_who_still_read() -> None:
    old = {
        "findings": [
            {
                "sign": "redness",
                "tier": "call_provider",
                "status": "reported",
                "evidence": "red",
                "start": 7,
                "end": 10,
                "source": "MEDLINEPLUS",
            }
        ],
        "temperature_c": None,
        "feels_feverish": False,
    }
    (finding,) = Detection.from_dict(old).findings
    assert (finding.site, finding.who) == ("biopsy_site", "patient")


def test_site_and_who_travel_with_a_detection(detector: Detector) -> None:
    detection = detector.detect("my son's lips look blue and my hip is red")
    again = Detection.from_dict(detection.to_dict())
    assert again == detection
    assert {(f.sign, f.site, f.who) for f in again.reported} == {
        ("blue_lips", "systemic", "child"),
        ("redness", "biopsy_site", "patient"),
    }


def test_an_unknown_site_is_refused() -> None:
    finding = get_detector().detect("the site is red").reported[0].to_dict()
    with pytest.raises(ValueError):
        Finding.from_dict({**finding, "site": "kitchen"})


# ------------------------------------------------------------------ temperatures in words
@pytest.mark.parametrize(
    ("text", "expected_c"),
    [
        ("temp thirty eight point five", [38.5]),
        ("thirty-nine point two degrees", [39.2]),
        ("temperature of a hundred and one", [38.33]),
        ("one hundred and two point four F", [39.11]),
        ("38 point 7", [38.7]),
        ("reading thirty eight and a half", [38.5]),
        ("ninety nine point five fahrenheit", [37.5]),
        ("38,5", [38.5]),
    ],
)
def test_temperatures_said_in_words(text: str, expected_c: list[float]) -> None:
    assert [t.value_c for t in parse_temperatures(text)] == expected_c


@pytest.mark.parametrize(
    "text",
    [
        "temp taken at 38 minutes past ten",
        "temperature checked thirty eight minutes ago",
        "took 500mg for my temperature",
        "temp fine, took 400 mg ibuprofen",
        "temp fine, dose was thirty eight mg",
        "fever gone, took a hundred mg",
    ],
)
def test_times_and_doses_are_not_temperatures(text: str) -> None:
    assert parse_temperatures(text) == []


def test_a_reading_in_words_decides_like_digits(detector: Detector) -> None:
    assert detector.detect("my temp is thirty eight point six").signs == ["fever"]
    assert detector.detect("my temp is thirty seven point two").signs == []
