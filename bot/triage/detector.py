"""The warning-sign detector: one small spaCy pipeline, built once, no model downloads.

    blank English tokenizer -> sentencizer -> typo fixes (token.norm_) -> sign matcher
    -> negation (negspacy NegEx) -> question / hypothetical context

It never logs or stores message text.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import replace
from functools import lru_cache
from pathlib import Path

import spacy
from spacy.pipeline import Sentencizer
from spacy.util import compile_suffix_regex

# Importing these registers the pipeline factories with spaCy.
from bot.triage import context as _context  # noqa: F401
from bot.triage import negation as _negation  # noqa: F401
from bot.triage.components import (
    CANDIDATES,
    FEVER_MEDICINE,
    FEVERISH,
    RISK,
    TEMPERATURE,
    Candidate,
    sentence_of,
)
from bot.triage.model import (
    BELOW_THRESHOLD,
    BIOPSY_SITE,
    CHILD,
    ELSEWHERE,
    NEGATED,
    OTHER,
    PATIENT,
    REPORTED,
    SYSTEMIC,
    Detection,
    Finding,
)
from bot.triage.rules import DEFAULT_RULES, load_rules
from bot.triage.vocabulary import Tier

log = logging.getLogger("aftercare.triage")

MAX_CHARS = 5000  # longer input is cut: a chat message never needs more, and it bounds the work


class Detector:
    def __init__(self, rules_path: Path | None = None, fever_threshold_c: float | None = None):
        self.rules = load_rules(rules_path or DEFAULT_RULES)
        threshold = fever_threshold_c if fever_threshold_c is not None else self.rules.threshold_c
        self.threshold_c = float(threshold)
        path = str(self.rules.path)
        nlp = spacy.blank("en")
        # "20mins", "10am", "500mg": split a number from a glued unit, so "for <n> mins" matches.
        units = sorted((u for u in self.rules.not_units if u.isalpha()), key=len, reverse=True)
        glued = r"(?<=[0-9])(?i:" + "|".join(map(re.escape, units)) + ")"
        # spaCy 3.4 types tokenizer as a bare callable and Defaults.suffixes as optional
        nlp.tokenizer.suffix_search = compile_suffix_regex([*nlp.Defaults.suffixes, glued]).search  # type: ignore[union-attr,misc]
        nlp.add_pipe("sentencizer", config={"punct_chars": [*Sentencizer.default_punct_chars, ";"]})
        nlp.add_pipe("aftercare_typos", config={"rules_path": path})
        nlp.add_pipe("aftercare_signs", config={"rules_path": path})
        nlp.add_pipe(
            "aftercare_negex",
            config={
                "neg_termset": self.rules.termset,
                "window": self.rules.negation_window,
                "hedges": list(self.rules.negation_hedges),
                "double_negatives": list(self.rules.double_negatives),
                "clause_starts": list(self.rules.negation_clause_starts),
                "stopped_by_pressure": {k: list(v) for k, v in self.rules.stopped_by_pressure.items()},
            },
        )
        nlp.add_pipe("aftercare_context", config={"rules_path": path})
        self.nlp = nlp
        ctx = self.rules.context
        self.people = {
            **{w: PATIENT for w in ctx["who_patient"]},
            **{w: CHILD for w in ctx["who_child"]},
            **{w: OTHER for w in ctx["who_other"]},
        }
        self.pronouns, self.staff = set(ctx["who_pronouns"]), set(ctx["who_staff"])
        self.feverish_kept = {
            " ".join(t.norm_ for t in nlp.get_pipe("aftercare_typos")(nlp.make_doc(p)))
            for p in self.rules.feverish_kept
        }

    def detect(self, text: str) -> Detection:
        doc = self.nlp(text[:MAX_CHARS]) if text and text.strip() else None
        cands: list[Candidate] = doc.user_data.get(CANDIDATES, []) if doc is not None else []
        measured = [
            c.value for c in cands if c.sign == TEMPERATURE and c.context != "hypothetical" and c.value is not None
        ]
        highest = max(measured) if measured else None
        measured_normal = highest is not None and highest < self.threshold_c
        findings: list[Finding] = []
        feverish = False
        people = self._people(doc) if cands else []
        for c in cands:
            if c.sign == RISK:
                continue
            status = NEGATED if c.negated and c.sign != TEMPERATURE else c.context
            sign = "fever" if c.sign in (TEMPERATURE, FEVERISH) else c.sign
            if status == REPORTED and c.sign == TEMPERATURE and c.value is not None and c.value < self.threshold_c:
                status = BELOW_THRESHOLD
            elif (
                status == REPORTED and c.sign == FEVERISH and measured_normal and not (self._kept(doc, c))
            ):  # chills and rigors stand whatever the thermometer says
                status = BELOW_THRESHOLD  # "I feel hot but it's only 37.2": the number wins
            elif status == REPORTED and c.asked and measured_normal:
                status = BELOW_THRESHOLD  # "37.6 - is that a fever?" (not "I have a fever of 37.6")
            if status == REPORTED and c.sign in ("fever", FEVERISH):
                feverish = True
            rule = self.rules.signs[sign]
            site = SYSTEMIC if rule.systemic else ELSEWHERE if c.elsewhere else BIOPSY_SITE
            findings.append(self._finding(doc, c, sign, rule.tier, status, rule.source, site, _who(doc, c, people)))
        findings = self._escalate(findings, cands)
        unique = sorted(set(findings), key=lambda f: (f.start, f.end, f.sign, f.status))
        masked = doc is not None and bool(doc.user_data.get(FEVER_MEDICINE)) and measured_normal
        return Detection(findings=tuple(unique), temperature_c=highest, feels_feverish=feverish, fever_masked=masked)

    def _kept(self, doc, c: Candidate) -> bool:
        return " ".join(t.norm_ for t in doc[c.start : c.end]) in self.feverish_kept

    @staticmethod
    def _finding(doc, c: Candidate, sign: str, tier: Tier, status: str, source: str, site: str, who: str) -> Finding:
        span = doc[c.start : c.end]
        return Finding(
            sign=sign,
            tier=tier,
            status=status,
            evidence=span.text,
            start=span.start_char,
            end=span.end_char,
            source=source,
            site=site,
            who=who,
        )

    def _people(self, doc) -> list[tuple[int, str]]:
        """(token, who) for every word that says whom the message is about, in order.

        "my" before a person word is that person's ("my son"); he/she/his/her refer back to the
        last person named ("my son ... his hip": a child), or to the care team ("the nurse said
        she ...": nobody); with nobody named before, they are someone other than the writer.
        """
        found: list[tuple[int, str]] = []
        last: str | None = None
        for tok in doc:
            word = tok.norm_
            if word in self.staff:
                last = "staff"
            elif word in self.pronouns:
                if last != "staff":
                    found.append((tok.i, last or OTHER))
            elif word in self.people:
                who = self.people[word]
                nxt = doc[tok.i + 1].norm_ if tok.i + 1 < len(doc) else ""
                if who == PATIENT and self.people.get(nxt, PATIENT) != PATIENT:
                    continue  # "my son": the son
                if who != PATIENT:
                    last = who
                found.append((tok.i, who))
        return found

    def _escalate(self, findings: list[Finding], cands: list[Candidate]) -> list[Finding]:
        """NICE-CG151: fever + chemotherapy / low white count -> emergency (rule in the YAML)."""
        active = {
            c.value
            for c in cands  # a risk cue's value is its escalation's index
            if c.sign == RISK and isinstance(c.value, int) and not c.negated and c.context == REPORTED
        }
        for i in sorted(active):
            esc = self.rules.escalations[i]
            findings = [
                replace(f, tier=esc.tier, source=f"{f.source}, {esc.source}")
                if f.sign == esc.sign and f.status == REPORTED and esc.tier > f.tier
                else f
                for f in findings
            ]
        return findings


def _who(doc, c: Candidate, people: list[tuple[int, str]]) -> str:
    """The person the finding's sentence names last before the sign (else first after it), else
    the last one named before it in the message; the writer when nobody is named."""
    lo, hi = sentence_of(doc, c.start)
    before = [who for i, who in people if lo <= i < c.end]
    after = [who for i, who in people if c.end <= i < hi]
    earlier = [who for i, who in people if i < lo]
    return (before[-1:] or after[:1] or earlier[-1:] or [PATIENT])[0]


@lru_cache(maxsize=8)
def get_detector(fever_threshold_c: float | None = None) -> Detector:
    """A shared detector per threshold (building one takes about a second)."""
    return Detector(fever_threshold_c=fever_threshold_c)


def carried_or_detect(carried: object, text: str, fever_threshold_c: float | None = None) -> Detection:
    """The detection that travelled with this message (the API ran the detector on it), or a
    fresh one when none came along: `rasa shell`, `rasa test`, training, a hand-built tracker.
    A malformed one is never trusted: the message is detected again."""
    if isinstance(carried, Mapping):
        try:
            return Detection.from_dict(carried)
        except (KeyError, TypeError, ValueError):
            log.warning("a detection carried with the message was malformed; detecting again")
    return get_detector(fever_threshold_c).detect(text)
