from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.common import clinic_and_content, send


class ActionOutOfScope(Action):
    """Anything the assistant cannot answer: say so and give the clinic's number."""

    def name(self) -> str:
        return "action_out_of_scope"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list[dict[str, Any]]:
        clinic, content = clinic_and_content()
        send(dispatcher, content.reply("out_of_scope", clinic), kind="out_of_scope")
        return []


class ActionRequestHuman(Action):
    """The patient asked for a person: the API turns this into a callback request."""

    def name(self) -> str:
        return "action_request_human"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list[dict[str, Any]]:
        clinic, content = clinic_and_content()
        send(dispatcher, content.reply("request_human", clinic), kind="handoff")
        return []
