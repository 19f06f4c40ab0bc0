"""Is a sign reported, or only asked about / imagined? Also: a negated sign that came back.

Rules (cue lists in warning_signs.yml, context block), per sentence:
  - recurrence: "the bleeding stopped then started again" un-negates.
  - hypothetical: a cue before the sign ("what if I get a fever") makes it hypothetical, unless a
    later clause says the sign is there ("if unsure call us, and now it's bleeding").
  - question: a question cue before the sign ("should I worry about redness?") makes it a question,
    unless the words between say it is there ("is it normal that it's swollen?", "the redness").
Temperatures are measurements: only the hypothetical rule applies to them ("what if it hits 39").
When unsure, the sign stays reported.
"""

from spacy.language import Language
from spacy.matcher import PhraseMatcher
from spacy.tokens import Doc

from bot.safety.components import CANDIDATES, TEMPERATURE, sentence_of
from bot.safety.rules import load_rules

_MATCHED = ("recurrence", "hypothetical", "pseudo_hypothetical", "question_phrases",
            "assertions", "pseudo_assertions", "clause_breaks", "scope_ends")
DEFINITE_REACH = 2  # "the redness", "my hip is red", "I can't breathe": a pointing word this close


@Language.factory("aftercare_context", default_config={"rules_path": ""})
class ContextRules:
    def __init__(self, nlp: Language, name: str, rules_path: str):
        ctx = load_rules(rules_path or None).context
        self.matcher = PhraseMatcher(nlp.vocab, attr="NORM")
        for key in _MATCHED:
            self.matcher.add(key, list(nlp.tokenizer.pipe(ctx[key])))
        self.ids = {nlp.vocab.strings[k]: k for k in _MATCHED}
        self.wh = set(ctx["question_openers_wh"])
        self.yes_no = set(ctx["question_openers_yes_no"])
        self.definite = set(ctx["definite"])

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
            sent = sentence_of(doc, c.start)
            if c.negated and any(c.end <= s < sent[1] for s, _ in cues["recurrence"]):
                c.negated = False
            ends = [e for s, e in cues["scope_ends"] if sent[0] <= s and e <= c.start]
            scope = (max(ends, default=sent[0]), sent[1])  # "..., but" starts afresh
            if self._hypothetical(doc, c.start, scope, cues):
                c.context = "hypothetical"
            elif c.sign != TEMPERATURE and self._question(doc, c.start, sent, scope, cues):
                c.context = "question"
        return doc

    def _asserted(self, doc: Doc, frm: int, target: int, cues: dict) -> bool:
        """Do the words between `frm` and the sign say the sign is there?"""
        if any(frm <= s and e <= target for s, e in cues["assertions"]):
            return True
        return any(t.lower_ in self.definite for t in doc[max(frm, target - DEFINITE_REACH):target])

    def _hypothetical(self, doc: Doc, target: int, scope: tuple, cues: dict) -> bool:
        hyps = [e for s, e in cues["hypothetical"] if scope[0] <= s and e <= target]
        if not hyps:
            return False
        cue_end = max(hyps)
        breaks = [e for s, e in cues["clause_breaks"] if cue_end <= s and e <= target]
        return not any(self._asserted(doc, b, target, cues) for b in breaks)

    def _question(self, doc: Doc, target: int, sent: tuple, scope: tuple, cues: dict) -> bool:
        ends = [e for s, e in cues["question_phrases"] if scope[0] <= s and e <= target]
        asks = _ends_with_question_mark(doc, sent)
        starts = {scope[0]} | {e for s, e in cues["clause_breaks"] if scope[0] <= s and e < target}
        for i in sorted(starts):
            word = doc[i].lower_
            statement = i + 1 < len(doc) and doc[i + 1].norm_ == "not"  # "Can't stop the bleeding"
            if asks and not statement and (word in self.wh or word in self.yes_no):
                ends.append(i + 1)
        if not ends:
            return False
        return not self._asserted(doc, max(ends), target, cues)


def _ends_with_question_mark(doc: Doc, sent: tuple[int, int]) -> bool:
    last = sent[1] - 1
    while last > sent[0] and doc[last].is_space:
        last -= 1
    return "?" in doc[last].text


def _without(spans: list[tuple[int, int]], pseudo: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Drop cues that start inside a pseudo cue ("if" in "if it's still bleeding")."""
    return [(s, e) for s, e in spans if not any(ps <= s < pe for ps, pe in pseudo)]
