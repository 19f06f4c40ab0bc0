"""Schedule and run-due (issue 15 part 2) with a controlled clock: the patient's timezone
across a DST change, quiet hours, exactly once with two workers racing, and a kill between
claim and send."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
import sqlalchemy as sa

from api.db import transaction
from api.enrollments.checkins import claim_due, run_due
from api.enrollments.models import CheckIn
from api.enrollments.schedule import due_times
from api.sms.client import sms_sender
from bot.cli import main as aftercare
from tests.checkins.conftest import CLINIC_FROM, TWILIO_SID
from tests.checkins.helpers import PG_URL, enroll_patient, fresh_postgres_url, open_sessions

CHICAGO = dt.timezone(dt.timedelta(hours=-6))


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


@pytest.fixture
def sessions(settings):
    engine, factory = open_sessions(settings.database_url)
    yield factory
    engine.dispose()


def test_days_are_local_days_at_the_local_time_across_a_dst_change(settings):
    # Chicago leaves daylight time on Sunday 1 November 2026: 10:00 local is 15:00 UTC before, 16:00 after.
    due = due_times(at("2026-10-30T16:00:00-05:00"), "America/Chicago", settings)
    assert due[1] == at("2026-10-31T15:00:00+00:00")
    assert due[3] == at("2026-11-02T16:00:00+00:00")
    assert due[7] == at("2026-11-06T16:00:00+00:00")


def test_a_late_evening_procedure_counts_days_in_the_patients_timezone(settings):
    # 23:30 in Tokyo is still the previous day in UTC: day 1 is the next Tokyo day.
    due = due_times(at("2026-11-30T23:30:00+09:00"), "Asia/Tokyo", settings)
    assert due[1] == at("2026-12-01T10:00:00+09:00")


def test_offsets_and_time_are_the_clinics(make_settings):
    settings = make_settings(checkin_offsets_days="3,15", checkin_local_time="17:30")
    due = due_times(at("2026-11-30T14:00:00-06:00"), "America/Chicago", settings)
    assert due == {3: at("2026-12-03T17:30:00-06:00"), 15: at("2026-12-15T17:30:00-06:00")}


def test_a_checkin_time_in_quiet_hours_is_refused(make_settings):
    with pytest.raises(ValueError, match="quiet hours"):
        make_settings(checkin_local_time="22:00")


def test_run_due_sends_once_and_says_how_many(settings, sessions, fake_twilio, monkeypatch, capsys):
    enroll_patient(sessions, settings)  # procedure 2026-11-30 14:00 Chicago: day 1 due 2026-12-01 10:00
    for name, value in {
        "DATABASE_URL": settings.database_url,
        "TWILIO_ACCOUNT_SID": TWILIO_SID,
        "TWILIO_AUTH_TOKEN": settings.twilio_auth_token,
        "TWILIO_FROM_NUMBER": CLINIC_FROM,
        "TWILIO_API_BASE": fake_twilio.base,
    }.items():
        monkeypatch.setenv(f"AFTERCARE_{name}", value)
    aftercare(["checkins", "run-due", "--now", "2026-12-01T09:55:00-06:00"])
    aftercare(["checkins", "run-due", "--now", "2026-12-01T10:05:00-06:00"])
    aftercare(["checkins", "run-due", "--now", "2026-12-01T10:05:00-06:00"])
    assert capsys.readouterr().out.splitlines() == ["sent 0 check-in(s)", "sent 1 check-in(s)", "sent 0 check-in(s)"]
    [request] = fake_twilio.requests
    assert request.path == f"/2010-04-01/Accounts/{TWILIO_SID}/Messages.json"
    assert request.form["To"] == "+15555550123" and request.form["From"] == CLINIC_FROM


def test_the_sms_says_the_minimum(settings, sessions, fake_twilio):
    enroll_patient(sessions, settings, channels=["sms"])
    run_due(sessions, settings, at("2026-12-01T10:05:00-06:00"), sms_sender(settings))
    [body] = [m["Body"] for m in fake_twilio.messages()]
    clinic = settings.clinic
    assert clinic.clinic_name in body and clinic.phone_now(at("2026-12-01T10:05:00-06:00")) in body
    assert settings.portal_url in body and "STOP" in body
    assert not {"biopsy", "bone marrow", "marrow", "patient-1"} & set(body.lower().split())
    assert len(body) <= 320  # two SMS segments at most


def test_the_number_in_a_check_in_is_the_one_for_the_moment_it_is_sent(make_settings, fake_twilio):
    """A check-in sent on a clinic holiday names the after-hours line, whatever the real clock says."""
    from bot.content import ClinicSettings

    settings = make_settings(clinic=ClinicSettings(clinic_holidays="2026-12-01"))
    engine, sessions = open_sessions(settings.database_url)
    enroll_patient(sessions, settings, channels=["sms"])
    run_due(sessions, settings, at("2026-12-01T10:05:00-06:00"), sms_sender(settings))
    engine.dispose()
    [body] = [m["Body"] for m in fake_twilio.messages()]
    clinic = settings.clinic
    assert clinic.clinic_phone_day != clinic.clinic_phone_after_hours
    assert clinic.clinic_phone_after_hours in body and clinic.clinic_phone_day not in body


def test_nothing_is_sent_in_quiet_hours_or_outside_the_contact_window(settings, sessions, fake_twilio):
    enroll_patient(sessions, settings)
    sender = sms_sender(settings)
    # The scheduler was down all day: at 23:30 it is quiet hours, 08:30 is before the window opens.
    assert run_due(sessions, settings, at("2026-12-01T23:30:00-06:00"), sender).sent == 0
    assert run_due(sessions, settings, at("2026-12-02T08:30:00-06:00"), sender).sent == 0
    assert run_due(sessions, settings, at("2026-12-02T09:30:00-06:00"), sender).sent == 1
    assert len(fake_twilio.messages()) == 1


def test_a_kill_between_claim_and_send_is_retried_after_the_lease(settings, sessions, fake_twilio):
    enroll_patient(sessions, settings)
    now = at("2026-12-01T10:05:00-06:00")
    assert len(claim_due(sessions, settings, now, limit=10)) == 1  # the worker dies here
    sender = sms_sender(settings)
    assert run_due(sessions, settings, now + dt.timedelta(seconds=60), sender).sent == 0  # lease still held
    later = now + dt.timedelta(seconds=settings.checkin_lease_seconds + 1)
    assert run_due(sessions, settings, later, sender).sent == 1
    assert run_due(sessions, settings, later, sender).sent == 0
    assert len(fake_twilio.messages()) == 1


def test_a_provider_failure_is_retried_with_backoff(settings, sessions, fake_twilio):
    enroll_patient(sessions, settings)
    sender = sms_sender(settings)
    now = at("2026-12-01T10:05:00-06:00")
    fake_twilio.fail_next = 1
    first = run_due(sessions, settings, now, sender)
    assert (first.sent, first.failed) == (0, 1)
    assert run_due(sessions, settings, now + dt.timedelta(seconds=10), sender).sent == 0  # backing off
    later = now + dt.timedelta(seconds=settings.checkin_lease_seconds + 1)
    assert run_due(sessions, settings, later, sender).sent == 1
    with transaction(sessions) as session:
        checkin = session.execute(sa.select(CheckIn).where(CheckIn.day_offset == 1)).scalar_one()
        assert (checkin.status, checkin.attempts) == ("sent", 2)


def test_the_portal_checkin_is_the_first_message_of_the_patients_conversation(settings, sessions, fake_twilio):
    from fastapi.testclient import TestClient

    from api.main import create_app
    from tests.conftest import auth

    enroll_patient(sessions, settings, channels=["portal"], phone_number=None)
    assert run_due(sessions, settings, at("2026-12-01T10:05:00-06:00"), None).sent == 1
    with transaction(sessions) as session:
        query = sa.select(CheckIn.conversation_id).where(CheckIn.day_offset == 1)
        conversation_id = session.execute(query).scalar_one()
    with TestClient(create_app(settings, load_assistant=False)) as client:
        lines = client.get(f"/api/v1/conversations/{conversation_id}/messages", headers=auth(settings)).json()
    first = lines["messages"][0]
    assert first["role"] == "assistant" and "day 1 check-in" in first["text"]
    assert "pain better, the same or worse" in first["text"]
    assert fake_twilio.messages() == []


def _race(settings, sessions, fake_twilio, patients: int) -> list[int]:
    for n in range(patients):
        enroll_patient(sessions, settings, external_id=f"ehr-{n}", patient_id=f"p-{n}", phone_number=f"+1555555{n:04d}")
    now = at("2026-12-01T10:05:00-06:00")
    start = threading.Barrier(2)
    sent: list[int] = []

    def worker() -> None:
        sender = sms_sender(settings)
        start.wait()
        sent.append(run_due(sessions, settings, now, sender).sent)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sent


def test_two_workers_racing_send_each_checkin_once_on_sqlite(settings, sessions, fake_twilio):
    sent = _race(settings, sessions, fake_twilio, patients=12)
    assert sum(sent) == 12
    assert sorted(m["To"] for m in fake_twilio.messages()) == sorted(f"+1555555{n:04d}" for n in range(12))


@pytest.mark.skipif(not PG_URL, reason="needs AFTERCARE_TEST_POSTGRES_URL (.ci/run sets it)")
def test_two_workers_racing_send_each_checkin_once_on_postgresql(make_settings, fake_twilio):
    settings = make_settings(database_url=fresh_postgres_url())
    engine, sessions = open_sessions(settings.database_url)
    try:
        sent = _race(settings, sessions, fake_twilio, patients=20)
    finally:
        engine.dispose()
    assert sum(sent) == 20
    assert sorted(m["To"] for m in fake_twilio.messages()) == sorted(f"+1555555{n:04d}" for n in range(20))


@pytest.mark.parametrize("value", ["2026-12-01T10:05:00", "tomorrow"])
def test_run_due_refuses_a_moment_without_an_offset(value, capsys):
    from bot.cli import build_parser

    with pytest.raises(SystemExit) as exit_:
        build_parser().parse_args(["checkins", "run-due", "--now", value])
    assert exit_.value.code == 2
    assert "argument --now" in capsys.readouterr().err
