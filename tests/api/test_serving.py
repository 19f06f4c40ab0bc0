"""`aftercare serve`'s server settings, on a real uvicorn server over real sockets
(RES-4: bounded heads, slow heads and bodies; NET-1: proxy headers only from trusted proxies)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest
import sqlalchemy as sa
import uvicorn

from api.core.audit_log import AuditEvent
from api.main import create_app
from api.serving import uvicorn_config
from api.settings import Settings

WAIT = 20.0  # a generous bound for a socket read; the server answers or closes well before


@pytest.fixture
def make_settings(tmp_path):
    def make(**overrides) -> Settings:
        return Settings(database_url=f"sqlite:///{tmp_path}/s.db", spool_path=tmp_path / "spool.jsonl", **overrides)

    return make


@contextmanager
def serving(settings: Settings) -> Iterator[tuple[int, object]]:
    app = create_app(settings, load_assistant=False)
    server = uvicorn.Server(uvicorn_config(app, settings, "127.0.0.1", 0))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(int(WAIT / 0.05)):
        if server.started:
            break
        time.sleep(0.05)
    assert server.started, "the server did not start"
    try:
        yield server.servers[0].sockets[0].getsockname()[1], app
    finally:
        server.should_exit = True
        thread.join(WAIT)


def _exchange(port: int, data: bytes) -> bytes:
    """Sends raw bytes; returns what the server answers before it closes the connection."""
    with socket.create_connection(("127.0.0.1", port), timeout=WAIT) as sock:
        try:
            sock.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server may refuse before reading everything
        answer = b""
        try:
            while chunk := sock.recv(65536):
                answer += chunk
        except ConnectionResetError:
            pass
        return answer


def test_an_oversized_header_is_refused(make_settings):
    """RES-4: one 32 KB header used to be accepted (httptools has no bound)."""
    with serving(make_settings()) as (port, _app):
        answer = _exchange(port, b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 32768 + b"\r\n\r\n")
    assert answer.split(b" ", 2)[1].startswith(b"4")


def test_a_flood_of_headers_is_refused(make_settings):
    """RES-4: the head's byte bound also bounds the header count."""
    headers = b"".join(b"X-H%d: v\r\n" % n for n in range(5000))
    with serving(make_settings()) as (port, _app):
        answer = _exchange(port, b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + headers + b"\r\n")
    assert answer.split(b" ", 2)[1].startswith(b"4")


def test_a_request_head_that_never_ends_is_cut_off(make_settings):
    """RES-4: a slowloris head used to hold the connection indefinitely."""
    with serving(make_settings(header_timeout_seconds=0.5)) as (port, _app):
        answer = _exchange(port, b"GET /healthz HTTP/1.1\r\nHost: x\r\n")  # no blank line, ever
    assert answer == b""  # closed by the server, not by our read timeout (which would raise)


def test_a_body_that_never_arrives_gets_408(make_settings):
    """RES-4: a slow body is given up on with a JSON 408."""
    head = b"POST /api/v1/staff/session HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
    with serving(make_settings(body_timeout_seconds=0.5)) as (port, _app):
        answer = _exchange(port, head + b'Content-Length: 100\r\nConnection: close\r\n\r\n{"email":')
    assert answer.startswith(b"HTTP/1.1 408") and b'"request_timeout"' in answer


def _login_address(port: int, app, forwarded_for: str) -> str:
    httpx.post(
        f"http://127.0.0.1:{port}/api/v1/staff/session",
        headers={"X-Forwarded-For": forwarded_for},
        json={"email": "someone@clinic.test", "password": "x" * 12},
        timeout=WAIT,
    )
    with app.state.ctx.sessions() as session:
        return session.execute(sa.select(AuditEvent.client_address)).scalar_one()


def test_forwarded_for_is_ignored_without_a_configured_proxy(make_settings):
    """NET-1: anything on the host could claim any address (and dodge per-client limits)."""
    with serving(make_settings()) as (port, app):
        assert _login_address(port, app, "203.0.113.50") == "127.0.0.1"


def test_forwarded_for_is_believed_from_a_configured_proxy(make_settings):
    with serving(make_settings(trusted_proxies="127.0.0.1")) as (port, app):
        assert _login_address(port, app, "203.0.113.50") == "203.0.113.50"
