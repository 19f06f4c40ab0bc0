"""The OpenAPI document is public only in development; in production only staff read it.
No CDN-loaded documentation pages exist at all (the CSP would block them anyway)."""

from __future__ import annotations

import secrets

import pytest

from api.settings import Settings
from tests.staff.conftest import login


def production_settings(tmp_path) -> Settings:
    return Settings(
        environment="production",
        database_url=f"sqlite:///{tmp_path}/t.db",
        patient_token_hs256_keys=secrets.token_urlsafe(32),
        staff_session_key=secrets.token_urlsafe(32),
        webhook_key=secrets.token_urlsafe(32),
        allowed_origins="https://portal.example",
    )


@pytest.fixture
def settings(tmp_path) -> Settings:
    return production_settings(tmp_path)


def test_production_serves_the_openapi_document_to_staff_only(client, nurse):
    anonymous = client.get("/openapi.json")
    assert anonymous.status_code == 401 and anonymous.json()["error"]["code"] == "unauthorized"
    headers = login(client, "nurse@clinic.test")
    assert "/api/v1/conversations" in client.get("/openapi.json", headers=headers).json()["paths"]


@pytest.mark.parametrize("path", ["/docs", "/redoc", "/docs/oauth2-redirect"])
def test_no_cdn_documentation_pages_in_any_environment(client, path):
    assert client.get(path).status_code == 404
