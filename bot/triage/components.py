"""spaCy components that find candidate warning signs in a message.

`aftercare_typos` fixes misspellings by setting token.norm_, so every pattern matches on NORM.
`aftercare_signs` puts Candidates (sign mentions, temperatures, feverish feelings, risk cues)
in doc.user_data; the negation and context components then decide their status.
"<n>" in a listed phrase stands for any number ("for <n> minutes"); those phrases use a token
Matcher, all others the faster PhraseMatcher.
"""

import re
from bisect import bisect_right
from dataclasses import dataclass

from spacy.lang.en.lex_attrs import _num_words
from spacy.language import Language
from spacy.matcher import Matcher, PhraseMatcher
from spacy.tokens import Doc

from bot.triage.phrases import score_changes
from bot.triage.rules import NUMBER, load_rules
from bot.triage.temperature import SPELLING_HINT, reader_for

CANDIDATES = "aftercare_candidates"
FEVERISH = "_feverish"  # pseudo-sign names for things that are not signs by themselves
RISK = "_risk"
TEMPERATURE = "_temperature"
IDIOM = "_idiom"  # matched spans that are never a sign ("red flags", "bleeding me dry")
BREAK = "_break"  # "but", "however": a same_clause near rule may not pair across these
FEVER_MEDICINE = "aftercare_fever_medicine"  # doc.user_data flag: a fever medicine is named
_DIGIT = re.compile(r"\d")
PAIN = "increasing_pain"
SEVERE_SCORE = 7  # a score this high is a lot of pain (NHLBI) even when it came down to it
_NUMBER_WORD = re.compile(r"\d|\b(?:" + "|".join(_num_words) + r")\b", re.IGNORECASE)


@dataclass(slots=True)
class Candidate:
    sign: str  # a sign name, or FEVERISH / RISK / TEMPERATURE
    start: int  # token span of the evidence
    end: int
    parts: tuple[tuple[int, int], ...]  # phrase: (span,); near rule: (sign word, qualifier)
    value: float | int | None = None  # degrees C for a temperature, escalation index for a risk cue
    negated: bool = False
    context: str = "reported"  # reported | question | hypothetical
    asked: bool = False  # a fever word in a question ("37.6, is that a fever?"): a number decides
    elsewhere: bool = False  # its clause places it away from the biopsy ("my nose is bleeding")


def sentence_starts(doc: Doc) -> list[int]:
    starts = doc.user_data.get("aftercare_sent_starts")
    if starts is None:
        starts = doc.user_data["aftercare_sent_starts"] = [s.start for s in doc.sents]
    return starts


def sentence_of(doc: Doc, i: int) -> tuple[int, int]:
    """(start, end) of the sentence holding token i."""
    starts = sentence_starts(doc)
    k = bisect_right(starts, i) - 1
    return starts[k], (starts[k + 1] if k + 1 < len(starts) else len(doc))


@Language.factory("aftercare_typos", default_config={"rules_path": ""})
class TypoNormalizer:
    """Misspelt words get the listed word as their norm ("bleding" -> "bleeding").

    Also starts a new sentence after a line break: patients often write one symptom per line.
    """

    def __init__(self, nlp: Language, name: str, rules_path: str):
        self.typos = load_rules(rules_path or None).typos

    def __call__(self, doc: Doc) -> Doc:
        typos = self.typos
        for token in doc:
            fixed = typos.get(token.lower_)
            if fixed is not None:
                token.norm_ = fixed
            elif (
                token.lower_ == "m" and token.i and doc[token.i - 1].lower_ == "i" and not doc[token.i - 1].whitespace_
            ):
                token.norm_ = "am"  # "im" typed without its apostrophe: "i" + "m", read as "i am"
            elif token.is_space and "\n" in token.text and token.i + 1 < len(doc):
                doc[token.i + 1].is_sent_start = True
        return doc


