"""Custom actions with real rasa-sdk Tracker and CollectingDispatcher objects."""

import pytest
from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.doing_well import ActionDoingWell
from actions.handoff import ActionOutOfScope, ActionRequestHuman
from actions.topics import ActionAnswerTopic
from actions.triage import ActionTriageWarningSign
from bot.content import get_clinic


def tracker_for(text: str, intent: str, entities=None) -> Tracker:
    latest = {"text": text, "intent": {"name": intent, "confidence": 0.99}, "entities": entities or []}
    return Tracker("test-sender", {}, latest, [], False, None, {}, "action_listen")


def run(action, text, intent):
    dispatcher = CollectingDispatcher()
    events = action.run(dispatcher, tracker_for(text, intent), {})
    return dispatcher.messages, events


def test_topic_answer_carries_sources_and_safety_net():
    messages, events = run(ActionAnswerTopic(), "is it normal to be sore", "ask_soreness")
    [message] = messages
    assert message["custom"]["topic"] == "soreness"
    assert message["custom"]["sources"]
    assert get_clinic().phone_now() in message["text"]  # the "call your care team" line
    assert SlotSet("last_topic", "soreness") in events


@pytest.mark.parametrize(
    ("text", "tier", "signs"),
    [
        ("the site is red and swollen", "call_provider", ["redness", "swelling"]),
        ("my husband passed out and the bleeding won't stop", "emergency", ["fainting", "uncontrolled_bleeding"]),
    ],
)
def test_triage_chooses_the_tier_and_sets_slots(text, tier, signs):
    messages, events = run(ActionTriageWarningSign(), text, "report_warning_sign")
    custom = messages[0]["custom"]
    assert custom["tier"] == tier
    assert set(signs) <= set(custom["signs"])
    assert SlotSet("triage_tier", tier) in events


def test_emergency_reply_gives_the_emergency_number():
    messages, _ = run(ActionTriageWarningSign(), "I have chest pain", "report_warning_sign")
    assert get_clinic().emergency_number in messages[0]["text"]


def test_model_only_report_is_still_call_provider():
    messages, _ = run(ActionTriageWarningSign(), "something feels really wrong with the site", "report_warning_sign")
    assert messages[0]["custom"]["tier"] == "call_provider"
    assert messages[0]["custom"]["detected_by"] == "model"


def test_feeling_hot_without_a_number_asks_for_a_temperature():
    messages, events = run(ActionTriageWarningSign(), "I feel feverish and shivery", "report_warning_sign")
    assert messages[0]["custom"]["tier"] == "call_provider"
    assert messages[-1]["custom"]["kind"] == "follow_up"
    assert SlotSet("temperature_requested", True) in events


def test_no_question_follows_an_emergency_reply():
    messages, events = run(ActionTriageWarningSign(), "I'm shivering and I can't breathe", "report_warning_sign")
    assert [m["custom"]["tier"] for m in messages] == ["emergency"]
    assert SlotSet("temperature_requested", True) not in events


def test_temperature_below_threshold_is_not_escalated():
    messages, events = run(ActionTriageWarningSign(), "it's 37.1", "inform_temperature")
    assert messages[0]["custom"]["tier"] == "none"
    assert "37.1" in messages[0]["text"]
    assert SlotSet("temperature_requested", False) in events


def test_temperature_after_fever_medicine_is_never_called_below_the_threshold():
    """Judged as a conversation of its own (as through the API): a normal reading after fever
    medicine proves nothing, so the protocol's masked_normal_reading row says call now."""
    messages, _ = run(ActionTriageWarningSign(), "took tylenol an hour ago, it's 37.1", "inform_temperature")
    assert messages[0]["custom"]["tier"] == "call_provider"
    assert "below" not in messages[0]["text"] and "under the fever level" not in messages[0]["text"]


def test_without_an_assessment_the_action_judges_the_message_as_its_own_conversation():
    """`rasa shell` and the single-message evaluation send no assessment: feeling warm with no
    number still asks first, and a soaked dressing is call now with the duration question."""
    asked, _ = run(ActionTriageWarningSign(), "gone all sweaty and flushed tonight", "report_warning_sign")
    assert [(m["custom"]["kind"], m["custom"]["tier"]) for m in asked] == [("follow_up", "none")]
    soaked, _ = run(ActionTriageWarningSign(), "the gauze is soaked with blood", "report_warning_sign")
    assert [m["custom"]["tier"] for m in soaked] == ["call_provider", "call_provider"]
    assert soaked[-1]["custom"]["question"] == "duration"


