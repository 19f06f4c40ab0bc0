"""Public holidays in the clinic calendar: on them the day line is closed (after-hours number)."""

from __future__ import annotations

import datetime as dt

import pytest
from pydantic import ValidationError

from api.settings import Settings
from bot.content import ClinicSettings, load_content

CHICAGO = "-06:00"  # the default clinic's time zone in December


def at(local: str) -> dt.datetime:
    return dt.datetime.fromisoformat(local + CHICAGO)


@pytest.fixture
def clinic() -> ClinicSettings:
    return ClinicSettings(clinic_holidays="2026-12-25, 2027-01-01")


def test_a_holiday_on_a_weekday_gets_the_after_hours_number(clinic):
    assert at("2026-12-25T10:00:00").weekday() == 4  # a Friday, inside opening hours
    assert clinic.phone_now(at("2026-12-25T10:00:00")) == clinic.clinic_phone_after_hours
    assert clinic.phone_now(at("2027-01-01T09:00:00")) == clinic.clinic_phone_after_hours
    assert not clinic.is_open(at("2026-12-25T10:00:00"))


def test_the_days_around_a_holiday_keep_the_day_line(clinic):
    assert clinic.phone_now(at("2026-12-24T10:00:00")) == clinic.clinic_phone_day
    assert clinic.phone_now(at("2026-12-28T10:00:00")) == clinic.clinic_phone_day  # Monday after
    assert clinic.phone_now(at("2026-12-24T18:30:00")) == clinic.clinic_phone_after_hours  # evening


def test_the_holiday_is_the_clinics_local_date_not_utc(clinic):
    # The date that counts is the clinic's: 16:00 UTC on the 25th is 10:00 in Chicago, a holiday.
    assert not clinic.is_open(dt.datetime(2026, 12, 25, 16, 0, tzinfo=dt.timezone.utc))  # 10:00 local
    assert clinic.is_open(dt.datetime(2026, 12, 24, 23, 0, tzinfo=dt.timezone.utc))  # 17:00 local, the 24th
    tokyo = ClinicSettings(clinic_timezone="Asia/Tokyo", clinic_holidays="2026-12-25")
    assert not tokyo.is_open(dt.datetime(2026, 12, 25, 1, 0, tzinfo=dt.timezone.utc))  # 10:00 on the 25th
    assert tokyo.is_open(dt.datetime(2026, 12, 24, 1, 0, tzinfo=dt.timezone.utc))  # 10:00 on the 24th


def test_answers_on_a_holiday_give_the_after_hours_number(clinic):
    content = load_content(clinic.content_path)
    holiday, workday = at("2026-12-25T10:00:00"), at("2026-12-24T10:00:00")
    for answer in (content.topic_answer("soreness", clinic, holiday), content.reply("call_provider", clinic, holiday)):
        assert clinic.clinic_phone_after_hours in answer.text and clinic.clinic_phone_day not in answer.text
    assert clinic.clinic_phone_day in content.reply("call_provider", clinic, now=workday).text


def test_no_holidays_by_default():
    clinic = ClinicSettings()
    assert clinic.holidays == frozenset()
    assert clinic.phone_now(at("2026-12-25T10:00:00")) == clinic.clinic_phone_day


def test_the_setting_is_read_from_the_environment(monkeypatch):
    monkeypatch.setenv("AFTERCARE_CLINIC_HOLIDAYS", "2026-12-25,2026-12-26,")
    assert ClinicSettings().holidays == {dt.date(2026, 12, 25), dt.date(2026, 12, 26)}
    assert Settings().clinic.holidays == {dt.date(2026, 12, 25), dt.date(2026, 12, 26)}


@pytest.mark.parametrize("value", ["2026-25-12", "25/12/2026", "Christmas", "2026-12-25;2027-01-01"])
def test_a_date_that_is_not_iso_is_refused_with_a_clear_error(value, monkeypatch):
    with pytest.raises(ValidationError) as refused:
        ClinicSettings(clinic_holidays=value)
    message = str(refused.value)
    assert "AFTERCARE_CLINIC_HOLIDAYS" in message and "YYYY-MM-DD" in message
    monkeypatch.setenv("AFTERCARE_CLINIC_HOLIDAYS", value)
    with pytest.raises(ValidationError, match="AFTERCARE_CLINIC_HOLIDAYS"):
        Settings()  # the service refuses to start
