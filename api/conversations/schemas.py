from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field, StrictStr, validator

from api.core.text import storable
from api.core.transcript import TranscriptLine, TriageLevel
from bot.content.sources import source_links

AnsweredBy = Literal["assistant", "safety_net", "failsafe"]


class NewMessage(BaseModel):
    text: StrictStr = Field(..., description="What the patient wrote (1 to 2,000 characters).")

    @validator("text")
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("text must not be empty")
        return storable(value)  # NUL and half an emoji cannot be stored; the message still counts


class ConversationCreated(BaseModel):
    conversation_id: str


class SourceLink(BaseModel):
    id: str
    name: str
    url: str | None = Field(default=None, description="The page, when a reviewer has checked its address.")


class Reply(BaseModel):
    text: str
    kind: str | None = None
    sources: list[str] = []
    # default= by name: mypy reads a positional default as "required" (dataclass_transform)
    source_links: list[SourceLink] = Field(
        default=[], description="`sources` as readable names and links, for display (filled from the ids)."
    )
    buttons: list[dict[str, Any]] = []
    phone: str | None = Field(default=None, description="Number to call, on call-provider and emergency replies.")

    @validator("source_links", always=True)
    def _links_for_the_sources(cls, links: list[SourceLink], values: dict[str, Any]) -> list[SourceLink]:
        return links or [SourceLink(**link) for link in source_links(values.get("sources", []))]


DispositionName = Literal["emergency", "call_now", "call_within_24h", "self_care"]


class TriageFinding(BaseModel):
    """One finding of the conversation so far, as the triage understood it."""

    sign: str
    site: Literal["biopsy_site", "elsewhere", "systemic"] = "biopsy_site"
    trend: Literal["worse", "same", "better"] | None = None
    temperature_c: float | None = None
    temperature_f: float | None = None
    duration_minutes: float | None = None
    size: Literal["growing", "large", "stable", "small"] | None = None  # bruise, lump, swelling, redness


class Triage(BaseModel):
    level: TriageLevel = Field(..., description="emergency | call_provider | none (kept for existing clients).")
    signs: list[str]
    disposition: DispositionName | None = Field(
        default=None,
        description="What the patient was told to do: emergency (call the emergency number), call_now (the care "
        "team, now), call_within_24h, self_care (with when to call); null when nothing triage-related was said.",
    )
    findings: list[TriageFinding] = Field(
        default=[], description="What the conversation has reported so far: sign, where, trend, reading, duration."
    )


class MessageResult(BaseModel):
    conversation_id: str
    replies: list[Reply]
    triage: Triage
    topic: str | None
    escalation_id: str | None
    answered_by: AnsweredBy = Field(
        ..., description="assistant: the Rasa model; safety_net: the detector overrode it; failsafe: the model failed."
    )


class Transcript(BaseModel):
    conversation_id: str
    messages: list[TranscriptLine]
