from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field, StrictStr


class LoginRequest(BaseModel):
    email: StrictStr = Field(..., max_length=254)
    password: StrictStr = Field(..., max_length=1024)


class StaffOut(BaseModel):
    id: str
    name: str
    role: Literal["nurse", "admin"]


class SessionCreated(BaseModel):
    access_token: str = Field(
        ..., description="Send as `Authorization: Bearer <access_token>`; same as the cookie."
    )
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 (a scheme name)
    expires_in: int = Field(
        ..., description="Seconds of inactivity before the session ends (an 8 h cap applies)."
    )
    staff: StaffOut


class SessionInfo(BaseModel):
    staff: StaffOut
    idle_timeout_seconds: int
