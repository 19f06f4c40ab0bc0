"""How one message changes the conversation's findings: new signs, answers to the question we
asked, corrections. Works on the state's plain dicts (sign -> attributes), so the state stays
JSON as it is stored.

A finding's attributes (all optional): active, tier, site, reading (above | below | none |
unavailable), temperature_c, chills, masked, stated, bleeding, duration_minutes, trend, size,
disposition and rule (what the protocol last made of it).
"""

from __future__ import annotations

from typing import Any

from bot.triage.model import NEGATED, REPORTED, Detection
from bot.triage.protocol import Protocol
from bot.triage.reading import MessageReading, negated_beyond_cue

Findings = dict[str, dict[str, Any]]
SYSTEMIC = {"fever", "breathing_difficulty", "chest_pain", "fainting", "confusion", "airway_swelling",
            "coughing_or_vomiting_blood"}  # fmt: skip
SIZE_SIGNS = ("bruise", "swelling", "redness")
SIZE_RANK = {"unknown": 0, "small": 1, "stable": 1, "unsure": 2, "large": 3, "growing": 4}
# A worse account wins over a milder one said later; a soaked dressing is a question, so the
# answer ("it stopped when I pressed") replaces it.
BLEEDING_RANK = {"unknown": 0, "minor_ooze": 1, "soaking": 2, "stopped": 2, "ongoing": 3, "uncontrolled": 4}


def _entry(findings: Findings, sign: str, tier: str, site: str | None) -> dict[str, Any]:
    entry = findings.setdefault(sign, {})
    entry.update(active=True, tier=tier)
    entry["site"] = site or entry.get("site") or ("systemic" if sign in SYSTEMIC else "biopsy_site")
    return entry


def apply_message(
    findings: Findings,
    pending: str | None,
    detection: Detection,
    reading: MessageReading,
    protocol: Protocol,
    threshold_c: float,
    turn: int,
) -> set[str]:
    """Update `findings` in place; returns the signs this message spoke about (retracted included).
    `turn` numbers this message (the state's turn after it)."""
    touched: set[str] = set()
    for f in detection.findings:
        sign = "fever" if f.sign in protocol.fever_aliases else f.sign
        retold = f.status == NEGATED and reading.correction and not negated_beyond_cue(protocol, reading.text, f.start)
        if f.status == REPORTED or retold:  # retold: "no wait, it IS bleeding" (the "no" is the cue's)
            entry = _entry(findings, sign, "call_provider" if sign == "fever" else f.tier.value, f.site)
            if sign == "fever" and f.tier.value == "emergency":
                entry["tier"] = "emergency"  # the detector's own escalation (fever + chemo said together)
            if protocol.fever_aliases.get(f.sign) == "chills":
                entry["chills"] = True
            touched.add(sign)
        elif f.status == NEGATED and reading.correction and findings.get(sign, {}).get("active"):
            findings[sign]["active"] = False  # "sorry, it's NOT red": the earlier report is retracted
            touched.add(sign)
    if reading.correction and (reading.no or reading.reassurance) and not detection.reported:
        for sign, entry in findings.items():  # "actually no, it's just the tape mark": the last report goes
            if entry.get("active") and entry.get("turn") == turn - 1:
                entry["active"] = False
                touched.add(sign)
    _fever(findings, pending, detection, reading, threshold_c, touched)
    _bleeding(findings, pending, reading, protocol, touched)
    _pain(findings, pending, detection, reading, touched)
    _size(findings, pending, reading, touched)
    for sign in touched:
        findings[sign]["turn"] = turn
    return touched


def _fever(findings, pending, detection, reading, threshold_c, touched) -> None:
    fever = findings.get("fever")
    waiting = pending == "temperature" or bool(fever and fever.get("active") and fever.get("reading") in (None, "none"))
    temps = [detection.temperature_c] if detection.temperature_c is not None else []
    if waiting or (reading.correction and fever):
        temps += reading.temperatures_c  # a bare "38" or "thirty eight point five" counts when asked
    if temps:
        fever = _entry(findings, "fever", (fever or {}).get("tier", "call_provider"), None)
        value = max(temps)
        if fever.get("reading") == "above" and not reading.correction:
            value = max(value, fever.get("temperature_c") or value)  # a fever once measured stays
        fever.update(temperature_c=value, reading="above" if value >= threshold_c else "below")
        fever["masked"] = fever.get("masked", False) or detection.fever_masked
        if fever["reading"] == "below" and reading.correction and not (fever.get("chills") or fever["masked"]):
            fever["active"] = False  # "sorry I meant 37.2": no fever after all
        touched.add("fever")
    elif reading.feels_hot and "fever" not in touched and not (fever and fever.get("active")):
        _entry(findings, "fever", "call_provider", None)  # felt hot in words the detector missed: ask
        touched.add("fever")
    if not temps and reading.no_thermometer and (waiting or "fever" in touched):
        fever = _entry(findings, "fever", (fever or {}).get("tier", "call_provider"), None)
        fever["reading"] = "unavailable"  # no way to measure counts as a fever (issue 11)
        touched.add("fever")
    if "fever" in touched and findings["fever"].get("active"):
        fever = findings["fever"]
        fever.setdefault("reading", "none")
        fever["chills"] = fever.get("chills", False) or reading.chills
        fever["stated"] = fever.get("stated", False) or reading.stated_fever
        fever["masked"] = fever.get("masked", False) or detection.fever_masked


