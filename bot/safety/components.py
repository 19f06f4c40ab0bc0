"""spaCy components that find candidate warning signs in a message.

`aftercare_typos` fixes misspellings by setting token.norm_, so every pattern matches on NORM.
`aftercare_signs` puts Candidates (sign mentions, temperatures, feverish feelings, risk cues)
in doc.user_data; the negation and context components then decide their status.
"""

from bisect import bisect_right
from dataclasses import dataclass

from spacy.language import Language
from spacy.matcher import PhraseMatcher
from spacy.tokens import Doc

from bot.safety.rules import load_rules
from bot.safety.temperature import reader_for

CANDIDATES = "aftercare_candidates"
FEVERISH = "_feverish"  # pseudo-sign names for things that are not signs by themselves
RISK = "_risk"
TEMPERATURE = "_temperature"


@dataclass(slots=True)
class Candidate:
    sign: str  # a sign name, or FEVERISH / RISK / TEMPERATURE
    start: int  # token span of the evidence
    end: int
    parts: tuple[tuple[int, int], ...]  # phrase: (span,); near rule: (sign word, qualifier)
    value: float | int | None = None  # degrees C for a temperature, escalation index for a risk cue
    negated: bool = False
    context: str = "reported"  # reported | question | hypothetical


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
            elif token.is_space and "\n" in token.text and token.i + 1 < len(doc):
                doc[token.i + 1].is_sent_start = True
        return doc


@Language.factory("aftercare_signs", default_config={"rules_path": ""})
class SignMatcher:
    def __init__(self, nlp: Language, name: str, rules_path: str):
        rules = self.rules = load_rules(rules_path or None)
        fix = nlp.get_pipe("aftercare_typos") if "aftercare_typos" in nlp.pipe_names else None
        self.matcher = PhraseMatcher(nlp.vocab, attr="NORM")
        self.keys: dict[int, tuple] = {}  # match id -> (sign, role, near rule or escalation)

        def add(key: tuple, phrases: tuple[str, ...]) -> None:
            label = "|".join(map(str, key))
            docs = [nlp.make_doc(p) for p in phrases]
            self.matcher.add(label, [fix(d) if fix else d for d in docs])
            self.keys[nlp.vocab.strings[label]] = key

        for sign in rules.signs.values():
            if sign.phrases:
                add((sign.name, "phrase", None), sign.phrases)
            if sign.exclude:
                add((sign.name, "exclude", None), sign.exclude)
            for i, near in enumerate(sign.near):
                add((sign.name, "a", i), near.words)
                add((sign.name, "b", i), near.with_)
        add((FEVERISH, "phrase", None), rules.feverish)
        for i, esc in enumerate(rules.escalations):
            add((RISK, "phrase", i), esc.cues)

    def __call__(self, doc: Doc) -> Doc:
        found: dict[tuple, list[tuple[int, int]]] = {}
        for match_id, start, end in self.matcher(doc):
            found.setdefault(self.keys[match_id], []).append((start, end))
        cands = [Candidate(sign, s, e, ((s, e),), value=i)
                 for (sign, role, i), spans in found.items() if role == "phrase" for s, e in spans]
        for sign in self.rules.signs.values():
            for i, near in enumerate(sign.near):
                cands += self._pairs(doc, sign.name, found.get((sign.name, "a", i), ()),
                                     found.get((sign.name, "b", i), ()), near.within)
        cands = [c for c in cands if not _excluded(c, found.get((c.sign, "exclude", None), ()))]
        cands += self._temperatures(doc)
        doc.user_data[CANDIDATES] = cands
        return doc

    def _pairs(self, doc: Doc, sign: str, words: list, qualifiers: list, within: int) -> list:
        """A sign word with its nearest qualifier in the same sentence ("pain ... worse")."""
        pairs = []
        for a in words:
            sent = sentence_of(doc, a[0])
            best = None
            for b in qualifiers:
                gap = b[0] - a[1] if b[0] >= a[1] else a[0] - b[1]
                same_sentence = sent[0] <= b[0] < sent[1]
                if 0 <= gap <= within and same_sentence and (best is None or gap < best[0]):
                    best = (gap, b)
            if best:
                b = best[1]
                pairs.append(Candidate(sign, min(a[0], b[0]), max(a[1], b[1]), (a, b)))
        return pairs

    def _temperatures(self, doc: Doc) -> list[Candidate]:
        r = self.rules
        if not any(ch.isdigit() for ch in doc.text):
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
    s, e = cand.parts[0]  # the sign word itself: "blood" in "blood test"
    return any(xs < e and s < xe for xs, xe in excludes)
