"""Enrollment (issue 15 part 1, SVC-1): service-token auth, idempotency, validation, change,
withdrawal, risk flags for triage, and the CSV command."""

from __future__ import annotations

import time

import jwt
import pytest

from api.db import transaction
from api.enrollments.auth import SERVICE_AUDIENCE
from api.enrollments.service import risk_flags_for_patient
from bot.cli import main as aftercare
from tests.checkins.conftest import SERVICE_KEY, enrollment_body
from tests.conftest import auth


def _token(settings, **claims):
    now = int(time.time())
    values = {
        "sub": "ehr-engine",
        "iss": settings.service_token_issuer,
        "aud": SERVICE_AUDIENCE,
        "iat": now,
        "exp": now + 600,
        **claims,
    }
    return {"Authorization": "Bearer " + jwt.encode(values, SERVICE_KEY, algorithm="HS256")}


def test_enrolling_answers_201_then_200_with_the_same_id(client, service):
    first = client.post("/api/v1/enrollments", json=enrollment_body(), headers=service)
    again = client.post("/api/v1/enrollments", json=enrollment_body(), headers=service)
    assert first.status_code == 201, first.text
    assert again.status_code == 200
    assert again.json()["enrollment_id"] == first.json()["enrollment_id"]
    assert [c["day"] for c in first.json()["checkins"]] == [1, 3, 7]


def test_a_patient_token_is_refused(client, settings):
    response = client.post("/api/v1/enrollments", json=enrollment_body(), headers=auth(settings))
    assert response.status_code == 401


def test_a_patient_token_is_refused_even_when_the_keys_are_shared(make_settings):
    from fastapi.testclient import TestClient

    from api.main import create_app

    settings = make_settings(patient_token_hs256_keys=SERVICE_KEY)
    with TestClient(create_app(settings, load_assistant=False)) as client:
        response = client.post("/api/v1/enrollments", json=enrollment_body(), headers=auth(settings))
    assert response.status_code == 401  # wrong audience and issuer


@pytest.mark.parametrize(
    "claims",
    [
        {"aud": "marrow-aftercare"},  # a patient audience
        {"iss": "someone-else"},
        {"exp": int(time.time()) + 3600},  # over 15 minutes away
        {"exp": int(time.time()) - 120},  # expired
        {"sub": ""},
        {"sub": "ehr-engine\n2026-12-01 audit: forged line"},  # a newline would forge an audit line
        {"sub": "ehr\x00engine"},
        {"sub": "ehr-\u202eenigne"},  # a bidi override shows another name on a staff screen
        {"sub": "x" * 129},
    ],
    ids=[
        "patient-audience",
        "wrong-issuer",
        "lifetime-over-15-minutes",
        "expired",
        "no-subject",
        "newline-in-subject",
        "nul-in-subject",
        "bidi-in-subject",
        "subject-too-long",
    ],
)
def test_bad_service_tokens_are_refused(client, settings, claims):
    response = client.post("/api/v1/enrollments", json=enrollment_body(), headers=_token(settings, **claims))
    assert response.status_code == 401


def test_a_token_under_another_key_is_refused(client, settings):
    now = int(time.time())
    claims = {"sub": "x", "iss": settings.service_token_issuer, "aud": SERVICE_AUDIENCE, "exp": now + 60}
    headers = {"Authorization": "Bearer " + jwt.encode(claims, "another-key-" + "0" * 32, algorithm="HS256")}
    assert client.post("/api/v1/enrollments", json=enrollment_body(), headers=headers).status_code == 401


def test_no_token_is_401(client):
    assert client.post("/api/v1/enrollments", json=enrollment_body()).status_code == 401


