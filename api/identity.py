"""Patient identity from the portal's short-lived JWT (ID-2).

Accepted only with a valid signature under a configured key (several during a rotation),
an allow-listed algorithm (HS256 or RS256, never `none`), valid exp/nbf, the expected iss
and aud, a subject, and a lifetime of at most 15 minutes.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

import jwt

from api.core.text import is_plain_identifier
from api.errors import ApiError
from api.settings import Settings

LEEWAY_SECONDS = 30
REQUIRED_CLAIMS = ["exp", "iat", "iss", "aud", "sub"]


def unauthorized(message: str) -> ApiError:
    return ApiError(401, message, headers={"WWW-Authenticate": "Bearer"})


def _keys_for(alg: str, settings: Settings) -> list[str]:
    if alg == "HS256":
        return settings.hs256_keys
    if alg == "RS256":
        return settings.rs256_public_keys
    return []


def verified_claims(
    token: str, keys_for: Callable[[str], list[str]], audience: str, issuer: str, required: list[str]
) -> dict[str, Any]:
    """The claims of a token signed under one of `keys_for(alg)`'s keys (several during a
    rotation), with the expected aud and iss and valid exp/nbf; a 401 ApiError otherwise.
    Shared by patient and service tokens (SVC-1), which differ only in keys and claims."""
    try:
        header_alg = jwt.get_unverified_header(token).get("alg")
    except jwt.PyJWTError:
        raise unauthorized("malformed token") from None
    alg = header_alg if isinstance(header_alg, str) else ""
    keys = keys_for(alg)
    if not keys:
        raise unauthorized("token algorithm not accepted")
    for key in keys:
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key,
                algorithms=[alg],
                audience=audience,
                issuer=issuer,
                leeway=LEEWAY_SECONDS,
                options={"require": required},
            )
        except jwt.InvalidSignatureError:
            continue  # maybe signed with the other key of a rotation
        except jwt.PyJWTError as error:
            raise unauthorized(f"invalid token: {type(error).__name__}") from None
        return claims
    raise unauthorized("invalid token signature")


def verified_subject(claims: dict[str, Any]) -> str:
    """The subject, refused when empty, over 128 characters or holding control, format or
    unassigned characters (it is stored and shown as an actor id)."""
    subject = claims["sub"]
    if not isinstance(subject, str) or not subject or len(subject) > 128 or not is_plain_identifier(subject):
        raise unauthorized("invalid token subject")
    return subject


def verify_patient_token(token: str, settings: Settings) -> str:
    """Returns the patient id (the token's subject) or raises a 401 ApiError."""
    return str(verify_patient_claims(token, settings)["sub"])


# Optional portal claims for the nurse's callback (OIDC standard names); kept only if plain.
CONTACT_NAME_MAX = 80
_PHONE = re.compile(r"^\+?[0-9][0-9 ().-]{5,30}$")


def patient_contact(claims: dict[str, Any]) -> tuple[str | None, str | None]:
    """The token's `name` and `phone_number` claims, each None when absent or not plausible."""
    name = claims.get("name")
    phone = claims.get("phone_number")
    plain_name = name.strip() if isinstance(name, str) and name.strip().isprintable() else ""
    return (
        plain_name[:CONTACT_NAME_MAX] or None,
        phone.strip() if isinstance(phone, str) and _PHONE.match(phone.strip()) else None,
    )


def verify_patient_claims(token: str, settings: Settings) -> dict[str, Any]:
    """The verified claims (lifetime and subject checked), or raises a 401 ApiError."""
    claims = verified_claims(
        token,
        lambda alg: _keys_for(alg, settings),
        settings.patient_token_audience,
        settings.patient_token_issuer,
        REQUIRED_CLAIMS,
    )
    if claims["exp"] - claims["iat"] > settings.patient_token_max_lifetime_seconds:
        raise unauthorized("token lifetime over the allowed maximum")
    verified_subject(claims)
    return claims


def mint_patient_token(patient_id: str, settings: Settings, lifetime_seconds: int = 600, **contact: str) -> str:
    """What a portal back end does; here with the first configured HS256 key (development).
    `contact`: optional `name` and `phone_number` claims."""
    now = int(time.time())
    claims: dict[str, Any] = {
        **contact,
        "sub": patient_id,
        "iss": settings.patient_token_issuer,
        "aud": settings.patient_token_audience,
        "iat": now,
        "nbf": now,
        "exp": now + lifetime_seconds,
    }
    return jwt.encode(claims, settings.hs256_keys[0], algorithm="HS256")
