"""Conversation triage: state and assessment survive their JSON trip; findings, risk factors,
answers and corrections carry across turns (conversation_cases.yml); the protocol loader fails
loudly on a bad edit."""

import json
from pathlib import Path

import pytest
import yaml

from aftercare_tools.evaluation.conversations import load_conversations
from aftercare_tools.evaluation.dataset import load_eval_set, normalise_text
from bot.triage import get_detector
from bot.triage.conversation import Assessment, ConversationState, Disposition, assess
from bot.triage.phrases import duration_minutes, normalise, temperatures_c
from bot.triage.protocol import PROTOCOL_FILE, ProtocolError, load_protocol, parse_protocol
from bot.triage.vocabulary import Tier

CASES = yaml.safe_load(Path(__file__).with_name("conversation_cases.yml").read_text(encoding="utf-8"))


def _assess(state, text, **kwargs):
    return assess(state, get_detector().detect(text), text, **kwargs)


def _play(texts, **kwargs):
    state, assessments = ConversationState.empty(), []
    for text in texts:
        state, assessment = _assess(state, text, **kwargs)
        assessments.append(assessment)
    return state, assessments


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_each_turn_gets_the_disposition_and_question_of_the_whole_conversation(case):
    state = ConversationState.empty()
    for number, turn in enumerate(case["turns"], start=1):
        state, assessment = _assess(state, turn["text"])
        seen = (None if assessment.disposition is None else assessment.disposition.value, assessment.question)
        assert seen == (turn["disposition"], turn["question"]), f"turn {number}"
        if state.emergency_told:
            assert assessment.question is None, f"turn {number}: a question after an emergency reply"


def test_no_case_turn_is_an_evaluation_message():
    """Rule 5: the evaluation sets measure generalisation only while no test borrows from them."""
    held_out = {normalise_text(t.text) for c in load_conversations() for t in c.turns}
    held_out |= {normalise_text(case.text) for case in load_eval_set()}
    borrowed = [t["text"] for c in CASES for t in c["turns"] if normalise_text(t["text"]) in held_out]
    assert not borrowed


def test_state_and_assessment_round_trip_through_json():
    state, (assessment,) = _play(["I have a fever of 38.6 and the site is red"])
    assert ConversationState.from_dict(json.loads(json.dumps(state.to_dict()))) == state
    assert Assessment.from_dict(json.loads(json.dumps(assessment.to_dict()))) == assessment
    assert assessment.disposition is Disposition.CALL_NOW and assessment.tier is Tier.CALL_PROVIDER
    assert {f.sign for f in assessment.findings} >= {"fever", "redness"}
    fever = next(f for f in assessment.findings if f.sign == "fever")
    assert fever.to_dict()["temperature_f"] == 101.5 and fever.site == "systemic"


def test_no_question_follows_an_emergency():
    state, (assessment,) = _play(["I can't breathe and I feel hot"])
    assert assessment.disposition is Disposition.EMERGENCY and assessment.question is None
    assert state.emergency_told


def test_after_an_emergency_reply_a_feverish_message_gets_no_question():
    state, assessments = _play(["my chest is crushing, like an elephant sat on it", "also i feel a bit hot"])
    assert assessments[0].disposition is Disposition.EMERGENCY
    assert assessments[1].question is None and state.pending_question is None


def test_a_risk_factor_is_kept_and_raises_a_later_fever_whatever_the_words():
    state, assessments = _play(["she had her first round of chemotherapy on monday", "shes got the shakes now"])
    assert assessments[0].disposition is None and state.risk_factors == ["chemotherapy"]
    assert assessments[1].disposition is Disposition.EMERGENCY
    assert "NICE-CG151" in assessments[1].sources


def test_a_risk_factor_said_after_a_fever_raises_it_then():
    _, assessments = _play(["temp of 38.4 this evening", "forgot to say im on xarelto and had a transplant last year"])
    assert assessments[0].disposition is Disposition.CALL_NOW
    assert assessments[1].disposition is Disposition.EMERGENCY