@pytest.mark.parametrize(
    "change",
    [
        {"phone_number": None},  # sms without a number
        {"phone_number": "555-0123"},  # not E.164
        {"timezone": "Central Time"},  # not IANA
        {"procedure_at": "2026-11-30T14:00:00"},  # no offset
        {"channels": []},
        {"channels": ["email"]},
        {"risk_flags": ["unknown_flag"]},
        {"site": "knee"},
    ],
    ids=[
        "sms-without-number",
        "phone-not-e164",
        "timezone-not-iana",
        "time-without-offset",
        "no-channel",
        "unknown-channel",
        "unknown-risk-flag",
        "unknown-site",
    ],
)
def test_invalid_enrollments_are_422(client, service, change):
    response = client.post("/api/v1/enrollments", json=enrollment_body(**change), headers=service)
    assert response.status_code == 422, response.text


def test_portal_only_needs_no_number(client, service):
    body = enrollment_body(channels=["portal"], phone_number=None)
    assert client.post("/api/v1/enrollments", json=body, headers=service).status_code == 201


def test_patch_changes_and_reschedules_and_delete_withdraws(client, service):
    enrollment_id = client.post("/api/v1/enrollments", json=enrollment_body(), headers=service).json()["enrollment_id"]
    url = f"/api/v1/enrollments/{enrollment_id}"
    changed = client.patch(
        url, json={"channels": ["portal"], "procedure_at": "2026-12-02T09:00:00-06:00"}, headers=service
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["channels"] == ["portal"]
    assert changed.json()["checkins"][0]["due_at"] == "2026-12-03T16:00:00+00:00"  # 10:00 Chicago
    assert client.patch(url, json={"channels": ["sms"], "phone_number": None}, headers=service).status_code == 422
    assert client.delete(url, headers=service).status_code == 204
    after = client.get(url, headers=service).json()
    assert after["status"] == "withdrawn"
    assert {c["status"] for c in after["checkins"]} == {"cancelled"}
    assert client.delete("/api/v1/enrollments/unknown", headers=service).status_code == 404


def test_risk_flags_are_there_for_triage(client, service):
    body = enrollment_body(risk_flags=["low_platelets", "anticoagulant"])
    client.post("/api/v1/enrollments", json=body, headers=service)
    with transaction(client.app.state.ctx.sessions) as session:
        assert risk_flags_for_patient(session, "patient-1") == ["anticoagulant", "low_platelets"]
        assert risk_flags_for_patient(session, "patient-2") == []


def test_enroll_csv_prints_a_line_per_row_and_clear_errors(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("AFTERCARE_DATABASE_URL", f"sqlite:///{tmp_path}/cli.db")
    rows = tmp_path / "discharges.csv"
    rows.write_text(
        "external_id,patient_id,procedure_at,timezone,channels,phone_number,language,site,risk_flags\n"
        "ehr-1,p-1,2026-11-30T14:00:00-06:00,America/Chicago,portal;sms,+15555550123,en,hip,anticoagulant;child\n"
        "ehr-2,p-2,2026-11-30T14:00:00-06:00,Mars/Olympus,portal,,en,hip,\n"
        "ehr-3,p-3,2026-11-30T14:00:00-06:00,America/Chicago,sms,,en,sternum,\n",
        encoding="utf-8",
    )
    with pytest.raises(SystemExit) as exit_:
        aftercare(["enroll", "--csv", str(rows)])
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("line 2: enrolled ehr-1 (enrollment ")
    assert lines[1] == "line 3: error: timezone: timezone must be an IANA name such as America/Chicago"
    assert lines[2] == "line 4: error: phone_number (E.164) is required for the sms channel"
    assert "2 row(s) not enrolled" in str(exit_.value.code)
    with pytest.raises(SystemExit):
        aftercare(["enroll", "--csv", str(rows)])
    assert capsys.readouterr().out.splitlines()[0].startswith("line 2: already enrolled ehr-1")


def test_enroll_csv_names_a_missing_file(tmp_path, monkeypatch):
    monkeypatch.setenv("AFTERCARE_DATABASE_URL", f"sqlite:///{tmp_path}/cli.db")
    with pytest.raises(SystemExit) as exit_:
        aftercare(["enroll", "--csv", str(tmp_path / "nope.csv")])
    assert "no such file" in str(exit_.value.code)
