from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, Field, StrictStr, validator

TriageLevel = Literal["emergency", "call_provider", "none"]


class NewMessage(BaseModel):
    text: StrictStr = Field(..., description="What the patient wrote (1 to 2,000 characters).")

    @validator("text")
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("text must not be empty")
        return value


class ConversationCreated(BaseModel):
    conversation_id: str


class Reply(BaseModel):
    text: str
    kind: str | None = None
    sources: list[str] = []
    buttons: list[dict] = []
    phone: str | None = Field(None, description="Number to call, on call-provider and emergency replies.")


class Triage(BaseModel):
    level: TriageLevel
    signs: list[str]


class MessageResult(BaseModel):
    conversation_id: str
    replies: list[Reply]
    triage: Triage
    topic: str | None
    escalation_id: str | None
    answered_by: Literal["assistant", "safety_net", "failsafe"] = Field(
        ..., description="assistant: the Rasa model; safety_net: the detector overrode it; failsafe: the model failed."
    )


class TranscriptLine(BaseModel):
    class Config:
        orm_mode = True

    id: int
    role: Literal["patient", "assistant"]
    text: str
    triage_level: TriageLevel
    created_at: dt.datetime


class Transcript(BaseModel):
    conversation_id: str
    messages: list[TranscriptLine]