def test_the_clinic_fever_threshold_decides_a_reading():
    _, (default,) = _play(["my temperature is 37.7"])
    _, (strict,) = _play(["my temperature is 37.7"], fever_threshold_c=37.5)
    assert default.tier is Tier.NONE and strict.disposition is Disposition.CALL_NOW


def test_chills_stand_whatever_the_thermometer_says():
    _, assessments = _play(["having rigors, teeth chattering", "thermometer says 37.3"])
    assert assessments[0].question == "temperature" and assessments[0].disposition is Disposition.CALL_NOW
    assert assessments[1].disposition is Disposition.CALL_NOW


def test_an_acknowledgement_keeps_the_state_and_asks_nothing():
    state, assessments = _play(["blood seeping out of the biopsy site", "ok will phone them"])
    assert assessments[1].disposition is None and assessments[1].question is None
    assert state.findings["bleeding"]["active"] and assessments[1].acknowledges


@pytest.mark.parametrize(
    "later, acknowledges",
    [("we've dialled 999, they're sending someone", True), ("cheers, ringing now", True),
     ("ok but hes gone really pale", False), ("ok should i lie him down?", False)],
)  # fmt: skip
def test_doing_what_an_escalation_said_is_an_acknowledgement_not_a_report(later, acknowledges):
    """After a call or emergency reply, "we've dialled 999" says nothing new: the triage action
    answers it without a second escalation; a word of being unwell or a question is not one."""
    _, (first, second) = _play(["she blacked out in the kitchen", later])
    assert first.disposition is Disposition.EMERGENCY and second.acknowledges is acknowledges
    _, (before,) = _play([later])
    assert not before.acknowledges  # nothing escalated yet: nothing to acknowledge


@pytest.mark.parametrize(
    "follow_up, elsewhere",
    [("its getting worse tbh", True), ("and now its swollen as well", True), ("the biopsy site is worse too", False),
     ("now im bleeding from the hip", False), ("and I can't breathe properly", False)],
)  # fmt: skip
def test_going_on_about_a_complaint_elsewhere_is_not_a_biopsy_sign(follow_up, elsewhere):
    """After "my wrist aches", "it's getting worse" is about the wrist: not escalated (the action
    says who to ask). Naming the site, bleeding or an emergency sign is never carried off."""
    detector = get_detector()
    state, _ = _assess(ConversationState.empty(), "my wrist aches from typing")
    assert state.elsewhere_topic
    _, assessment = _assess(state, follow_up)
    assert assessment.elsewhere is elsewhere
    assert (assessment.disposition is None) is elsewhere
    if not elsewhere:
        assert assessment.disposition is not None or detector.detect(follow_up).tier is Tier.EMERGENCY


@pytest.mark.parametrize(
    "answer, celsius",
    [("38,6", 38.6), ("101.2", 38.44), ("thirty eight point five", 38.5), ("its 39 degrees c", 39.0), ("99", 37.22)],
)
def test_bare_temperature_answers_are_read(answer, celsius):
    assert temperatures_c(normalise(answer)) == [celsius]


@pytest.mark.parametrize(
    "answer, minutes", [("20 mins", 20), ("half an hour", 30), ("ten minutes or so", 10), ("about 2hrs", 120)]
)
def test_durations_are_read(answer, minutes):
    assert duration_minutes(normalise(answer)) == minutes


def _raw_protocol():
    return yaml.safe_load(PROTOCOL_FILE.read_text(encoding="utf-8"))


SOURCES = {"MEDLINEPLUS", "WEBMD", "NICE-CG151", "FIRSTAID", "CHILDRENSMN", "ALBERTA", "NHLBI", "MAYO", "ENHERTS"}


