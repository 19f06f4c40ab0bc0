"""Triage of a whole conversation: what has been reported so far, and what to do now.

The detector judges one message. This module keeps, per conversation, the findings and risk
factors said so far and the question left open, and turns them into a disposition:

    state = ConversationState.empty()
    state, assessment = assess(state, detection, text)
    assessment.disposition, assessment.question, assessment.findings

Standard library only (plus the detector's result types): the API stores `state.to_dict()` in
its database between messages and sends `assessment.to_dict()` to the Rasa actions with the
message, as it does the detection.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field, replace
from typing import TYPE_CHECKING, Any, Final, overload

from bot.triage.model import FEVER_THRESHOLD_RANGE_C, NEGATED, REPORTED, Detection
from bot.triage.protocol import Protocol, Row, load_protocol
from bot.triage.reading import MessageReading, found_site, read_message
from bot.triage.updates import apply_message
from bot.triage.vocabulary import Tier

# Where an assessment travels with a message: Rasa message metadata.
ASSESSMENT_KEY = "aftercare_assessment"
# "ok thanks calling now": an acknowledgement this short says nothing new about the patient.
ACKNOWLEDGEMENT_WORDS = 5
# What a clarifying question asks about.
QUESTIONS = ("temperature", "duration", "trend", "size")
# Signs a message can carry on about for a complaint away from the biopsy ("my knee hurts",
# then "it's getting worse actually"). Never a fever, bleeding or an emergency sign.
CARRIES_ON_ELSEWHERE = frozenset({"increasing_pain", "redness", "swelling", "drainage"})


# Least to most urgent; no disposition (None, or the protocol's "none") ranks 0.
DISPOSITION_RANKS: Final = {"self_care": 1, "call_within_24h": 2, "call_now": 3, "emergency": 4}


class _DispositionRank:
    """`disposition.rank` is an int; `Disposition.rank` is a key function that also ranks None
    and the protocol's value strings: `max(dispositions, key=Disposition.rank)`."""

    @overload
    def __get__(self, disposition: None, owner: type[Disposition]) -> Callable[[str | None], int]: ...

    @overload
    def __get__(self, disposition: Disposition, owner: type[Disposition]) -> int: ...

    def __get__(self, disposition: Disposition | None, owner: type[Disposition]) -> int | Callable[[str | None], int]:
        if disposition is None:
            return lambda value: 0 if value is None else DISPOSITION_RANKS.get(value, 0)
        return DISPOSITION_RANKS[disposition.value]


class Disposition(str, enum.Enum):
    """What the patient is told to do, most urgent first."""

    EMERGENCY = "emergency"  # call the emergency number now; do not drive yourself
    CALL_NOW = "call_now"  # call the care team now, on the number for the hour
    CALL_WITHIN_24H = "call_within_24h"  # call the care team within 24 hours
    SELF_CARE = "self_care"  # self-care, with a sentence on when to call

    if TYPE_CHECKING:  # an annotation, not a value: type checkers would take it for an enum member
        rank: _DispositionRank
    else:
        rank = _DispositionRank()

    def __str__(self) -> str:
        return str(self.value)

    @property
    def tier(self) -> Tier:
        """The `triage.level` existing clients read."""
        if self is Disposition.EMERGENCY:
            return Tier.EMERGENCY
        if self is Disposition.SELF_CARE:
            return Tier.NONE
        return Tier.CALL_PROVIDER


@dataclass(frozen=True)
class ReportedFinding:
    """One finding as the API reports it in `triage.findings`."""

    sign: str
    site: str = "biopsy_site"  # biopsy_site | elsewhere | systemic
    trend: str | None = None  # worse | same | better
    temperature_c: float | None = None
    duration_minutes: float | None = None
    size: str | None = None  # growing | large | stable | small (bruise, lump, swelling, redness)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["temperature_f"] = None if self.temperature_c is None else round(self.temperature_c * 9 / 5 + 32, 1)
        return data


