"""The replies a conversation's triage chooses: one per disposition, one per clarifying
question (with its buttons), and the sentence saying which reading was understood.

Keyed by the plain strings of bot.triage.conversation (disposition and question values), so
content imports nothing from triage; the wording lives in answers.yml.
"""

from __future__ import annotations

import re
from typing import Any

from bot.content.answers import Answer, Content
from bot.content.clinic import ClinicSettings

# Disposition value -> reply name in answers.yml.
DISPOSITION_REPLIES = {
    "emergency": "emergency",
    "call_now": "call_provider",
    "call_within_24h": "call_within_24h",
    "self_care": "self_care",
}


def disposition_reply(content: Content, clinic: ClinicSettings, disposition: str, signs: str) -> Answer:
    """The reply for `disposition`; the self-care one ends with when to call (safety net)."""
    answer = content.reply(DISPOSITION_REPLIES[disposition], clinic, signs=signs)
    if disposition == "self_care":
        sources = answer.sources + tuple(s for s in content.safety_net_sources if s not in answer.sources)
        return Answer(f"{answer.text} {content.safety_net_line(clinic)}", sources)
    return answer


# The answers offered as buttons: words the triage reads like typed answers (the question's
# wording is in answers.yml; a question without an entry here is answered in free text).
QUESTION_BUTTONS = {
    "trend": ("Worse", "About the same", "Better"),
    "size": ("Bigger or spreading", "About the same", "Smaller"),
}


# Questions whose own wording already says when to call while the answer is awaited.
SAYS_WHEN_TO_CALL = frozenset({"temperature", "duration"})


def question_reply(
    content: Content, clinic: ClinicSettings, question: str, first: bool = False
) -> tuple[Answer, list[dict[str, Any]]]:
    """The clarifying question `question` (temperature, duration, trend, size) and its buttons:
    each button sends its own words, which the triage reads like a typed answer. `first`: the
    question is the whole reply (no call reply before it), so it ends with when to call."""
    buttons = [{"title": t, "payload": t} for t in QUESTION_BUTTONS.get(question, ())]
    ask = content.reply(f"ask_{question}", clinic)
    if first and question not in SAYS_WHEN_TO_CALL:
        ask = joined(ask, Answer(content.safety_net_line(clinic), content.safety_net_sources))
    return ask, buttons


# A reading in Fahrenheit: a number from 93 to 110, or the unit written out.
_FAHRENHEIT = re.compile(r"(?<![\d.])(?:9[3-9]|10\d|110)(?:\.\d+)?(?![\d.])(?!\s*°?\s*c\b)|°\s*f\b|fahrenheit", re.I)


def wrote_fahrenheit(text: str) -> bool:
    """Whether the patient gave their temperature in Fahrenheit (then replies put F first)."""
    return bool(_FAHRENHEIT.search(text))


def both_units(temperature_c: float, fahrenheit_first: bool = False) -> str:
    """38.6 -> "38.6 °C (101.5 °F)"; the patient's own unit first."""
    celsius = f"{temperature_c:.1f} °C"
    fahrenheit = f"{temperature_c * 9 / 5 + 32:.1f} °F"
    return f"{fahrenheit} ({celsius})" if fahrenheit_first else f"{celsius} ({fahrenheit})"


def temperature_understood(
    content: Content, clinic: ClinicSettings, temperature_c: float, fahrenheit_first: bool
) -> Answer | None:
    """The sentence "38.6 °C (101.5 °F) is above the clinic's 38.0 °C (100.4 °F) fever line", or None when
    the reading is below the line (a risk factor can make it urgent all the same)."""
    if temperature_c < clinic.fever_threshold_c:
        return None
    return content.reply(
        "temperature_understood",
        clinic,
        temperature=both_units(temperature_c, fahrenheit_first),
        fever_line=both_units(clinic.fever_threshold_c, fahrenheit_first),
    )


def joined(*answers: Answer | None) -> Answer:
    """Several answers as one message (sources merged, in order)."""
    present = [a for a in answers if a is not None]
    sources = tuple(dict.fromkeys(s for a in present for s in a.sources))
    return Answer(" ".join(a.text for a in present), sources)


def triage_reply(
    content: Content,
    clinic: ClinicSettings,
    disposition: str,
    signs: str,
    temperature_c: float | None,
    fahrenheit_first: bool,
) -> Answer:
    """The disposition's reply with what was understood of a reading at or above the fever
    line: said first, except after an emergency reply, which is never delayed."""
    reply = disposition_reply(content, clinic, disposition, signs)
    if temperature_c is None or disposition == "self_care":
        return reply
    understood = temperature_understood(content, clinic, temperature_c, fahrenheit_first)
    return joined(reply, understood) if disposition == "emergency" else joined(understood, reply)
