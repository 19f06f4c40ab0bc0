"""One patient message of a conversation at a time, wherever it lands.

A turn (Rasa reading and writing the conversation's tracker, then our transcript transaction)
must finish before the conversation's next message starts, or two messages sent together come
out as two patient lines then two replies, and their tracker events interleave.

- One process (SQLite, embedded): an asyncio lock per conversation.
- Several workers or replicas: a Redis lock per conversation, chosen over a PostgreSQL advisory
  lock because the turn spends seconds in the model: an advisory lock lives in a session or
  transaction, so it would pin a pooled database connection for the whole model call, and a
  burst of conversations would drain the pool. The Redis lock holds a random token (only its
  holder can release it), expires if its process dies, and is renewed while the turn runs.

Messages of different conversations never share a lock. If Redis is unreachable or the wait
runs out, the turn goes ahead unlocked (logged): the patient's safe reply and escalation come
before ordering (safety rule 3).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, Protocol

log = logging.getLogger("aftercare.locks")


class ConversationLocks(Protocol):
    def hold(self, conversation_id: str) -> Any: ...  # an async context manager


class LocalLocks:
    """In-process locks, dropped when nobody holds or waits for them."""

    def __init__(self) -> None:
        self._locks: dict[str, tuple[asyncio.Lock, int]] = {}

    @asynccontextmanager
    async def hold(self, conversation_id: str) -> AsyncIterator[None]:
        lock, users = self._locks.get(conversation_id) or (asyncio.Lock(), 0)
        self._locks[conversation_id] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[conversation_id]
            if users == 1:
                del self._locks[conversation_id]
            else:
                self._locks[conversation_id] = (lock, users - 1)


class RedisLocks:
    """`SET key token NX PX ttl`, renewed every ttl/3 while held; released by compare-and-delete
    (redis-py's Lock does the token and the Lua scripts)."""

    def __init__(self, redis: Any, ttl_seconds: float = 10.0, wait_seconds: float = 30.0) -> None:
        self._redis = redis  # redis.asyncio.Redis
        self._ttl = ttl_seconds
        self._wait = wait_seconds

    @asynccontextmanager
    async def hold(self, conversation_id: str) -> AsyncIterator[None]:
        from redis.exceptions import LockError, RedisError

        lock = self._redis.lock(
            f"aftercare:conversation-lock:{conversation_id}",
            timeout=self._ttl,
            sleep=0.02,
            blocking_timeout=self._wait,
        )
        try:
            acquired = await lock.acquire()
        except (RedisError, OSError) as error:
            log.error("conversation lock unavailable; answering without it", extra={"error_type": type(error).__name__})
            acquired = False
        if not acquired:
            log.warning("conversation lock not acquired; answering without it")
            yield
            return
        renewal = asyncio.create_task(self._renew(lock))
        try:
            yield
        finally:
            renewal.cancel()
            try:
                await lock.release()
            except (LockError, RedisError, OSError) as error:  # expired meanwhile, or Redis went away
                log.warning("conversation lock release failed", extra={"error_type": type(error).__name__})

    async def _renew(self, lock: Any) -> None:
        while True:
            await asyncio.sleep(self._ttl / 3)
            try:
                await lock.reacquire()
            except Exception as error:  # lost: the turn finishes anyway; ordering may slip once
                log.warning("conversation lock renewal failed", extra={"error_type": type(error).__name__})
                return
