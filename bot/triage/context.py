"""Is a sign reported, or only asked about / imagined? Also: a negated sign that came back.

Rules (cue lists in warning_signs.yml, context block), per sentence:
  - recurrence: "the bleeding stopped then started again" un-negates.
  - hypothetical: a cue before the sign ("what if I get a fever") makes it hypothetical, unless a
    later clause says the sign is there ("if unsure call us, and now it's bleeding").
  - question: a question cue before the sign ("should I worry about redness?") makes it a question,
    unless the words between say it is there ("is it normal that it's swollen?", "the redness").
    Status is decided per clause: an opener (what, how, is, can, ...) counts at the start of the
    sentence or of a clause, and only the LAST opener of a sentence that ends in "?" owns the
    "?": "bled through two dressings, anyway is the clinic open?" reports the bleeding. A yes/no
    opener after "and"/"but" continues a statement ("she had it done and is bleeding a lot?").
    A few wh-starts ask even without "?" at the start of a sentence ("how much bleeding is
    normal"); "when I stood up I fainted" is not one of them.
  - asked: a fever word in a question that no statement backs ("37.6, is that a fever?", but not
    "I have a fever of 37.6, is that bad?"); the detector lets a measured number decide.
Temperatures are measurements: only the hypothetical rule applies to them ("what if it hits 39").
When unsure, the sign stays reported.
"""

from spacy.language import Language
from spacy.matcher import PhraseMatcher
from spacy.tokens import Doc

from bot.triage.components import CANDIDATES, TEMPERATURE, sentence_of
from bot.triage.model import ELSEWHERE
from bot.triage.rules import load_rules

_MATCHED = (
    "recurrence",
    "hypothetical",
    "pseudo_hypothetical",
    "question_phrases",
    "assertions",
    "pseudo_assertions",
    "clause_breaks",
    "scope_ends",
    "question_starts",
    "fever_statements",
    "fever_asks",
    "elsewhere_cues",
    "biopsy_site_cues",
)
DEFINITE_REACH = 2  # "the redness", "my hip is red", "I can't breathe": a pointing word this close


