"""Conversation triage: state and assessment survive their JSON trip; the baseline judges the message."""

import json

from bot.triage import get_detector
from bot.triage.conversation import Assessment, ConversationState, Disposition, assess
from bot.triage.vocabulary import Tier


def _assess(state, text):
    return assess(state, get_detector().detect(text), text)


def test_state_and_assessment_round_trip_through_json():
    state, assessment = _assess(ConversationState.empty(), "I have a fever of 38.6 and the site is red")
    assert ConversationState.from_dict(json.loads(json.dumps(state.to_dict()))) == state
    assert Assessment.from_dict(json.loads(json.dumps(assessment.to_dict()))) == assessment
    assert assessment.disposition is Disposition.CALL_NOW and assessment.tier is Tier.CALL_PROVIDER
    assert {f.sign for f in assessment.findings} >= {"fever", "redness"}


def test_no_question_follows_an_emergency():
    state, assessment = _assess(ConversationState.empty(), "I can't breathe and I feel hot")
    assert assessment.disposition is Disposition.EMERGENCY and assessment.question is None
    assert state.emergency_told