@Language.factory("aftercare_signs", default_config={"rules_path": ""})
class SignMatcher:
    def __init__(self, nlp: Language, name: str, rules_path: str):
        rules = self.rules = load_rules(rules_path or None)
        fix = nlp.get_pipe("aftercare_typos") if "aftercare_typos" in nlp.pipe_names else None
        self.matcher = PhraseMatcher(nlp.vocab, attr="NORM")
        self.numbered = Matcher(nlp.vocab)  # phrases with "<n>", a number
        self.keys: dict[int, tuple] = {}  # match id -> (sign, role, near rule or escalation)

        def tokens(text: str) -> Doc:
            return fix(nlp.make_doc(text)) if fix else nlp.make_doc(text)

        def add(key: tuple, phrases: tuple[str, ...]) -> None:
            label = "|".join(map(str, key))
            plain = [tokens(p) for p in phrases if NUMBER not in p.split()]
            if plain:
                self.matcher.add(label, plain)
            numbered = [
                [
                    tok
                    for word in p.split()
                    for tok in ([{"LIKE_NUM": True}] if word == NUMBER else [{"NORM": t.norm_} for t in tokens(word)])
                ]
                for p in phrases
                if NUMBER in p.split()
            ]
            if numbered:
                self.numbered.add(label, numbered)
            self.keys[nlp.vocab.strings[label]] = key

        pain = rules.signs.get(PAIN)
        self.pain_words = frozenset(w for w in (pain.near[0].words if pain and pain.near else ()) if " " not in w)
        for sign in rules.signs.values():
            if sign.phrases:
                add((sign.name, "phrase", None), sign.phrases)
            if sign.exclude:
                add((sign.name, "exclude", None), sign.exclude)
            for i, near in enumerate(sign.near):
                add((sign.name, "a", i), near.words)
                add((sign.name, "b", i), near.with_)
                if near.unless:
                    add((sign.name, "unless", i), near.unless)
        add((FEVERISH, "phrase", None), rules.feverish)
        for i, (feelings, causes) in enumerate(rules.feverish_explained_by):
            add((FEVERISH, "feeling", i), feelings)
            add((FEVERISH, "cause", i), causes)
        if rules.idioms:
            add((IDIOM, "exclude", None), rules.idioms)
        add((BREAK, "break", None), rules.context["scope_ends"])
        if rules.fever_medicine:
            add((FEVER_MEDICINE, "cue", None), rules.fever_medicine)
        for i, esc in enumerate(rules.escalations):
            add((RISK, "phrase", i), esc.cues)

    def __call__(self, doc: Doc) -> Doc:
        found: dict[tuple, list[tuple[int, int]]] = {}
        numbered = self.numbered(doc) if _NUMBER_WORD.search(doc.text) else []
        for match_id, start, end in [*self.matcher(doc), *numbered]:
            found.setdefault(self.keys[match_id], []).append((start, end))
        cands = [
            Candidate(sign, s, e, ((s, e),), value=i)
            for (sign, role, i), spans in found.items()
            if role == "phrase"
            for s, e in spans
        ]
        breaks = [s for s, _ in found.get((BREAK, "break", None), [])]
        for sign in self.rules.signs.values():
            for i, near in enumerate(sign.near):
                cands += self._pairs(
                    doc,
                    sign.name,
                    found.get((sign.name, "a", i), []),
                    found.get((sign.name, "b", i), []),
                    near.within,
                    breaks if near.same_clause else [],
                    near.qualifier_after,
                    [s for s, _ in found.get((sign.name, "unless", i), [])],
                )
        idioms = found.get((IDIOM, "exclude", None), [])
        cands = [c for c in cands if not _excluded(c, [*found.get((c.sign, "exclude", None), ()), *idioms])]
        if _NUMBER_WORD.search(doc.text):
            cands = self._score_changes(doc, cands)
        for i in range(len(self.rules.feverish_explained_by)):  # "I feel hot, it's the weather"
            feelings = found.get((FEVERISH, "feeling", i))
            causes = found.get((FEVERISH, "cause", i))
            if feelings and causes:
                cands = [c for c in cands if c.sign != FEVERISH or not _explained(doc, c, feelings, causes)]
        cands += self._temperatures(doc)
        doc.user_data[CANDIDATES] = cands
        doc.user_data[FEVER_MEDICINE] = bool(found.get((FEVER_MEDICINE, "cue", None)))
        return doc

    def _pairs(
        self,
        doc: Doc,
        sign: str,
        words: list,
        qualifiers: list,
        within: int,
        breaks: list[int],
        after: bool = False,
        unless: list[int] | None = None,
    ) -> list:
        """A sign word with its nearest qualifier in the same sentence ("pain ... worse").

        With `breaks`, not across one of them ("my chest is fine but my hip is sore"); with
        `after`, only a qualifier that follows the word ("it bled for hours"); with `unless`,
        not in a sentence that holds one of those ("the skin round the site is blue": a bruise).
        """
        pairs = []
        for a in words:
            sent = sentence_of(doc, a[0])
            if unless and any(sent[0] <= x < sent[1] for x in unless):
                continue
            best = None
            for b in qualifiers:
                if after and b[0] < a[1]:
                    continue
                gap = b[0] - a[1] if b[0] >= a[1] else a[0] - b[1]
                same_sentence = sent[0] <= b[0] < sent[1]
                lo, hi = min(a[1], b[1]), max(a[0], b[0])
                if breaks and any(lo <= x < hi for x in breaks):
                    continue
                if 0 <= gap <= within and same_sentence and (best is None or gap < best[0]):
                    best = (gap, b)
            if best:
                b = best[1]
                pairs.append(Candidate(sign, min(a[0], b[0]), max(a[1], b[1]), (a, b)))
        return pairs

    def _score_changes(self, doc: Doc, cands: list[Candidate]) -> list[Candidate]:
        """A pain score said as a change counts by its direction: "from 3 to 7", "it was a 4, now
        an 8" is pain getting worse; "went down from 7 to 3", "was 9/10, now 5/10" eases, so a
        match on its numbers ("from <n> to <n>", "9/10") is dropped, unless the new score is
        still high. A bare change ("from 3 to 6", no "a 3" nor "/10") needs a pain word."""
        for start, end, old, new, scored in score_changes(doc.text):
            span = doc.char_span(start, end, alignment_mode="expand")
            if span is None or new == old:
                continue
            s, e = span.start, span.end
            if new < old and new < SEVERE_SCORE:
                cands = [c for c in cands if not (c.sign == PAIN and c.parts[-1][0] < e and s < c.parts[-1][1])]
            elif new > old:
                lo, hi = sentence_of(doc, s)
                if scored or any(t.norm_ in self.pain_words for t in doc[lo:hi]):
                    cands.append(Candidate(PAIN, s, e, ((s, e),)))
        return cands

    def _temperatures(self, doc: Doc) -> list[Candidate]:
        r = self.rules
        if not _DIGIT.search(doc.text) and not SPELLING_HINT.search(doc.text):
            return []
        cands = []
        for t in reader_for(r).find(doc.text):
            span = doc.char_span(t.start, t.end, alignment_mode="expand")
            if span is None:
                continue
            s, e = sentence_of(doc, span.start)
            if t.needs_keyword and not any(tok.norm_ in r.temperature_keywords for tok in doc[s:e]):
                continue
            where = (span.start, span.end)
            cands.append(Candidate(TEMPERATURE, *where, (where,), value=t.value_c))
        return cands


def _excluded(cand: Candidate, excludes: list[tuple[int, int]]) -> bool:
    """An exclusion overlapping a matched part ("blood" in "blood test", "worse" in "could be
    worse") drops the candidate, unless the part holds all of it: the longer phrase wins
    ("confused about where she is" is confusion although "confused about" is excluded)."""
    return any(xs < e and s < xe and not (s <= xs and xe <= e) for s, e in cand.parts for xs, xe in excludes)


def _explained(doc: Doc, cand: Candidate, feelings: list, causes: list) -> bool:
    """The feeling is one this cause explains, and the cause is in the same sentence, not denied
    ("it's not the weather")."""
    if (cand.start, cand.end) not in feelings:
        return False
    lo, hi = sentence_of(doc, cand.start)
    return any(lo <= s < hi and not any(t.norm_ in ("not", "no") for t in doc[max(lo, s - 2) : s]) for s, _ in causes)
