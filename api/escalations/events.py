"""In-process fan-out of new escalations to live dashboards (server-sent events)."""
from __future__ import annotations

import asyncio
from typing import Any


class EventHub:
    """Each subscriber gets its own bounded queue; a slow dashboard drops events, never blocks."""

    def __init__(self) -> None:
        self._subscribers: set[asyncio.Queue] = set()

    def subscribe(self) -> asyncio.Queue:
        queue: asyncio.Queue = asyncio.Queue(maxsize=100)
        self._subscribers.add(queue)
        return queue

    def unsubscribe(self, queue: asyncio.Queue) -> None:
        self._subscribers.discard(queue)

    def publish(self, event: dict[str, Any]) -> None:
        for queue in list(self._subscribers):
            try:
                queue.put_nowait(event)
            except asyncio.QueueFull:
                pass  # the dashboard re-reads the queue on reconnect
