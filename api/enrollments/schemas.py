"""Enrollment requests and answers (the contract the integration engine codes against)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, Field, root_validator, validator

Channel = Literal["portal", "sms"]
RiskFlag = Literal["anticoagulant", "chemotherapy", "low_platelets", "child"]
Site = Literal["hip", "sternum"]
E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")


def _timezone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError("timezone must be an IANA name such as America/Chicago") from None
    return value


def _with_offset(value: dt.datetime) -> dt.datetime:
    if value.tzinfo is None:
        raise ValueError("procedure_at needs a UTC offset, e.g. 2026-11-30T14:00:00-06:00")
    return value


def _phone(value: str | None) -> str | None:
    if value is not None and not E164.match(value):
        raise ValueError("phone_number must be E.164, e.g. +15555550123")
    return value


class EnrollmentFields(BaseModel):
    class Config:
        extra = "forbid"

    _tz = validator("timezone", allow_reuse=True, check_fields=False)(_timezone)
    _at = validator("procedure_at", allow_reuse=True, check_fields=False)(_with_offset)
    _ph = validator("phone_number", allow_reuse=True, check_fields=False)(_phone)


class EnrollmentIn(EnrollmentFields):
    external_id: str = Field(min_length=1, max_length=128)
    patient_id: str = Field(min_length=1, max_length=128)
    procedure_at: dt.datetime
    timezone: str
    channels: list[Channel] = Field(min_items=1)
    phone_number: str | None = None
    language: str = Field(default="en", min_length=2, max_length=16)
    site: Site | None = None
    risk_flags: list[RiskFlag] = Field(default_factory=list)

    @root_validator(skip_on_failure=True)
    def _sms_needs_a_number(cls, values: dict[str, Any]) -> dict[str, Any]:
        if "sms" in values["channels"] and not values.get("phone_number"):
            raise ValueError("phone_number (E.164) is required for the sms channel")
        return values


class EnrollmentPatch(EnrollmentFields):
    """Only the fields given change; a new procedure time or timezone reschedules what is unsent."""

    procedure_at: dt.datetime | None = None
    timezone: str | None = None
    channels: list[Channel] | None = Field(default=None, min_items=1)
    phone_number: str | None = None
    language: str | None = Field(default=None, min_length=2, max_length=16)
    site: Site | None = None
    risk_flags: list[RiskFlag] | None = None


class EnrollmentOut(BaseModel):
    enrollment_id: str
    external_id: str
    patient_id: str
    status: str
    channels: list[str]
    risk_flags: list[str]
    sms_opted_out: bool
    checkins: list[dict[str, Any]] = Field(default_factory=list)


class UnansweredCheckIn(BaseModel):
    checkin_id: str
    enrollment_id: str
    patient_id: str
    day: int
    sent_at: dt.datetime
    channels: list[str]
    reminded_at: dt.datetime | None = None  # the one automatic reminder, once sent


class UnansweredList(BaseModel):
    checkins: list[UnansweredCheckIn]


class AnswerButton(BaseModel):
    title: str
    payload: str  # sent as the patient's message: triaged like typed text


class WaitingCheckIn(BaseModel):
    """A sent check-in the patient has not answered yet: the widget opens its conversation."""

    checkin_id: str
    conversation_id: str
    day: int
    buttons: list[AnswerButton]


class WaitingCheckIns(BaseModel):
    checkins: list[WaitingCheckIn]
