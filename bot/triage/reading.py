"""What one message says beyond the detector's signs: risk factors, answers, corrections,
pain or a bruise without a trend or size, how a bleed behaves.

The detector finds warning signs in a message on its own; in a conversation a message can also
be an answer ("yeah worse", "38,6", "half an hour"), a correction ("sorry I meant 37.2") or a
risk factor ("she's on chemo"). The word lists are protocol.yml's, so clinicians can edit them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from bot.triage.phrases import PhraseList, ages, duration_minutes, normalise, score_changes, temperatures_c
from bot.triage.protocol import Protocol

NEGATORS = PhraseList(["not", "no", "never", "isnt", "wasnt", "arent", "werent", "dont", "doesnt", "didnt", "hasnt",
                       "havent", "without", "nothing"])  # fmt: skip
NEGATION_REACH = 3  # words before a phrase that can negate it ("not any bigger", "isn't getting any worse")
NEAR = 4  # words either side of a pain word where another body part takes it elsewhere
NOT_A_REPORT_AFTER_PAIN = re.compile(r"^ (?:killers?|relief|medicine|meds|tablets?|pills?|management)\b")
FEELING_HOT = re.compile(r"^burning up\b")  # "I'm burning up" is feeling hot, not a burning pain
THERMOMETER = PhraseList(["thermometer", "thermometers", "thermometre", "termometer", "themometer"])
QUESTION_START = re.compile(
    r"^(?:how|what|when|why|which|who|where|should|can|could|will|would|is|are|do|does|did)\b(?!\s+not\b)"
)


@dataclass
class MessageReading:
    norm: str
    text: str = ""
    correction: bool = False
    question: bool = False  # ends in "?" or opens like a question
    question_start: bool = False  # opens like one: "how long will it be sore?" (not "bruised, normal?")
    acknowledgement: bool = False
    compliance: bool = False  # "the ambulance is coming": doing what an emergency reply said
    reassurance: bool = False  # "skin's normal", "it's just the tape mark"
    risks: set[str] = field(default_factory=set)
    temperatures_c: list[float] = field(default_factory=list)  # numbers read as temperatures (only if asked)
    no_thermometer: bool = False
    yes: bool = False
    no: bool = False
    unsure: bool = False
    trend: str | None = None  # worse | same | better
    size: str | None = None  # growing | large | stable | small
    minutes: float | None = None
    pressure: bool = False
    ongoing: bool = False
    not_stopping: bool = False  # "no, it won't stop", "pressing isn't helping": pressure did not stop it
    stopped: bool = False
    soaking: bool = False
    several_dressings: bool = False  # more than one dressing soaked: heavy bleeding
    minor_ooze: bool = False
    pain: bool = False  # a pain word about the biopsy area, reported
    bruise: bool = False  # a bruise or lump word, reported
    pain_elsewhere: bool = False  # a pain word about somewhere away from the biopsy ("my knee aches")
    chills: bool = False
    unwell: bool = False  # any word of feeling ill or of a symptom: a risk factor said with it is not alone
    stated_fever: bool = False  # "I have a fever", not hedged
    feels_hot: bool = False


def _before(norm: str, start: int, reach: int) -> str:
    """Up to `reach` words before `start`, within its clause ("no, a bit better": not "no")."""
    words = norm[:start].split()[-reach:]
    if "," in words:
        words = words[len(words) - words[::-1].index(",") :]
    return " ".join(words)


def _negated(norm: str, start: int) -> bool:
    return NEGATORS.search(_before(norm, start, NEGATION_REACH))


def negated_beyond_cue(protocol: Protocol, text: str, start: int) -> bool:
    """In a correction, is the sign at `start` negated by more than the cue's own "no"?
    ("no wait, it IS bleeding" reports it; "no sorry, it's not bleeding" does not.)"""
    before = normalise(text[:start])
    cue = re.match(r"^(?:(?:no|nope|oh|wait|sorry|hang on|actually)\s*,?\s*)+", before)
    rest = before[cue.end() :] if cue else before
    return bool(rest) and NEGATORS.search(_before(rest, len(rest), NEGATION_REACH + 1))


def _asserted(phrases: PhraseList, norm: str) -> list[tuple[int, int]]:
    """Matches not negated just before ("no bigger", "not worse")."""
    return [(s, e) for s, e in phrases.spans(norm) if not _negated(norm, s)]


def _first(protocol: Protocol, norm: str, order: tuple[str, ...]) -> str | None:
    """The first list in `order` with an asserted phrase: the more urgent reading wins."""
    return next((name for name in order if _asserted(protocol.answers[name], norm)), None)


def _body_word(protocol: Protocol, norm: str, kind: str) -> tuple[bool, bool]:
    """(a pain or bruise word reported about the biopsy area, one reported about somewhere else)."""
    words = norm.split()
    elsewhere = protocol.findings["elsewhere"]
    away = False
    for s, e in protocol.findings[kind].spans(norm):
        at = norm[:s].count(" ")
        around = " ".join(words[max(0, at - NEAR) : at + NEAR + 1])
        if _negated(norm, s) or NOT_A_REPORT_AFTER_PAIN.match(norm[e:]) or FEELING_HOT.match(norm[s:]):
            continue
        if elsewhere.search(around):
            away = True
            continue
        return True, away
    return False, away


def _close(norm: str, phrases: PhraseList, start: int, end: int, within: int) -> bool:
    """One of `phrases` within `within` words either side of norm[start:end], same clause."""
    before = _before(norm, start, within)
    after = norm[end:].split()[:within]
    after = after[: after.index(",")] if "," in after else after
    window = f"{before} {' '.join(after)}"
    return phrases.search(window) and not NEGATORS.search(window)  # not "platelets aren't low"


def _risks(protocol: Protocol, norm: str) -> set[str]:
    found = set()
    for name, phrases in protocol.risk_factors.items():
        for s, _ in phrases.spans(norm):
            if not protocol.risk_negations.search(_before(norm, s, NEGATION_REACH)):
                found.add(name)
    for near in protocol.risk_near:
        if any(_close(norm, near.with_, s, e, near.within) for s, e in near.words.spans(norm)):
            found.add(near.risk)
    for age in ages(norm):
        if age < protocol.child_below:
            found.add("child")
        elif age >= protocol.older_age_from:
            found.add("older_age")
    return found


# "it's back", "came back again": something returning, not the back where the biopsy was
RETURNED = re.compile(r"\b(?:is|its|it s|was|are|has been|came|come|comes|coming|be|been)\s+back\b(?!\s+of\b)")


def found_site(protocol: Protocol, norm: str) -> bool:
    """A word naming the biopsy site ("site", "hip", "where they", "dressing", ...)."""
    return protocol.findings["biopsy_site"].search(RETURNED.sub(" ", norm))


def read_message(protocol: Protocol, text: str) -> MessageReading:
    norm = normalise(text)
    answers = protocol.answers
    reading = MessageReading(norm=norm, text=text)
    flat = norm.replace(" ,", "")  # cues read across commas: "no, wait", "sorry, I meant"
    reading.correction = protocol.corrections.search(flat)
    reading.question_start = bool(QUESTION_START.match(norm))
    reading.question = text.rstrip().endswith("?") or reading.question_start
    reading.acknowledgement = answers["acknowledgements"].starts(norm, within_words=1)
    reading.compliance = answers["compliance"].search(norm)
    reading.reassurance = bool(_asserted(answers["reassurance"], norm))
    reading.risks = _risks(protocol, norm)
    reading.temperatures_c = temperatures_c(norm)
    reading.no_thermometer = answers["no_thermometer"].search(norm) or any(
        _negated(norm, s) for s, _ in THERMOMETER.spans(norm)
    )  # "we don't own a thermometer", "no working thermometer"
    reading.unsure = answers["unsure"].starts(norm)
    if not reading.unsure:  # the earlier of yes and no answers: "no, a bit better" is a no
        yes, no = (answers[k].first_word(" ".join(norm.split()[:6])) for k in ("yes", "no"))
        reading.yes = yes is not None and yes < 2 and (no is None or yes < no)
        reading.no = no is not None and no < 2 and not reading.yes
    reading.trend = _first(protocol, norm, ("worse", "better", "same"))
    changes = [c for c in score_changes(text) if c.new != c.old]
    if changes:  # "went down from 7 to 3" eases, "it was a 4, now an 8" is worse: the numbers decide
        last = changes[-1]
        reading.trend = (
            "worse" if last.new > last.old or reading.trend == "worse" else "better"
        )  # a worse word still counts
    reading.size = _first(protocol, norm, ("growing", "large", "stable", "small"))
    if reading.size == "large" and _asserted(answers["small"], norm):
        reading.size = "growing"  # "a coin yesterday, now like my palm": two sizes said is a change
    reading.minutes = duration_minutes(norm)
    reading.pressure = bool(_asserted(answers["pressure"], norm))
    small_amount = answers["minor_amounts"].search(norm)
    reading.soaking = bool(_asserted(answers["soaking"], norm)) or (
        bool(_asserted(answers["through"], norm)) and not small_amount
    )
    reading.several_dressings = bool(_asserted(answers["several_dressings"], norm))
    reading.ongoing = bool(answers["uncontrolled"].spans(norm))  # "won't stop" carries its own "not"
    reading.not_stopping = bool(answers["not_stopping"].spans(norm))  # each carries its own "not"
    reading.stopped = not (reading.ongoing or reading.not_stopping) and bool(_asserted(answers["stopped"], norm))
    reading.minor_ooze = (
        small_amount and answers["dressing_off"].search(norm) and not (reading.ongoing or reading.soaking)
    )
    if not reading.question_start:
        reading.pain, away = _body_word(protocol, norm, "pain")
        away = away or _body_word(protocol, norm, "pain_slang")[1]  # "my knee is killing me"
        reading.bruise = _body_word(protocol, norm, "bruise")[0]
        if any(c.scored for c in changes) and not (reading.pain or away):  # "it was an 8, now a 4"
            away = protocol.findings["elsewhere"].search(norm)
            reading.pain = not away
        reading.pain_elsewhere = away and not reading.pain and not found_site(protocol, norm)
    reading.chills = bool(_asserted(protocol.findings["chills"], norm))
    reading.unwell = protocol.findings["unwell"].search(norm)
    found = protocol.findings
    reading.stated_fever = bool(_asserted(found["stated_fever"], norm)) and not found["fever_hedges"].search(norm)
    reading.feels_hot = not reading.question and bool(_asserted(found["feels_hot"], norm))
    return reading
