"""Production refuses to start with weak keys or open origins (KEY-1)."""

from __future__ import annotations

import secrets

import pytest
from pydantic import ValidationError

from api.settings import Settings

STRONG = {
    "patient_token_hs256_keys": secrets.token_urlsafe(32),
    "staff_session_key": secrets.token_urlsafe(32),
    "webhook_key": secrets.token_urlsafe(32),
    "allowed_origins": "https://portal.clinic.example",
}


def production(**overrides) -> Settings:
    return Settings(environment="production", **(STRONG | overrides))


def test_strong_keys_and_explicit_origins_start():
    assert production().is_production


@pytest.mark.parametrize(
    ("setting", "value"),
    [
        ("patient_token_hs256_keys", "k"),  # a one-byte HS256 key was accepted
        ("patient_token_hs256_keys", f"{STRONG['patient_token_hs256_keys']},short-second-key"),  # rotation too
        ("staff_session_key", "x" * 31 + "y"),  # 32 bytes, but two characters
        ("webhook_key", secrets.token_hex(15)),  # 30 bytes
    ],
    ids=["one-byte", "weak-rotation-key", "repeated-character", "thirty-bytes"],
)
def test_weak_keys_are_refused_in_production(setting, value):
    with pytest.raises(ValidationError, match=f"at least 32 random bytes in: {setting}"):
        production(**{setting: value})


@pytest.mark.parametrize("origins", ["*", "https://portal.clinic.example,*", "https://*.clinic.example", "null", ""])
def test_wildcard_or_missing_origins_are_refused_in_production(origins):
    with pytest.raises(ValidationError, match="explicit allowed_origins"):
        production(allowed_origins=origins)


def test_development_keeps_its_convenient_defaults():
    assert Settings(allowed_origins="*").origins == ["*"]
