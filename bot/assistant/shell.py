"""`aftercare shell`: chat with the trained assistant in a terminal."""

from __future__ import annotations

import asyncio
import uuid
import warnings
from pathlib import Path

from bot.assistant.runtime import Assistant

QUIT = {"/quit", "/exit"}
HELP = """\
You are chatting with the trained assistant (the Rasa model and the warning-sign detector),
in this process. Type a message as a patient or caregiver would, e.g.
  is it normal to be sore?
  my hip is bleeding through the bandage
Each reply shows the bot's text, its buttons in [brackets], and, when the message was triaged,
the tier and the warning signs seen.

Nothing leaves this terminal: no message is saved, no escalation is opened and no one at the
clinic is told (the API, its database and its fail-safe replies are not involved).

  /help         this help
  /quit, /exit  leave (or Ctrl-D)
  /<intent>     send an intent as is, skipping the language model (e.g. /greet)"""


NOISE = (DeprecationWarning, PendingDeprecationWarning, FutureWarning)
SLOT_NOTICE = "Slot auto-fill has been removed"  # Rasa's note on a 2.x feature this project never used


def _is_noise(warning: warnings.WarningMessage) -> bool:
    return issubclass(warning.category, NOISE) or str(warning.message).startswith(SLOT_NOTICE)


def load_quietly(model: Path) -> Assistant:
    """Loads the assistant without the dozen library deprecation warnings (SQLAlchemy,
    pyparsing, click, matplotlib...) and the slot notice Rasa's import and model load print:
    noise to someone about to chat. Any other warning is still shown.

    A filter set beforehand is not enough: aiogram, imported by Rasa, resets the
    DeprecationWarning filter to "default". So the warnings are caught during the load (which
    also undoes that reset) and only the rest are shown."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("default")
        assistant = Assistant.load(model)
    for warning in caught:
        if not _is_noise(warning):
            warnings.showwarning(warning.message, warning.category, warning.filename, warning.lineno)
    warnings.filterwarnings("ignore", message=SLOT_NOTICE, category=UserWarning)  # repeated per conversation
    return assistant


def _show(reply) -> None:
    for message in reply.messages:
        if message.get("text"):
            print(f"  bot> {message['text']}")
        for button in message.get("buttons", []):
            print(f"       [{button.get('title')}]")
    if reply.tier.value != "none":
        print(f"       (triage: {reply.tier.value}; signs: {', '.join(reply.signs) or 'model only'})")


async def _loop(assistant: Assistant) -> None:
    conversation = f"shell-{uuid.uuid4().hex[:8]}"
    while True:
        try:
            text = input("you> ").strip()
        except (EOFError, KeyboardInterrupt):
            print()
            return
        if text in QUIT:
            return
        if text == "/help":
            print(HELP)
        elif text:
            _show(await assistant.respond(conversation, text))


def run_shell(model: Path) -> None:
    print("loading the assistant (about 20 s)...")
    assistant = load_quietly(model)
    print("Type a message as a patient would; /help for help, /quit or Ctrl-D to leave.")
    asyncio.run(_loop(assistant))
