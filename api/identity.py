"""Patient identity from the portal's short-lived JWT (ID-2).

Accepted only with a valid signature under a configured key (several during a rotation),
an allow-listed algorithm (HS256 or RS256, never `none`), valid exp/nbf, the expected iss
and aud, a subject, and a lifetime of at most 15 minutes.
"""

from __future__ import annotations

import time

import jwt

from api.core.text import is_plain_identifier
from api.errors import ApiError
from api.settings import Settings

LEEWAY_SECONDS = 30
REQUIRED_CLAIMS = ["exp", "iat", "iss", "aud", "sub"]


def _unauthorized(message: str) -> ApiError:
    return ApiError(401, message, headers={"WWW-Authenticate": "Bearer"})


def _keys_for(alg: str, settings: Settings) -> list[str]:
    if alg == "HS256":
        return settings.hs256_keys
    if alg == "RS256":
        return settings.rs256_public_keys
    return []


def verify_patient_token(token: str, settings: Settings) -> str:
    """Returns the patient id (the token's subject) or raises a 401 ApiError."""
    try:
        header_alg = jwt.get_unverified_header(token).get("alg")
    except jwt.PyJWTError:
        raise _unauthorized("malformed token") from None
    alg = header_alg if isinstance(header_alg, str) else ""
    keys = _keys_for(alg, settings)
    if not keys:
        raise _unauthorized("token algorithm not accepted")
    for key in keys:
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=[alg],
                audience=settings.patient_token_audience,
                issuer=settings.patient_token_issuer,
                leeway=LEEWAY_SECONDS,
                options={"require": REQUIRED_CLAIMS},
            )
        except jwt.InvalidSignatureError:
            continue  # maybe signed with the other key of a rotation
        except jwt.PyJWTError as error:
            raise _unauthorized(f"invalid token: {type(error).__name__}") from None
        if claims["exp"] - claims["iat"] > settings.patient_token_max_lifetime_seconds:
            raise _unauthorized("token lifetime over the allowed maximum")
        subject = claims["sub"]
        if not isinstance(subject, str) or not subject or len(subject) > 128 or not is_plain_identifier(subject):
            raise _unauthorized("invalid token subject")
        return subject
    raise _unauthorized("invalid token signature")


def mint_patient_token(patient_id: str, settings: Settings, lifetime_seconds: int = 600) -> str:
    """What a portal back end does; here with the first configured HS256 key (development)."""
    now = int(time.time())
    claims = {
        "sub": patient_id,
        "iss": settings.patient_token_issuer,
        "aud": settings.patient_token_audience,
        "iat": now,
        "nbf": now,
        "exp": now + lifetime_seconds,
    }
    return jwt.encode(claims, settings.hs256_keys[0], algorithm="HS256")
