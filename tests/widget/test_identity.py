"""ID-2: the portal's patient token, checked through the real API route (401 on any doubt)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

import jwt
import pytest

from api.settings import DEV_PATIENT_KEY

CREATE = "/api/v1/conversations"
OLD_KEY = "old-portal-key-" + "o" * 32
NEW_KEY = "new-portal-key-" + "n" * 32


def create(client, token: str):
    return client.post(CREATE, headers={"Authorization": f"Bearer {token}"})


def assert_unauthorized(response) -> None:
    assert response.status_code == 401, response.text
    assert response.json()["error"]["code"] == "unauthorized"
    assert response.headers["www-authenticate"] == "Bearer"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def handmade(header: dict, payload: dict, secret: bytes | None) -> str:
    """A token PyJWT would refuse to make: `none`, or HS256 keyed with a public key."""
    signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(payload).encode())}"
    signature = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest() if secret else b""
    return f"{signing_input}.{_b64(signature)}"


# --- accepted ---------------------------------------------------------------------------------


def test_the_development_key_is_accepted(client, hs256):
    assert create(client, hs256(DEV_PATIENT_KEY)).status_code == 201


@pytest.mark.parametrize("key", [OLD_KEY, NEW_KEY])
def test_during_an_hs256_rotation_both_keys_are_accepted(make_client, hs256, key):
    client = make_client(patient_token_hs256_keys=f"{NEW_KEY},{OLD_KEY}")
    assert create(client, hs256(key)).status_code == 201


def test_after_the_rotation_the_retired_key_is_refused(make_client, hs256):
    client = make_client(patient_token_hs256_keys=NEW_KEY)
    assert create(client, hs256(NEW_KEY)).status_code == 201
    assert_unauthorized(create(client, hs256(OLD_KEY)))


def test_rs256_with_a_configured_public_key_is_accepted(make_client, rsa_key):
    client = make_client(patient_token_rs256_public_keys=str(rsa_key.public_path))
    assert create(client, rsa_key.sign()).status_code == 201


def test_during_an_rs256_rotation_both_public_keys_are_accepted(make_client, rsa_key, rsa_next_key):
    client = make_client(patient_token_rs256_public_keys=f"{rsa_next_key.public_path},{rsa_key.public_path}")
    assert create(client, rsa_key.sign()).status_code == 201
    assert create(client, rsa_next_key.sign()).status_code == 201


def test_hs256_and_rs256_can_be_configured_together(make_client, hs256, rsa_key):
    client = make_client(patient_token_hs256_keys=NEW_KEY, patient_token_rs256_public_keys=str(rsa_key.public_path))
    assert create(client, hs256(NEW_KEY)).status_code == 201
    assert create(client, rsa_key.sign()).status_code == 201


def test_a_lifetime_of_exactly_15_minutes_is_accepted(client, hs256):
    now = int(time.time())
    assert create(client, hs256(DEV_PATIENT_KEY, iat=now, exp=now + 900)).status_code == 201


def test_the_conversation_belongs_to_the_token_subject(client, hs256):
    conversation = create(client, hs256(DEV_PATIENT_KEY, sub="patient-a")).json()["conversation_id"]
    other = {"Authorization": f"Bearer {hs256(DEV_PATIENT_KEY, sub='patient-b')}"}
    response = client.post(f"{CREATE}/{conversation}/messages", json={"text": "hello"}, headers=other)
    assert response.status_code == 404


# --- refused ----------------------------------------------------------------------------------


def test_an_rs256_token_from_an_unknown_key_is_refused(make_client, rsa_key, rsa_next_key):
    client = make_client(patient_token_rs256_public_keys=str(rsa_key.public_path))
    assert_unauthorized(create(client, rsa_next_key.sign()))


def test_alg_none_is_refused(client, make_claims):
    assert_unauthorized(create(client, handmade({"alg": "none", "typ": "JWT"}, make_claims(), None)))


def test_alg_none_from_pyjwt_is_refused(client, make_claims):
    # PyJWT's type hints omit the None key that algorithm "none" requires
    unsigned = jwt.encode(make_claims(), None, algorithm="none")  # type: ignore[arg-type]
    assert_unauthorized(create(client, unsigned))


@pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")  # the key is not the point
def test_an_algorithm_off_the_allow_list_is_refused(client, make_claims):
    assert_unauthorized(create(client, jwt.encode(make_claims(), DEV_PATIENT_KEY, algorithm="HS512")))


def test_hs256_keyed_with_the_rsa_public_key_is_refused(make_client, rsa_key, make_claims):
    """Algorithm confusion: the public key is public, so it must never work as an HMAC secret."""
    client = make_client(patient_token_hs256_keys="", patient_token_rs256_public_keys=str(rsa_key.public_path))
    token = handmade({"alg": "HS256", "typ": "JWT"}, make_claims(), rsa_key.public_pem)
    assert_unauthorized(create(client, token))


# Times are offsets from "now" at run time (a long suite must not age the parameters).
@pytest.mark.parametrize(
    "overrides",
    [
        pytest.param(lambda now: {"iss": "someone-else"}, id="wrong-iss"),
        pytest.param(lambda now: {"aud": "another-service"}, id="wrong-aud"),
        pytest.param(lambda now: {"iat": now - 900, "nbf": now - 900, "exp": now - 120}, id="expired"),
        pytest.param(lambda now: {"nbf": now + 300}, id="not-yet-valid"),
        pytest.param(lambda now: {"iat": now, "exp": now + 901}, id="lifetime-over-15-min"),
        pytest.param(lambda now: {"sub": None}, id="missing-sub"),
        pytest.param(lambda now: {"sub": ""}, id="empty-sub"),
        pytest.param(lambda now: {"exp": None}, id="missing-exp"),
        pytest.param(lambda now: {"iat": None}, id="missing-iat"),
        pytest.param(lambda now: {"iss": None}, id="missing-iss"),
        pytest.param(lambda now: {"aud": None}, id="missing-aud"),
    ],
)
def test_a_token_with_bad_claims_is_refused(client, hs256, overrides):
    assert_unauthorized(create(client, hs256(DEV_PATIENT_KEY, **overrides(int(time.time())))))


def test_a_wrong_signature_is_refused(client, hs256):
    assert_unauthorized(create(client, hs256("not-the-portal-key-" + "x" * 30)))


@pytest.mark.parametrize("header", ["", "Bearer ", "Basic abc", "Bearer not.a.jwt"])
def test_a_missing_or_malformed_token_is_refused(client, header):
    assert_unauthorized(client.post(CREATE, headers={"Authorization": header} if header else {}))
