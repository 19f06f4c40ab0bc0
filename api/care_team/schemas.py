from __future__ import annotations

from pydantic import BaseModel, Field, StrictStr, validator

from api.core.text import storable
from api.core.transcript import TranscriptLine

MAX_REPLY_CHARS = 2000


class StaffReplyRequest(BaseModel):
    text: StrictStr = Field(..., description="What the nurse tells the patient (1 to 2,000 characters).")

    @validator("text")
    def _meaningful(cls, value: str) -> str:
        value = value.strip()
        if not value:
            raise ValueError("text must not be empty")
        if len(value) > MAX_REPLY_CHARS:
            raise ValueError(f"text is longer than {MAX_REPLY_CHARS} characters")
        return storable(value)


class StaffReply(BaseModel):
    escalation_id: str
    conversation_id: str
    message: TranscriptLine
