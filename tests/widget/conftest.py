"""Fixtures for the widget and patient-identity tests: settings, an app client, token makers."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi.testclient import TestClient

from api.main import create_app

PORTAL = "https://portal.example.org"
# Production refuses the development secrets, so production-mode tests bring their own.
PRODUCTION_SECRETS = {
    "patient_token_hs256_keys": "prod-patient-key-" + "p" * 32,
    "staff_session_key": "prod-staff-key-" + "s" * 32,
    "webhook_key": "prod-webhook-key-" + "w" * 32,
}


@pytest.fixture
def make_client(make_settings) -> Iterator[Callable[..., TestClient]]:
    """An app without the Rasa model (fail-safe replies): these tests are about the edges.
    The portal is the one allowed origin unless a test says otherwise."""
    clients: list[TestClient] = []

    def make(**overrides) -> TestClient:
        settings = make_settings(**{"allowed_origins": PORTAL, **overrides})
        client = TestClient(create_app(settings, load_assistant=False))
        clients.append(client.__enter__())  # runs the lifespan: migrations
        return client

    yield make
    for client in clients:
        client.__exit__(None, None, None)


@pytest.fixture
def client(make_client) -> TestClient:
    return make_client()


def claims(**overrides) -> dict:
    """A valid portal token's claims; pass name=None to leave a claim out."""
    now = int(time.time())
    values = {
        "sub": "patient-123",
        "iss": "patient-portal",
        "aud": "marrow-aftercare",
        "iat": now,
        "nbf": now,
        "exp": now + 600,
        **overrides,
    }
    return {k: v for k, v in values.items() if v is not None}


@pytest.fixture
def make_claims() -> Callable[..., dict]:
    return claims


@pytest.fixture
def hs256() -> Callable[..., str]:
    def sign(key: str, **overrides) -> str:
        return jwt.encode(claims(**overrides), key, algorithm="HS256")

    return sign


class RsaKey:
    """An RSA key pair with its public half written as PEM, the way an operator configures it."""

    def __init__(self, folder: Path, name: str) -> None:
        self.private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.public_pem = self.private.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        self.public_path = folder / f"{name}.pem"
        self.public_path.write_bytes(self.public_pem)

    def sign(self, **overrides) -> str:
        return jwt.encode(claims(**overrides), self.private, algorithm="RS256")


@pytest.fixture(scope="session")
def _rsa_folder(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("keys")


@pytest.fixture(scope="session")
def rsa_key(_rsa_folder) -> RsaKey:
    return RsaKey(_rsa_folder, "current")  # key generation is slow: once per session


@pytest.fixture(scope="session")
def rsa_next_key(_rsa_folder) -> RsaKey:
    return RsaKey(_rsa_folder, "next")


@pytest.fixture
def portal() -> str:
    """The one configured portal origin."""
    return PORTAL


@pytest.fixture
def production_client(make_client) -> TestClient:
    return make_client(environment="production", **PRODUCTION_SECRETS)
