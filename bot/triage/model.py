"""Result types of the warning-sign detector: tiers, findings and the detection of one message."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from bot.triage.vocabulary import Tier

REPORTED = "reported"
NEGATED = "negated"
QUESTION = "question"
HYPOTHETICAL = "hypothetical"
BELOW_THRESHOLD = "below_threshold"
ELSEWHERE = "elsewhere"  # a site sign clearly away from the biopsy ("my acne is red")
STATUSES = (REPORTED, NEGATED, QUESTION, HYPOTHETICAL, BELOW_THRESHOLD, ELSEWHERE)
# Where a finding is: at the biopsy site (also when the message does not say: bias to escalate),
# elsewhere on the body ("my acne is red", "a nosebleed"), or the whole body (fever, breathing).
BIOPSY_SITE, SYSTEMIC = "biopsy_site", "systemic"
SITES = (BIOPSY_SITE, ELSEWHERE, SYSTEMIC)
# Whom it is about: the writer (also when the message does not say), a child, someone else.
PATIENT, CHILD, OTHER = "patient", "child", "other"
WHOS = (PATIENT, CHILD, OTHER)
# The one sanity bound on a configured fever threshold (rules file and clinic setting alike):
# outside it the number was almost certainly given in Fahrenheit or mistyped.
FEVER_THRESHOLD_RANGE_C = (36.5, 39.5)
# Where a detection travels with a message: Rasa message metadata and parse data.
DETECTION_KEY = "aftercare_detection"


def carried_in(data: object) -> object:
    """The detection dict carried in `data` (message metadata or parse data), if any."""
    return data.get(DETECTION_KEY) if isinstance(data, Mapping) else None


@dataclass(frozen=True)
class Finding:
    """One mention of a warning sign. start/end are character offsets into the message."""

    sign: str
    tier: Tier
    status: str  # reported | negated | question | hypothetical | below_threshold | elsewhere
    evidence: str
    start: int
    end: int
    source: str  # clinical source ids from warning_signs.yml, comma separated
    # Added for issue 11; the defaults keep findings written before them readable.
    site: str = BIOPSY_SITE  # biopsy_site | elsewhere | systemic
    who: str = PATIENT  # patient | child | other

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "tier": self.tier.value}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Finding:
        """Raises KeyError, TypeError or ValueError on anything but what to_dict wrote."""
        status = str(data["status"])
        if status not in STATUSES:
            raise ValueError(f"unknown finding status {status!r}")
        site, who = str(data.get("site", BIOPSY_SITE)), str(data.get("who", PATIENT))
        if site not in SITES or who not in WHOS:
            raise ValueError(f"unknown finding site {site!r} or who {who!r}")
        return cls(
            sign=str(data["sign"]),
            tier=Tier(data["tier"]),
            status=status,
            evidence=str(data["evidence"]),
            start=int(data["start"]),
            end=int(data["end"]),
            source=str(data["source"]),
            site=site,
            who=who,
        )


@dataclass(frozen=True)
class Detection:
    findings: tuple[Finding, ...]
    temperature_c: float | None  # highest measured temperature in the message, in Celsius
    feels_feverish: bool = False  # feeling hot / chills / a fever word, reported
    fever_masked: bool = False  # fever medicine taken lately: a normal reading proves nothing

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON types, so the detection can travel with a message (Rasa metadata)."""
        return {
            "findings": [f.to_dict() for f in self.findings],
            "temperature_c": self.temperature_c,
            "feels_feverish": self.feels_feverish,
            "fever_masked": self.fever_masked,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Detection:
        """Raises KeyError, TypeError or ValueError on anything but what to_dict wrote."""
        temperature = data["temperature_c"]
        feverish = data["feels_feverish"]
        masked = data.get("fever_masked", False)  # absent from detections written before it
        if not isinstance(feverish, bool) or not isinstance(masked, bool):
            raise TypeError("feels_feverish and fever_masked must be bools")
        return cls(
            findings=tuple(Finding.from_dict(f) for f in data["findings"]),
            temperature_c=None if temperature is None else float(temperature),
            feels_feverish=feverish,
            fever_masked=masked,
        )

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
    def elsewhere_only(self) -> bool:
        """Signs were named, but only about somewhere other than the biopsy ("my acne is red")."""
        return not self.reported and any(f.status == ELSEWHERE for f in self.findings)

    @property
    def needs_temperature(self) -> bool:
        """The patient feels hot, feverish or shivery but gave no number: ask for one."""
        return self.feels_feverish and self.temperature_c is None
