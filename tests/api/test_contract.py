"""The API contract says what the service does, and the service does what it says (ERR-1):
offsets on timestamps, nullable fields marked, the 400 documented, JSON for refused CORS
preflights, and 405s that list the allowed methods."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.conftest import auth, make_client


@pytest.fixture
def failsafe_client(settings):
    """No model: the fail-safe path answers, which is all the contract needs."""
    with make_client(settings, None) as client:
        yield client


def test_transcript_timestamps_carry_an_offset(failsafe_client, settings):
    headers = auth(settings)
    cid = failsafe_client.post("/api/v1/conversations", headers=headers).json()["conversation_id"]
    failsafe_client.post(f"/api/v1/conversations/{cid}/messages", json={"text": "hello"}, headers=headers)
    lines = failsafe_client.get(f"/api/v1/conversations/{cid}/messages", headers=headers).json()["messages"]
    assert lines and all(dt.datetime.fromisoformat(line["created_at"]).utcoffset() == dt.timedelta(0) for line in lines)


def test_fields_that_can_be_null_are_documented_as_nullable(failsafe_client, settings):
    schemas = failsafe_client.get("/openapi.json").json()["components"]["schemas"]
    escalation_id = schemas["MessageResult"]["properties"]["escalation_id"]
    assert {"type": "null"} in escalation_id["anyOf"]
    headers = auth(settings)
    cid = failsafe_client.post("/api/v1/conversations", headers=headers).json()["conversation_id"]
    body = failsafe_client.post(f"/api/v1/conversations/{cid}/messages", json={"text": "hello"}, headers=headers)
    assert body.json()["escalation_id"] is None  # what the document now allows


def test_the_400_for_a_broken_body_is_documented_and_has_the_error_shape(failsafe_client, settings):
    document = failsafe_client.get("/openapi.json").json()
    for path in ("/api/v1/conversations/{conversation_id}/messages", "/webhooks/rest/webhook"):
        assert "400" in document["paths"][path]["post"]["responses"]
    assert document["paths"]["/webhooks/rest/webhook"]["post"]["responses"]["422"]["content"]["application/json"][
        "schema"
    ] == {"$ref": "#/components/schemas/Error"}
    response = failsafe_client.post("/webhooks/rest/webhook", content=b"{not json", headers=auth(settings))
    assert response.status_code == 400 and set(response.json()) == {"error", "request_id"}


def test_a_refused_cors_preflight_answers_json(failsafe_client, settings):
    preflight = {"Access-Control-Request-Method": "POST"}
    refused = failsafe_client.options("/api/v1/conversations", headers={**preflight, "Origin": "https://evil.example"})
    assert refused.status_code == 400 and refused.headers["content-type"] == "application/json"
    assert refused.json()["error"]["code"] == "cors_refused"
    allowed = failsafe_client.options("/api/v1/conversations", headers={**preflight, "Origin": settings.origins[0]})
    assert allowed.status_code == 200 and allowed.headers["access-control-allow-origin"] == settings.origins[0]


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [("PUT", "/api/v1/staff/session", "DELETE, GET, POST"), ("DELETE", "/api/v1/conversations", "POST")],
)
def test_405_lists_every_allowed_method(failsafe_client, method, path, allow):
    response = failsafe_client.request(method, path)
    assert response.status_code == 405 and response.headers["allow"] == allow
    assert response.json()["error"]["code"] == "method_not_allowed"
