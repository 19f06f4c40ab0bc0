"""The trained model in-process: every warning sign reported in a sentence gets its tier and reply."""

import pytest

from bot.content import get_clinic
from bot.triage import Tier

SIGN_REPORTS = [
    ("fever", "I've got a temperature of 38.7 tonight", Tier.CALL_PROVIDER),
    ("increasing_pain", "the pain in my hip is getting worse every day", Tier.CALL_PROVIDER),
    ("redness", "the skin around the biopsy spot has gone red", Tier.CALL_PROVIDER),
    ("swelling", "there is a swollen lump where they put the needle in", Tier.CALL_PROVIDER),
    ("bleeding", "the bandage has fresh blood on it", Tier.CALL_PROVIDER),
    ("drainage", "some yellow pus is leaking from the site", Tier.CALL_PROVIDER),
    ("uncontrolled_bleeding", "I've pressed on it for 10 minutes and it won't stop bleeding", Tier.EMERGENCY),
    ("breathing_difficulty", "my dad is struggling to breathe since the procedure", Tier.EMERGENCY),
    ("chest_pain", "I have a tight pain in my chest", Tier.EMERGENCY),
    ("fainting", "she fainted in the kitchen a few minutes ago", Tier.EMERGENCY),
    ("confusion", "my wife is confused and not making sense", Tier.EMERGENCY),
]


@pytest.mark.integration
@pytest.mark.parametrize(("sign", "text", "tier"), SIGN_REPORTS, ids=[s for s, _, _ in SIGN_REPORTS])
def test_each_sign_gets_its_tier_and_reply(ask, sign, text, tier):
    reply = ask(text)
    assert reply.tier is tier
    assert sign in reply.signs
    number = get_clinic().emergency_number if tier is Tier.EMERGENCY else get_clinic().phone_now()
    assert number in reply.messages[0]["text"]


@pytest.mark.integration
@pytest.mark.parametrize(
    ("text", "topic"),
    [
        ("how long will the soreness last?", "soreness"),
        ("can I take tylenol for the ache?", "pain_medication"),
        ("when am I allowed to have a shower", "wound_care"),
        ("how long do results take to come back", "results"),
    ],
)
def test_questions_get_topic_answers(ask, text, topic):
    reply = ask(text)
    assert reply.tier is Tier.NONE
    assert reply.topic == topic


@pytest.mark.integration
@pytest.mark.parametrize("text", ["no fever, just a bit sore", "what if I get a fever?"])
def test_negations_and_questions_are_not_escalated(ask, text):
    assert ask(text).tier is Tier.NONE


@pytest.mark.integration
def test_follow_up_temperature_below_threshold(ask):
    first = ask("I feel hot and shivery", conversation_id="temp-follow-up")
    assert first.tier is Tier.CALL_PROVIDER
    second = ask("I checked, it's 37.4", conversation_id="temp-follow-up")
    assert second.tier is Tier.NONE
