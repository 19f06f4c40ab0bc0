"""SIGTERM: /readyz says 503 while the server still serves, every answered message is stored,
then the process exits."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading

import httpx
import sqlalchemy as sa

from tests.conftest import ROOT, auth
from tests.scale.servers import wait_for


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_sigterm_drains_then_exits_with_every_answered_message_stored(make_settings, tmp_path):
    settings = make_settings(model_path=tmp_path / "no-model", drain_seconds=2.0)
    env = {
        **os.environ,
        "PYTHONPATH": f"{ROOT}{os.pathsep}{ROOT / 'tools'}",
        "AFTERCARE_DATABASE_URL": settings.database_url,
        "AFTERCARE_SPOOL_PATH": str(settings.spool_path),
        "AFTERCARE_MODEL_PATH": str(settings.model_path),  # fail-safe replies: no 30 s model load
        "AFTERCARE_DRAIN_SECONDS": "2",
        "AFTERCARE_PATIENT_RATE_LIMIT": "1000/minute",
        "AFTERCARE_CLIENT_RATE_LIMIT": "1000/minute",
        "AFTERCARE_REDIS_URL": "",
    }
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    headers = auth(settings)
    answered: list[str] = []
    refused: list[str] = []
    while_draining: list[int] = []
    draining = threading.Event()
    try:
        wait_for(lambda: _answers(url), 120, "the server to start")  # imports Rasa: slow on a busy machine
        conversation = httpx.post(f"{url}/api/v1/conversations", headers=headers).json()["conversation_id"]

        def send() -> None:
            with httpx.Client(timeout=30) as client:
                for n in range(2000):  # bounded: the server is gone long before
                    try:
                        response = client.post(
                            f"{url}/api/v1/conversations/{conversation}/messages",
                            json={"text": f"my site is bleeding {n}"},
                            headers=headers,
                        )
                    except httpx.TransportError:
                        refused.append(str(n))  # the listener closed: never processed
                        return
                    assert response.status_code == 200, response.status_code
                    answered.append(response.json()["escalation_id"])
                    if draining.is_set():
                        while_draining.append(n)

        sender = threading.Thread(target=send)
        sender.start()
        wait_for(lambda: len(answered) >= 5, what="the first answers")
        server.send_signal(signal.SIGTERM)
        wait_for(lambda: _readyz(url) == {"accepting": False}, seconds=10, what="/readyz to report draining")
        draining.set()
        assert server.poll() is None  # still serving while the balancer takes it out
        server.wait(timeout=30)
        sender.join(timeout=30)
    finally:
        if server.poll() is None:
            server.kill()
    assert server.returncode in (0, -signal.SIGTERM)
    assert while_draining, "nothing was answered during the drain period"
    engine = sa.create_engine(settings.database_url)
    with engine.connect() as connection:
        stored = connection.execute(sa.text("SELECT count(*) FROM escalation_reports")).scalar_one()
    engine.dispose()
    assert stored == len(answered) and all(answered)  # every acknowledged report committed (in one case)


def _answers(url: str) -> bool:
    try:
        return httpx.get(f"{url}/healthz", timeout=1).status_code == 200
    except httpx.TransportError:
        return False


def _readyz(url: str) -> dict:
    try:
        checks = httpx.get(f"{url}/readyz", timeout=1).json()["checks"]
    except httpx.TransportError:
        return {}
    return {"accepting": checks["accepting"]}
