"""Result types of the warning-sign detector: tiers, findings and the detection of one message."""
from __future__ import annotations

import enum
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar, overload

REPORTED = "reported"
NEGATED = "negated"
QUESTION = "question"
HYPOTHETICAL = "hypothetical"
BELOW_THRESHOLD = "below_threshold"
STATUSES = (REPORTED, NEGATED, QUESTION, HYPOTHETICAL, BELOW_THRESHOLD)
# The one sanity bound on a configured fever threshold (rules file and clinic setting alike):
# outside it the number was almost certainly given in Fahrenheit or mistyped.
FEVER_THRESHOLD_RANGE_C = (36.5, 39.5)


class _Rank:
    """`tier.rank` is an int; `Tier.rank` is a key function: `max(tiers, key=Tier.rank)`."""

    @overload
    def __get__(self, tier: None, owner: type) -> Callable[[object], int]: ...
    @overload
    def __get__(self, tier: Tier, owner: type) -> int: ...
    def __get__(self, tier: Tier | None, owner: type) -> int | Callable[[object], int]:
        if tier is None:
            return lambda t: _ORDER[Tier(t)]
        return _ORDER[tier]


class Tier(str, enum.Enum):
    """How urgent a message is. Ordered: NONE < CALL_PROVIDER < EMERGENCY."""

    NONE = "none"
    CALL_PROVIDER = "call_provider"
    EMERGENCY = "emergency"

    if TYPE_CHECKING:  # declared, not assigned: mypy would count an assigned descriptor as a member
        rank: ClassVar[_Rank]
    else:
        rank = _Rank()

    @classmethod
    def highest(cls, tiers: Iterable[object]) -> Tier:
        """The most urgent of `tiers` (NONE for an empty iterable)."""
        return max((cls(t) for t in tiers), key=cls.rank, default=cls.NONE)

    # str's own ordering would compare the values alphabetically: compare ranks instead.
    def __lt__(self, other: object) -> bool:
        return self.rank < Tier(other).rank

    def __le__(self, other: object) -> bool:
        return self.rank <= Tier(other).rank

    def __gt__(self, other: object) -> bool:
        return self.rank > Tier(other).rank

    def __ge__(self, other: object) -> bool:
        return self.rank >= Tier(other).rank


_ORDER = {Tier.NONE: 0, Tier.CALL_PROVIDER: 1, Tier.EMERGENCY: 2}


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
