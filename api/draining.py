"""Graceful shutdown behind a load balancer.

SIGTERM first marks the process as draining (/readyz answers 503, so the balancer's health
check takes it out of rotation) while it keeps serving for AFTERCARE_DRAIN_SECONDS; then
uvicorn stops accepting, lets in-flight requests finish (a patient message's transaction
commits before its reply goes out), runs the app's shutdown and exits. A second SIGTERM, or
Ctrl-C (SIGINT), skips the wait.
"""

from __future__ import annotations

import logging
import signal
import threading
from types import FrameType

import uvicorn

from api.context import AppContext

log = logging.getLogger("aftercare.shutdown")


class DrainingServer(uvicorn.Server):
    def __init__(self, config: uvicorn.Config, ctx: AppContext) -> None:
        super().__init__(config)
        self._ctx = ctx

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        delay = self._ctx.settings.drain_seconds
        if sig != signal.SIGTERM or self._ctx.draining or delay <= 0:
            self._ctx.draining = True
            super().handle_exit(sig, frame)
            return
        self._ctx.draining = True
        log.info(
            "draining: /readyz answers 503; stopping after the drain period", extra={"duration_ms": round(delay * 1000)}
        )
        timer = threading.Timer(delay, super().handle_exit, (sig, frame))
        timer.daemon = True
        timer.start()
