"""`aftercare serve --workers 2` as the Dockerfile runs it, on PostgreSQL and Redis: new
connections go to both workers, and SIGTERM to the supervisor drains both workers, answers
what arrives meanwhile, stores every acknowledged report, then exits."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from api.settings import Settings
from tests.conftest import ROOT, auth
from tests.scale.cluster import free_port
from tests.scale.servers import wait_for

pytestmark = [pytest.mark.redis, pytest.mark.postgres]
CONNECTIONS = 32  # the kernel hashes each to a worker: all on one would be a 1 in 2**31 chance


def _entries(folder: str) -> list[Path]:
    """A /proc folder's entries: none once its process has gone, which it may between two reads
    (a worker just killed, listed as a child until the supervisor reaps it)."""
    try:
        return list(Path(folder).iterdir())
    except OSError:
        return []


def _descendants(pid: int) -> list[int]:
    found, todo = [], [pid]
    while todo:
        for task in _entries(f"/proc/{todo.pop()}/task"):
            try:
                kids = [int(k) for k in (task / "children").read_text().split()]
            except OSError:
                continue
            found += kids
            todo += kids
    return found


def _owners(pids: list[int], port: int) -> dict[int, int]:
    """Which process holds the server end of each established connection to `port`:
    {client port: pid}, from /proc (the socket inodes in each process's fd table)."""
    inodes: dict[str, int] = {}
    for pid in pids:
        for fd in _entries(f"/proc/{pid}/fd"):
            try:
                target = os.readlink(fd)
            except OSError:
                continue
            if target.startswith("socket:["):
                inodes[target[8:-1]] = pid
    owners = {}
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local, remote, state, inode = fields[1], fields[2], fields[3], fields[9]
        if state == "01" and int(local.split(":")[1], 16) == port and inode in inodes:
            owners[int(remote.split(":")[1], 16)] = inodes[inode]
    return owners


@contextmanager
def _serving_two_workers(settings: Settings, model_path: Path, log: Path) -> Iterator[tuple[subprocess.Popen, int]]:
    env = {
        **os.environ,
        "PYTHONPATH": f"{ROOT}{os.pathsep}{ROOT / 'tools'}",
        "AFTERCARE_DATABASE_URL": settings.database_url,
        "AFTERCARE_REDIS_URL": str(settings.redis_url),
        "AFTERCARE_SPOOL_PATH": str(settings.spool_path),
        "AFTERCARE_MODEL_PATH": str(model_path),
        "AFTERCARE_DRAIN_SECONDS": "2",
        "AFTERCARE_PATIENT_RATE_LIMIT": "1000/minute",
        "AFTERCARE_CLIENT_RATE_LIMIT": "1000/minute",
    }
    port = free_port()
    with log.open("wb") as output:
        server = subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "serve", "--port", str(port), "--workers", "2"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=output,
            cwd=ROOT,
        )
    try:
        wait_for(lambda: len(_listening_workers(server.pid, port)) == 2, 120, "both workers to listen")
        yield server, port
    finally:
        # Listed before the supervisor dies: then they are init's children and no longer its.
        workers = _descendants(server.pid)
        if server.poll() is None:
            server.kill()
            server.wait(timeout=30)
        for pid in workers:  # workers (and multiprocessing's tracker) left behind by the kill
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


@pytest.fixture
def two_workers(make_settings, tmp_path, postgres_url, redis_url):
    """Fail-safe replies only (no model file): no model load per worker."""
    settings = make_settings(model_path=tmp_path / "no-model", database_url=postgres_url, redis_url=redis_url)
    with _serving_two_workers(settings, settings.model_path, tmp_path / "serve.log") as (server, port):
        yield server, port, settings


def _listening_workers(supervisor: int, port: int) -> set[int]:
    """Workers with a listening socket on `port` (each has its own: SO_REUSEPORT)."""
    listening = {
        line.split()[9]
        for line in Path("/proc/net/tcp").read_text().splitlines()[1:]
        if line.split()[3] == "0A" and int(line.split()[1].split(":")[1], 16) == port
    }
    found = set()
    for pid in _descendants(supervisor):
        for fd in _entries(f"/proc/{pid}/fd"):
            try:
                if os.readlink(fd)[8:-1] in listening:
                    found.add(pid)
            except OSError:
                continue
    return found


