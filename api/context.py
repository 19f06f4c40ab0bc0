"""Everything that lives as long as the process, kept on app.state.ctx.

Routes do not take the whole context: they ask api.deps for the part they need (the database
session, the settings, the event hub). Only the patient-message service uses most of it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy.engine import Engine
from sqlalchemy.orm import sessionmaker

from api.core.locks import ConversationLocks, LocalLocks
from api.escalations.events import EventHub
from api.messaging.spool import EscalationSpool
from api.settings import Settings
from bot.assistant.runtime import AssistantReply
from bot.content import ClinicSettings, Content
from bot.triage import Detection, Detector
from bot.triage.conversation import Assessment


class Responder(Protocol):
    """What the service needs of bot.assistant.runtime.Assistant (tests may bring a stand-in)."""

    async def respond(
        self,
        conversation_id: str,
        text: str,
        detection: Detection | None = None,
        assessment: Assessment | None = None,
    ) -> AssistantReply: ...


@dataclass
class AppContext:
    settings: Settings
    engine: Engine
    sessions: sessionmaker
    detector: Detector
    content: Content
    spool: EscalationSpool
    events: EventHub = field(default_factory=EventHub)
    assistant: Responder | None = None  # None until loaded (or when loading failed)
    assistant_error: str | None = None  # why loading failed, for /readyz
    locks: ConversationLocks = field(default_factory=LocalLocks)  # one message per conversation at a time
    redis: Any = None  # redis.asyncio.Redis when AFTERCARE_REDIS_URL is set (several processes)
    draining: bool = False  # SIGTERM seen: /readyz answers 503 so the load balancer stops sending

    @property
    def clinic(self) -> ClinicSettings:
        return self.settings.clinic
