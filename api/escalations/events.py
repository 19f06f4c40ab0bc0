"""Fan-out of new and changed escalations to live dashboards (server-sent events).

One process: `EventHub` hands each event straight to this process's subscribers. Several
workers or replicas: `RedisEventHub` publishes to a Redis channel, and every process (the
publisher too) listens on it and hands what arrives to its own subscribers, so a nurse
connected to any replica sees an escalation raised on any other.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

log = logging.getLogger("aftercare.events")
CHANNEL = "aftercare:escalation-events"

Event = dict[str, Any]


class EventHub:
    """Each subscriber gets its own bounded queue; a slow dashboard drops events, never blocks.

    `publish` may be called from the event loop or from a worker thread (plain `def` routes run
    in FastAPI's thread pool): asyncio queues are not thread-safe, so the put always happens on
    the subscriber's own loop.
    """

    def __init__(self) -> None:
        self._subscribers: set[tuple[asyncio.Queue[Event], asyncio.AbstractEventLoop]] = set()

    def subscribe(self) -> asyncio.Queue[Event]:
        queue: asyncio.Queue[Event] = asyncio.Queue(maxsize=100)
        self._subscribers.add((queue, asyncio.get_running_loop()))
        return queue

    def unsubscribe(self, queue: asyncio.Queue[Event]) -> None:
        self._subscribers -= {pair for pair in self._subscribers if pair[0] is queue}

    def publish(self, event: Event) -> None:
        self.deliver_locally(event)

    def close(self) -> None:
        """Nothing to release in one process."""

    def deliver_locally(self, event: Event) -> None:
        for queue, loop in list(self._subscribers):
            if _running_loop() is loop:
                _offer(queue, event)
            elif not loop.is_closed():
                loop.call_soon_threadsafe(_offer, queue, event)


class RedisEventHub(EventHub):
    """Publishes through Redis; `listen()` (a task in the app lifespan) delivers what arrives.

    If Redis cannot take an event, this process's own dashboards still get it (logged); other
    replicas' dashboards see it when they next re-read the queue, as after a reconnect.
    """

    def __init__(self, redis_url: str) -> None:
        import redis

        super().__init__()
        self._url = redis_url
        self._publisher = redis.Redis.from_url(redis_url, socket_timeout=1, socket_connect_timeout=1)
        self.listening = False  # subscribed right now (for /readyz)

    def publish(self, event: Event) -> None:
        try:
            self._publisher.publish(CHANNEL, json.dumps(event))
        except Exception as error:  # Redis down: never fail the request that raised the event
            log.error("live-queue publish failed; local dashboards only", extra={"error_type": type(error).__name__})
            self.deliver_locally(event)

    async def listen(self, retry_seconds: float = 1.0) -> None:
        import redis.asyncio

        while True:
            client = redis.asyncio.from_url(self._url, socket_connect_timeout=2)
            try:
                async with client.pubsub(ignore_subscribe_messages=True) as pubsub:
                    await pubsub.subscribe(CHANNEL)
                    self.listening = True
                    async for message in pubsub.listen():
                        if message["type"] == "message":
                            self.deliver_locally(json.loads(message["data"]))
            except asyncio.CancelledError:
                raise
            except Exception as error:
                log.error("live-queue subscription lost; retrying", extra={"error_type": type(error).__name__})
            finally:
                self.listening = False
                await client.close()
            await asyncio.sleep(retry_seconds)

    def close(self) -> None:
        self._publisher.close()


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


def _offer(queue: asyncio.Queue[Event], event: Event) -> None:
    try:
        queue.put_nowait(event)
    except asyncio.QueueFull:
        pass  # the dashboard re-reads the queue on reconnect
