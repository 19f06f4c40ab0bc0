"""Loads and checks protocol.yml, the clinician-editable disposition table and its word lists.

Nothing clinical is hard-coded in the conversation engine: which finding leads to which
disposition, which words name a risk factor or answer a question, all live in the YAML. A bad
edit fails loudly at load time with the place it is in, never silently at a patient's message.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from bot.triage.phrases import PhraseList

PROTOCOL_FILE = Path(__file__).with_name("protocol.yml")
SOURCES_FILE = Path(__file__).parents[1] / "content" / "sources.yml"
DISPOSITIONS = ("emergency", "call_now", "call_within_24h", "self_care", "none")
QUESTION_KINDS = ("temperature", "duration", "trend", "size")
# The `when` keys a row may use, and the values each accepts (None: any string).
WHEN_VALUES: dict[str, tuple[Any, ...] | None] = {
    "sign": None,
    "tier": ("emergency", "call_provider"),
    "risk_any": None,  # checked against risk_factors below
    "reading": ("above", "below", "none", "unavailable"),
    "chills": (True, False),
    "masked": (True, False),
    "stated": (True, False),
    "other_sign": (True, False),
    "bleeding": ("uncontrolled", "soaking", "minor_ooze", "ongoing", "stopped", "unknown"),
    "trend": ("worse", "same", "better", "unsure", "unknown"),
    "size": ("growing", "large", "stable", "small", "unsure", "unknown"),
}
ANSWER_LISTS = (
    "yes", "no", "unsure", "worse", "same", "better", "growing", "large", "stable", "small", "uncontrolled",
    "stopped", "not_stopping", "pressure", "soaking", "several_dressings", "through", "minor_amounts", "dressing_off",
    "no_thermometer", "acknowledgements",
    "compliance", "reassurance",
)  # fmt: skip
FINDING_LISTS = (
    "pain", "pain_slang", "bruise", "elsewhere", "biopsy_site", "stated_fever", "fever_hedges", "feels_hot", "chills",
    "unwell", "contrast",
)  # fmt: skip


class ProtocolError(ValueError):
    """protocol.yml is malformed; the message says where."""


@dataclass(frozen=True)
class Row:
    id: str
    when: dict[str, tuple[Any, ...]]  # key -> accepted values (any of)
    disposition: str
    question: str | None
    source: tuple[str, ...]

    def fits(self, facts: dict[str, Any]) -> bool:
        """Do a finding's facts meet every condition of this row?"""
        for key, accepted in self.when.items():
            if key == "risk_any":
                if not set(accepted) & set(facts.get("risks", ())):
                    return False
            elif facts.get(key) not in accepted:
                return False
        return True


@dataclass(frozen=True)
class RiskNear:
    risk: str
    words: PhraseList
    with_: PhraseList
    within: int


@dataclass(frozen=True)
class Protocol:
    rows: tuple[Row, ...]
    pressure_minutes: float
    risk_factors: dict[str, PhraseList]
    risk_near: tuple[RiskNear, ...]
    risk_negations: PhraseList
    child_below: int
    older_age_from: int
    answers: dict[str, PhraseList]
    findings: dict[str, PhraseList]
    corrections: PhraseList
    fever_aliases: dict[str, str]  # detector sign -> "fever" or "chills" (a fever finding with chills)

    def decide(self, facts: dict[str, Any]) -> Row | None:
        """The first row that fits a finding, or None (then the finding decides nothing)."""
        return next((row for row in self.rows if row.fits(facts)), None)


def _words(raw: dict, key: str, where: str) -> PhraseList:
    value = raw.get(key)
    if not isinstance(value, list) or not value or not all(_is_phrase(w) for w in value):
        raise ProtocolError(f"{where}.{key}: needs a non-empty list of phrases (quote yes/no/on/off: 'no')")
    return PhraseList(str(w) for w in value)  # 911 is read as a number


def _is_phrase(word: object) -> bool:
    return (isinstance(word, str) and bool(word.strip())) or (isinstance(word, int) and not isinstance(word, bool))


def _mapping(raw: dict, key: str) -> dict:
    value = raw.get(key)
    if not isinstance(value, dict):
        raise ProtocolError(f"{key}: must be a mapping of lists")
    return value


