from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import ClinicAction, latest_intent, send
from bot.content import describe_signs
from bot.content.triage_replies import both_units, question_reply, triage_reply, wrote_fahrenheit
from bot.triage import Tier
from bot.triage.conversation import (
    ASSESSMENT_KEY,
    Assessment,
    ConversationState,
    Disposition,
    assess,
    detector_floor,
)
from bot.triage.detector import carried_or_detect
from bot.triage.model import Detection, carried_in

INFORM_TEMPERATURE = "inform_temperature"
log = logging.getLogger("aftercare.actions")


def one_message_assessment(detection: Detection, text: str, fever_threshold_c: float) -> Assessment | None:
    """The message judged as a conversation of its own, when no assessment came along (`rasa
    shell`, the single-message evaluation): the same protocol as through the API, so "I feel
    hot" asks for the number there too. None if the engine fails: the detection decides."""
    try:
        return assess(ConversationState.empty(), detection, text, fever_threshold_c=fever_threshold_c)[1]
    except Exception as error:  # noqa: BLE001 - a bug in the engine must not cost the reply
        log.warning("one-message assessment failed", extra={"error_type": type(error).__name__})
        return None


def carried_assessment(latest: dict[str, Any]) -> Assessment | None:
    """The conversation's assessment the API sent with the message, if any (a hand-built
    tracker or `rasa shell` has none: the action then judges the message alone)."""
    data = (latest.get("metadata") or {}).get(ASSESSMENT_KEY)
    if data is None:
        return None
    try:
        return Assessment.from_dict(data)
    except (KeyError, TypeError, ValueError) as error:  # a malformed one: judge the message alone
        log.warning("unreadable assessment in the metadata", extra={"error_type": type(error).__name__})
        return None


