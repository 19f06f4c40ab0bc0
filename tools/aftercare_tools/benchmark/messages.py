"""The benchmark's message mix and the deterministic conversation scripts built from it.

Both systems receive exactly the same scripts: the same messages in the same order.
"""

from __future__ import annotations

import random

SEED = 2718

GREETINGS = [
    "hello",
    "hi there, I had my bone marrow biopsy yesterday",
    "good morning",
]
TOPIC_QUESTIONS = [
    # soreness
    "is it normal to be sore after a bone marrow biopsy",
    "how long will my hip ache after the test",
    "I have a bruise where the needle went in, is that normal?",
    # pain medication
    "can I take ibuprofen for the pain",
    "what painkillers are safe after the biopsy",
    # activity
    "when can I go back to the gym",
    "can I drive tomorrow",
    "is it ok to lift my toddler after the procedure",
    # sedation aftercare
    "I was sedated, when can I drink alcohol again",
    "how long after sedation before I can sign documents",
    # wound care
    "when can I take the bandage off",
    "can I have a shower today",
    "is it ok to go swimming with the dressing",
    # results
    "when will I get my results",
    "who tells me the biopsy results",
    # procedure info
    "why did I need a bone marrow aspiration",
    "what is the difference between the aspirate and the biopsy",
    # warning signs info
    "what symptoms should I watch out for",
    "when should I call the clinic",
    "which signs mean I need to go to the emergency department",
]
WARNING_REPORTS = [
    "I have a fever of 38.6",
    "the site is bleeding through the bandage and won't stop",
    "the area is red, hot and swollen",
    "the pain is getting worse every day",
    "there's pus coming out of the wound",
]
OTHER = [
    "are you a robot?",
    "can I talk to a nurse",
]
CLOSINGS = [
    "thank you",
    "thanks, that helps",
    "ok bye",
]
OUT_OF_SCOPE = [
    "what's the weather today",
    "give me a recipe for lasagna",
    "can you help with my taxes",
    "recommend a movie",
    "how do I treat a cold",
]
MIDDLE: list[str] = TOPIC_QUESTIONS + WARNING_REPORTS + OTHER + OUT_OF_SCOPE
MESSAGES: list[str] = GREETINGS + MIDDLE + CLOSINGS


def conversations(count: int, turns: int, seed: int = SEED, salt: str = "") -> list[list[str]]:
    """`count` scripts of `turns` messages: a greeting, seeded picks from the mix, a closing.

    A script never repeats a message. The same (count, turns, seed, salt) always gives the
    same scripts, so every system sees identical traffic.
    """
    rng = random.Random(f"{seed}:{salt}")  # noqa: S311 - reproducible traffic, not secrets
    scripts = []
    for _ in range(count):
        middle = rng.sample(MIDDLE, k=min(max(turns - 2, 0), len(MIDDLE)))
        script = [rng.choice(GREETINGS)] + middle + [rng.choice(CLOSINGS)]
        scripts.append(script[:turns] if turns >= 2 else script[:1])
    return scripts


def long_conversation(turns: int, seed: int = SEED) -> list[str]:
    """One conversation of `turns` messages cycling through seeded shuffles of the whole mix."""
    rng = random.Random(f"{seed}:long")  # noqa: S311 - reproducible traffic, not secrets
    script: list[str] = []
    while len(script) < turns:
        block = MESSAGES[:]
        rng.shuffle(block)
        script.extend(block)
    return script[:turns]