def test_a_complaint_away_from_the_biopsy_is_not_escalated():
    messages, events = run(ActionTriageWarningSign(), "my ear hurts a lot", "report_warning_sign")
    [message] = messages
    assert message["custom"]["tier"] == "none" and message["custom"]["kind"] == "out_of_scope"
    assert "family doctor" in message["text"] and get_clinic().phone_now() in message["text"]
    assert events == []


def test_doing_well_is_acknowledged_with_when_to_call():
    messages, events = run(ActionDoingWell(), "all good, no swelling", "inform_doing_well")
    [message] = messages
    assert message["custom"]["tier"] == "none"
    assert get_clinic().phone_now() in message["text"] and get_clinic().emergency_number in message["text"]
    assert events == []


def test_out_of_scope_offers_the_clinic_number():
    messages, _ = run(ActionOutOfScope(), "what's the weather", "out_of_scope")
    assert get_clinic().phone_now() in messages[0]["text"]


def test_request_human_is_a_handoff():
    messages, _ = run(ActionRequestHuman(), "can a nurse call me", "request_human")
    assert messages[0]["custom"]["kind"] == "handoff"


def test_triage_uses_the_detection_that_came_with_the_message():
    """The NLU component puts the detection in the parse data; the action does not detect again
    (here the carried detection is for another text, to show which one the action used)."""
    from bot.triage import get_detector
    from bot.triage.model import DETECTION_KEY

    latest = {
        "text": "like I said before",
        "intent": {"name": "report_warning_sign", "confidence": 1.0},
        "entities": [],
        DETECTION_KEY: get_detector().detect("I have chest pain").to_dict(),
    }
    dispatcher = CollectingDispatcher()
    ActionTriageWarningSign().run(dispatcher, Tracker("s", {}, latest, [], False, None, {}, "action_listen"), {})
    assert dispatcher.messages[0]["custom"]["tier"] == "emergency"
    assert dispatcher.messages[0]["custom"]["signs"] == ["chest_pain"]


def _with_assessment(text: str, intent: str, **assessment):
    """Runs the triage action on `text` with the conversation's assessment in the metadata, as
    the API sends it."""
    from bot.triage.conversation import ASSESSMENT_KEY, Assessment, Disposition, ReportedFinding

    findings = tuple(ReportedFinding(**f) for f in assessment.pop("findings", ()))
    disposition = assessment.pop("disposition")
    disposition = None if disposition is None else Disposition(disposition)
    data = Assessment(disposition, findings, **assessment).to_dict()
    metadata = {ASSESSMENT_KEY: data}
    latest = {"text": text, "intent": {"name": intent, "confidence": 1.0}, "entities": [], "metadata": metadata}
    dispatcher = CollectingDispatcher()
    events = ActionTriageWarningSign().run(
        dispatcher, Tracker("s", {}, latest, [], False, None, {}, "action_listen"), {}
    )
    return dispatcher.messages, events


def test_the_conversations_disposition_decides_and_its_question_comes_with_buttons():
    """'worse' alone is nothing to the detector; the conversation's assessment (pain said
    before) makes it a call-now report, and the trend question's answers are buttons."""
    messages, events = _with_assessment(
        "it hurts", "report_warning_sign", disposition="call_now", question="trend", findings=[{"sign": "pain"}]
    )
    reply, question = messages
    assert reply["custom"]["tier"] == "call_provider" and reply["custom"]["disposition"] == "call_now"
    assert get_clinic().phone_now() in reply["text"]
    assert question["custom"]["kind"] == "follow_up" and question["custom"]["question"] == "trend"
    assert [b["title"] for b in question["buttons"]] == ["Worse", "About the same", "Better"]
    assert SlotSet("pending_question", "trend") in events and SlotSet("triage_disposition", "call_now") in events


def test_no_question_after_an_emergency_disposition_even_if_one_was_planned():
    messages, events = _with_assessment(
        "I can't breathe", "report_warning_sign", disposition="emergency", question="trend"
    )
    assert [m["custom"]["tier"] for m in messages] == ["emergency"]
    assert SlotSet("pending_question", None) in events


