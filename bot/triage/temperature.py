"""Finds body temperatures in free text: "38.5", "38,5 °C", "101 F", "102F", "temp of 100.9",
and in words: "thirty eight point five", "a hundred and one", "38 point 5", "thirty nine and a half".

A regular expression over the message, because patients glue numbers and units together
("temp=38.4c") in ways a tokenizer splits unpredictably. Unit words, ranges and the words that
make a bare whole number a temperature all come from warning_signs.yml.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from bot.triage.rules import Rules, load_rules

_NUMBER = r"""(?<![\w.,/])(?<!\d:)             # not part of a date, time, fraction or longer number
    (?P<num>\d{2,3}(?:[.,]\d{1,2})?)        # 38 | 38.5 | 38,5 | 101.2
    (?![\d/]|[.,]\d|:\d)
    (?:\s*(?P<deg>%s)\.?)?                  # °, degrees
    (?:\s*(?P<unit>%s)(?![a-z]))?           # C, F, celsius, ...
"""
_UNITS = "one two three four five six seven eight nine".split()
_TEENS = "ten eleven twelve thirteen fourteen fifteen sixteen seventeen eighteen nineteen".split()
_TENS = "twenty thirty forty fifty sixty seventy eighty ninety".split()
_VALUES = {
    **{w: i + 1 for i, w in enumerate(_UNITS)},
    **{w: i + 10 for i, w in enumerate(_TEENS)},
    **{w: (i + 2) * 10 for i, w in enumerate(_TENS)},
    **{"zero": 0, "oh": 0, "o": 0, "nought": 0},
}
_DIGIT_WORD = "(?:zero|oh|o|nought|" + "|".join(_UNITS) + ")"
_TENS_RE, _UNITS_RE, _TEENS_RE = ("(?:" + "|".join(words) + ")" for words in (_TENS, _UNITS, _TEENS))
_BELOW_100 = rf"(?:{_TENS_RE}(?:[\s-]+{_UNITS_RE})?|{_TEENS_RE}|{_UNITS_RE})"
_FRACTION = rf"(?:\s+(?:point|dot)\s+(?:{_DIGIT_WORD}|\d)(?:\s+{_DIGIT_WORD})?|\s+and\s+a\s+half)"
# Only spellings with a tens word or "hundred" count: "one" or "five" alone are never a reading.
# (The two %s, as in _NUMBER, are the degree words and the units.)
_SPELLED = (
    r"(?<![\w.,])"
    rf"(?P<words>(?:(?:a|one)\s+hundred(?:\s+and)?(?:[\s-]+{_BELOW_100})?|{_TENS_RE}(?:[\s-]+{_UNITS_RE})?)"
    rf"{_FRACTION}?|\d{{2,3}}{_FRACTION})"  # "thirty eight point five" | "38 point 5", "39 and a half"
    r"(?!\w)(?:\s*(?P<deg>%s)\.?)?(?:\s*(?P<unit>%s)(?![a-z]))?"
)
_NEXT_WORD = re.compile(r"\s*([a-z%]+)", re.IGNORECASE)
_SENTENCE_END = re.compile(r"[!?\n;]|\.(?!\d)")
_WORD = re.compile(r"[a-z]+", re.IGNORECASE)


@dataclass(frozen=True)
class Temperature:
    value_c: float
    start: int  # character offsets of the number and its unit
    end: int
    needs_keyword: bool  # a bare whole number: only a temperature next to "temp", "fever", ...


class TemperatureReader:
    def __init__(self, rules: Rules):
        t = rules.temperature
        self.rules = rules
        self.celsius, self.fahrenheit = set(t["celsius_units"]), set(t["fahrenheit_units"])
        units = sorted(self.celsius | self.fahrenheit, key=len, reverse=True)
        degrees = sorted(t["degree_words"], key=len, reverse=True)
        marks = (_alternatives(degrees), _alternatives(units))
        self.pattern = re.compile(_NUMBER % marks, re.IGNORECASE | re.VERBOSE)
        self.spelled = re.compile(_SPELLED % marks, re.IGNORECASE)

    def to_celsius(self, value: float, unit: str | None) -> float | None:
        """Celsius for a reading, guessing the scale from the range when no unit is given."""
        unit = (unit or "").lower()
        (c_low, c_high), (f_low, f_high) = self.rules.celsius_range, self.rules.fahrenheit_range
        if unit not in self.fahrenheit and c_low <= value <= c_high:
            return round(value, 2)
        if unit not in self.celsius and f_low <= value <= f_high:
            return round((value - 32) * 5 / 9, 2)
        return None

    def find(self, text: str) -> list[Temperature]:
        """Every number that reads as a body temperature, not yet checked for a nearby keyword."""
        found: list[Temperature] = []
        spelled: list[tuple[int, int]] = []
        if SPELLING_HINT.search(text):  # "thirty eight point five", "38 point 5"
            for m in self.spelled.finditer(text):
                number = spelled_number(m.group("words"))
                if number is not None:
                    spelled.append(m.span())
                    found += self._reading(text, m, number)
        for m in self.pattern.finditer(text):
            if not any(s <= m.start() < e for s, e in spelled):
                found += self._reading(text, m, m.group("num").replace(",", "."))
        return sorted(found, key=lambda t: t.start)

    def _reading(self, text: str, m: re.Match, number: str) -> list[Temperature]:
        following = _NEXT_WORD.match(text, m.end())
        if following and following.group(1).lower() in self.rules.not_units:  # "500 mg", "38 minutes"
            return []
        celsius = self.to_celsius(float(number), m.group("unit"))
        if celsius is None:
            return []
        explicit = bool(m.group("deg") or m.group("unit") or "." in number)
        return [Temperature(celsius, m.start(), m.end(), needs_keyword=not explicit)]


SPELLING_HINT = re.compile(r"\b(?:hundred|point|dot|half|" + "|".join(_TENS[1:]) + r")\b", re.IGNORECASE)


def spelled_number(words: str) -> str | None:
    """ "thirty eight point five" -> "38.5", "a hundred and one" -> "101", "39 and a half" -> "39.5"."""
    parts = re.split(r"\s+(?:point|dot)\s+", words.lower().strip(), maxsplit=1)
    decimals = parts[1] if len(parts) > 1 else ""
    whole = re.sub(r"\s+and\s+a\s+half$", "", parts[0])
    half = whole != parts[0]
    value = 0
    for word in re.split(r"[\s-]+", whole):
        if word.isdigit():
            value += int(word)
        elif word == "hundred":
            value = max(value, 1) * 100
        elif word in _VALUES:
            value += _VALUES[word]
        elif word not in ("a", "and"):
            return None
    if half:
        return f"{value}.5"
    digits = "".join(d if d.isdigit() else str(_VALUES.get(d, "")) for d in decimals.split())
    return f"{value}.{digits}" if digits else str(value)


def _alternatives(words: list[str]) -> str:
    return "|".join(re.escape(w) + (r"\b" if w[-1].isalpha() else "") for w in words)


@lru_cache(maxsize=8)
def reader_for(rules: Rules) -> TemperatureReader:
    return TemperatureReader(rules)


def parse_temperatures(text: str, rules: Rules | None = None) -> list[Temperature]:
    """Temperatures in `text` (a plain-text version of what the detector does with tokens)."""
    rules = rules or load_rules()
    result = []
    for t in reader_for(rules).find(text):
        if t.needs_keyword:
            starts = [m.end() for m in _SENTENCE_END.finditer(text, 0, t.start)]
            end = _SENTENCE_END.search(text, t.end)
            sentence = text[(starts[-1] if starts else 0) : (end.start() if end else len(text))]
            if not {w.lower() for w in _WORD.findall(sentence)} & rules.temperature_keywords:
                continue
        result.append(t)
    return result
