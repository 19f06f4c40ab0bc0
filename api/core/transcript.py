"""One transcript line, as patients (their own conversation) and staff (an escalation) see it."""

from __future__ import annotations

import datetime as dt
from typing import Literal, Protocol

from pydantic import BaseModel

from api.core.time import as_utc

TriageLevel = Literal["emergency", "call_provider", "none"]


class StoredLine(Protocol):
    """What a stored message row offers (api.conversations.models.Message)."""

    id: int
    role: str
    text: str
    triage_level: str
    created_at: dt.datetime
    author_name: str | None


class TranscriptLine(BaseModel):
    id: int
    role: Literal["patient", "assistant", "staff"]
    text: str
    triage_level: TriageLevel
    created_at: dt.datetime
    author: str | None = None  # staff lines: the nurse's display name

    @classmethod
    def build(cls, row: StoredLine) -> TranscriptLine:
        # parse_obj: role and triage level are plain strings in the row; pydantic checks them.
        return cls.parse_obj(
            {
                "id": row.id,
                "role": row.role,
                "text": row.text,
                "triage_level": row.triage_level,
                "created_at": as_utc(row.created_at),
                "author": row.author_name if row.role == "staff" else None,
            }
        )
