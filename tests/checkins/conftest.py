"""Check-in fixtures: settings with a service key and Twilio pointed at the local fake, an app
without a model (enrollment needs none), and service tokens."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from api.enrollments.auth import mint_service_token
from api.main import create_app
from tests.checkins.fake_twilio import start_fake_twilio
from tests.conftest import settings_in

SERVICE_KEY = "test-service-key-0123456789-abcdefghijklmnop"  # noqa: S105 (test key)
TWILIO_SID = "AC" + "0" * 32
TWILIO_TOKEN = "test-twilio-auth-token"  # noqa: S105 (test key)
CLINIC_FROM = "+15550001111"
PUBLIC_BASE = "https://aftercare.clinic.example"


@pytest.fixture
def fake_twilio():
    fake = start_fake_twilio()
    yield fake
    fake.server.shutdown()
    fake.server.server_close()


@pytest.fixture
def make_settings(tmp_path, fake_twilio):
    def make(**overrides):
        values = {
            "service_token_hs256_keys": SERVICE_KEY,
            "twilio_account_sid": TWILIO_SID,
            "twilio_auth_token": TWILIO_TOKEN,
            "twilio_from_number": CLINIC_FROM,
            "twilio_api_base": fake_twilio.base,
            "public_base_url": PUBLIC_BASE,
            **overrides,
        }
        return settings_in(tmp_path, **values)

    return make


@pytest.fixture
def client(settings):
    with TestClient(create_app(settings, load_assistant=False)) as test_client:
        yield test_client


@pytest.fixture
def service(settings) -> dict[str, str]:
    return {"Authorization": f"Bearer {mint_service_token('ehr-engine', settings)}"}


def enrollment_body(**overrides):
    body = {
        "external_id": "ehr-0001",
        "patient_id": "patient-1",
        "procedure_at": "2026-11-30T14:00:00-06:00",
        "timezone": "America/Chicago",
        "channels": ["portal", "sms"],
        "phone_number": "+15555550123",
        "site": "hip",
        "risk_flags": ["anticoagulant"],
    }
    body.update(overrides)
    return body
