"""What every action needs: the clinic, its content, and the reply payload shape."""

from __future__ import annotations

import abc
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from bot.content import Answer, ClinicSettings, get_clinic, load_content


class ClinicAction(Action, abc.ABC):
    """An action that answers with the clinic's own details.

    The service's in-process action endpoint builds each action with the clinic settings it
    was given (the API's `settings.clinic`). Built without them, as a standalone
    `rasa run actions` server or a test does, an action reads AFTERCARE_* (`get_clinic()`).
    """

    def __init__(self, clinic: ClinicSettings | None = None) -> None:
        self.clinic = clinic if clinic is not None else get_clinic()
        self.content = load_content(self.clinic.content_path)

    @abc.abstractmethod
    def name(self) -> str: ...


def send(
    dispatcher: CollectingDispatcher,
    answer: Answer,
    kind: str,
    buttons: list[dict[str, Any]] | None = None,
    **payload: Any,
) -> None:
    """One message: the text (and any buttons) plus a machine-readable payload the API reads.

    `kind` is answer | triage | follow_up | handoff | out_of_scope; `tier` defaults to none.
    """
    payload.setdefault("tier", "none")
    custom = {"kind": kind, "sources": list(answer.sources), **payload}
    dispatcher.utter_message(text=answer.text, buttons=buttons or [], json_message=custom)


def latest_intent(tracker: Tracker) -> str | None:
    """The intent the pipeline settled on (after the safety-net component)."""
    return (tracker.latest_message.get("intent") or {}).get("name")
