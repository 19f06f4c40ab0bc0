"""Finds body temperatures in free text: "38.5", "38,5 °C", "101 F", "102F", "temp of 100.9".

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
        self.pattern = re.compile(_NUMBER % (_alternatives(degrees), _alternatives(units)), re.IGNORECASE | re.VERBOSE)

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
        found = []
        for m in self.pattern.finditer(text):
            following = _NEXT_WORD.match(text, m.end())
            if following and following.group(1).lower() in self.rules.not_units:  # "500 mg"
                continue
            celsius = self.to_celsius(float(m.group("num").replace(",", ".")), m.group("unit"))
            if celsius is None:
                continue
            explicit = bool(m.group("deg") or m.group("unit") or not m.group("num").isdigit())
            found.append(Temperature(celsius, m.start(), m.end(), needs_keyword=not explicit))
        return found


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
