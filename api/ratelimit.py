"""Moving-window rate limits per patient, per client address and per login (RES-2)."""
from __future__ import annotations

from fastapi import Request
from limits import parse
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

from api.errors import ApiError


class RateLimits:
    def __init__(self, patient: str, client: str, login: str) -> None:
        self._storage = MemoryStorage()  # the limiter keeps only a weak reference to it
        self._limiter = MovingWindowRateLimiter(self._storage)
        self._limits = {"patient": parse(patient), "client": parse(client), "login": parse(login)}

    def hit(self, scope: str, key: str) -> bool:
        return self._limiter.hit(self._limits[scope], scope, key)


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def check_rate(request: Request, scope: str, key: str) -> None:
    limits: RateLimits = request.app.state.rate_limits
    if not limits.hit(scope, key) or not limits.hit("client", client_address(request)):
        raise ApiError(429, "too many requests; please wait a minute", headers={"Retry-After": "60"})