def _bleeding(findings, pending, reading: MessageReading, protocol: Protocol, touched) -> None:
    bleeding = findings.get("bleeding")
    if not bleeding or not bleeding.get("active"):
        return
    answering = pending == "duration"
    said = reading.minutes is not None or reading.pressure or reading.ongoing or reading.stopped or reading.soaking
    said = said or reading.not_stopping
    said = said or reading.several_dressings
    said = said and not reading.question  # "what should I press it with?" tells nothing new
    answered = answering and (said or reading.yes or reading.no)  # not "ok", not "thanks"
    if not ("bleeding" in touched or answered or said or reading.minor_ooze):
        return
    status = _bleeding_status(reading, answering, protocol.pressure_minutes)
    previous = bleeding.get("bleeding", "unknown")
    if status == "unknown" or (BLEEDING_RANK[status] < BLEEDING_RANK[previous] and not reading.correction):
        status = previous if previous != "minor_ooze" or status == "unknown" else status
    bleeding["bleeding"] = status
    if reading.minutes is not None:
        bleeding["duration_minutes"] = reading.minutes
    touched.add("bleeding")


def _bleeding_status(reading: MessageReading, answering: bool, pressure_minutes: float) -> str:
    """uncontrolled: still going after `pressure_minutes` under pressure, "won't stop even
    pressing", or several dressings soaked; an answer to our "how long, and does pressing stop
    it?" that says a long time and not that it stopped counts too (the question told them to
    press). A soaked dressing alone is `soaking`: call now, and ask."""
    long = reading.minutes is not None and reading.minutes >= pressure_minutes
    if reading.ongoing and (long or (reading.pressure and reading.minutes is None)):
        return "uncontrolled"
    if long and not reading.stopped and (answering or reading.pressure):
        return "uncontrolled"
    if reading.several_dressings and not reading.stopped:
        return "uncontrolled"
    if answering and reading.not_stopping and not reading.stopped:
        return "uncontrolled"  # our question said to press firmly: "no, it won't stop" is heavy bleeding
    if reading.minor_ooze and not long:
        return "minor_ooze"
    if reading.stopped or (answering and reading.yes):
        return "stopped"  # also "soaked the plaster but it stopped when I pressed"
    if reading.soaking:
        return "soaking"
    if (
        reading.pressure
        or reading.minutes is not None
        or reading.not_stopping
        or (answering and (reading.no or reading.ongoing))
    ):
        return "ongoing"  # ("keeps oozing" alone still asks how long, and whether pressing stops it)
    return "unknown"


def _pain(findings, pending, detection: Detection, reading: MessageReading, touched) -> None:
    if "increasing_pain" in touched:
        findings["increasing_pain"]["trend"] = "worse"
    elif reading.pain and "increasing_pain" not in detection.signs:
        pain = _entry(findings, "pain", "none", None)
        denied = any(f.sign == "increasing_pain" and f.status == NEGATED for f in detection.findings)
        told = None if reading.question else reading.trend  # "which is better?" tells no trend
        pain["trend"] = told or ("same" if denied else None) or pain.get("trend") or "unknown"
        touched.add("pain")
    pain = findings.get("pain")
    if pending == "trend" and pain and pain.get("active") and "pain" not in touched:
        trend = reading.trend or (
            "worse" if reading.yes else "same" if reading.no else "unsure" if reading.unsure else None
        )
        if trend:
            pain["trend"] = trend
            touched.add("pain")


def _size(findings, pending, reading: MessageReading, touched) -> None:
    if reading.bruise and "bruise" not in touched:
        _entry(findings, "bruise", "none", None)
        touched.add("bruise")
    answer = reading.size
    if pending == "size" and not answer:
        answer = "growing" if reading.yes else "stable" if reading.no else "unsure" if reading.unsure else None
    for sign in SIZE_SIGNS:
        entry = findings.get(sign)
        if not entry or not entry.get("active"):
            continue
        if sign in touched:
            entry["size"] = _larger(entry.get("size"), reading.size, reading.correction)
        elif answer and (
            pending == "size" or (answer in ("growing", "large") and entry.get("size") in (None, "unknown"))
        ):
            # unasked, only growth counts: "a little tired" says nothing of the red patch
            entry["size"] = _larger(entry.get("size"), answer, reading.correction)
            touched.add(sign)


def _larger(before: str | None, said: str | None, correction: bool) -> str:
    """A size once growing stays so unless corrected ("it's small" later is no all-clear)."""
    if said is None:
        return before or "unknown"
    if correction or SIZE_RANK[said] >= SIZE_RANK.get(before or "unknown", 0):
        return said
    return before or "unknown"
