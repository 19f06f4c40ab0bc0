"""Properties every answer in answers.yml keeps, whoever edits it (docs/clinical-sources.md)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from bot.content import ClinicSettings, load_content
from bot.content.answers import SAFETY_NET_TOPICS, TOPICS
from bot.content.clinic import DEFAULT_ANSWERS
from bot.content.sources import SOURCES_FILE

ROOT = Path(__file__).resolve().parents[2]
RAW = yaml.safe_load(DEFAULT_ANSWERS.read_text(encoding="utf-8"))
KNOWN_SOURCES = set(yaml.safe_load(SOURCES_FILE.read_text(encoding="utf-8")))
REPLIES = {name: text for name, text in RAW["replies"].items() if not name.endswith("_sources")}
# Replies that state nothing clinical (sorry, a person will call, the fail-safe) may cite nothing.
# Routing only (who to call, on which number), no clinical claim: the callback-number steps too.
NO_CLINICAL_CLAIM = {"out_of_scope", "request_human", "fallback_apology"} | {
    "callback_ask_number",
    "callback_ask_number_again",
    "callback_confirm_number",
    "callback_number_not_given",
    "callback_number_saved",
}
# Every text a patient can get: the topic answers, the fixed replies and the safety-net line.
TEXTS = {"safety_net": RAW["safety_net"]} | {f"topics.{t}": e["text"] for t, e in RAW["topics"].items()} | REPLIES

DOSE_OR_WEIGHT = re.compile(
    r"\b(\d+(?:[.,]\d+)?|one|two|three|four|five|six|eight|ten|half)\s*-?\s*"
    r"(mg|milligrams?|mcg|micrograms?|g|grams?|ml|millilit(?:er|re)s?|tablets?|pills?|capsules?|caplets?|"
    r"doses?|kg|kilos?|kilograms?|lbs?|pounds?|stones?)\b"
    r"|\b(\d+|once|twice|one|two|three|four)\s+times\s+a\s+day\b|\bevery\s+\d+\s+hours\b",
    re.IGNORECASE,
)
NUMBER = re.compile(r"(?<![\w.{])\d+(?:\.\d+)?")


def _figures_in_the_sources_doc() -> set[str]:
    """The first column of the "Figures the answers may state" table in docs/clinical-sources.md."""
    doc = (ROOT / "docs" / "clinical-sources.md").read_text(encoding="utf-8")
    section = doc.split("## Figures the answers may state", 1)[1].split("\n## ", 1)[0]
    rows = [line.split("|")[1] for line in section.splitlines() if re.match(r"\|\s*\d", line)]
    return {figure.strip() for row in rows for figure in row.split(",")}


def test_every_topic_cites_known_sources():
    for topic in TOPICS:
        sources = RAW["topics"][topic].get("sources") or []
        assert sources, f"topic {topic} cites no source"
        assert set(sources) <= KNOWN_SOURCES, f"topic {topic} cites unknown {set(sources) - KNOWN_SOURCES}"
    assert RAW["safety_net_sources"] and set(RAW["safety_net_sources"]) <= KNOWN_SOURCES


@pytest.mark.parametrize("name", sorted(REPLIES))
def test_every_reply_cites_known_sources(name):
    assert f"{name}_sources" in RAW["replies"], f"reply {name} has no {name}_sources list"
    sources = RAW["replies"][f"{name}_sources"]
    assert set(sources) <= KNOWN_SOURCES, f"reply {name} cites unknown {set(sources) - KNOWN_SOURCES}"
    assert sources or name in NO_CLINICAL_CLAIM, f"reply {name} says something clinical and cites nothing"


def test_the_emergency_reply_cites_first_aid_not_the_seed_page():
    assert "FIRSTAID" in RAW["replies"]["emergency_sources"]
    assert "MEDLINEPLUS" not in RAW["replies"]["emergency_sources"]


@pytest.mark.parametrize("topic", TOPICS)
def test_every_topic_answer_says_when_to_call(topic):
    clinic = ClinicSettings()
    answer = load_content(DEFAULT_ANSWERS).topic_answer(topic, clinic)
    sentences = [s for s in re.split(r"(?<=[.!?])\s+", answer.text) if s]
    when_to_call = [s for s in sentences if "call your care team" in s.lower() and clinic.phone_now() in s]
    assert when_to_call, f"{topic}: no sentence saying when to call the care team"
    if topic in SAFETY_NET_TOPICS:  # ends with the safety net, and cites what it says
        assert sentences[-1] == when_to_call[-1]
        assert set(RAW["safety_net_sources"]) <= set(answer.sources)
    else:  # warning_signs_info is itself the list of when to call, down to the emergency number
        assert clinic.emergency_number in answer.text


@pytest.mark.parametrize("name", sorted(TEXTS))
def test_no_dose_or_weight_and_no_figure_the_sources_do_not_give(name):
    text = TEXTS[name]
    dose = DOSE_OR_WEIGHT.search(text)
    assert dose is None, f"{name} states a dose or weight: {dose and dose[0]!r}"
    unsourced = set(NUMBER.findall(text)) - _figures_in_the_sources_doc()
    assert not unsourced, f"{name} states {unsourced}, not in docs/clinical-sources.md's table of figures"


def test_the_dose_check_catches_doses():
    for dose in ("500 mg", "two tablets", "1g", "3 times a day", "every 6 hours", "no more than 10 lbs"):
        assert DOSE_OR_WEIGHT.search(f"take {dose} of it"), dose
    assert not DOSE_OR_WEIGHT.search("about 5 minutes of firm pressure, for 24 hours, 1 to 3 weeks")


def test_pain_medicine_is_only_what_the_team_approved():
    text = " ".join(RAW["topics"]["pain_medication"]["text"].split()).lower()
    assert "only take pain medicine your care team has approved" in text
    assert "hide a fever" in text and "temperature before" in text
    for drug in ("aspirin", "ibuprofen", "naproxen"):
        assert drug in text
    for risk in ("low platelets", "blood thinner", "kidney", "child"):
        assert risk in text


def test_activity_never_says_a_leg_that_will_not_bear_weight_is_fine():
    text = " ".join(RAW["topics"]["activity"]["text"].split()).lower()
    assert "put weight on your leg" in text and "not normal" in text and "call your care team" in text
    assert "do not drive or use machines for 24 hours" in text and "soak" in text


def test_a_reading_under_the_threshold_is_never_reassurance_with_chills_or_fever_medicine():
    below = " ".join(REPLIES["temperature_below_threshold"].split()).lower()
    assert "does not rule out a fever if you have chills" in below and "fever medicine" in below
    masked = " ".join(REPLIES["temperature_after_fever_medicine"].split()).lower()
    assert "below" not in masked and "hide a fever" in masked


def test_oozing_is_a_call_to_the_team_not_the_emergency_number():
    for name in ("topics.wound_care", "topics.warning_signs_info"):
        text = " ".join(TEXTS[name].split()).lower()
        assert "even a little when the bandage comes off, press firmly on it and call your" in text
        assert "after about 5 minutes of firm pressure" in text
        assert "heavy and will not stop with" in text  # only then the emergency number


# Where the project writes temperatures for people: docs, content, rules, data, tools, tests.
WRITTEN = ("docs", "bot", "actions", "api", "data", "tools", "tests")
CELSIUS_FAHRENHEIT = re.compile(
    r"(?P<c>\d{2}\.\d)\s?°?\s?C[\s)/(,]+(?:is\s+)?(?P<f>\d{2,3}\.\d)\s?°?\s?F"
    r"|(?P<f2>\d{2,3}\.\d)\s?°?\s?F[\s)/(,]+(?:is\s+)?(?P<c2>\d{2}\.\d)\s?°?\s?C"
)


def test_every_celsius_and_fahrenheit_pair_in_the_repository_agrees():
    """The fact sheet's slip (38.4 °C written as 101.5 °F; it is 101.1 °F) must not come back."""
    files = [ROOT / "README.md"] + [
        path for folder in WRITTEN for suffix in ("md", "yml", "py") for path in (ROOT / folder).rglob(f"*.{suffix}")
    ]
    pairs = 0
    for path in files:
        for match in CELSIUS_FAHRENHEIT.finditer(path.read_text(encoding="utf-8", errors="replace")):
            celsius, fahrenheit = float(match["c"] or match["c2"]), float(match["f"] or match["f2"])
            assert abs(celsius * 9 / 5 + 32 - fahrenheit) < 0.06, f"{path}: {match[0]!r}"
            pairs += 1
    assert pairs >= 3  # the README, the rules file and the answers write some


def test_the_threshold_is_shown_in_both_units():
    content = load_content(DEFAULT_ANSWERS)
    text = content.reply("doing_well", ClinicSettings(fever_threshold_c=38.4)).text
    assert "38.4 °C (101.1 °F)" in text


def test_soreness_says_when_it_is_no_longer_normal():
    text = " ".join(RAW["topics"]["soreness"]["text"].split()).lower()
    assert "gets worse instead of better" in text and "beyond about a week" in text
    assert "large or growing" in text and "hard lump" in text
