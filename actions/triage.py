from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import ClinicAction, latest_intent, send
from bot.content import describe_signs
from bot.triage import Tier
from bot.triage.detector import carried_or_detect
from bot.triage.model import carried_in

INFORM_TEMPERATURE = "inform_temperature"


class ActionTriageWarningSign(ClinicAction):
    """Routes a warning-sign report to the call-provider or emergency reply.

    The tier comes from the detector; when only the statistical model saw a report, the tier
    is call_provider (bias to escalate). Emergency beats call-provider. The detection is the
    one the NLU component put in the parse data (or the API in the metadata); the detector
    runs here only if neither came along (a hand-built tracker, an /intent shortcut).
    """

    def name(self) -> str:
        return "action_triage_warning_sign"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list[dict[str, Any]]:
        clinic, content = self.clinic, self.content
        latest = tracker.latest_message
        carried = carried_in(latest) or carried_in(latest.get("metadata"))
        detection = carried_or_detect(carried, latest.get("text") or "", clinic.fever_threshold_c)
        intent = latest_intent(tracker)

        if detection.tier is Tier.NONE and intent == INFORM_TEMPERATURE:
            return self._temperature_without_fever(dispatcher, clinic, content, detection)
        if detection.tier is Tier.NONE and detection.elsewhere_only:
            # "my acne is red", "my ear aches a lot": a sign the detector placed away from the
            # biopsy; not escalated, and the patient is told who to ask instead.
            send(dispatcher, content.reply("other_complaint", clinic), kind="out_of_scope")
            return []

        tier = Tier.CALL_PROVIDER if detection.tier is Tier.NONE else detection.tier
        signs = detection.signs
        reply = content.reply(tier.value, clinic, signs=describe_signs(signs))
        send(
            dispatcher,
            reply,
            kind="triage",
            tier=tier.value,
            signs=signs,
            detected_by="detector" if detection.signs else "model",
        )
        events = [SlotSet("warning_signs", signs), SlotSet("triage_tier", tier.value)]
        if detection.needs_temperature and tier is not Tier.EMERGENCY:  # never a question after 911
            send(dispatcher, content.reply("ask_temperature", clinic), kind="follow_up", tier=tier.value)
            events.append(SlotSet("temperature_requested", True))
        return events

    def _temperature_without_fever(self, dispatcher, clinic, content, detection):
        temperature_c = detection.temperature_c
        if temperature_c is None:  # "I checked" with no number: ask again
            send(dispatcher, content.reply("ask_temperature", clinic), kind="follow_up")
            return [SlotSet("temperature_requested", True)]
        # Fever medicine in the last hours can hide a fever: never call that reading "below".
        name = "temperature_after_fever_medicine" if detection.fever_masked else "temperature_below_threshold"
        reply = content.reply(name, clinic, temperature=f"{temperature_c:.1f} °C")
        send(dispatcher, reply, kind="answer", topic="warning_signs_info")
        return [SlotSet("temperature_requested", False)]
