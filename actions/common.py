"""What every action needs: the clinic, its content, and the reply payload shape."""
from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from bot.content import Answer, ClinicSettings, Content, get_clinic, load_content


def clinic_and_content() -> tuple[ClinicSettings, Content]:
    clinic = get_clinic()
    return clinic, load_content(clinic.content_path)


def send(dispatcher: CollectingDispatcher, answer: Answer, kind: str, **payload: Any) -> None:
    """One message: the text plus a machine-readable payload the API reads.

    `kind` is answer | triage | handoff | out_of_scope; `tier` defaults to none.
    """
    payload.setdefault("tier", "none")
    custom = {"kind": kind, "sources": list(answer.sources), **payload}
    dispatcher.utter_message(text=answer.text, json_message=custom)


def latest_intent(tracker: Tracker) -> str | None:
    """The intent the pipeline settled on (after the safety-net component)."""
    return (tracker.latest_message.get("intent") or {}).get("name")
