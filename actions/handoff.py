from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.common import ClinicAction, send


class ActionOutOfScope(ClinicAction):
    """Anything the assistant cannot answer: say so and give the clinic's number."""

    def name(self) -> str:
        return "action_out_of_scope"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list[dict[str, Any]]:
        clinic, content = self.clinic, self.content
        send(dispatcher, content.reply("out_of_scope", clinic), kind="out_of_scope")
        return []


class ActionRequestHuman(ClinicAction):
    """The patient asked for a person: the API turns this into a callback request."""

    def name(self) -> str:
        return "action_request_human"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list[dict[str, Any]]:
        clinic, content = self.clinic, self.content
        send(dispatcher, content.reply("request_human", clinic), kind="handoff")
        return []
