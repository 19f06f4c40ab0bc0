"""The outbound webhook: signed, text-free, retried with backoff from the persisted outbox."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import hmac
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from secrets import token_urlsafe
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from api.escalations import outbox
from api.escalations.models import OutboxEvent
from api.identity import mint_patient_token
from api.settings import Settings
from tests.conftest import settings_in
from tests.staff.conftest import WARNING_MESSAGE, make_app

HOOK = "https://hooks.clinic.example/aftercare"


@pytest.fixture
def settings(make_settings) -> Settings:
    return make_settings(webhook_url=HOOK)


START_WORKER = outbox.start_worker


@pytest.fixture(autouse=True)
def no_app_worker(request, monkeypatch):
    """These tests drive deliveries themselves; the app's own worker (started in the lifespan)
    would race them for the same rows. The lifespan test below keeps it."""
    if "app_worker" not in request.fixturenames:
        idle = lambda ctx, **_: asyncio.create_task(asyncio.sleep(0))  # noqa: E731
        monkeypatch.setattr(outbox, "start_worker", idle)


class Receiver:
    """A webhook endpoint that fails `failures` times, then accepts."""

    def __init__(self, failures: int = 0) -> None:
        self.failures = failures
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if len(self.requests) <= self.failures:
            return httpx.Response(503)
        return httpx.Response(204)


def _pass(ctx, receiver: Receiver) -> int:
    async def run() -> int:
        async with httpx.AsyncClient(transport=httpx.MockTransport(receiver)) as client:
            return await outbox.deliver_due(ctx, client)

    return asyncio.run(run())


def _rows(ctx) -> list[OutboxEvent]:
    with ctx.sessions() as session:
        return list(session.execute(sa.select(OutboxEvent)).scalars())


def _make_due(ctx) -> None:
    """Skips the backoff wait."""
    past = dt.datetime.now(dt.timezone.utc) - dt.timedelta(hours=1)
    with ctx.sessions() as session, session.begin():
        session.execute(sa.update(OutboxEvent).values(next_attempt_at=past))


def test_a_new_escalation_is_delivered_signed_and_without_text(ctx, escalation):
    receiver = Receiver()
    assert _pass(ctx, receiver) == 1
    [request] = receiver.requests
    assert str(request.url) == HOOK
    body = request.content
    timestamp = request.headers["X-Aftercare-Timestamp"]
    expected = hmac.new(ctx.settings.webhook_key.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(request.headers["X-Aftercare-Signature"], f"sha256={expected}")
    payload = json.loads(body)
    assert payload["escalation_id"] == escalation and payload["event"] == "escalation.created"
    assert WARNING_MESSAGE not in body.decode() and "patient" not in body.decode()
    assert _rows(ctx)[0].delivered_at is not None and _pass(ctx, Receiver()) == 0  # never twice


def test_a_failed_delivery_is_retried_later_with_backoff(ctx, escalation):
    receiver = Receiver(failures=2)
    assert _pass(ctx, receiver) == 0
    [row] = _rows(ctx)
    assert (row.attempts, row.last_error, row.delivered_at) == (1, "HTTP 503", None)
    assert _pass(ctx, receiver) == 0 and len(receiver.requests) == 1  # not due yet: backing off
    _make_due(ctx)
    assert _pass(ctx, receiver) == 0
    _make_due(ctx)
    assert _pass(ctx, receiver) == 1
    assert _rows(ctx)[0].attempts == 3
    ids = {r.headers["X-Aftercare-Event-Id"] for r in receiver.requests}
    assert len(ids) == 1  # the receiver can dedupe retries


def test_backoff_doubles_and_is_capped():
    assert [outbox.backoff(n).total_seconds() for n in (1, 2, 3, 4)] == [10, 20, 40, 80]
    assert outbox.backoff(30).total_seconds() == 3600


def test_undelivered_events_survive_a_restart(settings, escalation):
    """The outbox is a table: a new process (new app, same database) still delivers it."""
    from fastapi.testclient import TestClient

    app = make_app(settings)
    with TestClient(app):
        assert _pass(app.state.ctx, Receiver()) == 1


def test_the_worker_delivers_in_the_background(ctx, escalation):
    receiver = Receiver()

    async def run() -> None:
        task = START_WORKER(ctx, poll_seconds=0.05, transport=httpx.MockTransport(receiver))
        for _ in range(100):
            if receiver.requests:
                break
            await asyncio.sleep(0.05)
        task.cancel()

    asyncio.run(run())
    assert len(receiver.requests) == 1


def test_without_a_webhook_url_the_worker_ends_at_once(tmp_path):
    app = make_app(settings_in(tmp_path))

    async def run() -> bool:
        task = START_WORKER(app.state.ctx, poll_seconds=0.01)
        await asyncio.wait_for(task, 1)
        return task.done()

    assert asyncio.run(run())


def test_production_refuses_a_plain_http_webhook(tmp_path):
    secrets: dict[str, Any] = {
        "patient_token_hs256_keys": token_urlsafe(32),
        "staff_session_key": token_urlsafe(32),
        "webhook_key": token_urlsafe(32),
    }
    settings = settings_in(
        tmp_path,
        environment="production",
        webhook_url="http://hooks.clinic.example/x",
        **secrets,
    )
    assert outbox._usable_url(type("Ctx", (), {"settings": settings})()) is False


class _Hook(BaseHTTPRequestHandler):
    received: list[bytes] = []

    def do_POST(self) -> None:
        _Hook.received.append(self.rfile.read(int(self.headers["Content-Length"])))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def app_worker() -> None:
    """Requesting this keeps the lifespan's real worker running."""


def test_the_app_lifespan_runs_the_worker(tmp_path, app_worker):
    """Wiring: a real HTTP receiver on loopback gets the webhook while the app serves."""
    hook = ThreadingHTTPServer(("127.0.0.1", 0), _Hook)
    threading.Thread(target=hook.serve_forever, daemon=True).start()
    settings = settings_in(
        tmp_path,
        webhook_url=f"http://127.0.0.1:{hook.server_port}/hook",
    )
    try:
        with TestClient(make_app(settings)) as client:
            headers = {"Authorization": f"Bearer {mint_patient_token('patient-1', settings)}"}
            conversation = client.post("/api/v1/conversations", headers=headers).json()["conversation_id"]
            client.post(
                f"/api/v1/conversations/{conversation}/messages",
                json={"text": WARNING_MESSAGE},
                headers=headers,
            )
            deadline = time.monotonic() + 15
            while not _Hook.received and time.monotonic() < deadline:
                time.sleep(0.1)
    finally:
        hook.shutdown()
    assert len(_Hook.received) == 1 and json.loads(_Hook.received[0])["event"] == "escalation.created"