class ActionTriageWarningSign(ClinicAction):
    """Routes a warning-sign report to the reply for its disposition, then asks the one
    clarifying question the disposition depends on (never after an emergency reply).

    The disposition is the conversation's (the API's assessment: findings and risk factors
    said so far). Without one (nothing triage-related, or no assessment came along), the tier
    comes from the detector, and when only the statistical model saw a report the patient is
    told to call now (bias to escalate). The detection is the one the NLU component put in the
    parse data (or the API in the metadata); the detector runs here only if neither came along.
    """

    def name(self) -> str:
        return "action_triage_warning_sign"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list[dict[str, Any]]:
        clinic, content = self.clinic, self.content
        latest = tracker.latest_message
        text = latest.get("text") or ""
        carried = carried_in(latest) or carried_in(latest.get("metadata"))
        detection = carried_or_detect(carried, text, clinic.fever_threshold_c)
        assessment = carried_assessment(latest) or one_message_assessment(detection, text, clinic.fever_threshold_c)
        if assessment is not None and assessment.disposition is not None:
            return self._by_disposition(dispatcher, text, detection, assessment)
        if assessment is not None and detector_floor(detection, assessment) is Tier.NONE and assessment.asks_first:
            return self._ask_first(dispatcher, assessment.question)

        intent = latest_intent(tracker)
        if detection.tier is Tier.NONE and intent == INFORM_TEMPERATURE:
            return self._temperature_without_fever(dispatcher, text, detection)
        elsewhere = assessment is not None and assessment.elsewhere and detection.tier is not Tier.EMERGENCY
        if (detection.tier is Tier.NONE and detection.elsewhere_only) or elsewhere:
            # "my acne is red", "my ear aches a lot": a sign the detector placed away from the
            # biopsy; not escalated, and the patient is told who to ask instead.
            send(dispatcher, content.reply("other_complaint", clinic), kind="out_of_scope")
            return []
        if detection.tier is Tier.NONE and assessment is not None and (assessment.reassures or assessment.retracts):
            # "never had any redness", "oops, I meant 36.9": the model may read a sign word as a
            # report; every sign is denied or taken back and nothing else is wrong: when to call.
            send(dispatcher, content.reply("doing_well", clinic), kind="answer")
            return []
        if detection.tier is Tier.NONE and assessment is not None and assessment.acknowledges:
            # "ok, I've rung 911" after a call or emergency reply: the model may read the words
            # as a report; the escalation is already open, so no second one and no question.
            send(dispatcher, content.reply("acknowledged", clinic), kind="answer")
            return [SlotSet("pending_question", None)]
        if detection.tier is Tier.NONE and assessment is not None and assessment.risk_factor_only:
            # "she's on chemo", "I take apixaban": the model may read it as a report, but nothing
            # is wrong yet. The API keeps the risk factor for what follows; no escalation now.
            send(dispatcher, content.reply("risk_factor_noted", clinic), kind="answer")
            return [SlotSet("pending_question", None)]

        tier = Tier.CALL_PROVIDER if detection.tier is Tier.NONE else detection.tier
        disposition = Disposition.EMERGENCY if tier is Tier.EMERGENCY else Disposition.CALL_NOW
        question = "temperature" if detection.needs_temperature else None
        if assessment is not None:
            question = assessment.question
        return self._reply(dispatcher, text, disposition, detection.signs, question, detection, model_only=True)

    def _by_disposition(
        self, dispatcher: CollectingDispatcher, text: str, detection: Detection, assessment: Assessment
    ) -> list[dict[str, Any]]:
        disposition = assessment.disposition
        assert disposition is not None
        if disposition is Disposition.SELF_CARE and detection.temperature_c is not None and not assessment.question:
            return self._temperature_without_fever(dispatcher, text, detection)  # says what to watch for
        signs = sorted(set(assessment.signs) | set(detection.signs))
        return self._reply(dispatcher, text, disposition, signs, assessment.question, detection, assessment)

    def _reply(
        self,
        dispatcher: CollectingDispatcher,
        text: str,
        disposition: Disposition,
        signs: list[str],
        question: str | None,
        detection: Detection,
        assessment: Assessment | None = None,
        model_only: bool = False,
    ) -> list[dict[str, Any]]:
        clinic, content = self.clinic, self.content
        tier = disposition.tier
        temperature = _highest_temperature(assessment, detection)
        reply = triage_reply(
            content, clinic, disposition.value, describe_signs(signs), temperature, wrote_fahrenheit(text)
        )
        detected_by = "detector" if detection.signs else ("model" if model_only else "conversation")
        send(
            dispatcher,
            reply,
            kind="triage" if tier is not Tier.NONE else "answer",
            tier=tier.value,
            signs=signs,
            disposition=disposition.value,
            detected_by=detected_by,
        )
        if disposition is Disposition.EMERGENCY:  # never a question after an emergency reply
            question = None
        if question is not None:
            ask, buttons = question_reply(content, clinic, question)
            send(dispatcher, ask, kind="follow_up", buttons=buttons, tier=tier.value, question=question)
        return [
            SlotSet("warning_signs", signs),
            SlotSet("triage_tier", tier.value),
            SlotSet("triage_disposition", disposition.value),
            SlotSet("pending_question", question),
            SlotSet("temperature_requested", question == "temperature"),
        ]

    def _ask_first(self, dispatcher: CollectingDispatcher, question: str | None) -> list[dict[str, Any]]:
        """Feels hot with no number, pain with no trend, a bruise with no size: the answer
        decides, so the reply is the question, with when to call meanwhile. No escalation yet;
        the question stays open (a follow-up case opens if it is never answered)."""
        assert question is not None
        ask, buttons = question_reply(self.content, self.clinic, question, first=True)
        send(dispatcher, ask, kind="follow_up", buttons=buttons, tier=Tier.NONE.value, question=question)
        return [
            SlotSet("pending_question", question),
            SlotSet("temperature_requested", question == "temperature"),
        ]

    def _temperature_without_fever(
        self, dispatcher: CollectingDispatcher, text: str, detection: Detection
    ) -> list[dict[str, Any]]:
        clinic, content = self.clinic, self.content
        temperature_c = detection.temperature_c
        if temperature_c is None:  # "I checked" with no number: ask again
            ask, buttons = question_reply(content, clinic, "temperature")
            send(dispatcher, ask, kind="follow_up", buttons=buttons, question="temperature")
            return [SlotSet("temperature_requested", True), SlotSet("pending_question", "temperature")]
        # Fever medicine in the last hours can hide a fever: never call that reading "below".
        name = "temperature_after_fever_medicine" if detection.fever_masked else "temperature_below_threshold"
        reading = both_units(temperature_c, wrote_fahrenheit(text))
        send(dispatcher, content.reply(name, clinic, temperature=reading), kind="answer", topic="warning_signs_info")
        return [
            SlotSet("temperature_requested", False),
            SlotSet("pending_question", None),
            SlotSet("triage_disposition", Disposition.SELF_CARE.value),
        ]


def _highest_temperature(assessment: Assessment | None, detection: Detection) -> float | None:
    """The reading behind a fever finding: this message's, or one given earlier."""
    readings = [f.temperature_c for f in (assessment.findings if assessment else ()) if f.temperature_c is not None]
    if detection.temperature_c is not None:
        readings.append(detection.temperature_c)
    return max(readings, default=None)
