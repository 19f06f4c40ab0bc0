"""401 and 403/404 first: every patient route refuses a missing, bad or foreign identity."""

import time

import jwt
import pytest

from tests.conftest import auth

ROUTES = [
    ("post", "/api/v1/conversations", None),
    ("post", "/api/v1/conversations/{cid}/messages", {"text": "hello"}),
    ("get", "/api/v1/conversations/{cid}/messages", None),
    ("post", "/webhooks/rest/webhook", {"sender": "abc12345", "message": "hello"}),
]


def _call(client, method, path, body, headers, cid="x" * 32):
    return (
        getattr(client, method)(path.format(cid=cid), json=body, headers=headers)
        if body
        else getattr(client, method)(path.format(cid=cid), headers=headers)
    )


@pytest.mark.parametrize(("method", "path", "body"), ROUTES)
def test_missing_token_is_401(client, method, path, body):
    response = _call(client, method, path, body, {})
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthorized"


def _token(settings, **overrides):
    now = int(time.time())
    claims = {
        "sub": "patient-1",
        "iss": settings.patient_token_issuer,
        "aud": settings.patient_token_audience,
        "iat": now,
        "exp": now + 300,
    }
    claims.update(overrides)
    key = overrides.pop("_key", settings.hs256_keys[0])
    claims.pop("_key", None)
    return jwt.encode({k: v for k, v in claims.items() if v is not None}, key, algorithm="HS256")


# Times are relative to the moment each test runs (not to collection, which can be minutes
# earlier in a long run): a callable gets `now` and returns the claim overrides.
@pytest.mark.parametrize(
    "overrides",
    [
        lambda now: {"_key": "a-different-secret-that-is-long-enough-000"},
        lambda now: {"iss": "someone-else"},
        lambda now: {"aud": "another-service"},
        lambda now: {"exp": now - 120},
        lambda now: {"sub": None},
        lambda now: {"exp": now + 3600},  # lifetime over 15 minutes
        lambda now: {"sub": "patient-\u202e1"},  # DISP-1: a bidi override would display as another patient's id
        lambda now: {"sub": "patient\n1"},  # control characters have no place in an identifier
    ],
    ids=[
        "bad-signature",
        "wrong-issuer",
        "wrong-audience",
        "expired",
        "no-subject",
        "too-long-lived",
        "bidi-subject",
        "control-subject",
    ],
)
def test_bad_tokens_are_401(client, settings, overrides):
    headers = {"Authorization": f"Bearer {_token(settings, **overrides(int(time.time())))}"}
    assert client.post("/api/v1/conversations", headers=headers).status_code == 401


def test_alg_none_is_401(client, settings):
    now = int(time.time())
    claims = {
        "sub": "p",
        "iss": settings.patient_token_issuer,
        "aud": settings.patient_token_audience,
        "iat": now,
        "exp": now + 60,
    }
    # PyJWT's type hints omit the None key that algorithm "none" requires
    unsigned = jwt.encode(claims, None, algorithm="none")  # type: ignore[arg-type]
    assert client.post("/api/v1/conversations", headers={"Authorization": f"Bearer {unsigned}"}).status_code == 401


@pytest.mark.parametrize(("method", "path", "body"), ROUTES[1:3])
def test_someone_elses_conversation_is_404_and_audited(client, settings, conversation, method, path, body):
    response = _call(client, method, path, body, auth(settings, "patient-2"), cid=conversation)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    assert _denials(client) == [("patient-2", "patient", conversation, "denied")]  # AUD-2


def test_rest_sender_owned_by_someone_else_is_404_and_audited(client, settings, conversation):
    body = {"sender": conversation, "message": "hello"}
    assert client.post("/webhooks/rest/webhook", json=body, headers=auth(settings, "patient-2")).status_code == 404
    assert _denials(client) == [("patient-2", "patient", conversation, "denied")]  # AUD-2


def test_an_unknown_conversation_is_404_without_an_audit_row(client, patient):
    assert client.get(f"/api/v1/conversations/{'z' * 32}/messages", headers=patient).status_code == 404
    assert _denials(client) == []  # nothing was refused: there is nothing there


def _denials(client) -> list[tuple]:
    from api.core.audit_log import AuditEvent

    with client.app.state.ctx.sessions() as session:
        rows = session.query(AuditEvent).filter_by(action="conversation.access").all()
        return [(r.actor_id, r.actor_role, r.object_id, r.outcome) for r in rows]
