from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.common import ClinicAction, send


class ActionDoingWell(ClinicAction):
    """'I'm fine, no fever': acknowledge, and say when to call. No escalation, no question.

    A 'fine' update that also reports a sign never gets here: the detector routes it to
    report_warning_sign first.
    """

    def name(self) -> str:
        return "action_doing_well"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list[dict[str, Any]]:
        send(dispatcher, self.content.reply("doing_well", self.clinic), kind="answer")
        return []
