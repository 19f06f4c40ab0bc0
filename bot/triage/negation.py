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
    ("can't breathe" is a report, not a negated "breathe");
  - a following trigger that starts with a termination word reaches back across it ("it bled a
    little last night but it's stopped", "a fever on Saturday but not anymore"), only when the
    sentence so far holds that one sign;
  - a following trigger with its own object negates that, not what came before ("it's swollen
    but it stopped bleeding");
  - a pseudo-negation anywhere inside a trigger cancels it ("but it stopped hurting"), where
    NegEx only looks at the trigger's first word;
  - a comma followed by a clause opener (the, my, it, she, ...) ends a negation's reach: "no fever,
    my hip is bleeding" reports the bleeding; "no redness, swelling or pus" stays a list;
  - a bleed that stopped only once pressed on is still reported ("it bled but stopped when I
    pressed on it"): the facts say to press and call (`stopped_by_pressure`).
"""

from bisect import bisect_right

from negspacy.negation import Negex
from spacy.language import Language
from spacy.matcher import PhraseMatcher
from spacy.tokens import Doc

from bot.triage.components import CANDIDATES, TEMPERATURE

CLAUSE_PUNCT = {",", ";", ":", "-", "--", "—"}
OBJECT_WORDS = {"the", "my", "his", "her", "its", "their", "any", "all", "that", "this"}


@Language.factory(
    "aftercare_negex",
    default_config={
        "neg_termset": {},
        "window": 6,
        "hedges": [],
        "double_negatives": [],
        "clause_starts": [],
        "stopped_by_pressure": {},
    },
)
class WindowedNegex(Negex):
    def __init__(
        self,
        nlp: Language,
        name: str,
        neg_termset: dict,
        window: int,
        hedges: list[str],
        double_negatives: list[str],
        clause_starts: list[str],
        stopped_by_pressure: dict[str, list[str]],
    ):
        super().__init__(nlp, name, neg_termset, ent_types=[], extension_name="negex", chunk_prefix=[])
        self.window = window
        self.hedges = PhraseMatcher(nlp.vocab, attr="NORM")
        # spaCy 3.4 types Language.tokenizer as a bare callable; it is a Tokenizer, with pipe()
        self.hedges.add("hedge", list(nlp.tokenizer.pipe(hedges)))  # type: ignore[union-attr]
        self.double = set(double_negatives)
        # ", my hip is bleeding": these words after a comma start a clause a negation can't reach
        self.clause_starts = {t.norm_ for w in clause_starts for t in nlp.make_doc(w)[:1]}
        self.pressed_signs = set(stopped_by_pressure.get("signs", ()))
        self.stop_words = set(stopped_by_pressure.get("stop", ()))
        self.pressure_words = set(stopped_by_pressure.get("pressure", ()))
        self._ids = {k: nlp.vocab.strings[k] for k in ("Preceding", "Following", "Termination")}
        self._pseudo_id = nlp.vocab.strings["pseudo"]

    def build_patterns(self) -> None:
        # negspacy matches on LOWER; NORM also folds contractions and our typo fixes.
        self.matcher = PhraseMatcher(self.nlp.vocab, attr="NORM")
        for label, phrases in (
            ("pseudo", self.pseudo_negations),
            ("Preceding", self.preceding_negations),
            ("Following", self.following_negations),
            ("Termination", self.termination),
        ):
            self.matcher.add(label, list(self.nlp.tokenizer.pipe(phrases)))

    def _negations(self, doc: Doc) -> tuple[list, list, list, list]:
        """negspacy's process_negations, also returning the pseudo-negation spans (one match)."""
        matches = self.matcher(doc)
        pseudo = [(s, e) for m, s, e in matches if m == self._pseudo_id]
        kinds = ("Preceding", "Following", "Termination")
        lists: dict[int, list] = {self._ids[k]: [] for k in kinds}
        for m, s, e in matches:
            if m != self._pseudo_id and not any(ps <= s <= pe for ps, pe in pseudo):
                lists[m].append((m, s, e))
        preceding, following, termination = lists.values()
        return preceding, following, termination, pseudo

    def __call__(self, doc: Doc) -> Doc:
        cands = [c for c in doc.user_data.get(CANDIDATES, ()) if c.sign != TEMPERATURE]
        if not cands:  # most messages: nothing to negate, skip the matcher
            return doc
        preceding, following, terminating, pseudo = self._negations(doc)
        if not preceding and not following:
            return doc
        new_clauses = [
            (None, t.i + 1, t.i + 1)
            for t in doc[:-1]
            if t.text in CLAUSE_PUNCT and doc[t.i + 1].norm_ in self.clause_starts
        ]
        bounds = self.termination_boundaries(doc, terminating + new_clauses)
        starts = [b[0] for b in bounds]
        term_starts = {s for _, s, _ in terminating}
        pre = [(s, e) for _, s, e in preceding]
        fol = [(s, e) for _, s, e in following if not any(s < ps < e for ps, _ in pseudo)]  # "but it stopped hurting"
        hedges = {s for _, s, _ in self.hedges(doc)}

        sent_starts = [sent.start for sent in doc.sents]

        def sentence_start(i: int) -> int:
            return sent_starts[max(bisect_right(sent_starts, i) - 1, 0)]

        def clause(i: int) -> tuple[int, int]:
            return bounds[max(bisect_right(starts, i) - 1, 0)]

        def negated_before(target: int, not_before: int) -> bool:
            lo, _ = clause(target)
            hits = sorted(
                (e, s) for s, e in pre if max(lo, not_before) <= s and e <= target and target - e <= self.window
            )
            if len(hits) > 1 and doc[hits[-1][1]].norm_ in self.double:
                return False  # "can't stand up without feeling faint"
            return bool(hits)

        def stopped_something_else(e: int) -> bool:  # "..., but it stopped bleeding"
            nxt = e + 1 if e < len(doc) and doc[e].lower_ in OBJECT_WORDS else e
            return any(d.start in (e, nxt) for d in cands)

        def alone(c, s: int) -> bool:  # "it bled and it's red, but it's stopped": which one?
            lo = sentence_start(s)
            return not any(
                lo <= d.start < s and d.sign != c.sign and (d.end <= c.start or c.end <= d.start) for d in cands
            )

        def negated_after(c) -> bool:
            _, hi = clause(c.end - 1)
            for s, e in fol:
                if not (0 <= s - c.end <= self.window) or stopped_something_else(e):
                    continue
                if s < hi or (s in term_starts and alone(c, s)):
                    return True
            return False

        for c in cands:
            first, second = sorted(c.parts)[0], sorted(c.parts)[-1]
            c.negated = (
                negated_before(first[0], 0)
                or (second is not first and negated_before(second[0], first[1]))
                or negated_after(c)
            )
            if c.negated and (c.end in hedges or c.end + 1 in hedges):
                c.negated = False  # "not bleeding much": still bleeding
            if c.negated and c.sign in self.pressed_signs and self._stopped_by_pressure(doc, c.start):
                c.negated = False  # "it stopped when I pressed on it": pressing was needed
        return doc

    def _stopped_by_pressure(self, doc: Doc, i: int) -> bool:
        norms = {t.norm_ for t in doc[i].sent}
        return bool(norms & self.stop_words) and bool(norms & self.pressure_words)
