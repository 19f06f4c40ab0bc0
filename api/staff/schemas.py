from __future__ import annotations

import datetime as dt
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
    access_token: str = Field(..., description="Send as `Authorization: Bearer <access_token>`; same as the cookie.")
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 (a scheme name)
    expires_in: int = Field(..., description="Seconds of inactivity before the session ends (an 8 h cap applies).")
    staff: StaffOut


class SessionInfo(BaseModel):
    staff: StaffOut
    idle_timeout_seconds: int
    absolute_remaining_seconds: int | None = Field(
        None, description="Seconds until the 8 h limit ends the session, activity or not"
    )


class AccountOut(BaseModel):
    id: str
    email: str
    name: str
    role: Literal["nurse", "admin"]
    enabled: bool
    last_login_at: dt.datetime | None = Field(None, description="UTC; null if never")
    created_at: dt.datetime


class AccountCreate(BaseModel):
    email: StrictStr = Field(..., max_length=254)
    name: StrictStr = Field(..., max_length=200)
    role: Literal["nurse", "admin"]


class RoleChange(BaseModel):
    role: Literal["nurse", "admin"]


class PasswordLinkOut(BaseModel):
    account: AccountOut
    set_password_url: str = Field(..., description="Shown once: give it to the person; the secret is after the #")
    expires_at: dt.datetime


class SetPassword(BaseModel):
    secret: StrictStr = Field(..., max_length=128, description="The part of the link after #")
    password: StrictStr = Field(..., max_length=1024)
