from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
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


class SlaClock(BaseModel):
    """Per-tier targets (minutes) and the moment the queue is read: what makes a case overdue."""

    minutes: dict[str, int]
    now: dt.datetime

    def due(self, row: Escalation) -> dt.datetime | None:
        since = as_utc(row.tier_since or row.created_at)
        return since + dt.timedelta(minutes=self.minutes[row.tier]) if row.tier in self.minutes else None

    def overdue(self, row: Escalation) -> bool:
        due = self.due(row)
        return row.status != EscalationStatus.RESOLVED and not row.assigned_to and due is not None and due <= self.now


class EscalationSummary(BaseModel):
    """What the queue shows (one row per case): triage facts and state, never message text or
    patient identity."""

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
    report_count: int = Field(..., description="Warning-sign reports in this case (the first included).")
    last_report_at: dt.datetime
    assigned_to: StaffRef | None = Field(..., description="The nurse holding the case.")
    assigned_at: dt.datetime | None
    waited_seconds: int = Field(..., description="Since the case opened; until resolution once resolved.")
    due_at: dt.datetime | None = Field(..., description="The tier's SLA target while nobody holds the case.")
    overdue: bool

    @classmethod
    def build(cls, row: Escalation, names: Mapping[str, str], clock: SlaClock) -> EscalationSummary:
        return cls(**_summary_fields(row, names, clock))


def _ref(staff_id: str | None, names: Mapping[str, str]) -> StaffRef | None:
    return StaffRef(id=staff_id, name=names.get(staff_id, "unknown")) if staff_id else None


def _summary_fields(row: Escalation, names: Mapping[str, str], clock: SlaClock) -> dict[str, Any]:
    created = as_utc(row.created_at)
    until = as_utc(row.resolved_at) if row.resolved_at else clock.now
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
        "report_count": row.report_count or 1,
        "last_report_at": as_utc(row.last_report_at or row.created_at),
        "assigned_to": _ref(row.assigned_to, names),
        "assigned_at": as_utc(row.assigned_at),
        "waited_seconds": max(0, int((until - created).total_seconds())),
        "due_at": clock.due(row) if row.status != EscalationStatus.RESOLVED else None,
        "overdue": clock.overdue(row),
    }


class EscalationQueue(BaseModel):
    status: str = Field(..., description="The view: open, acknowledged, resolved, active (open or held) or all.")
    sort: str
    total: int = Field(..., description="Cases matching every filter (all pages).")
    counts: dict[str, int] = Field(..., description="Per tier, for the filters other than tier.")
    items: list[EscalationSummary]
    next_cursor: str | None = Field(..., description="Pass as `cursor` for the next page; null on the last.")


class ReportOut(BaseModel):
    """One warning-sign report in a case, with the patient's own words (staff only)."""

    message_id: int
    tier: Tier
    signs: list[str]
    words: str
    reported_at: dt.datetime
    note: str | None = Field(default=None, description="What the report is when the words do not say it.")


class Contact(BaseModel):
    name: str | None
    phone: str | None = Field(..., description="The callback number.")
    source: str | None = Field(
        ..., description="portal (token claims), enrollment, or chat (the patient confirmed it in the chat)"
    )


class Situation(BaseModel):
    tier: Tier
    signs: list[str] = Field(..., description="The latest report's findings.")
    reported_at: dt.datetime
    told: list[str] = Field(..., description="What the assistant answered to the latest report.")
    told_number: str | None = Field(..., description="The number the patient was told to call.")


class Background(BaseModel):
    enrolled: bool
    procedure_at: dt.datetime | None
    site: str | None
    risk_factors: list[str]


class CaseSummary(BaseModel):
    """SBAR: situation, background, assessment (each report), recommendation; and whom to call."""

    situation: Situation
    background: Background
    assessment: list[ReportOut]
    recommendation: str
    contact: Contact


class EscalationDetail(EscalationSummary):
    conversation_id: str
    patient_id: str
    message_id: int = Field(..., description="The patient message that raised the escalation.")
    resolution_note: str | None
    transcript: list[TranscriptLine]
    transcript_truncated: bool = Field(..., description="True when only the latest lines are included.")
    summary: CaseSummary

    @classmethod
    def build_detail(
        cls,
        row: Escalation,
        names: Mapping[str, str],
        clock: SlaClock,
        patient_id: str,
        lines: Sequence[StoredLine],
        truncated: bool,
        summary: CaseSummary,
    ) -> EscalationDetail:
        return cls(
            **_summary_fields(row, names, clock),
            summary=summary,
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
