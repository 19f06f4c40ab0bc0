"""Everything a request needs that lives as long as the process, kept on app.state.ctx."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.engine import Engine
from sqlalchemy.orm import sessionmaker

from api.escalations.events import EventHub
from api.escalations.spool import EscalationSpool
from api.settings import Settings
from bot.content import ClinicSettings, Content
from bot.triage import Detector


@dataclass
class AppContext:
    settings: Settings
    engine: Engine
    sessions: sessionmaker
    detector: Detector
    clinic: ClinicSettings
    content: Content
    spool: EscalationSpool
    events: EventHub = field(default_factory=EventHub)
    assistant: Any = None  # bot.assistant.runtime.Assistant once loaded
    assistant_error: str | None = None  # why loading failed, for /readyz
