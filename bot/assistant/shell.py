"""`aftercare shell`: chat with the trained assistant in a terminal."""
from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

from bot.assistant.runtime import Assistant


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
        if text in {"/quit", "/exit"}:
            return
        if text:
            _show(await assistant.respond(conversation, text))


def run_shell(model: Path) -> None:
    print("loading the assistant (about 20 s)...")
    assistant = Assistant.load(model)
    print("Type a message as a patient would; /quit or Ctrl-D to leave.")
    asyncio.run(_loop(assistant))
