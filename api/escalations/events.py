"""In-process fan-out of new escalations to live dashboards (server-sent events)."""
from __future__ import annotations

import asyncio
from typing import Any

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
        for queue, loop in list(self._subscribers):
            if _running_loop() is loop:
                _offer(queue, event)
            elif not loop.is_closed():
                loop.call_soon_threadsafe(_offer, queue, event)


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
