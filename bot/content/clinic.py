"""The clinic's own details, read from AFTERCARE_* environment variables.

The API nests these in its Settings (`settings.clinic`) and hands them to the assistant, its
actions and the fail-safe replies. Only a process without the API (a standalone Rasa action
server or shell) reads them straight from the environment, through `get_clinic()`.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

from pydantic import BaseSettings, validator

from bot.triage.model import FEVER_THRESHOLD_RANGE_C

DEFAULT_ANSWERS = Path(__file__).with_name("answers.yml")


class ClinicSettings(BaseSettings):
    clinic_name: str = "the Haematology Day Unit"
    clinic_phone_day: str = "+1-555-0100"
    clinic_phone_after_hours: str = "+1-555-0199"
    clinic_hours: str = "08:00-18:00"  # local opening hours; outside them the after-hours line
    clinic_timezone: str = "America/Chicago"
    emergency_number: str = "911"
    fever_threshold_c: float = 38.0  # clinics differ: 37.5 (haematology), 38.4 (children)
    content_path: Path = DEFAULT_ANSWERS  # a clinic's own leaflet wins: point this at its copy

    class Config:
        env_prefix = "AFTERCARE_"

    @validator("clinic_hours")
    def _hours_are_a_range(cls, value: str) -> str:
        opens, closes = value.split("-")
        dt.time.fromisoformat(opens)
        dt.time.fromisoformat(closes)
        return value

    @validator("fever_threshold_c")
    def _threshold_is_celsius(cls, value: float) -> float:
        low, high = FEVER_THRESHOLD_RANGE_C
        if not low <= value <= high:
            raise ValueError(f"fever threshold must be in Celsius, between {low} and {high}")
        return value

    def phone_now(self, now: dt.datetime | None = None) -> str:
        """The number a patient should ring at this moment."""
        local = (now or dt.datetime.now(dt.timezone.utc)).astimezone(ZoneInfo(self.clinic_timezone))
        opens, closes = (dt.time.fromisoformat(t) for t in self.clinic_hours.split("-"))
        is_open = local.weekday() < 5 and opens <= local.time() < closes
        return self.clinic_phone_day if is_open else self.clinic_phone_after_hours


@lru_cache(maxsize=1)
def get_clinic() -> ClinicSettings:
    """For processes without the API only (standalone Rasa shell or action server)."""
    return ClinicSettings()