@Language.factory("aftercare_context", default_config={"rules_path": ""})
class ContextRules:
    def __init__(self, nlp: Language, name: str, rules_path: str):
        rules = load_rules(rules_path or None)
        ctx = rules.context
        self.placed = {s.name for s in rules.signs.values() if not s.systemic}
        self.matcher = PhraseMatcher(nlp.vocab, attr="NORM")
        for key in _MATCHED:
            # spaCy 3.4 types Language.tokenizer as a bare callable; it is a Tokenizer, with pipe()
            self.matcher.add(key, list(nlp.tokenizer.pipe(ctx[key])))  # type: ignore[union-attr]
        self.ids = {nlp.vocab.strings[k]: k for k in _MATCHED}
        self.wh = set(ctx["question_openers_wh"])
        self.yes_no = set(ctx["question_openers_yes_no"])
        self.definite = set(ctx["definite"])
        self.continuations = set(ctx["continuations"])
        self.elsewhere_signs = set(ctx["elsewhere_signs"])

    def __call__(self, doc: Doc) -> Doc:
        cands = doc.user_data.get(CANDIDATES)
        if not cands:
            return doc
        cues: dict[str, list[tuple[int, int]]] = {k: [] for k in _MATCHED}
        for match_id, s, e in self.matcher(doc):
            cues[self.ids[match_id]].append((s, e))
        cues["hypothetical"] = _without(cues["hypothetical"], cues["pseudo_hypothetical"])
        cues["assertions"] = _without(cues["assertions"], cues["pseudo_assertions"])
        for c in cands:
            at = c.parts[0][0]  # the sign word ("constantly checking it for bleeding")
            sent = sentence_of(doc, at)
            if c.negated and any(c.end <= s < sent[1] for s, _ in cues["recurrence"]):
                c.negated = False
            ends = [e for s, e in cues["scope_ends"] if sent[0] <= s and e <= at]
            scope = (max(ends, default=sent[0]), sent[1])  # "..., but" starts afresh
            if self._hypothetical(doc, at, scope, cues):
                c.context = "hypothetical"
            elif (
                c.sign != TEMPERATURE
                and self._question(doc, at, sent, scope, cues)
                and not (len(c.parts) > 1 and self._asserted(doc, c.parts[0][1], c.parts[1][0], cues))
            ):
                c.context = "question"  # (not "how long should bleeding last its been 30 mins")
            if c.sign == "fever":
                c.asked = self._asked(doc, at, sent, scope, cues)
            c.elsewhere = c.sign in self.placed and _elsewhere(c, scope, cues)
            if c.context == "reported" and c.sign in self.elsewhere_signs and c.elsewhere:
                c.context = ELSEWHERE
        return doc

    def _asserted(self, doc: Doc, frm: int, target: int, cues: dict) -> bool:
        """Do the words between `frm` and the sign say the sign is there?"""
        if any(frm <= s and e <= target for s, e in cues["assertions"]):
            return True
        return any(t.lower_ in self.definite for t in doc[max(frm, target - DEFINITE_REACH) : target])

    def _hypothetical(self, doc: Doc, target: int, scope: tuple, cues: dict) -> bool:
        hyps = [e for s, e in cues["hypothetical"] if scope[0] <= s and e <= target]
        if not hyps:
            return False
        cue_end = max(hyps)
        breaks = [e for s, e in cues["clause_breaks"] if cue_end <= s and e <= target]
        return not any(self._asserted(doc, b, target, cues) for b in breaks)

    def _openers(self, doc: Doc, sent: tuple, scope: tuple, cues: dict) -> list[int]:
        """Token positions where a question opens, in the scope (from its start to sentence end)."""
        cache = cues.setdefault("_openers", {})
        if (sent, scope) not in cache:
            cache[(sent, scope)] = self._find_openers(doc, sent, scope, cues)
        return cache[(sent, scope)]

    def _find_openers(self, doc: Doc, sent: tuple, scope: tuple, cues: dict) -> list[int]:
        asks = _ends_with_question_mark(doc, sent)
        starts = {scope[0]} | {e for s, e in cues["clause_breaks"] if scope[0] <= s and e < sent[1]}
        found = []
        for i in sorted(starts) if asks else ():
            word = doc[i].lower_
            continued = i > sent[0] and doc[i - 1].norm_ in self.continuations  # "and is bleeding"
            if (word in self.wh or (word in self.yes_no and not continued)) and not (
                _followed_by_not(doc, i, self.yes_no)
            ):  # "Can't stop", "why can't I"
                found.append(i)
        # A wh-start asks without "?" when only greetings and breaks come before it in the sentence,
        # and nothing in the sentence says a sign is there ("how long should bleeding last its
        # been going for 30 mins" runs a report into the question).
        lead = _covered(cues["clause_breaks"], sent[0])
        found += [
            s
            for s, e in cues["question_starts"]
            if s == lead
            and s >= scope[0]
            and not _followed_by_not(doc, s, self.yes_no)
            and not any(e <= a < sent[1] for a, _ in cues["assertions"])
        ]
        return found

    def _question(self, doc: Doc, target: int, sent: tuple, scope: tuple, cues: dict) -> bool:
        ends = [e for s, e in cues["question_phrases"] if scope[0] <= s and e <= target]
        openers = self._openers(doc, sent, scope, cues)
        if openers and max(openers) < target:  # the last opener owns the "?"
            ends += openers  # the opener itself may assert: "why is there blood", "how come"
        if not ends:
            return False
        return not self._asserted(doc, max(ends), target, cues)

    def _asked(self, doc: Doc, target: int, sent: tuple, scope: tuple, cues: dict) -> bool:
        """Is this fever word asked about ("is that a fever?") rather than stated?"""
        first = _covered(cues["clause_breaks"], sent[0])
        interrogative = (
            _ends_with_question_mark(doc, sent)
            or (first < sent[1] and doc[first].lower_ in self.yes_no | self.wh)
            or any(scope[0] <= s and e <= target for s, e in cues["fever_asks"])
        )
        openers = self._openers(doc, sent, scope, cues)
        if not interrogative or (openers and max(openers) > target):
            return False  # "fever 37.6, what should I do?": the "?" is another clause's
        # "I have a fever of 37.6" states it; "do I have a fever?" (verb first) asks it.
        return not any(
            scope[0] <= s and e <= target and not any(t.lower_ in self.yes_no for t in doc[max(sent[0], s - 2) : s])
            for s, e in cues["fever_statements"]
        )


def _elsewhere(c, scope: tuple[int, int], cues: dict) -> bool:
    """The sign's clause names a body part away from the biopsy and nothing of the biopsy site:
    "my acne is red" (not "my hip is red and so is my eye", not "it's red")."""
    ends = [s for s, _ in cues["scope_ends"] if c.end <= s < scope[1]]
    lo, hi = scope[0], min(ends, default=scope[1])

    def inside(key: str) -> bool:
        return any(lo <= s and e <= hi for s, e in cues[key])

    return inside("elsewhere_cues") and not inside("biopsy_site_cues")


def _followed_by_not(doc: Doc, i: int, auxiliaries: set[str]) -> bool:
    """ "Can't stop the bleeding", "why can't I breathe": a statement, not a question."""
    nxt = doc[i + 1 : i + 3]
    return (len(nxt) > 0 and nxt[0].norm_ == "not") or (
        len(nxt) > 1 and nxt[0].norm_ in auxiliaries and nxt[1].norm_ == "not"
    )


def _covered(spans: list[tuple[int, int]], i: int) -> int:
    """The first position from i that no span covers ("hi, ok, what ..." -> "what")."""
    ends = {s: e for s, e in sorted(spans)}
    while i in ends:
        i = max(ends[i], i + 1)
    return i


def _ends_with_question_mark(doc: Doc, sent: tuple[int, int]) -> bool:
    last = sent[1] - 1
    while last > sent[0] and doc[last].is_space:
        last -= 1
    return "?" in doc[last].text


def _without(spans: list[tuple[int, int]], pseudo: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Drop cues that start inside a pseudo cue ("if" in "if it's still bleeding")."""
    return [(s, e) for s, e in spans if not any(ps <= s < pe for ps, pe in pseudo)]
