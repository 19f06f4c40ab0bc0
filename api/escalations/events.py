"""Fan-out of live events: escalations to staff dashboards, and per-conversation notices
(a nurse's reply) to the patient's open widget.

One process: `EventHub` hands each event straight to this process's subscribers. Several
workers or replicas: `RedisEventHub` publishes to a Redis channel, and every process (the
publisher too) listens on it and hands what arrives to its own subscribers, so a nurse
connected to any replica sees an escalation raised on any other.

Escalation events get an increasing id and are kept in a bounded recent-events buffer (in
Redis when several processes share it), so a dashboard that reconnects with `Last-Event-ID`
is replayed what it missed; when the gap is older than the buffer, it re-reads the queue.
"""

from __future__ import annotations

import asyncio
import collections
import itertools
import json
import logging
import threading
from typing import Any

log = logging.getLogger("aftercare.events")
CHANNEL = "aftercare:escalation-events"
NOTICE_CHANNEL = "aftercare:conversation-notices"
BUFFER_KEY = "aftercare:escalation-events:recent"
SEQUENCE_KEY = "aftercare:escalation-events:seq"
BUFFER_SIZE = 500
ESCALATIONS = "escalations"

Event = dict[str, Any]


def conversation_topic(conversation_id: str) -> str:
    return f"conversation:{conversation_id}"


class EventHub:
    """Each subscriber gets its own bounded queue; a slow dashboard drops events, never blocks.

    `publish` may be called from the event loop or from a worker thread (plain `def` routes run
    in FastAPI's thread pool): asyncio queues are not thread-safe, so the put always happens on
    the subscriber's own loop.
    """

    def __init__(self) -> None:
        self._subscribers: set[tuple[asyncio.Queue[Event], asyncio.AbstractEventLoop]] = set()
        self._topics: dict[int, str] = {}
        self._sequence = itertools.count(1)
        self._recent: collections.deque[Event] = collections.deque(maxlen=BUFFER_SIZE)
        self._lock = threading.Lock()

    def subscribe(self, topic: str = ESCALATIONS) -> asyncio.Queue[Event]:
        queue: asyncio.Queue[Event] = asyncio.Queue(maxsize=100)
        self._subscribers.add((queue, asyncio.get_running_loop()))
        self._topics[id(queue)] = topic
        return queue

    def unsubscribe(self, queue: asyncio.Queue[Event]) -> None:
        self._subscribers -= {pair for pair in self._subscribers if pair[0] is queue}
        self._topics.pop(id(queue), None)

    def publish(self, event: Event) -> None:
        """An escalation event for staff dashboards: numbered, buffered, delivered."""
        with self._lock:  # numbering and buffering in one step: the buffer stays in id order
            numbered = {**event, "seq": next(self._sequence)}
            self._recent.append(numbered)
        self.deliver_locally(numbered)

    def notify(self, topic: str, event: Event) -> None:
        """A notice for one topic's subscribers (not buffered: the reader re-reads its source)."""
        self.deliver_locally(event, topic)

    def since(self, last_seq: int) -> list[Event] | None:
        """Buffered escalation events after `last_seq`, oldest first; None when some of them
        have left the buffer (or the id is from another buffer): then re-read the queue."""
        with self._lock:
            recent = list(self._recent)
        return _after(recent, last_seq)

    def close(self) -> None:
        """Nothing to release in one process."""

    def deliver_locally(self, event: Event, topic: str = ESCALATIONS) -> None:
        for queue, loop in list(self._subscribers):
            if self._topics.get(id(queue)) != topic:
                continue
            if _running_loop() is loop:
                _offer(queue, event)
            elif not loop.is_closed():
                loop.call_soon_threadsafe(_offer, queue, event)


def _after(recent: list[Event], last_seq: int) -> list[Event] | None:
    newest = max((e["seq"] for e in recent), default=0)
    if last_seq > newest:
        return None  # from before a restart of the counter: cannot tell what was missed
    missed = sorted((e for e in recent if e["seq"] > last_seq), key=lambda e: e["seq"])
    oldest_kept = min((e["seq"] for e in recent), default=newest + 1)
    if last_seq + 1 < oldest_kept and last_seq < newest:
        return None  # some events in the gap were dropped from the buffer
    return missed


# INCR, buffer and PUBLISH in one atomic step: ids reach subscribers in order across processes,
# so a dashboard resuming from id N has seen every event below N. The event is wrapped as a
# string, not re-encoded (cjson would turn an empty list into an object).
_PUBLISH_SCRIPT = """
local seq = redis.call('INCR', KEYS[1])
local body = '{"seq":' .. seq .. ',"event":' .. ARGV[1] .. '}'
redis.call('LPUSH', KEYS[2], body)
redis.call('LTRIM', KEYS[2], 0, tonumber(ARGV[2]) - 1)
redis.call('PUBLISH', ARGV[3], body)
return seq
"""


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
        self._script = self._publisher.register_script(_PUBLISH_SCRIPT)
        self.listening = False  # subscribed right now (for /readyz)

    def publish(self, event: Event) -> None:
        try:
            self._script(keys=[SEQUENCE_KEY, BUFFER_KEY], args=[json.dumps(event), BUFFER_SIZE, CHANNEL])
        except Exception as error:  # Redis down: never fail the request that raised the event
            log.error("live-queue publish failed; local dashboards only", extra={"error_type": type(error).__name__})
            super().publish(event)

    def notify(self, topic: str, event: Event) -> None:
        try:
            self._publisher.publish(NOTICE_CHANNEL, json.dumps({"topic": topic, "event": event}))
        except Exception as error:
            log.error("notice publish failed; local subscribers only", extra={"error_type": type(error).__name__})
            super().notify(topic, event)

    def since(self, last_seq: int) -> list[Event] | None:
        try:
            recent = [_unwrap(json.loads(body)) for body in self._publisher.lrange(BUFFER_KEY, 0, BUFFER_SIZE - 1)]
        except Exception as error:
            log.error("recent live-queue events unreadable", extra={"error_type": type(error).__name__})
            return None
        return _after(recent, last_seq)

    async def listen(self, retry_seconds: float = 1.0) -> None:
        import redis.asyncio

        while True:
            client = redis.asyncio.from_url(self._url, socket_connect_timeout=2)
            try:
                async with client.pubsub(ignore_subscribe_messages=True) as pubsub:
                    await pubsub.subscribe(CHANNEL, NOTICE_CHANNEL)
                    self.listening = True
                    async for message in pubsub.listen():
                        if message["type"] == "message":
                            self._arrived(message["channel"], json.loads(message["data"]))
            except asyncio.CancelledError:
                raise
            except Exception as error:
                log.error("live-queue subscription lost; retrying", extra={"error_type": type(error).__name__})
            finally:
                self.listening = False
                await client.close()
            await asyncio.sleep(retry_seconds)

    def _arrived(self, channel: bytes | str, data: Event) -> None:
        name = channel.decode() if isinstance(channel, bytes) else channel
        if name == NOTICE_CHANNEL:
            self.deliver_locally(data["event"], str(data["topic"]))
        else:
            self.deliver_locally(_unwrap(data))

    def close(self) -> None:
        self._publisher.close()


def _unwrap(envelope: Event) -> Event:
    return {**envelope["event"], "seq": envelope["seq"]}


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


def _offer(queue: asyncio.Queue[Event], event: Event) -> None:
    try:
        queue.put_nowait(event)
    except asyncio.QueueFull:
        pass  # the reader re-reads its source on reconnect
