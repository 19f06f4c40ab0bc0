"""No input makes a patient message end in a 500 (RES-3): malformed characters are made storable
and still triaged, numbers and dates out of range and broken bodies get a JSON 4xx, and whatever
fails below the reply still gets the safe reply with the clinic's number. A 500 that does
happen carries the security headers and its request id (ERR-1, HDR-1)."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa
from fastapi import FastAPI

from api.escalations.models import Escalation
from api.settings import Settings
from tests.conftest import auth, make_client

WARNING_WITH_HALF_AN_EMOJI = '{"text": "I have a fever of 39 and the site is bleeding \\ud83d"}'


@pytest.fixture
def failsafe_client(settings):
    with make_client(settings, None) as client:
        yield client


def _conversation(client, headers) -> str:
    return client.post("/api/v1/conversations", headers=headers).json()["conversation_id"]


def _post_raw(client, path: str, body: bytes | str, headers: dict):
    return client.post(path, content=body, headers={**headers, "Content-Type": "application/json"})


def _escalations(client) -> list[Escalation]:
    with client.app.state.ctx.sessions() as session:
        return list(session.execute(sa.select(Escalation)).scalars())


def _assert_safe_reply(client, body: dict) -> None:
    assert body["triage"]["level"] == "call_provider"
    assert client.app.state.ctx.clinic.phone_now() in body["replies"][0]["text"]


def test_half_an_emoji_does_not_cost_a_warning_sign_its_reply(failsafe_client, settings):
    headers = auth(settings)
    cid = _conversation(failsafe_client, headers)
    response = _post_raw(failsafe_client, f"/api/v1/conversations/{cid}/messages", WARNING_WITH_HALF_AN_EMOJI, headers)
    assert response.status_code == 200
    _assert_safe_reply(failsafe_client, response.json())
    [escalation] = _escalations(failsafe_client)
    assert escalation.id == response.json()["escalation_id"]
    transcript = failsafe_client.get(f"/api/v1/conversations/{cid}/messages", headers=headers).json()["messages"]
    assert transcript[0]["text"].endswith("bleeding \ufffd")


def test_half_an_emoji_on_the_rest_webhook(failsafe_client, settings):
    body = '{"sender": "conv-surrogate-1", "message": "fever of 39 \\udc00"}'
    response = _post_raw(failsafe_client, "/webhooks/rest/webhook", body, auth(settings))
    assert response.status_code == 200 and response.json()[0]["custom"]["escalation_id"]


@pytest.fixture(params=["sqlite", "postgresql"])
def any_database_client(request, tmp_path):
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path}/a.db"
    else:
        from tests.api.test_persistence import _fresh_postgres_schema  # skips without a server

        url = _fresh_postgres_schema()
    settings = Settings(database_url=url, spool_path=tmp_path / "spool.jsonl")
    with make_client(settings, None) as client:
        yield client, settings


@pytest.mark.postgres
def test_a_nul_character_is_stored_as_a_replacement_and_the_sign_escalated(any_database_client):
    """PostgreSQL refuses NUL in text (the driver raised ValueError, which nothing caught)."""
    client, settings = any_database_client
    headers = auth(settings)
    cid = _conversation(client, headers)
    body = '{"text": "the site is bleeding\\u0000 and I have a fever of 39"}'
    response = _post_raw(client, f"/api/v1/conversations/{cid}/messages", body, headers)
    assert response.status_code == 200 and response.json()["escalation_id"]
    assert not settings.spool_path.exists()  # stored, not merely spooled


def test_any_failure_while_storing_still_answers_and_spools(failsafe_client, settings, monkeypatch):
    """The spool used to catch only SQLAlchemyError; a driver's ValueError became a 500."""
    from api.messaging import service

    def driver_refuses(*args, **kwargs):
        raise ValueError("A string literal cannot contain NUL (0x00) characters.")

    headers = auth(settings)
    cid = _conversation(failsafe_client, headers)
    monkeypatch.setattr(service, "_persist", driver_refuses)
    response = failsafe_client.post(
        f"/api/v1/conversations/{cid}/messages", json={"text": "I have a fever of 39"}, headers=headers
    )
    assert response.status_code == 200
    _assert_safe_reply(failsafe_client, response.json())
    [spooled] = [json.loads(line) for line in settings.spool_path.read_text().splitlines()]
    assert (spooled["conversation_id"], spooled["tier"]) == (cid, "call_provider")