@dataclass
class ConversationState:
    """What the conversation has established so far. JSON-safe through to_dict/from_dict."""

    findings: dict[str, dict[str, Any]] = field(default_factory=dict)  # sign -> its attributes
    risk_factors: list[str] = field(default_factory=list)
    pending_question: str | None = None  # one of QUESTIONS, asked in the last reply
    emergency_told: bool = False  # an emergency reply went out: never ask a question after it
    turn: int = 0
    elsewhere_topic: bool = False  # the last message was about a complaint away from the biopsy

    @classmethod
    def empty(cls) -> ConversationState:
        return cls()

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ConversationState:
        """Raises KeyError, TypeError or ValueError on anything but what to_dict wrote."""
        pending = data.get("pending_question")
        if pending is not None and pending not in QUESTIONS:
            raise ValueError(f"unknown question {pending!r}")
        return cls(
            findings={str(k): dict(v) for k, v in dict(data.get("findings", {})).items()},
            risk_factors=[str(r) for r in data.get("risk_factors", [])],
            pending_question=pending,
            emergency_told=bool(data.get("emergency_told", False)),
            turn=int(data.get("turn", 0)),
            elsewhere_topic=bool(data.get("elsewhere_topic", False)),
        )


@dataclass(frozen=True)
class Assessment:
    """The conversation's triage after one message."""

    disposition: Disposition | None  # None: nothing triage-related was said (an ordinary question)
    findings: tuple[ReportedFinding, ...] = ()
    question: str | None = None  # one of QUESTIONS to ask now, or None
    risk_factors: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()  # protocol source ids behind the disposition
    # The message told a risk factor (chemotherapy, a blood thinner, ...) and nothing else: no
    # sign, no answer, no word of feeling unwell. Noted for what follows; it opens no escalation.
    risk_factor_only: bool = False
    # After a call or emergency reply, the message only acknowledges it or tells of doing it
    # ("ok, I've rung 911", "thanks, calling them now"): the escalation stays open, nothing new.
    acknowledges: bool = False
    # The message goes on about the complaint away from the biopsy said just before ("it's
    # worse now" after "my knee hurts"): not a biopsy warning sign, nothing is escalated.
    elsewhere: bool = False
    # Only signs said to be absent ("never had any redness", "no fever at all") and no word of
    # feeling unwell: a reassurance, answered with when to call, even if the model read a report.
    reassures: bool = False
    # A correction that took an earlier report back ("oops, I meant 36.9", "sorry, I meant it's
    # getting better"): nothing stands from it; answered with when to call, not escalated.
    retracts: bool = False

    @property
    def tier(self) -> Tier:
        return Tier.NONE if self.disposition is None else self.disposition.tier

    @property
    def signs(self) -> list[str]:
        return sorted({f.sign for f in self.findings})

    @property
    def asks_first(self) -> bool:
        """The answer decides: feels hot with no number, pain with no trend, a bruise with no
        size. The reply is the question with when to call, not an escalation (yet)."""
        return self.disposition is None and self.question is not None

    def to_dict(self) -> dict[str, Any]:
        return {
            "disposition": None if self.disposition is None else self.disposition.value,
            "findings": [asdict(f) for f in self.findings],
            "question": self.question,
            "risk_factors": list(self.risk_factors),
            "sources": list(self.sources),
            "risk_factor_only": self.risk_factor_only,
            "acknowledges": self.acknowledges,
            "elsewhere": self.elsewhere,
            "reassures": self.reassures,
            "retracts": self.retracts,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Assessment:
        """Raises KeyError, TypeError or ValueError on anything but what to_dict wrote."""
        disposition = data["disposition"]
        question = data.get("question")
        if question is not None and question not in QUESTIONS:
            raise ValueError(f"unknown question {question!r}")
        return cls(
            disposition=None if disposition is None else Disposition(disposition),
            findings=tuple(ReportedFinding(**f) for f in data.get("findings", [])),
            question=question,
            risk_factors=tuple(str(r) for r in data.get("risk_factors", [])),
            sources=tuple(str(s) for s in data.get("sources", [])),
            risk_factor_only=bool(data.get("risk_factor_only", False)),
            acknowledges=bool(data.get("acknowledges", False)),
            elsewhere=bool(data.get("elsewhere", False)),
            reassures=bool(data.get("reassures", False)),
            retracts=bool(data.get("retracts", False)),
        )


def assess(
    state: ConversationState,
    detection: Detection,
    text: str,
    *,
    fever_threshold_c: float = 38.0,
    protocol: Protocol | None = None,
) -> tuple[ConversationState, Assessment]:
    """The conversation's triage after `text` (whose detection is `detection`), and the state to
    keep for the next message. Pure: `state` is not changed.

    A message counts for the findings it speaks about (a sign, an answer, a correction) and for
    earlier findings it makes more urgent (a risk factor said now). A message that speaks about
    nothing, such as an acknowledgement, gets no disposition: an escalation already opened stays
    open, that is the caller's business. `fever_threshold_c` is the clinic's setting (ValueError
    outside FEVER_THRESHOLD_RANGE_C: the setting is validated where it is configured).
    """
    low, high = FEVER_THRESHOLD_RANGE_C
    if not low <= fever_threshold_c <= high:  # 100.4 would be Fahrenheit: every fever would pass as normal
        raise ValueError(f"fever threshold {fever_threshold_c} C is outside {low}..{high}")
    protocol = protocol or load_protocol()
    reading = read_message(protocol, text)
    carries_on = _carries_on_elsewhere(state, detection, reading, protocol)
    if carries_on:  # its pain or swelling words are the earlier complaint's, not the site's
        detection = replace(detection, findings=tuple(f for f in detection.findings if f.status != REPORTED))
        reading = replace(reading, pain=False, bruise=False)
    findings = {sign: dict(attrs) for sign, attrs in state.findings.items()}
    risks = list(state.risk_factors) + sorted(reading.risks - set(state.risk_factors))
    touched = apply_message(
        findings, state.pending_question, detection, reading, protocol, fever_threshold_c, state.turn + 1
    )
    if state.emergency_told and _describes_condition(reading, touched):
        touched |= {sign for sign, entry in findings.items() if entry.get("disposition") == "emergency"}
    counted: list[tuple[str, Row]] = []
    for sign, entry in findings.items():
        if not entry.get("active"):
            continue
        row = protocol.decide({**entry, "sign": sign, "risks": risks, "other_sign": _other_sign(findings, sign)})
        before = entry.get("disposition")
        entry["disposition"], entry["rule"] = (row.disposition, row.id) if row else ("none", None)
        rose = Disposition.rank(entry["disposition"]) > Disposition.rank(before)
        if row is not None and (sign in touched or (rose and before is not None)):
            counted.append((sign, row))
    top = max((Disposition.rank(row.disposition) for _, row in counted), default=0)
    deciding = [(sign, row) for sign, row in counted if Disposition.rank(row.disposition) == top and top > 0]
    disposition = Disposition(deciding[0][1].disposition) if deciding else None
    emergency = disposition is Disposition.EMERGENCY or state.emergency_told
    asked = {row.question for _, row in counted if row.question}
    question = None if emergency else next((q for q in QUESTIONS if q in asked), None)
    new_state = ConversationState(
        findings=findings,
        risk_factors=risks,
        pending_question=question,
        emergency_told=emergency,
        turn=state.turn + 1,
        elsewhere_topic=(detection.elsewhere_only or reading.pain_elsewhere or carries_on) and not touched,
    )
    reported = tuple(_reported(sign, findings[sign]) for sign, _ in counted)
    sources = tuple(dict.fromkeys(s for _, row in deciding for s in row.source))
    risk_factor_only = bool(reading.risks) and not (touched or detection.findings or reading.unwell or emergency)
    acknowledges = _acknowledges(state, reading, touched, detection) and disposition is None
    elsewhere = carries_on and disposition is None and question is None
    quiet = disposition is None and question is None and not (touched or reading.risks or reading.question)
    reassures = quiet and _only_denials(protocol, detection, text)
    corrected = (bool(touched) or (bool(state.findings) and not reading.unwell)) and not detection.reported
    retracts = reading.correction and corrected and disposition is None and question is None
    return new_state, Assessment(
        disposition,
        reported,
        question,
        tuple(risks),
        sources,
        risk_factor_only,
        acknowledges,
        elsewhere,
        reassures,
        retracts,
    )


def detector_floor(detection: Detection, assessment: Assessment | None) -> Tier:
    """The lowest level a reply may carry by the detector's reading of this message alone: its
    tier, unless the conversation's engine read the same findings and asks first ("I feel hot"
    with no number: the temperature question, with when to call, decides). An emergency sign
    is never lowered, nor is anything when the engine did not run (assessment None)."""
    if detection.tier is Tier.EMERGENCY or assessment is None:
        return detection.tier
    return Tier.NONE if assessment.asks_first or assessment.elsewhere else detection.tier


def _carries_on_elsewhere(
    state: ConversationState, detection: Detection, reading: MessageReading, protocol: Protocol
) -> bool:
    """The last message was about somewhere away from the biopsy, and this one goes on without
    naming the biopsy site, reporting only signs such a complaint can have."""
    if not state.elsewhere_topic or found_site(protocol, reading.norm):
        return False
    return all(f.sign in CARRIES_ON_ELSEWHERE for f in detection.reported)


def _only_denials(protocol: Protocol, detection: Detection, text: str) -> bool:
    """Every sign the detector found is negated, and with those words taken out no word of
    feeling unwell nor a "but" is left ("never had any redness"; not "no redness but I feel
    rotten")."""
    if not detection.findings or any(f.status != NEGATED for f in detection.findings):
        return False
    rest = list(text)
    for f in detection.findings:
        rest[f.start : f.end] = " " * (f.end - f.start)
    left = read_message(protocol, "".join(rest))
    return not (left.unwell or protocol.findings["contrast"].search(left.norm))


def _acknowledges(state: ConversationState, reading: MessageReading, touched: set[str], detection: Detection) -> bool:
    """After a call-now or emergency reply: "ok, I've rung 911", "thanks, ringing them now". Not
    when the message reports, answers or asks anything, or has a word of feeling unwell."""
    escalated = state.emergency_told or any(
        entry.get("active") and Disposition.rank(entry.get("disposition")) >= Disposition.rank("call_now")
        for entry in state.findings.values()
    )
    if not escalated or touched or detection.reported or reading.question or reading.unwell:
        return False
    short_thanks = reading.acknowledgement and len(reading.norm.split()) <= ACKNOWLEDGEMENT_WORDS
    return reading.compliance or short_thanks


def _describes_condition(reading: MessageReading, touched: set[str]) -> bool:
    """After an emergency reply, is this message more about the patient ("it's easing but still
    tight", "38.9") rather than doing as told ("ok, ambulance is coming") or a question? Then
    the emergency reply stands: a lower level now would read as "it can wait"."""
    if touched:
        return True
    words = reading.norm.split()
    if reading.temperatures_c:
        return True
    if reading.compliance or reading.question or reading.reassurance:
        return False  # "still waiting for the ambulance", "should I unlock the door?"
    short_thanks = reading.acknowledgement and len(words) <= ACKNOWLEDGEMENT_WORDS  # not "ok but it's tight"
    return not short_thanks and len(words) >= 2


def _other_sign(findings: dict[str, dict[str, Any]], sign: str) -> bool:
    """Another warning sign stands in the conversation (reported now or earlier, not taken
    back): feeling hot then is no longer only a question."""
    warning = ("call_provider", "emergency")
    return any(
        other != sign
        and entry.get("active")
        and (entry.get("tier") in warning or Disposition.rank(entry.get("disposition")) >= Disposition.rank("call_now"))
        for other, entry in findings.items()
    )


def _reported(sign: str, entry: dict[str, Any]) -> ReportedFinding:
    trend, size = entry.get("trend"), entry.get("size")
    return ReportedFinding(
        sign=sign,
        site=entry.get("site", "biopsy_site"),
        trend=trend if trend in ("worse", "same", "better") else None,
        temperature_c=entry.get("temperature_c"),
        duration_minutes=entry.get("duration_minutes"),
        size=size if size in ("growing", "large", "stable", "small") else None,
    )
