from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, Field, StrictStr, validator

from api.core.time import as_utc
from api.core.transcript import StoredLine, TranscriptLine
from api.escalations.models import Escalation
from bot.triage.vocabulary import EscalationStatus, EscalationTier

Tier = EscalationTier
Status = EscalationStatus
MAX_NOTE_CHARS = 2000


class StaffRef(BaseModel):
    id: str
    name: str


class EscalationSummary(BaseModel):
    """What the queue shows: triage facts and state, never message text or patient identity."""

    id: str
    tier: Tier
    priority: int = Field(..., description="0 emergency, 1 call provider, 2 patient asked for a callback")
    status: Status
    signs: list[str]
    created_at: dt.datetime
    acknowledged_at: dt.datetime | None
    acknowledged_by: StaffRef | None
    resolved_at: dt.datetime | None
    resolved_by: StaffRef | None

    @classmethod
    def build(cls, row: Escalation, names: dict[str, str]) -> EscalationSummary:
        return cls(**_summary_fields(row, names))


def _ref(staff_id: str | None, names: dict[str, str]) -> StaffRef | None:
    return StaffRef(id=staff_id, name=names.get(staff_id, "unknown")) if staff_id else None


def _summary_fields(row: Escalation, names: dict[str, str]) -> dict[str, Any]:
    return {
        "id": row.id,
        "tier": row.tier,
        "priority": row.priority,
        "status": row.status,
        "signs": list(row.signs),
        "created_at": as_utc(row.created_at),
        "acknowledged_at": as_utc(row.acknowledged_at),
        "acknowledged_by": _ref(row.acknowledged_by, names),
        "resolved_at": as_utc(row.resolved_at),
        "resolved_by": _ref(row.resolved_by, names),
    }


class EscalationQueue(BaseModel):
    status: Status
    total: int
    items: list[EscalationSummary]


class EscalationDetail(EscalationSummary):
    conversation_id: str
    patient_id: str
    message_id: int = Field(..., description="The patient message that raised the escalation.")
    resolution_note: str | None
    transcript: list[TranscriptLine]
    transcript_truncated: bool = Field(..., description="True when only the latest lines are included.")

    @classmethod
    def build_detail(
        cls,
        row: Escalation,
        names: dict[str, str],
        patient_id: str,
        lines: Sequence[StoredLine],
        truncated: bool,
    ) -> EscalationDetail:
        return cls(
            **_summary_fields(row, names),
            conversation_id=row.conversation_id,
            patient_id=patient_id,
            message_id=row.message_id,
            resolution_note=row.resolution_note,
            transcript=[TranscriptLine.build(m) for m in lines],
            transcript_truncated=truncated,
        )


class ResolveRequest(BaseModel):
    note: StrictStr = Field(..., description="What was done (required, up to 2,000 characters).")

    @validator("note")
    def _meaningful(cls, value: str) -> str:
        value = value.strip()
        if not value:
            raise ValueError("a note saying what was done is required")
        if len(value) > MAX_NOTE_CHARS:
            raise ValueError(f"note is longer than {MAX_NOTE_CHARS} characters")
        return value
