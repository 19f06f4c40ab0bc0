"""What both browser suites need: the API on a real port and a fresh page in Debian's chromium."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

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


class LiveServer:
    """uvicorn in a thread: the browser needs real HTTP (and, for staff, a long-lived event
    stream, hence the short graceful shutdown)."""

    def __init__(self, app, port: int) -> None:
        self.url = f"http://127.0.0.1:{port}"
        config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", timeout_graceful_shutdown=2)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)

    def start(self) -> None:
        self._thread.start()
        deadline = time.monotonic() + 20
        while not self._server.started:
            assert time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.05)

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)


@contextmanager
def fresh_page(browser: Browser, width: int, height: int) -> Iterator[Page]:
    """A new context per test: empty storage, as a new browser tab would have."""
    context = browser.new_context(viewport={"width": width, "height": height})
    context.add_init_script(CSP_WATCH)
    try:
        yield context.new_page()
    finally:
        context.close()
