"""Loads and checks warning_signs.yml, the clinician-reviewed rules file.

Everything the detector matches comes from that file; nothing clinical is hard-coded here.
"""

from __future__ import annotations

import string
from collections import defaultdict
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path

from spacy.lang.en.stop_words import STOP_WORDS

from bot.triage.model import FEVER_THRESHOLD_RANGE_C
from bot.triage.vocabulary import RULES_FILE, Tier, read_yaml, sign_names

DEFAULT_RULES = RULES_FILE
SOURCE_IDS = {
    "MEDLINEPLUS",
    "NHLBI",
    "MAYO",
    "ALBERTA",
    "WEBMD",
    "CRUK",
    "AAMDS",
    "CHILDRENSMN",
    "AURORA",
    "NICE-CG151",
    "ENHERTS",
    "FIRSTAID",
}
TERMSET_KEYS = ("pseudo_negations", "preceding_negations", "following_negations", "termination")
CONTEXT_LISTS = (
    "recurrence",
    "hypothetical",
    "pseudo_hypothetical",
    "question_openers_wh",
    "question_openers_yes_no",
    "question_starts",
    "continuations",
    "question_phrases",
    "assertions",
    "definite",
    "pseudo_assertions",
    "clause_breaks",
    "scope_ends",
    "fever_statements",
    "fever_asks",
    "elsewhere_signs",
    "elsewhere_cues",
    "biopsy_site_cues",
    "who_patient",
    "who_child",
    "who_other",
    "who_pronouns",
    "who_staff",
)
NUMBER = "<n>"  # in a phrase: any number ("for <n> minutes": "for 20 minutes", "for ten mins")
MIN_TYPO_LENGTH = 5  # shorter words have too many real neighbours ("pain" -> "rain", "paid")


class RulesError(ValueError):
    """The rules file is malformed; the message says where."""


@dataclass(frozen=True)
class NearRule:
    words: tuple[str, ...]
    with_: tuple[str, ...]
    within: int
    same_clause: bool = False  # the pair may not straddle "but", "however", ... (scope_ends)
    qualifier_after: bool = False  # the qualifier must follow the word ("bled ... for hours")
    unless: tuple[str, ...] = ()  # no pair in a sentence holding one of these ("skin ... blue" by a bruise)


@dataclass(frozen=True)
class SignRule:
    name: str
    tier: Tier
    source: str
    phrases: tuple[str, ...]
    near: tuple[NearRule, ...]
    exclude: tuple[str, ...]
    systemic: bool = False  # the whole body (fever, breathing): never at a site, never elsewhere


@dataclass(frozen=True)
class Escalation:
    sign: str
    tier: Tier
    source: str
    cues: tuple[str, ...]


@dataclass(frozen=True, eq=False)  # compared by identity: one object per loaded file
class Rules:
    path: Path
    threshold_c: float
    celsius_range: tuple[float, float]
    fahrenheit_range: tuple[float, float]
    temperature_keywords: frozenset[str]
    not_units: frozenset[str]
    temperature: dict[str, tuple[str, ...]]  # celsius_units, fahrenheit_units, degree_words
    signs: dict[str, SignRule]
    idioms: tuple[str, ...]  # never a sign, whatever sign word they hold ("red flags")
    feverish: tuple[str, ...]
    # ((feelings, causes), ...): "I feel hot, it's the hot weather" is not a fever report
    feverish_explained_by: tuple[tuple[tuple[str, ...], tuple[str, ...]], ...]
    escalations: tuple[Escalation, ...]
    typos: dict[str, str]  # misspelt word -> the listed word
    termset: dict[str, list[str]]  # negspacy's four lists
    negation_window: int
    negation_hedges: tuple[str, ...]
    double_negatives: tuple[str, ...]
    negation_clause_starts: tuple[str, ...]
    context: dict[str, tuple[str, ...]]
    feverish_kept: tuple[str, ...] = ()  # chills, rigors: a normal reading does not cancel them
    fever_medicine: tuple[str, ...] = ()  # taken lately, it can hide a fever
    # {"signs": ..., "stop": ..., "pressure": ...}: "it stopped when I pressed" still reports them
    stopped_by_pressure: dict[str, tuple[str, ...]] = field(default_factory=dict)


