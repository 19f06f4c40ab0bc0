"""Moving-window rate limits per patient, per client address and per login (RES-2).

With AFTERCARE_REDIS_URL the windows live in Redis, so every worker and replica counts against
one budget. If Redis does not answer, this process's own in-memory windows take over (logged):
a limit still holds per process, and a patient message never fails on it (safety rule 3).
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import Request
from limits import RateLimitItem, parse
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

from api.errors import ApiError

log = logging.getLogger("aftercare.ratelimit")


class Windows:
    """Moving windows in Redis when AFTERCARE_REDIS_URL is set (one budget for every worker and
    replica), else in this process; if Redis does not answer, this process's windows take over."""

    def __init__(self, redis_url: str = "") -> None:
        self._storage = MemoryStorage()  # the limiter keeps only a weak reference to it
        self._local = MovingWindowRateLimiter(self._storage)
        self._shared_storage = self._shared = None
        if redis_url:
            from limits.storage import RedisStorage

            self._shared_storage = RedisStorage(redis_url, socket_timeout=1, socket_connect_timeout=1)
            self._shared = MovingWindowRateLimiter(self._shared_storage)

    def _call(self, method: str, *args: Any) -> Any:
        if self._shared is not None:
            try:
                return getattr(self._shared, method)(*args)
            except Exception as error:  # Redis down: fall back to this process's windows
                log.error(
                    "shared rate limit unavailable; limiting per process", extra={"error_type": type(error).__name__}
                )
        return getattr(self._local, method)(*args)

    def hit(self, limit: RateLimitItem, *identifiers: str) -> bool:
        return bool(self._call("hit", limit, *identifiers))

    def test(self, limit: RateLimitItem, *identifiers: str) -> bool:
        return bool(self._call("test", limit, *identifiers))

    def window_stats(self, limit: RateLimitItem, *identifiers: str) -> tuple[float, int]:
        reset, remaining = self._call("get_window_stats", limit, *identifiers)
        return reset, remaining


class RateLimits:
    def __init__(self, patient: str, client: str, login: str, redis_url: str = "") -> None:
        self._windows = Windows(redis_url)
        self._limits = {"patient": parse(patient), "client": parse(client), "login": parse(login)}

    def hit(self, scope: str, key: str) -> bool:
        return self._windows.hit(self._limits[scope], scope, key)


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def check_rate(request: Request, scope: str, key: str) -> None:
    limits: RateLimits = request.app.state.rate_limits
    if not limits.hit(scope, key) or not limits.hit("client", client_address(request)):
        raise ApiError(429, "too many requests; please wait a minute", headers={"Retry-After": "60"})