def test_a_crash_anywhere_below_the_reply_still_gets_the_number_and_a_spooled_escalation(
    failsafe_client, settings, monkeypatch
):
    """Even the detector failing: treated as a possible warning sign, spooled, answered."""
    ctx = failsafe_client.app.state.ctx
    headers = auth(settings)
    cid = _conversation(failsafe_client, headers)

    class BrokenDetector:
        def detect(self, text):
            raise RuntimeError("detector crashed")

    monkeypatch.setattr(ctx, "detector", BrokenDetector())
    response = failsafe_client.post(
        f"/api/v1/conversations/{cid}/messages", json={"text": "something is wrong"}, headers=headers
    )
    assert response.status_code == 200
    _assert_safe_reply(failsafe_client, response.json())
    assert json.loads(settings.spool_path.read_text())["tier"] == "call_provider"


def test_when_even_the_spool_fails_the_patient_still_gets_the_number(failsafe_client, settings, monkeypatch):
    from api.messaging import service

    def down(*args, **kwargs):
        raise OSError("disk full")

    headers = auth(settings)
    cid = _conversation(failsafe_client, headers)
    monkeypatch.setattr(service, "_persist", down)
    monkeypatch.setattr(failsafe_client.app.state.ctx.spool, "save", down)
    response = failsafe_client.post(
        f"/api/v1/conversations/{cid}/messages", json={"text": "I have a fever of 39"}, headers=headers
    )
    assert response.status_code == 200
    _assert_safe_reply(failsafe_client, response.json())


def test_a_database_outage_before_the_message_is_read_still_gives_the_number(failsafe_client, settings, monkeypatch):
    """Ownership cannot be checked without the database: no reply is safe to give, but the
    patient is told whom to call (503 with the clinic's number, never a bare 500)."""
    from api.conversations import repository

    def down(*args, **kwargs):
        raise sa.exc.OperationalError("SELECT", {}, Exception("database is down"))

    headers = auth(settings)
    cid = _conversation(failsafe_client, headers)
    monkeypatch.setattr(repository, "get_conversation", down)
    response = failsafe_client.post(
        f"/api/v1/conversations/{cid}/messages", json={"text": "I have a fever of 39"}, headers=headers
    )
    assert response.status_code == 503
    assert failsafe_client.app.state.ctx.clinic.phone_now() in response.json()["error"]["message"]


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/v1/conversations/{cid}/messages", b'{"text": "' + "\u00e9".encode("latin-1") + b'"}'),
        ("/webhooks/rest/webhook", b'{"sender": "s1234", "message": "\xff\xfe"}'),
        ("/api/v1/conversations/{cid}/messages", b"[" * 5000 + b"]" * 5000),
        ("/webhooks/rest/webhook", b'{"sender": "s1234", "message": ' + b"[" * 5000 + b"]" * 5000 + b"}"),
    ],
    ids=["invalid-utf8-message", "invalid-utf8-webhook", "deep-json-message", "deep-json-webhook"],
)
def test_broken_bodies_get_a_json_400(failsafe_client, settings, path, body):
    headers = auth(settings)
    cid = _conversation(failsafe_client, headers)
    response = _post_raw(failsafe_client, path.format(cid=cid), body, headers)
    assert response.status_code == 400 and response.json()["error"]["code"] in ("invalid_json", "bad_request")


@pytest.mark.parametrize("after_id", [2**63, 10**30])
def test_an_id_beyond_64_bits_is_a_422(failsafe_client, settings, after_id):
    headers = auth(settings)
    cid = _conversation(failsafe_client, headers)
    response = failsafe_client.get(f"/api/v1/conversations/{cid}/messages?after_id={after_id}", headers=headers)
    assert response.status_code == 422 and response.json()["error"]["code"] == "validation_error"


def test_a_500_carries_the_security_headers_and_its_request_id(settings, capfd):
    """ERR-1/HDR-1: the 500 used to come from outside every middleware: no headers, and the
    error log line said request_id null."""

    def boom():
        raise RuntimeError("a bug")

    with make_client(settings, None) as client:  # made here so its log handler writes to capfd
        app = client.app
        assert isinstance(app, FastAPI)
        app.add_api_route("/api/v1/test-only-boom", boom)
        response = client.get("/api/v1/test-only-boom", headers={"X-Request-ID": "req-boom-12345"})
    assert response.status_code == 500
    assert response.json()["error"]["code"] == "internal_error" and response.json()["request_id"] == "req-boom-12345"
    for header in ("content-security-policy", "x-content-type-options", "referrer-policy"):
        assert header in response.headers
    assert response.headers["x-request-id"] == "req-boom-12345" and response.headers["cache-control"] == "no-store"
    lines = [json.loads(line) for line in capfd.readouterr().err.splitlines() if line.startswith("{")]
    [error_line] = [line for line in lines if line["message"] == "unhandled error"]
    assert error_line["request_id"] == "req-boom-12345" and error_line["error_type"] == "RuntimeError"
