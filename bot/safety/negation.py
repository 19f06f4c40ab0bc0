"""Negation of candidate signs with negspacy's NegEx, plus three rules of our own on top.

negspacy supplies the termset mechanism (the four lists from warning_signs.yml), pseudo-negation
filtering and the termination boundaries. We add:
  - matching on NORM, so "can't", "cannot" and "cant" are all "can not" (one list entry each);
  - hedges ("not bleeding much" still reports bleeding) and double negatives ("can't stand
    without feeling faint");
  - a window: a trigger only reaches `window` tokens (NegEx's classic 5-6 word scope), so
    "I didn't sleep well last night and my hip is bleeding" stays a report;
  - candidates instead of doc.ents (they may overlap), and for "near" candidates the trigger
    may sit before either part ("pain is no worse"), but never inside the qualifier itself
    ("can't breathe" is a report, not a negated "breathe").
"""

from bisect import bisect_right

from negspacy.negation import Negex
from spacy.language import Language
from spacy.matcher import PhraseMatcher
from spacy.tokens import Doc

from bot.safety.components import CANDIDATES, TEMPERATURE


@Language.factory(
    "aftercare_negex",
    default_config={"neg_termset": {}, "window": 6, "hedges": [], "double_negatives": []},
)
class WindowedNegex(Negex):
    def __init__(self, nlp: Language, name: str, neg_termset: dict, window: int,
                 hedges: list[str], double_negatives: list[str]):
        super().__init__(nlp, name, neg_termset, ent_types=[], extension_name="negex",
                         chunk_prefix=[])
        self.window = window
        self.hedges = PhraseMatcher(nlp.vocab, attr="NORM")
        self.hedges.add("hedge", list(nlp.tokenizer.pipe(hedges)))
        self.double = set(double_negatives)

    def build_patterns(self) -> None:
        # negspacy matches on LOWER; NORM also folds contractions and our typo fixes.
        self.matcher = PhraseMatcher(self.nlp.vocab, attr="NORM")
        for label, phrases in (("pseudo", self.pseudo_negations),
                               ("Preceding", self.preceding_negations),
                               ("Following", self.following_negations),
                               ("Termination", self.termination)):
            self.matcher.add(label, list(self.nlp.tokenizer.pipe(phrases)))

    def __call__(self, doc: Doc) -> Doc:
        cands = [c for c in doc.user_data.get(CANDIDATES, ()) if c.sign != TEMPERATURE]
        if not cands:  # most messages: nothing to negate, skip the matcher
            return doc
        preceding, following, terminating = self.process_negations(doc)
        if not preceding and not following:
            return doc
        bounds = self.termination_boundaries(doc, terminating)
        starts = [b[0] for b in bounds]
        pre = [(s, e) for _, s, e in preceding]
        fol = [(s, e) for _, s, e in following]
        hedges = {s for _, s, _ in self.hedges(doc)}

        def clause(i: int) -> tuple[int, int]:
            return bounds[max(bisect_right(starts, i) - 1, 0)]

        def negated_before(target: int, not_before: int) -> bool:
            lo, _ = clause(target)
            hits = sorted((e, s) for s, e in pre
                          if max(lo, not_before) <= s and e <= target and target - e <= self.window)
            if len(hits) > 1 and doc[hits[-1][1]].norm_ in self.double:
                return False  # "can't stand up without feeling faint"
            return bool(hits)

        def negated_after(target_end: int) -> bool:
            _, hi = clause(target_end - 1)
            return any(target_end <= s < hi and s - target_end <= self.window for s, e in fol)

        for c in cands:
            first, second = sorted(c.parts)[0], sorted(c.parts)[-1]
            c.negated = (negated_before(first[0], 0)
                         or (second is not first and negated_before(second[0], first[1]))
                         or negated_after(c.end))
            if c.negated and (c.end in hedges or c.end + 1 in hedges):
                c.negated = False  # "not bleeding much": still bleeding
        return doc
