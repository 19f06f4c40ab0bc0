"""The clinic's own details, read from AFTERCARE_* environment variables.

Actions and the API's fail-safe both need the phone numbers, so they live here and not
in the API's settings.
"""
from __future__ import annotations

import datetime as dt
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

from pydantic import BaseSettings, validator

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
        if not 36.5 <= value <= 39.5:
            raise ValueError("fever threshold must be in Celsius, between 36.5 and 39.5")
        return value

    def phone_now(self, now: dt.datetime | None = None) -> str:
        """The number a patient should ring at this moment."""
        local = (now or dt.datetime.now(dt.timezone.utc)).astimezone(ZoneInfo(self.clinic_timezone))
        opens, closes = (dt.time.fromisoformat(t) for t in self.clinic_hours.split("-"))
        is_open = local.weekday() < 5 and opens <= local.time() < closes
        return self.clinic_phone_day if is_open else self.clinic_phone_after_hours


@lru_cache(maxsize=1)
def get_clinic() -> ClinicSettings:
    return ClinicSettings()
