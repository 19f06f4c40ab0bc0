from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import ClinicAction, latest_intent, send
from bot.content import topic_for_intent


class ActionAnswerTopic(ClinicAction):
    """Answers a topic question from the cited content file."""

    def name(self) -> str:
        return "action_answer_topic"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list[dict[str, Any]]:
        clinic, content = self.clinic, self.content
        topic = topic_for_intent(latest_intent(tracker))
        if topic is None:  # a rule mapped an intent we have no answer for
            send(dispatcher, content.reply("out_of_scope", clinic), kind="out_of_scope")
            return []
        send(dispatcher, content.topic_answer(topic, clinic), kind="answer", topic=topic)
        return [SlotSet("last_topic", topic)]
