"""Service identity for enrollment calls (SVC-1): an HS256 JWT under a key of its own
(AFTERCARE_SERVICE_TOKEN_HS256_KEYS), issuer AFTERCARE_SERVICE_TOKEN_ISSUER, and an audience no
patient or staff token carries, so a patient token is refused even if keys were ever shared."""

from __future__ import annotations

import time
from typing import Annotated

import jwt
from fastapi import Depends

from api.deps import AppSettings, bearer_token
from api.errors import ApiError
from api.settings import Settings

SERVICE_AUDIENCE = "marrow-aftercare-service"
MAX_LIFETIME_SECONDS = 15 * 60
LEEWAY_SECONDS = 30


def _unauthorized(message: str) -> ApiError:
    return ApiError(401, message, headers={"WWW-Authenticate": "Bearer"})


def verify_service_token(token: str, settings: Settings) -> str:
    """Returns the calling system (the token's subject) or raises a 401 ApiError."""
    keys = settings.service_keys
    if not keys:
        raise _unauthorized("service tokens are not configured")
    try:
        alg = jwt.get_unverified_header(token).get("alg")
    except jwt.PyJWTError:
        raise _unauthorized("malformed token") from None
    if alg != "HS256":
        raise _unauthorized("token algorithm not accepted")
    for key in keys:
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=["HS256"],
                audience=SERVICE_AUDIENCE,
                issuer=settings.service_token_issuer,
                leeway=LEEWAY_SECONDS,
                options={"require": ["exp", "iss", "aud", "sub"]},
            )
        except jwt.InvalidSignatureError:
            continue  # maybe the other key of a rotation
        except jwt.PyJWTError as error:
            raise _unauthorized(f"invalid token: {type(error).__name__}") from None
        if claims["exp"] - time.time() > MAX_LIFETIME_SECONDS + LEEWAY_SECONDS:
            raise _unauthorized("token lifetime over the allowed maximum")
        subject = claims["sub"]
        if not isinstance(subject, str) or not subject or len(subject) > 128:
            raise _unauthorized("invalid token subject")
        return subject
    raise _unauthorized("invalid token signature")


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
