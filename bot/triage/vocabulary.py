"""The words every part of Marrow Aftercare shares: triage tiers, warning-sign names, and
what an escalation is for and where it stands.

Standard library and yaml only: the API, the tools and the tests import it without loading
spaCy or Rasa. Everything else that needs a tier's rank, a sign's name or an escalation's
status takes it from here, so the orderings cannot drift apart.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Final

import yaml

RULES_FILE: Final = Path(__file__).with_name("warning_signs.yml")


class _Rank:
    """`tier.rank` is an int; `Tier.rank` is a key function: `max(tiers, key=Tier.rank)`."""

    def __get__(self, tier: Tier | None, owner: type[Tier]) -> int | Callable[[str], int]:
        if tier is None:
            return lambda value: TIER_RANKS[Tier(value)]
        return TIER_RANKS[tier]


class Tier(str, enum.Enum):
    """How urgent a message is. Ordered by rank: NONE < CALL_PROVIDER < EMERGENCY."""

    NONE = "none"
    CALL_PROVIDER = "call_provider"
    EMERGENCY = "emergency"

    if TYPE_CHECKING:  # how type checkers see _Rank (they would take it for an enum member)

        @property
        def rank(self) -> int: ...

    else:
        rank = _Rank()

    @classmethod
    def highest(cls, tiers: Iterable[str]) -> Tier:
        """The most urgent of `tiers` (NONE for an empty iterable)."""
        return max((cls(t) for t in tiers), key=cls.rank, default=cls.NONE)

    # str's own ordering would compare the values alphabetically: compare ranks instead.
    def __lt__(self, other: str) -> bool:
        return self.rank < Tier(other).rank

    def __le__(self, other: str) -> bool:
        return self.rank <= Tier(other).rank

    def __gt__(self, other: str) -> bool:
        return self.rank > Tier(other).rank

    def __ge__(self, other: str) -> bool:
        return self.rank >= Tier(other).rank


# The one place tiers are ranked.
TIER_RANKS: Final = {Tier.NONE: 0, Tier.CALL_PROVIDER: 1, Tier.EMERGENCY: 2}


class _Word(str, enum.Enum):
    """A str enum that prints as its value, as Python 3.11's StrEnum does: these values go
    into the database, JSON and templates, where "EscalationStatus.OPEN" would be a bug."""

    def __str__(self) -> str:
        return str(self.value)


class EscalationTier(_Word):
    """What an escalation is for: a triage tier, or a patient asking for a callback."""

    EMERGENCY = "emergency"
    CALL_PROVIDER = "call_provider"
    CALLBACK = "callback"

    @property
    def priority(self) -> int:
        """Queue order, 0 first: the most urgent triage tier first, callback requests last."""
        top = max(TIER_RANKS.values())
        if self is EscalationTier.CALLBACK:
            return top
        return top - Tier(self.value).rank

    @classmethod
    def for_triage(cls, tier: Tier) -> EscalationTier:
        """The escalation a triage tier opens (NONE opens none: ValueError)."""
        if tier is Tier.NONE:
            raise ValueError("a message triaged as none opens no escalation")
        return cls(tier.value)


class EscalationStatus(_Word):
    """Where an escalation stands: staff acknowledge it (own the callback), then resolve it."""

    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"


def read_yaml(path: Path) -> object:
    """yaml.safe_load, with libyaml's parser when PyYAML has it (ten times faster on the rules)."""
    text = path.read_text(encoding="utf-8")
    return yaml.load(text, Loader=yaml.CSafeLoader) if hasattr(yaml, "CSafeLoader") else yaml.safe_load(text)


@lru_cache(maxsize=4)
def sign_names(rules_file: Path = RULES_FILE) -> tuple[str, ...]:
    """The warning signs the rules file defines, in its order (read with yaml, no spaCy)."""
    raw = read_yaml(rules_file)
    signs = raw.get("signs") if isinstance(raw, dict) else None
    if not isinstance(signs, dict) or not signs:
        raise ValueError(f"{rules_file}: no `signs` mapping")
    return tuple(str(name) for name in signs)
