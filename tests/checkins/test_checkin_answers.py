"""The check-in conversation (issue 15 part 4): the questions open the patient's portal
conversation, a portal answer becomes the check-in's structured response, and check-ins left
unanswered past the clinic's time are listed for staff (not escalated)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from api.conversations.models import Conversation
from api.core.time import utcnow
from api.db import transaction
from api.enrollments.checkins import run_due
from api.enrollments.models import CheckIn
from api.escalations.models import Escalation
from api.main import create_app
from api.staff.accounts import create_staff
from tests.checkins.helpers import enroll_patient
from tests.conftest import auth

PASSWORD = "correct horse battery staple"  # noqa: S105 (test account)


@pytest.fixture
def app_client(settings):
    with TestClient(create_app(settings, load_assistant=False)) as client:
        yield client


@pytest.fixture
def staff_headers(app_client):
    with transaction(app_client.app.state.ctx.sessions) as session:
        create_staff(session, "nurse@clinic.test", "Nora Nurse", "nurse", PASSWORD)
    response = app_client.post("/api/v1/staff/session", json={"email": "nurse@clinic.test", "password": PASSWORD})
    assert response.status_code == 201, response.text
    app_client.cookies.clear()
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def _two_days_ago_at_ten_chicago() -> dt.datetime:
    """A real moment (the list reads the clock) two days back, at 10:05 in Chicago."""
    local = (utcnow() - dt.timedelta(days=2)).astimezone(ZoneInfo("America/Chicago"))
    return local.replace(hour=10, minute=5, second=0, microsecond=0)


def _send_two_checkins(app_client, settings) -> dict[str, str]:
    """Two portal patients whose day-1 check-in went out two days ago: {patient: conversation}."""
    sessions = app_client.app.state.ctx.sessions
    sent_at = _two_days_ago_at_ten_chicago()
    for n in (1, 2):
        enroll_patient(
            sessions,
            settings,
            external_id=f"ehr-{n}",
            patient_id=f"patient-{n}",
            channels=["portal"],
            phone_number=None,
            procedure_at=(sent_at - dt.timedelta(days=1)).isoformat(),
        )
    assert run_due(sessions, settings, sent_at, None).sent == 2
    with transaction(sessions) as session:
        query = sa.select(Conversation.patient_id, Conversation.id).join(
            CheckIn, CheckIn.conversation_id == Conversation.id
        )
        rows = session.execute(query)
        return {row.patient_id: row.id for row in rows}


def test_unanswered_checkins_are_listed_for_staff_and_an_answer_takes_one_off(app_client, settings, staff_headers):
    conversations = _send_two_checkins(app_client, settings)
    first_message = app_client.get(
        f"/api/v1/conversations/{conversations['patient-1']}/messages", headers=auth(settings, "patient-1")
    ).json()["messages"][0]
    assert first_message["role"] == "assistant" and "check-in" in first_message["text"]

    answer = app_client.post(
        f"/api/v1/conversations/{conversations['patient-1']}/messages",
        json={"text": "the pain is worse and the site is swollen"},
        headers=auth(settings, "patient-1"),
    )
    assert answer.status_code == 200 and answer.json()["escalation_id"]  # the same triage path

    listed = app_client.get("/api/v1/checkins/unanswered", headers=staff_headers)
    assert listed.status_code == 200, listed.text
    assert [c["patient_id"] for c in listed.json()["checkins"]] == ["patient-2"]
    with transaction(app_client.app.state.ctx.sessions) as session:
        answered = session.execute(sa.select(CheckIn).where(CheckIn.status == "answered")).scalar_one()
        assert answered.response["pain"] == "worse" and answered.response["redness_or_swelling"] is True
        # An unanswered check-in is a list entry, not an escalation: only the worsening answer escalated.
        assert session.execute(sa.select(sa.func.count()).select_from(Escalation)).scalar_one() == 1


def test_the_unanswered_list_is_for_staff_only(app_client, settings):
    assert app_client.get("/api/v1/checkins/unanswered").status_code == 401
    assert app_client.get("/api/v1/checkins/unanswered", headers=auth(settings)).status_code == 401


def test_a_recent_checkin_is_not_yet_unanswered(app_client, settings, staff_headers):
    sessions = app_client.app.state.ctx.sessions
    local = utcnow().astimezone(ZoneInfo("America/Chicago"))
    enroll_patient(
        sessions,
        settings,
        channels=["portal"],
        phone_number=None,
        procedure_at=(local - dt.timedelta(days=3)).isoformat(),
    )
    # Sent now (whatever the hour: the window is opened for this test), so not yet overdue.
    settings.checkin_contact_window, settings.checkin_quiet_hours = "00:00-23:59", "23:59-00:00"
    assert run_due(sessions, settings, utcnow(), None).sent >= 1
    assert app_client.get("/api/v1/checkins/unanswered", headers=staff_headers).json()["checkins"] == []