def test_call_within_24_hours_says_so_and_escalates():
    messages, _ = _with_assessment(
        "the bruise is a bit bigger",
        "report_warning_sign",
        disposition="call_within_24h",
        findings=[{"sign": "bruise"}],
    )
    [reply] = messages
    assert reply["custom"]["tier"] == "call_provider" and "within the next 24 hours" in reply["text"]


def test_self_care_ends_with_when_to_call():
    messages, events = _with_assessment("better than yesterday", "nlu_fallback", disposition="self_care")
    [reply] = messages
    assert reply["custom"]["tier"] == "none"
    assert reply["text"].endswith("or if you are worried.") and get_clinic().phone_now() in reply["text"]
    assert SlotSet("triage_disposition", "self_care") in events


@pytest.mark.parametrize(
    ("text", "understood"),
    [
        ("it's 38.6", "38.6 °C (101.5 °F) is above the clinic's 38.0 °C (100.4 °F) fever line."),
        ("it's 101.5", "101.5 °F (38.6 °C) is above the clinic's 100.4 °F (38.0 °C) fever line."),
    ],
)
def test_the_reading_is_said_back_in_the_patients_units(text, understood):
    messages, _ = _with_assessment(
        text, "inform_temperature", disposition="call_now", findings=[{"sign": "fever", "temperature_c": 38.6}]
    )
    assert messages[0]["text"].startswith(understood)


@pytest.mark.parametrize(("alone", "tier"), [(True, "none"), (False, "call_provider")])
def test_a_risk_factor_alone_the_model_took_for_a_report_is_noted_not_escalated(alone, tier):
    """Said alone ("my wife is having chemo") the risk factor is noted with when to call; said
    with more the model saw as a report, the bias to escalate stands."""
    messages, _ = _with_assessment(
        "my wife is having chemo at the moment",
        "report_warning_sign",
        disposition=None,
        risk_factors=("chemotherapy",),
        risk_factor_only=alone,
    )
    assert messages[0]["custom"]["tier"] == tier
    if alone:
        assert messages[0]["custom"]["kind"] == "answer" and "straight away" in messages[0]["text"]


@pytest.mark.parametrize(
    ("question", "says"), [("temperature", "chills or shivers"), ("trend", "if the pain gets worse")]
)
def test_asking_first_is_the_question_with_when_to_call_and_no_escalation(question, says):
    """Warm with no number, or an ache with no trend: the answer decides, so the reply is the
    question alone, saying when to call meanwhile; nothing is escalated yet."""
    messages, events = _with_assessment(
        "come over all hot and clammy since tea", "report_warning_sign", disposition=None, question=question
    )
    [ask] = messages
    assert ask["custom"]["kind"] == "follow_up" and ask["custom"]["tier"] == "none"
    assert ask["custom"]["question"] == question
    assert says in ask["text"] and get_clinic().phone_now() in ask["text"]
    assert SlotSet("pending_question", question) in events
    assert not any(e.get("name") == "triage_tier" for e in events)


def test_an_acknowledgement_after_an_escalation_is_answered_without_a_second_one():
    messages, events = _with_assessment(
        "we've called an ambulance", "report_warning_sign", disposition=None, acknowledges=True
    )
    [reply] = messages
    assert reply["custom"]["tier"] == "none" and reply["custom"]["kind"] == "answer"
    assert get_clinic().emergency_number in reply["text"] and SlotSet("pending_question", None) in events


def test_going_on_about_a_complaint_elsewhere_says_who_to_ask_and_escalates_nothing():
    """The detector alone reads "it's getting worse" as the site's pain; the conversation knows
    the last message was about a wrist."""
    messages, events = _with_assessment("it's getting worse", "report_warning_sign", disposition=None, elsewhere=True)
    [reply] = messages
    assert reply["custom"]["tier"] == "none" and reply["custom"]["kind"] == "out_of_scope"
    assert events == []


def test_a_reassurance_the_model_took_for_a_report_is_answered_with_when_to_call():
    messages, events = _with_assessment("never any swelling", "report_warning_sign", disposition=None, reassures=True)
    [reply] = messages
    assert reply["custom"]["tier"] == "none" and reply["custom"]["kind"] == "answer"
    assert get_clinic().phone_now() in reply["text"] and events == []
