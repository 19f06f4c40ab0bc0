"""A callback number the patient gives in the chat (issue 12 item 2): reading a phone number
from a message, a Yes or No to "is that right?", and the conversation's step in asking.

Read with a strict parser, not the model: a message counts as a number only when, apart from
the number, it has nothing but filler ("it's", "call me on", "my daughter's number is").
Steps on the conversation row: None -> "asking" (the question went out) -> "confirming" (a
number awaits the patient's Yes) -> None (confirmed: the conversation's contact, source
"chat"; or declined twice: not asked again). The number is patient data: never logged.
"""

from __future__ import annotations

import re

from api.conversations.models import Conversation

ASKING, CONFIRMING = "asking", "confirming"
CHAT = "chat"  # Conversation.contact_phone_source for a number confirmed here
MAX_ASKS = 2  # the question, and once more after a No

# What the Yes / No buttons send (the widget sends a button's payload as the patient's words).
YES_PAYLOAD = "Yes, that's my number"
NO_PAYLOAD = "No, that's not my number"
BUTTONS = [{"title": "Yes", "payload": YES_PAYLOAD}, {"title": "No", "payload": NO_PAYLOAD}]

MIN_DIGITS, MAX_DIGITS = 7, 15  # a local number with its area code .. E.164's maximum

# A run of digits with the separators people type: spaces, dashes, dots, brackets, a leading +.
_NUMBER = re.compile(r"(?<![\w+])(?:\+\s?)?\(?\d[\d ().\-]{4,28}\d(?![\w])")
_TRUNK = re.compile(r"^(\+\d{1,3})\s*\(0\)\s*")  # +44 (0)7700 ...: the (0) is not dialled from abroad
_WORD = re.compile(r"[a-z']+")
_FILLER = frozenset(
    """
    it its it's is was that's thats this here my our the a number numbers num no nos tel telephone
    phone mobile cell cellphone landline home work best on at call calling me ring text reach you can could
    please pls plz thanks thank thx ok okay sure use try just and or of
    wife husband partner daughter son mum mom mother dad father carer caregiver sister brother friend
    """.split()
)
_YES_WORDS = frozenset("yes y yeah yep yup ya yea correct right exactly sure ok okay indeed affirmative".split())
_NO_WORDS = frozenset("no n nope nah wrong incorrect".split())
_YES_PHRASES = frozenset({"that's right", "that is right", "that's correct", "that is correct", "that's it", "spot on"})
# A Yes or No is read only when every word is one of these: "no fever" is not a No.
_ANSWER_WORDS = _YES_WORDS | _NO_WORDS | _FILLER | frozenset("that that's not isn't mine spot".split())
_DATE = re.compile(r"^\d{1,4}[./-]\d{1,2}[./-]\d{1,4}$")


def _digits(number: str) -> str:
    return re.sub(r"\D", "", number)


def _plausible(candidate: str) -> bool:
    digits = _digits(candidate)
    if not MIN_DIGITS <= len(digits) <= MAX_DIGITS:
        return False
    if candidate.count("(") != candidate.count(")") or re.search(r"[.\-]{2}|\.\d{1,2}$", candidate):
        return False  # "38.5"-like decimals, "--": not how a number is written
    if _DATE.match(candidate):
        return False  # 27.11.2026, 2026-11-27
    return True


def find_number(text: str) -> str | None:
    """The first plausible phone number in the text, formatted for display, or None."""
    for match in _NUMBER.finditer(text):
        candidate = match.group(0).strip()
        if _plausible(candidate):
            return format_number(candidate)
    return None


def without_numbers(text: str) -> str:
    """The text with each phone number replaced by the words "my number": what the statistical
    model reads. Digits it has never seen in training tip it towards a report ("ring me back on
    07700 900123" read as a warning sign), and Rasa's tracker need not keep the number."""
    if not any(c.isdigit() for c in text):
        return text
    return _NUMBER.sub(lambda m: "my number" if _plausible(m.group(0).strip()) else m.group(0), text)


def is_essentially_number(text: str) -> bool:
    """True when the message is a phone number and filler only (nothing else was said)."""
    match = next((m for m in _NUMBER.finditer(text) if _plausible(m.group(0).strip())), None)
    if match is None:
        return False
    rest = (text[: match.start()] + " " + text[match.end() :]).lower().replace("\u2019", "'")
    if re.search(r"\d", rest):
        return False  # a second number, a time, a temperature: read as usual
    words = [w.removesuffix("'s") for w in _WORD.findall(rest)]
    return all(w.strip("'") in _FILLER or w in _FILLER for w in words)


def format_number(candidate: str) -> str:
    """The patient's own grouping with single spaces (brackets, dashes and dots dropped; a
    "(0)" after the country code removed); an ungrouped number is grouped by its length.
    National numbers stay national: no country's rules are guessed."""
    text = _TRUNK.sub(r"\1 ", candidate.strip())
    plus = "+" if text.startswith("+") else ""
    groups = [g for g in re.split(r"[^\d]+", text) if g]
    if len(groups) > 1:
        return plus + " ".join(groups)
    digits = groups[0]
    if plus:
        if digits.startswith("1") and len(digits) == 11:
            return f"+1 {digits[1:4]} {digits[4:7]} {digits[7:]}"
        if digits.startswith("44") and len(digits) == 12:
            return f"+44 {digits[2:6]} {digits[6:]}"
        return plus + digits
    if len(digits) == 10:
        return f"{digits[:3]} {digits[3:6]} {digits[6:]}"
    if len(digits) == 11 and digits.startswith("0"):
        return f"{digits[:5]} {digits[5:]}"
    return digits


def _answer_words(text: str) -> list[str]:
    """The message's words if it can be a bare Yes or No, else []."""
    words = _WORD.findall(text.lower().replace("\u2019", "'"))
    if len(words) > 8 or re.search(r"\d", text) or any(w not in _ANSWER_WORDS for w in words):
        return []
    return words


def says_no(text: str) -> bool:
    words = _answer_words(text)
    negated = "not" in words or "isn't" in words
    return bool(words) and (words[0] in _NO_WORDS or "wrong" in words or negated)


def says_yes(text: str) -> bool:
    words = _answer_words(text)
    if not words or says_no(text):
        return False
    return bool(set(words) & _YES_WORDS) or " ".join(words) in _YES_PHRASES


# --- Steps on the conversation row (in the caller's transaction) ---------------------------


def start_asking(conversation: Conversation) -> None:
    conversation.callback_step, conversation.callback_candidate = ASKING, None
    conversation.callback_asks = 1


def propose(conversation: Conversation, number: str) -> None:
    conversation.callback_step, conversation.callback_candidate = CONFIRMING, number


def confirm(conversation: Conversation) -> str:
    """The candidate becomes the conversation's callback number, marked as given in the chat."""
    number = str(conversation.callback_candidate)
    conversation.contact_phone, conversation.contact_phone_source = number, CHAT
    conversation.callback_step, conversation.callback_candidate = None, None
    return number


def decline(conversation: Conversation) -> bool:
    """A No: True if the question is asked once more, False when it is not asked again."""
    conversation.callback_candidate = None
    if (conversation.callback_asks or 0) < MAX_ASKS:
        conversation.callback_step = ASKING
        conversation.callback_asks = (conversation.callback_asks or 0) + 1
        return True
    conversation.callback_step = None
    return False