def _words(value: object, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise RulesError(f"{where}: expected a list of words or phrases (quote no/yes/on/off)")
    return tuple(v.strip().lower() for v in value)


def _low_high(value: list[float]) -> tuple[float, float]:
    low, high = map(float, value)
    return low, high


def _source(value: object, where: str) -> str:
    ids = _words(value, where)
    unknown = {i.upper() for i in ids} - SOURCE_IDS
    if unknown:
        raise RulesError(f"{where}: unknown source id(s) {sorted(unknown)}")
    return ", ".join(i.upper() for i in ids)


def _sign(name: str, raw: dict) -> SignRule:
    where = f"signs.{name}"
    tier = Tier(raw.get("tier", ""))
    if tier is Tier.NONE:
        raise RulesError(f"{where}.tier must be call_provider or emergency")
    site = raw.get("site", "biopsy_site")
    if site not in ("biopsy_site", "systemic"):
        raise RulesError(f"{where}.site must be biopsy_site or systemic")
    near = tuple(
        NearRule(
            _words(n["words"], f"{where}.near.words"),
            _words(n["with"], f"{where}.near.with"),
            int(n.get("within", 4)),
            bool(n.get("same_clause", False)),
            bool(n.get("qualifier_after", False)),
            _words(n.get("unless_sentence_has", []), f"{where}.near.unless_sentence_has"),
        )
        for n in raw.get("near", [])
    )
    return SignRule(
        name,
        tier,
        _source(raw.get("source"), f"{where}.source"),
        _words(raw.get("phrases", []), f"{where}.phrases"),
        near,
        _words(raw.get("exclude", []), f"{where}.exclude"),
        systemic=site == "systemic",
    )


def _edits(word: str) -> set[str]:
    """Every spelling one letter away: a letter missing, swapped, changed or added."""
    letters = string.ascii_lowercase
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    deletes = {a + b[1:] for a, b in splits if b}
    swaps = {a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1}
    changes = {a + c + b[1:] for a, b in splits if b for c in letters}
    inserts = {a + c + b for a, b in splits for c in letters}
    return (deletes | swaps | changes | inserts) - {word}


def _typo_map(raw: dict, keywords: set[str], vocabulary: set[str]) -> dict[str, str]:
    spelling = raw.get("spelling") or {}
    protected = vocabulary | set(_words(spelling.get("real_words", []), "spelling.real_words"))
    protected |= STOP_WORDS
    owners: dict[str, set[str]] = defaultdict(set)
    for word in keywords:
        if len(word) >= MIN_TYPO_LENGTH and word.isalpha():
            for variant in _edits(word):
                owners[variant].add(word)
    # A variant that is a real word, or one letter from two listed words, is left alone.
    typos = {v: next(iter(w)) for v, w in owners.items() if len(w) == 1 and len(v) >= 4 and v not in protected}
    for word, variants in (spelling.get("misspellings") or {}).items():
        for variant in _words(variants or [], f"spelling.misspellings.{word}"):
            typos[variant] = str(word).lower()
    return typos


def _all_lists(node: object) -> list[str]:
    if isinstance(node, dict):
        return [w for v in node.values() for w in _all_lists(v)]
    if isinstance(node, list):
        return [w for v in node for w in _all_lists(v)]
    return [node] if isinstance(node, str) else []


def load_rules(path: Path | str | None = None) -> Rules:
    path = Path(path or DEFAULT_RULES)
    return _load(path.resolve(), path.stat().st_mtime_ns)


@lru_cache(maxsize=8)
def _load(path: Path, _mtime: int) -> Rules:  # the mtime key reloads a file edited in place
    raw = read_yaml(path)
    if not isinstance(raw, dict):
        raise RulesError(f"{path}: not a YAML mapping")
    # Another rules file (a clinic's edit) must still cover every sign the shipped one defines.
    missing = set(sign_names()) - set(raw.get("signs", {}))
    if missing:
        raise RulesError(f"signs: missing {sorted(missing)}")
    signs = {name: _sign(name, body) for name, body in raw["signs"].items()}
    for name, body in raw["signs"].items():  # exclude_like: reuse another sign's exclusions
        for other in body.get("exclude_like", []):
            signs[name] = replace(signs[name], exclude=signs[name].exclude + signs[other].exclude)
    escalations = tuple(
        Escalation(
            e["sign"],
            Tier(e["to"]),
            _source(e["source"], "escalations.source"),
            _words(e["when_message_mentions"], "escalations.when_message_mentions"),
        )
        for e in raw.get("escalations", [])
    )
    feverish = _words(raw.get("feeling_feverish", {}).get("phrases", []), "feeling_feverish")
    explained = tuple(
        (
            _words(g["feelings"], "feeling_feverish.explained_by.feelings"),
            _words(g["causes"], "feeling_feverish.explained_by.causes"),
        )
        for g in raw.get("feeling_feverish", {}).get("explained_by", [])
    )
    idioms = _words(raw.get("idioms", []), "idioms")
    feverish_raw = raw.get("feeling_feverish", {})
    feverish_kept = _words(
        feverish_raw.get("not_cancelled_by_a_reading", []), "feeling_feverish.not_cancelled_by_a_reading"
    )
    fever_medicine = _words(feverish_raw.get("fever_medicine", []), "feeling_feverish.fever_medicine")
    temp = raw["temperature"]
    ctx = raw["context"]
    termset = {k: list(_words(ctx["termset"].get(k, []), f"context.termset.{k}")) for k in TERMSET_KEYS}
    context = {k: _words(ctx.get(k, []), f"context.{k}") for k in CONTEXT_LISTS}

    # Single listed words get one-letter misspellings; phrases and other words keep their spelling.
    sign_words = [w for s in signs.values() for w in (*s.phrases, *[x for n in s.near for x in (*n.words, *n.with_)])]
    cues = [c for e in escalations for c in e.cues]
    keywords = {w for w in [*sign_words, *feverish, *cues] if " " not in w}
    vocabulary = {
        t for phrase in _all_lists({k: v for k, v in raw.items() if k != "spelling"}) for t in phrase.lower().split()
    }
    threshold = float(raw["fever"]["threshold_c"])
    low, high = FEVER_THRESHOLD_RANGE_C
    if not low <= threshold <= high:
        raise RulesError(f"fever.threshold_c must be in Celsius ({low}-{high})")
    return Rules(
        path=path,
        threshold_c=threshold,
        celsius_range=_low_high(temp["celsius_range"]),
        fahrenheit_range=_low_high(temp["fahrenheit_range"]),
        temperature_keywords=frozenset(_words(temp["keywords"], "temperature.keywords")),
        not_units=frozenset(_words(temp["not_units"], "temperature.not_units")),
        temperature={
            k: _words(temp[k], f"temperature.{k}") for k in ("celsius_units", "fahrenheit_units", "degree_words")
        },
        signs=signs,
        idioms=idioms,
        feverish=feverish,
        feverish_explained_by=explained,
        escalations=escalations,
        typos=_typo_map(raw, keywords, vocabulary),
        termset=termset,
        negation_window=int(ctx.get("negation_window", 6)),
        context=context,
        negation_hedges=_words(ctx.get("negation_hedges", []), "context.negation_hedges"),
        double_negatives=_words(ctx.get("double_negatives", []), "context.double_negatives"),
        negation_clause_starts=_words(ctx.get("negation_clause_starts", []), "context.negation_clause_starts"),
        feverish_kept=feverish_kept,
        fever_medicine=fever_medicine,
        stopped_by_pressure=_stopped_by_pressure(ctx.get("stopped_by_pressure"), signs),
    )


def _stopped_by_pressure(raw: dict | None, signs: dict[str, SignRule]) -> dict[str, tuple[str, ...]]:
    if not raw:
        return {}
    rule = {k: _words(raw.get(k), f"context.stopped_by_pressure.{k}") for k in ("signs", "stop", "pressure")}
    unknown = [s for s in rule["signs"] if s not in signs]
    if unknown:
        raise RulesError(f"context.stopped_by_pressure.signs: no such sign {unknown}")
    return rule
