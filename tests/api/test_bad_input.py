"""Every bad-input class gets a clear JSON error with a stable shape, and nothing is stored."""

import pytest
import sqlalchemy as sa

from api.conversations.models import Message


def _stored_messages(client) -> int:
    with client.app.state.ctx.sessions() as session:
        return session.execute(sa.select(sa.func.count()).select_from(Message)).scalar_one()


def _post_raw(client, patient, conversation, content, content_type="application/json"):
    return client.post(
        f"/api/v1/conversations/{conversation}/messages",
        content=content,
        headers={**patient, "Content-Type": content_type},
    )


@pytest.mark.parametrize(
    ("content", "status", "code"),
    [
        ('{"text": ""}', 422, "validation_error"),
        ('{"text": "   \\n\\t "}', 422, "validation_error"),
        ('{"text": "' + "a" * 2001 + '"}', 422, "text_too_long"),
        ('{"text": "unfinished', 400, "invalid_json"),
        ('{"text": 42}', 422, "validation_error"),
        ('{"text": ["a"]}', 422, "validation_error"),
        ("{}", 422, "validation_error"),
        ('{"text": "' + "a" * 17000 + '"}', 413, "payload_too_large"),
    ],
    ids=["empty", "whitespace", "too-long", "invalid-json", "number", "list", "missing", "body-over-16k"],
)
def test_rejected_and_nothing_stored(client, patient, conversation, content, status, code):
    response = _post_raw(client, patient, conversation, content)
    assert response.status_code == status
    body = response.json()
    assert body["error"]["code"] == code
    assert set(body) == {"error", "request_id"} and set(body["error"]) == {"code", "message"}
    assert "Traceback" not in response.text
    assert _stored_messages(client) == 0


def test_error_bodies_do_not_echo_patient_text(client, patient, conversation):
    response = _post_raw(client, patient, conversation, '{"text": 12, "extra": "CANARY-ECHO"}')
    assert "CANARY-ECHO" not in response.text


def test_unknown_conversation_is_404(client, patient):
    response = client.post("/api/v1/conversations/doesnotexist/messages", json={"text": "hi"}, headers=patient)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_transcript_page_size_is_bounded(client, patient, conversation):
    response = client.get(f"/api/v1/conversations/{conversation}/messages?limit=100000", headers=patient)
    assert response.status_code == 422


def test_patient_rate_limit_answers_429(settings, assistant, patient):
    from tests.conftest import make_client

    settings.patient_rate_limit = "2/minute"
    with make_client(settings, assistant) as client:
        statuses = [client.post("/api/v1/conversations", headers=patient).status_code for _ in range(3)]
    assert statuses == [201, 201, 429]
