"""How a benchmark client talks to each system: open a conversation, send one message."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Protocol

import httpx


@dataclass
class Outcome:
    ok: bool
    detail: str  # service: answered_by; plain Rasa: "replied"/"empty"; or an error label


class Target(Protocol):
    key: str
    label: str

    async def open(self, client: httpx.AsyncClient, conversation: str) -> Any: ...

    async def send(self, client: httpx.AsyncClient, handle: Any, text: str) -> Outcome: ...


@dataclass
class ServiceTarget:
    """This service: POST /api/v1/conversations, then POST .../{id}/messages with a portal JWT."""

    base_url: str
    mint_token: Any  # callable(patient_id) -> str
    key: str = "service"
    label: str = "Marrow Aftercare service"
    outcomes: Counter = field(default_factory=Counter)

    async def open(self, client: httpx.AsyncClient, conversation: str) -> tuple[str, dict[str, str]]:
        headers = {"Authorization": f"Bearer {self.mint_token(f'bench-{conversation}')}"}
        response = await client.post(f"{self.base_url}/api/v1/conversations", headers=headers)
        response.raise_for_status()
        return response.json()["conversation_id"], headers

    async def send(self, client: httpx.AsyncClient, handle: tuple[str, dict[str, str]], text: str) -> Outcome:
        conversation_id, headers = handle
        response = await client.post(
            f"{self.base_url}/api/v1/conversations/{conversation_id}/messages",
            json={"text": text},
            headers=headers,
        )
        if response.status_code != 200:
            return Outcome(False, f"http_{response.status_code}")
        body = response.json()
        if not body.get("replies"):
            return Outcome(False, "no_reply")
        return Outcome(True, body.get("answered_by", "unknown"))


@dataclass
class RasaTarget:
    """Plain Rasa: POST /webhooks/rest/webhook {"sender", "message"}; no conversation set-up."""

    base_url: str
    key: str = "plain_rasa"
    label: str = "plain rasa run --enable-api"

    async def open(self, client: httpx.AsyncClient, conversation: str) -> str:
        return f"bench-{conversation}"

    async def send(self, client: httpx.AsyncClient, handle: str, text: str) -> Outcome:
        response = await client.post(f"{self.base_url}/webhooks/rest/webhook", json={"sender": handle, "message": text})
        if response.status_code != 200:
            return Outcome(False, f"http_{response.status_code}")
        replies = response.json()
        return Outcome(bool(replies), "replied" if replies else "empty")
