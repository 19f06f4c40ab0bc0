"""How `aftercare serve` runs uvicorn: bounded requests and trusted proxies only (RES-4, NET-1).

uvicorn's defaults do not fit a service on the internet: `http="auto"` picks httptools when it
is installed (Rasa pulls it in), which bounds neither header size nor count; no timeout covers
a request head that trickles in; and X-Forwarded-For is believed from 127.0.0.1, so anything
on the host could claim any address. Here: h11 with a bounded head, a deadline for the head,
a short keep-alive, and proxy headers honoured only from AFTERCARE_TRUSTED_PROXIES.
"""

from __future__ import annotations

import asyncio

import h11
import uvicorn
from starlette.types import ASGIApp
from uvicorn.protocols.http.h11_impl import H11Protocol

from api.settings import Settings

MAX_HEAD_BYTES = 16 * 1024  # request line plus all headers
MAX_HEADERS = 100


def _head_size(request: h11.Request) -> int:
    return len(request.method) + len(request.target) + sum(len(k) + len(v) + 4 for k, v in request.headers)


class BoundedH11Protocol(H11Protocol):
    """h11 with a bounded request head and a deadline for it (slowloris): the connection closes
    if the request line and headers are not complete within `head_timeout` seconds.

    h11's max_incomplete_event_size only bounds a head still arriving; a large head that comes
    in one read is complete at once, so its size and header count are checked here as well."""

    head_timeout = 10.0

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._head_deadline: asyncio.TimerHandle | None = None
        self._arm_head_deadline()
        unbounded_next_event = self.conn.next_event

        def next_event() -> (
            h11.Event | type[h11.NEED_DATA] | type[h11.PAUSED]
        ):  # uvicorn answers h11's RemoteProtocolError with a 400 and closes
            event = unbounded_next_event()
            if isinstance(event, h11.Request) and (
                _head_size(event) > MAX_HEAD_BYTES or len(event.headers) > MAX_HEADERS
            ):
                raise h11.RemoteProtocolError("request head too large", error_status_hint=431)
            return event

        self.conn.next_event = next_event  # type: ignore[method-assign]  # one connection's parser

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self.conn.their_state is not h11.IDLE:  # the head is complete (or broken): stop the clock
            self._disarm_head_deadline()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing():
            self._arm_head_deadline()  # the next request on this connection gets its own deadline

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm_head_deadline()
        super().connection_lost(exc)

    def _arm_head_deadline(self) -> None:
        self._disarm_head_deadline()
        self._head_deadline = self.loop.call_later(self.head_timeout, self._head_timed_out)

    def _disarm_head_deadline(self) -> None:
        deadline: asyncio.TimerHandle | None = getattr(self, "_head_deadline", None)
        if deadline is not None:
            deadline.cancel()
            self._head_deadline = None

    def _head_timed_out(self) -> None:
        self._head_deadline = None
        if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
            self.transport.close()


def uvicorn_config(app: ASGIApp, settings: Settings, host: str = "127.0.0.1", port: int = 8000) -> uvicorn.Config:
    """host and port only name the server in its logs: `aftercare serve` binds the socket itself."""
    protocol = type("ServiceH11Protocol", (BoundedH11Protocol,), {"head_timeout": settings.header_timeout_seconds})
    proxies = settings.trusted_proxy_list
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        http=protocol,
        h11_max_incomplete_event_size=MAX_HEAD_BYTES,
        timeout_keep_alive=settings.keep_alive_seconds,
        proxy_headers=bool(proxies),  # NET-1: no proxy configured, no forwarded header believed
        forwarded_allow_ips=proxies or [],
        log_config=None,  # keeps our JSON logging
        access_log=False,  # uvicorn's access log would print raw URLs
    )
