"""What both browser suites need: the API on a real port and a fresh page in Debian's chromium."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import uvicorn
from playwright.sync_api import Browser, Page

CHROMIUM = "/usr/bin/chromium"  # Debian's; a downloaded browser is never used
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Records what the page's Content-Security-Policy blocked, for assertions.
CSP_WATCH = """window.__cspViolations = [];
document.addEventListener("securitypolicyviolation",
  (e) => window.__cspViolations.push(e.violatedDirective));"""


def bound_socket() -> socket.socket:
    """A loopback socket on a port the OS picks, bound and listening from now on, for a server
    started later on this very socket: a port picked free and bound only later (after the app
    and its settings are built) can be taken meanwhile by any other socket."""
    return socket.create_server(("127.0.0.1", 0), backlog=128)


def port_of(sock: socket.socket) -> int:
    return int(sock.getsockname()[1])


def portal_server(sock: socket.socket, handler: type[BaseHTTPRequestHandler]) -> ThreadingHTTPServer:
    """A stand-in portal serving on a socket from bound_socket()."""
    server = ThreadingHTTPServer(sock.getsockname(), handler, bind_and_activate=False)
    server.socket.close()  # the unbound one it made
    server.socket = sock
    return server


class LiveServer:
    """uvicorn in a thread: the browser needs real HTTP (and, for staff, a long-lived event
    stream, hence the short graceful shutdown). It serves on a socket from bound_socket()."""

    def __init__(self, app, sock: socket.socket) -> None:
        self.url = f"http://127.0.0.1:{port_of(sock)}"
        self._socket = sock
        config = uvicorn.Config(app, log_level="warning", timeout_graceful_shutdown=2)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [sock]}, daemon=True)

    def start(self) -> None:
        self._thread.start()
        deadline = time.monotonic() + 20
        while not self._server.started:
            assert time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.05)

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self._socket.close()


@contextmanager
def fresh_page(browser: Browser, width: int, height: int) -> Iterator[Page]:
    """A new context per test: empty storage, as a new browser tab would have."""
    context = browser.new_context(viewport={"width": width, "height": height})
    context.add_init_script(CSP_WATCH)
    try:
        yield context.new_page()
    finally:
        context.close()