def test_new_connections_are_spread_over_both_workers(two_workers):
    server, port, _ = two_workers
    url = f"http://127.0.0.1:{port}/healthz"
    clients = [httpx.Client(timeout=30) for _ in range(CONNECTIONS)]
    try:
        for client in clients:  # one request each; the connection stays open (keep-alive)
            assert client.get(url).status_code == 200
        workers = _descendants(server.pid)
        owners = _owners(workers, port)
    finally:
        for client in clients:
            client.close()
    assert len(owners) == CONNECTIONS
    assert len(set(owners.values())) == 2  # not every connection on whichever worker woke first


def test_sigterm_drains_both_workers_and_loses_no_acknowledged_report(two_workers):
    server, port, settings = two_workers
    url = f"http://127.0.0.1:{port}"
    headers = auth(settings)
    conversation = httpx.post(f"{url}/api/v1/conversations", headers=headers, timeout=30).json()["conversation_id"]
    answered: list[str] = []
    while_draining: list[int] = []
    draining = threading.Event()

    def send() -> None:
        for n in range(2000):  # bounded: the server is gone long before
            try:  # a new connection each time, so both workers get messages
                response = httpx.post(
                    f"{url}/api/v1/conversations/{conversation}/messages",
                    json={"text": f"my site is bleeding {n}"},
                    headers=headers,
                    timeout=30,
                )
            except httpx.TransportError:
                return  # the listeners closed: never processed
            assert response.status_code == 200, response.status_code
            answered.append(response.json()["escalation_id"])
            if draining.is_set():
                while_draining.append(n)

    sender = threading.Thread(target=send)
    sender.start()
    try:
        wait_for(lambda: len(answered) >= 5, what="the first answers")
        server.send_signal(signal.SIGTERM)  # to the supervisor only, as `docker stop` does
        wait_for(lambda: _draining(url), seconds=10, what="/readyz to report draining")
        draining.set()
        assert server.poll() is None  # still serving while the balancer takes it out
        server.wait(timeout=60)
    finally:
        sender.join(timeout=60)
    assert server.returncode == 0
    assert while_draining, "nothing was answered during the drain period"
    engine = sa.create_engine(settings.database_url)
    with engine.connect() as connection:
        stored = connection.execute(sa.text("SELECT count(*) FROM escalation_reports")).scalar_one()
    engine.dispose()
    assert stored == len(answered) and all(answered)


def _draining(url: str) -> bool:
    try:
        return httpx.get(f"{url}/readyz", timeout=2).json()["checks"]["accepting"] is False
    except httpx.TransportError:
        return False


def test_a_worker_that_replaces_a_dead_one_takes_connections_only_once_its_model_is_loaded(
    make_settings, tmp_path, postgres_url, redis_url
):
    """The supervisor restarts a worker killed under load. Listening before its model loaded, the
    new worker answered its share of patients with fail-safe replies for 20-60 s while its
    sibling had the model: every reply here must come from the assistant."""
    settings = make_settings(database_url=postgres_url, redis_url=redis_url)
    log = tmp_path / "serve.log"
    with _serving_two_workers(settings, settings.model_path, log) as (server, port):
        url = f"http://127.0.0.1:{port}"
        wait_for(lambda: log.read_text().count("assistant loaded") == 2, 300, "both workers' models")
        headers = auth(settings)
        conversation = httpx.post(f"{url}/api/v1/conversations", headers=headers, timeout=30).json()["conversation_id"]
        answered_by: list[str] = []
        stop = threading.Event()

        def send() -> None:
            while not stop.is_set():
                try:  # a new connection each time: the kernel hashes each to a listening worker
                    response = httpx.post(
                        f"{url}/api/v1/conversations/{conversation}/messages",
                        json={"text": "can I have a shower tonight?"},
                        headers=headers,
                        timeout=60,
                    )
                except httpx.TransportError:
                    continue  # in flight on the killed worker: lost with it, the patient sends again
                answered_by.append(response.json().get("answered_by", f"HTTP {response.status_code}"))
                stop.wait(0.1)  # under the patient rate limit

        sender = threading.Thread(target=send)
        sender.start()
        try:
            wait_for(lambda: len(answered_by) >= 5, 60, "the first answers")
            first = _listening_workers(server.pid, port)
            os.kill(min(first), signal.SIGKILL)
            wait_for(lambda: len(_listening_workers(server.pid, port) - first) == 1, 300, "a replacement to listen")
            served = len(answered_by)
            wait_for(lambda: len(answered_by) >= served + 30, 120, "answers with the replacement listening")
        finally:
            stop.set()
            sender.join(timeout=120)
    assert len(answered_by) >= 35
    assert set(answered_by) == {"assistant"}, sorted(set(answered_by))
