"""Result types of the warning-sign detector: tiers, findings and the detection of one message."""
from __future__ import annotations

from dataclasses import dataclass

from bot.triage.vocabulary import Tier

REPORTED = "reported"
NEGATED = "negated"
QUESTION = "question"
HYPOTHETICAL = "hypothetical"
BELOW_THRESHOLD = "below_threshold"
STATUSES = (REPORTED, NEGATED, QUESTION, HYPOTHETICAL, BELOW_THRESHOLD)
# The one sanity bound on a configured fever threshold (rules file and clinic setting alike):
# outside it the number was almost certainly given in Fahrenheit or mistyped.
FEVER_THRESHOLD_RANGE_C = (36.5, 39.5)


@dataclass(frozen=True)
class Finding:
    """One mention of a warning sign. start/end are character offsets into the message."""

    sign: str
    tier: Tier
    status: str  # reported | negated | question | hypothetical | below_threshold
    evidence: str
    start: int
    end: int
    source: str  # clinical source ids from warning_signs.yml, comma separated


@dataclass(frozen=True)
class Detection:
    findings: tuple[Finding, ...]
    temperature_c: float | None  # highest measured temperature in the message, in Celsius
    feels_feverish: bool = False  # feeling hot / chills / a fever word, reported

    @property
    def reported(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.status == REPORTED)

    @property
    def signs(self) -> list[str]:
        return sorted({f.sign for f in self.reported})

    @property
    def tier(self) -> Tier:
        return Tier.highest(f.tier for f in self.reported)

    @property
    def needs_temperature(self) -> bool:
        """The patient feels hot, feverish or shivery but gave no number: ask for one."""
        return self.feels_feverish and self.temperature_c is None
