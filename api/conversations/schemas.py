from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, Field, StrictStr, validator

from bot.content.sources import source_links

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


class SourceLink(BaseModel):
    id: str
    name: str
    url: str | None = Field(None, description="The page, when a reviewer has checked its address.")


class Reply(BaseModel):
    text: str
    kind: str | None = None
    sources: list[str] = []
    source_links: list[SourceLink] = Field(
        [], description="`sources` as readable names and links, for display (filled from the ids)."
    )
    buttons: list[dict] = []
    phone: str | None = Field(None, description="Number to call, on call-provider and emergency replies.")

    @validator("source_links", always=True)
    def _links_for_the_sources(cls, links: list[SourceLink], values: dict) -> list[SourceLink]:
        return links or [SourceLink(**link) for link in source_links(values.get("sources", []))]


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