@pytest.mark.parametrize(
    "edit, message",
    [
        (lambda raw: raw["dispositions"][0].update(disposition="panic"), "disposition must be one of"),
        (lambda raw: raw["dispositions"][0].update(source=["MADE-UP"]), "source must list ids"),
        (lambda raw: raw["dispositions"][0]["when"].update(colour="red"), "unknown 'when' key"),
        (lambda raw: raw["dispositions"][0].update(question="size"), "cannot ask a question"),
        (lambda raw: raw["dispositions"][1]["when"].update(risk_any=["gardening"]), "risk_any cannot be"),
        (lambda raw: raw["answers"].update({"no": [False]}), "answers.no"),
        (lambda raw: raw.update(pressure_minutes=600), "pressure_minutes"),
    ],
)
def test_a_bad_protocol_edit_fails_with_where_it_is(edit, message):
    raw = _raw_protocol()
    edit(raw)
    with pytest.raises(ProtocolError, match=message):
        parse_protocol(raw, SOURCES)


def test_the_shipped_protocol_loads_and_every_row_can_decide():
    protocol = load_protocol()
    assert protocol.rows[0].disposition == "emergency"
    assert {row.disposition for row in protocol.rows} >= {"emergency", "call_now", "call_within_24h", "self_care"}


def test_a_fahrenheit_threshold_is_refused_not_used():
    with pytest.raises(ValueError, match="outside"):
        _play(["temp 38.9"], fever_threshold_c=100.4)


def test_risk_factors_said_loosely_or_denied():
    state, _ = _play(["his white count has dropped right down", "her platelets aren't low though"])
    assert state.risk_factors == ["low_counts"]


@pytest.mark.parametrize("answer", ["about 38 minutes ago", "shes 40 years old", "took 100 mg", "pulse is 99 bpm"])
def test_numbers_with_another_unit_are_not_readings(answer):
    assert temperatures_c(normalise(answer)) == []


def test_a_grown_bruise_stays_grown_without_a_correction():
    state, _ = _play(["theres a dark bruise by the dressing", "yep its spread since lunch", "its only small really"])
    assert state.findings["bruise"]["size"] == "growing"


@pytest.mark.parametrize(
    ("text", "alone"),
    [
        ("grandad is on edoxaban for his heart", True),
        ("her counts were low at the last check", True),
        ("on chemo and feeling rubbish today", False),  # a word of feeling ill: not alone
        ("he takes warfarin and the dressing is soaked", False),  # a sign: the sign decides
        ("low platelets, and a temp of 38.2", False),
    ],
)
def test_a_risk_factor_alone_is_told_apart_from_one_said_with_a_complaint(text, alone):
    _, assessment = _assess(ConversationState.empty(), text)
    assert assessment.risk_factors and assessment.risk_factor_only is alone
    if alone:
        assert assessment.disposition is None


@pytest.mark.parametrize(
    "text, reassures",
    [("theres been no bleeding at all", True), ("no fever and no swelling here", True),
     ("no redness but i feel rotten", False), ("not swollen, something's not right though", False),
     ("no fever but she's on chemo", False), ("is it bad that it's not red?", False), ("nope, it is bleeding", False)],
)  # fmt: skip
def test_only_denying_signs_is_a_reassurance(text, reassures):
    """Every sign the detector found is denied and nothing else is wrong: the triage action
    answers with when to call even if the model took the sign word for a report."""
    _, (assessment,) = _play([text])
    assert assessment.reassures is reassures


@pytest.mark.parametrize(
    "first, correction",
    [("thermometer says 38.7", "oops that was after my tea, its 36.8"),
     ("the hip pain has got worse", "sorry typo, i meant its better"),
     ("the edge of the site looks red", "actually no, its just where the tape was")],
)  # fmt: skip
def test_a_correction_that_takes_a_report_back_retracts_it(first, correction):
    """The model may read the sign words of a correction as a report; the triage action answers
    it with when to call instead (the escalation opened before stays the nurse's)."""
    _, (reported, corrected) = _play([first, correction])
    assert reported.disposition is Disposition.CALL_NOW
    assert corrected.disposition is None and corrected.retracts
