"""Service identity for enrollment calls (SVC-1): an HS256 JWT under a key of its own
(AFTERCARE_SERVICE_TOKEN_HS256_KEYS), issuer AFTERCARE_SERVICE_TOKEN_ISSUER, and an audience no
patient or staff token carries, so a patient token is refused even if keys were ever shared."""

from __future__ import annotations

import time
from typing import Annotated

import jwt
from fastapi import Depends

from api.deps import AppSettings, bearer_token
from api.identity import LEEWAY_SECONDS, unauthorized, verified_claims, verified_subject
from api.settings import Settings

SERVICE_AUDIENCE = "marrow-aftercare-service"
MAX_LIFETIME_SECONDS = 15 * 60


def verify_service_token(token: str, settings: Settings) -> str:
    """Returns the calling system (the token's subject) or raises a 401 ApiError."""
    keys = settings.service_keys
    if not keys:
        raise unauthorized("service tokens are not configured")
    claims = verified_claims(
        token,
        lambda alg: keys if alg == "HS256" else [],
        SERVICE_AUDIENCE,
        settings.service_token_issuer,
        ["exp", "iss", "aud", "sub"],
    )
    if claims["exp"] - time.time() > MAX_LIFETIME_SECONDS + LEEWAY_SECONDS:
        raise unauthorized("token lifetime over the allowed maximum")
    return verified_subject(claims)


def mint_service_token(subject: str, settings: Settings, lifetime_seconds: int = 600) -> str:
    """What the integration engine does; here with the first configured key (development, tests)."""
    now = int(time.time())
    claims = {
        "sub": subject,
        "iss": settings.service_token_issuer,
        "aud": SERVICE_AUDIENCE,
        "iat": now,
        "exp": now + lifetime_seconds,
    }
    return jwt.encode(claims, settings.service_keys[0], algorithm="HS256")


def current_service(settings: AppSettings, token: Annotated[str, Depends(bearer_token)]) -> str:
    return verify_service_token(token, settings)


ServiceCaller = Annotated[str, Depends(current_service)]
