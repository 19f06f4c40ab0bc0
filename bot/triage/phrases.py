"""Small text helpers for the conversation engine: phrase lists, numbers, durations, ages.

Standard library only, so the conversation engine loads without spaCy. Patients answer a
question in a word or two ("yeah worse", "38,6", "half an hour"), where a regular expression
over a normalised message is enough and costs microseconds.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import NamedTuple

_APOSTROPHES = re.compile(r"['\u2019\u2018`]")
_TOKENS = re.compile(r"\d+(?:[.,]\d+)?|[a-z]+|[,.;:!?]+")


def normalise(text: str) -> str:
    """Lower case, apostrophes dropped ("won't" -> "wont"), words and numbers single-spaced, and
    a "," token where punctuation breaks a clause ("no, a bit better": the "no" answers, it does
    not negate "better"; no phrase matches across it)."""
    tokens = _TOKENS.findall(_APOSTROPHES.sub("", text.lower()))
    return " ".join("," if t[0] in ",.;:!?" else t for t in tokens)


class PhraseList:
    """Whole-phrase matching of a list of lay phrases against a normalised message."""

    def __init__(self, phrases: Iterable[str]):
        keys = sorted({normalise(p) for p in phrases if normalise(p)}, key=len, reverse=True)
        self.phrases = tuple(keys)
        self.pattern = (
            re.compile(r"(?<![a-z0-9])(?:" + "|".join(map(re.escape, keys)) + r")(?![a-z0-9])") if keys else None
        )

    def spans(self, norm: str) -> list[tuple[int, int]]:
        return [m.span() for m in self.pattern.finditer(norm)] if self.pattern else []

    def search(self, norm: str) -> bool:
        return bool(self.pattern and self.pattern.search(norm))

    def first_word(self, norm: str) -> int | None:
        """The word position where the first phrase starts, if any."""
        spans = self.spans(norm)
        return norm[: spans[0][0]].count(" ") if spans else None

    def starts(self, norm: str, within_words: int = 3) -> bool:
        """A phrase among the first words ("yeah worse", "no not really"): a bare answer."""
        at = self.first_word(" ".join(norm.split()[: within_words + 4]))
        return at is not None and at < within_words


_UNITS = {
    "zero": 0, "oh": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14,
    "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19,
}  # fmt: skip
_TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90}
_NUMBER_WORDS = set(_UNITS) | set(_TENS) | {"hundred", "point", "and", "a"}


def words_to_number(words: list[str]) -> float | None:
    """ "thirty eight point five" -> 38.5, "a hundred and one point two" -> 101.2, "one oh one" -> 101."""
    if "point" in words:
        at = words.index("point")
        whole, digits = words_to_number(words[:at]), [_UNITS.get(w) for w in words[at + 1 :]]
        if whole is None or not digits or any(d is None or d > 9 for d in digits):
            return None
        return whole + float("0." + "".join(str(d) for d in digits))
    values = [w for w in words if w not in ("and", "a")]
    if not values:
        return None
    if len(values) == 3 and all(_UNITS.get(w, 99) <= 9 for w in values):  # "one oh one"
        return float(100 * _UNITS[values[0]] + 10 * _UNITS[values[1]] + _UNITS[values[2]])
    total = 0
    for w in values:
        if w == "hundred":
            total = max(total, 1) * 100
        elif w in _TENS:
            total += _TENS[w]
        elif w in _UNITS:
            total += _UNITS[w]
        else:
            return None
    return float(total)


def numbers(norm: str) -> list[tuple[float, int, int]]:
    """Every number in a normalised message, digits ("38,6") or words, with its span."""
    found = [(float(m.group().replace(",", ".")), m.start(), m.end()) for m in re.finditer(r"\d+(?:[.,]\d+)?", norm)]
    run: list[tuple[str, int, int]] = []
    for m in list(re.finditer(r"[a-z]+", norm)) + [None]:
        if m is not None and m.group() in _NUMBER_WORDS:
            run.append((m.group(), m.start(), m.end()))
            continue
        while run and run[0][0] in ("and", "a", "point"):
            run.pop(0)
        while run and run[-1][0] in ("and", "a", "point"):
            run.pop()
        value = words_to_number([w for w, _, _ in run]) if run else None
        if value is not None:
            found.append((value, run[0][1], run[-1][2]))
        run = []
    return found


_FAHRENHEIT = re.compile(r"^\s*(?:degrees?\s*)?(?:f|fahrenheit|farenheit)(?![a-z])")
_CELSIUS = re.compile(r"^\s*(?:degrees?\s*)?(?:c|celsius|centigrade)(?![a-z])")


_NOT_A_READING = re.compile(
    r"^\s*(?:mins?|minutes?|hrs?|hours?|h|m|secs?|seconds?|days?|weeks?|years?|yrs?|yo|y|mg|ml|kg|g|lbs?|"
    r"pounds?|stone|percent|am|pm|oclock|times|tablets?|pills?|cm|mm|inch(?:es)?|bpm|beats|past|to)(?![a-z])"
)


def temperatures_c(norm: str) -> list[float]:
    """Readings in a normalised answer to "what is your temperature?", in Celsius: a bare
    "38" or "101.2" counts here because we asked. Outside body ranges, or followed by another
    unit ("38 minutes", "40 years old", "100 mg"), a number is ignored."""
    result = []
    for value, _, end in numbers(norm):
        rest = norm[end:]
        if _NOT_A_READING.match(rest):
            continue
        if _FAHRENHEIT.match(rest) or (93 <= value <= 108 and not _CELSIUS.match(rest)):
            if 93 <= value <= 108:
                result.append(round((value - 32) * 5 / 9, 2))
        elif 34 <= value <= 43:
            result.append(round(value, 2))
    return result


_DURATION = re.compile(  # not inside a word: "yeah" is not "a h(our)"
    r"(?<![a-z0-9])(?P<n>\d+(?:[.,]\d+)?|an?|one|two|three|four|five|six|seven|eight|nine|ten|fifteen|twenty|thirty|forty|"
    r"forty five|few|a few|couple|a couple|couple of|a couple of|half an|half a|quarter of an|several)\s*"
    r"(?P<unit>mins?|minutes?|m|hrs?|hours?|h)(?![a-z])"
)
_WORD_AMOUNTS = {"an": 1, "a": 1, "few": 3, "a few": 3, "couple": 2, "a couple": 2, "couple of": 2,
                 "a couple of": 2, "half an": 0.5, "half a": 0.5, "quarter of an": 0.25, "several": 5}  # fmt: skip


def duration_minutes(norm: str) -> float | None:
    """The longest duration said ("20 mins", "half an hour", "ten minutes"), in minutes."""
    found = []
    for m in _DURATION.finditer(norm):
        amount = m.group("n")
        if amount[0].isdigit():
            value = float(amount.replace(",", "."))
        elif amount in _WORD_AMOUNTS:
            value = _WORD_AMOUNTS[amount]
        else:
            value = words_to_number(amount.split()) or 0
        found.append(value * (60 if m.group("unit")[0] == "h" else 1))
    return max(found, default=None)


_AGE = re.compile(r"(?<![\d.])(\d{1,3})\s*(?:years? old|yrs? old|year olds?|yo|y o)(?![a-z])")


def ages(norm: str) -> list[int]:
    """Ages said as "<n> years old" / "<n> yo" (a bare number is a temperature more often)."""
    return [int(m.group(1)) for m in _AGE.finditer(norm)]


# A pain score said twice, the old one first: "from 7 to 3", "it was an 8 now a 4", "9/10 on day
# one, now 5/10", "down to a 2 from a 6". The direction counts: 7 -> 3 eases, 3 -> 7 is worse.
_SCORE = r"(?:10|[0-9](?:\.5)?|zero|one|two|three|four|five|six|seven|eight|nine|ten)"
_OUT_OF = r"(?P<{}>\s*/\s*10|\s+out\s+of\s+(?:10|ten))?"
_ARTICLE = r"(?:(?:at|about|around|like|maybe|roughly|only|just|more like|down to|up to)\s+)*(?P<{}>an?\s+)?"
_NOW = r"(?:now|today|tonight|this morning|this afternoon|this evening|at the moment|atm)"
_THEN = r"(?:yesterday|last night|this morning|before|at first|earlier|on day one|day one|the first day|at the start)"
_NOT_SCORE = r"(?!\s*(?:days?|hours?|hrs?|h|mins?|minutes?|secs?|seconds?|weeks?|wks?|months?|years?|yrs?|am|pm|"
_NOT_SCORE += r"o'?clock|times|tablets?|pills?|doses?|mg|mls?|degrees?|c|f|%|percent|kg|lbs?|cm|mm)\b)"
_GAP = r"[^.?!\n]{0,40}?"
_TO_NEW = r"[^.?!\n\d]{0,25}?\b"


def _score_pattern(old_first: str) -> re.Pattern[str]:
    text = old_first
    for name in ("old", "new"):
        text = text.replace(f"<{name}_art>", _ARTICLE.format(f"{name}_art")).replace(
            f"<{name}>", f"(?P<{name}>{_SCORE})" + _OUT_OF.format(f"{name}_of") + _NOT_SCORE
        )
    return re.compile(text)


def _old_now_new(opening: str) -> str:
    """<opening> <old score> ... now ... <new score>: "was a 4 at lunch, now more like a 7"."""
    return opening + r"<old_art>\b<old>(?![\d.])" + _GAP + r"\b" + _NOW + r"\b" + _TO_NEW + r"<new_art><new>(?![\d.])"


_SCORE_CHANGES = tuple(
    _score_pattern(p)
    for p in (
        r"\bfrom\s+<old_art>\b<old>\s+(?:(?:up|down|right)\s+)?(?:to|into|->|-)\s*<new_art>\b<new>(?![\d.])",
        r"(?<![\d.])<old>\s*(?:->|=>|\u2192)\s*<new>(?![\d.])",
        r"\bto\s+<new_art>\b<new>\s+(?:[a-z]+\s+){0,3}?from\s+<old_art>\b<old>(?![\d.])",
        _old_now_new(r"\b(?:was|were|been|started|started at|started as)\s+"),
        _old_now_new(r"\b" + _THEN + r"\s+(?:(?:it|pain)\s+)?(?:was\s+|were\s+)?"),
        r"\b(?:was|were|been)\s+<old_art>\b<old>(?![\d.])" + _GAP + r"(?<![\d.])\b<new_art><new>\s+" + _NOW + r"\b",
        # "3 yesterday, 7 today"; "about a 5 now, was a 2 this morning" (the new one first)
        r"(?<![\d.])\b<old_art><old>\s+" + _THEN + r"\b" + _GAP + r"(?<![\d.])\b<new_art><new>\s+" + _NOW + r"\b",
        r"(?<![\d.])\b<new_art><new>\s+" + _NOW + r"\b" + _GAP + r"\b(?:was|were)\s+<old_art>\b<old>(?![\d.])",
        r"(?<![\d.])<old>\s*(?:/\s*10|out of (?:10|ten))\b"
        + _GAP
        + r"(?<![\d.])\b<new>\s*(?:/\s*10|out of (?:10|ten))\b",
    )
)


def _score_value(word: str) -> float:
    return float(word) if word[0].isdigit() else float(_UNITS.get(word, 10 if word == "ten" else 0))


class ScoreChange(NamedTuple):
    """A pain score said as a change, at text[start:end]. `scored`: said like a score ("a 4",
    "4/10", "4 out of 10"), not a bare number that could be anything."""

    start: int
    end: int
    old: float
    new: float
    scored: bool


def score_changes(text: str) -> list[ScoreChange]:
    """Pain scores said as a change, in `text` (not normalised: offsets are the text's), in
    order. Overlapping changes: the first pattern wins."""
    low = text.lower().replace("\u2019", "'")
    found: list[ScoreChange] = []
    for pattern in _SCORE_CHANGES:
        for m in pattern.finditer(low):
            if any(c.start < m.end() and m.start() < c.end for c in found):
                continue
            old, new = _score_value(m.group("old")), _score_value(m.group("new"))
            if old > 10 or new > 10:
                continue
            scored = any(m.groupdict().get(g) for g in ("old_of", "new_of", "old_art", "new_art"))
            found.append(ScoreChange(m.start(), m.end(), old, new, scored or "/10" in m.group(0)))
    return sorted(found)