def _row(raw: Any, index: int, risks: set[str], sources: set[str]) -> Row:
    where = f"dispositions[{index}]"
    if not isinstance(raw, dict) or not isinstance(raw.get("id"), str):
        raise ProtocolError(f"{where}: needs an id, when, disposition and source")
    where = f"dispositions {raw['id']!r}"
    when = raw.get("when")
    if not isinstance(when, dict) or not when:
        raise ProtocolError(f"{where}: 'when' must be a non-empty mapping")
    parsed: dict[str, tuple[Any, ...]] = {}
    for key, value in when.items():
        if key not in WHEN_VALUES:
            raise ProtocolError(f"{where}: unknown 'when' key {key!r} (known: {sorted(WHEN_VALUES)})")
        values = tuple(value) if isinstance(value, list) else (value,)
        allowed = risks if key == "risk_any" else WHEN_VALUES[key]
        bad = [
            v
            for v in values
            if (allowed is not None and v not in allowed) or (allowed is None and not isinstance(v, str))
        ]
        if bad:
            raise ProtocolError(f"{where}: {key} cannot be {bad} (allowed: {sorted(map(str, allowed or ['a name']))})")
        parsed[key] = values
    disposition = raw.get("disposition")
    if disposition not in DISPOSITIONS:
        raise ProtocolError(f"{where}: disposition must be one of {DISPOSITIONS}, got {disposition!r}")
    question = raw.get("question")
    if question is not None and question not in QUESTION_KINDS:
        raise ProtocolError(f"{where}: question must be one of {QUESTION_KINDS}, got {question!r}")
    if question is not None and disposition == "emergency":
        raise ProtocolError(f"{where}: an emergency row cannot ask a question (safety rule 1)")
    source = raw.get("source")
    if not isinstance(source, list) or not source or not set(source) <= sources:
        raise ProtocolError(f"{where}: source must list ids from {SOURCES_FILE.name}, got {source!r}")
    return Row(raw["id"], parsed, disposition, question, tuple(source))


def _risk_near(raw: Any, index: int, risks: set[str]) -> RiskNear:
    where = f"risk_near[{index}]"
    if not isinstance(raw, dict) or raw.get("risk") not in risks:
        raise ProtocolError(f"{where}: needs a risk named under risk_factors, words, with and within")
    within = raw.get("within")
    if not isinstance(within, int) or not 1 <= within <= 8:
        raise ProtocolError(f"{where}: within must be a whole number of words, 1 to 8")
    return RiskNear(raw["risk"], _words(raw, "words", where), _words(raw, "with", where), within)


def parse_protocol(raw: Any, sources: set[str]) -> Protocol:
    if not isinstance(raw, dict):
        raise ProtocolError("the protocol must be a mapping")
    risk_raw, answers_raw, findings_raw = (_mapping(raw, key) for key in ("risk_factors", "answers", "findings"))
    risk_factors = {name: _words(risk_raw, name, "risk_factors") for name in risk_raw}
    rows_raw = raw.get("dispositions")
    if not isinstance(rows_raw, list) or not rows_raw:
        raise ProtocolError("dispositions: needs a non-empty list of rows")
    rows = tuple(_row(r, i, set(risk_factors) | {"older_age"}, sources) for i, r in enumerate(rows_raw))
    if len({r.id for r in rows}) != len(rows):
        raise ProtocolError("dispositions: row ids must be unique")
    try:
        pressure = float(raw["pressure_minutes"])
        child_below, older = int(raw["child_below"]), int(raw["older_age_from"])
    except (KeyError, TypeError, ValueError) as error:
        raise ProtocolError(f"pressure_minutes, child_below and older_age_from must be numbers ({error})") from None
    if not 1 <= pressure <= 60:
        raise ProtocolError(f"pressure_minutes: {pressure} is outside 1..60 minutes")
    corrections = raw.get("corrections")
    aliases = raw.get("fever_aliases")
    if not isinstance(aliases, dict) or not set(aliases.values()) <= {"fever", "chills"}:
        raise ProtocolError("fever_aliases: must map detector sign names to fever or chills")
    return Protocol(
        rows=rows,
        pressure_minutes=pressure,
        risk_factors=risk_factors,
        risk_near=tuple(_risk_near(r, i, set(risk_factors)) for i, r in enumerate(raw.get("risk_near") or [])),
        risk_negations=_words(raw, "risk_negations", "protocol"),
        child_below=child_below,
        older_age_from=older,
        answers={key: _words(answers_raw, key, "answers") for key in ANSWER_LISTS},
        findings={key: _words(findings_raw, key, "findings") for key in FINDING_LISTS},
        corrections=_words({"corrections": corrections}, "corrections", "protocol"),
        fever_aliases={str(k): str(v) for k, v in aliases.items()},
    )


def load_protocol(path: Path | str | None = None) -> Protocol:
    """The protocol from `path` (default: protocol.yml beside this file), cached per file version."""
    path = Path(path or PROTOCOL_FILE)
    try:
        mtime = path.stat().st_mtime_ns
    except OSError as error:
        raise ProtocolError(f"cannot read {path}: {error.strerror}") from None
    return _load(path, mtime)


@lru_cache(maxsize=4)
def _load(path: Path, _mtime: int) -> Protocol:  # the mtime key reloads a file edited in place
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        sources = set(yaml.safe_load(SOURCES_FILE.read_text(encoding="utf-8")))
    except yaml.YAMLError as error:
        raise ProtocolError(f"{path.name}: not valid YAML ({error})") from None
    return parse_protocol(raw, sources)
