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
    # Days the clinic is closed although they fall on a weekday, in its own time zone:
    # ISO dates separated by commas, e.g. "2026-12-25,2027-01-01". Read as a string because
    # pydantic v1 settings would expect JSON for a list.
    clinic_holidays: str = ""
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

    @validator("clinic_holidays")
    def _holidays_are_iso_dates(cls, value: str) -> str:
        for item in _holiday_items(value):
            try:
                dt.date.fromisoformat(item)
            except ValueError:
                raise ValueError(
                    f"AFTERCARE_CLINIC_HOLIDAYS: {item!r} is not a date: list the clinic's holidays "
                    "as ISO dates (YYYY-MM-DD) separated by commas, e.g. 2026-12-25,2027-01-01"
                ) from None
        return value

    @validator("fever_threshold_c")
    def _threshold_is_celsius(cls, value: float) -> float:
        low, high = FEVER_THRESHOLD_RANGE_C
        if not low <= value <= high:
            raise ValueError(f"fever threshold must be in Celsius, between {low} and {high}")
        return value

    @property
    def holidays(self) -> frozenset[dt.date]:
        return frozenset(dt.date.fromisoformat(item) for item in _holiday_items(self.clinic_holidays))

    def is_open(self, now: dt.datetime | None = None) -> bool:
        """Whether the day line is staffed: a weekday, not a holiday, within opening hours."""
        local = (now or dt.datetime.now(dt.timezone.utc)).astimezone(ZoneInfo(self.clinic_timezone))
        opens, closes = (dt.time.fromisoformat(t) for t in self.clinic_hours.split("-"))
        working_day = local.weekday() < 5 and local.date() not in self.holidays
        return working_day and opens <= local.time() < closes

    def phone_now(self, now: dt.datetime | None = None) -> str:
        """The number a patient should ring at this moment."""
        return self.clinic_phone_day if self.is_open(now) else self.clinic_phone_after_hours


def _holiday_items(value: str) -> list[str]:
    return [item.strip() for item in value.split(",") if item.strip()]


@lru_cache(maxsize=1)
def get_clinic() -> ClinicSettings:
    """For processes without the API only (standalone Rasa shell or action server)."""
    return ClinicSettings()
