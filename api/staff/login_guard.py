"""Login throttling that an attacker cannot turn against the account owner (PW-1, RES-2, RES-5).

- Failed attempts are limited per (account, client address), in tiers that back off
  (default 5 a minute, then 20 an hour): guessing from one client slows down, while the owner,
  logging in from their own client, is never locked out by someone else's guesses.
- A global guard bounds failed attempts across all accounts and clients (Argon2 costs CPU; a
  spread-out guess attack is still bounded). When it trips, only pairs that have logged in
  successfully before (the owners' own clients) still get through.
- Refused attempts are counted, not audited one row each: at most one audit row per client
  address per minute (`ThrottleAudit`), with the count in the log when that minute closes.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import OrderedDict

from limits import RateLimitItem, parse_many

from api.ratelimit import Windows

log = logging.getLogger("aftercare.login")
_KNOWN_GOOD_MAX = 10_000  # remembered (account, client) pairs; the oldest are forgotten first


class LoginGuard:
    def __init__(self, per_account_client: str, global_failures: str, redis_url: str = "") -> None:
        # Shared through Redis when configured, so every worker and replica counts one budget;
        # the owners' known-good clients are remembered per process.
        self._limiter = Windows(redis_url)
        self._pair_limits = parse_many(per_account_client)
        self._global_limits = parse_many(global_failures)
        self._known_good: OrderedDict[tuple[str, str], None] = OrderedDict()
        self._lock = threading.Lock()

    def retry_after(self, account: str, client: str) -> int | None:
        """Seconds to wait before this client may try this account again, or None to go ahead.
        Consumes nothing: only a failure counts (`failed`)."""
        checks = [self._wait(limit, "pair", account, client) for limit in self._pair_limits]
        if (account, client) not in self._known_good:
            checks += [self._wait(limit, "global") for limit in self._global_limits]
        waits = [w for w in checks if w is not None]
        return max(waits) if waits else None

    def failed(self, account: str, client: str) -> None:
        for limit in self._pair_limits:
            self._limiter.hit(limit, "pair", account, client)
        for limit in self._global_limits:
            self._limiter.hit(limit, "global")

    def succeeded(self, account: str, client: str) -> None:
        with self._lock:
            self._known_good[(account, client)] = None
            self._known_good.move_to_end((account, client))
            while len(self._known_good) > _KNOWN_GOOD_MAX:
                self._known_good.popitem(last=False)

    def _wait(self, limit: RateLimitItem, *identifiers: str) -> int | None:
        if self._limiter.test(limit, *identifiers):
            return None
        reset, _remaining = self._limiter.window_stats(limit, *identifiers)
        return max(1, math.ceil(reset - time.time()))


class ThrottleAudit:
    """Decides which refused attempts get an audit row: the first per client per minute."""

    WINDOW_SECONDS = 60

    def __init__(self) -> None:
        self._windows: dict[str, tuple[float, int]] = {}  # client -> (window start, refused count)
        self._lock = threading.Lock()

    def should_record(self, client: str, now: float | None = None) -> bool:
        now = time.monotonic() if now is None else now
        with self._lock:
            self._forget_closed(now)
            start, count = self._windows.get(client, (now, 0))
            self._windows[client] = (start, count + 1)
            return count == 0

    def _forget_closed(self, now: float) -> None:
        closed = [c for c, (start, _) in self._windows.items() if now - start >= self.WINDOW_SECONDS]
        for client in closed:
            _start, count = self._windows.pop(client)
            if count > 1:
                log.warning("refused login attempts counted", extra={"attempts": count})
