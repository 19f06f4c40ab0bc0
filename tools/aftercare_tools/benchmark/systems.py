"""Start each system under test as subprocesses on loopback and measure its cold start."""

from __future__ import annotations

import asyncio
import os
import secrets
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import jwt

from aftercare_tools.benchmark.servers import (
    LOOPBACK,
    ServerProcess,
    StartupError,
    free_port,
    venv_bin,
    wait_until,
)
from aftercare_tools.benchmark.targets import RasaTarget, ServiceTarget

ROOT = Path(__file__).resolve().parents[3]  # the repository (tools/aftercare_tools/benchmark/ -> .)
REQUEST_TIMEOUT = httpx.Timeout(30.0, connect=5.0)
FIRST_MESSAGE = "when can I take the bandage off"  # goes through a custom action
RASA_CREDENTIALS = "rest:\n"  # what `rasa init` writes: the REST channel, nothing else


@dataclass
class System:
    """A running system: how to talk to it, its processes, and its start-up figures."""

    key: str
    target: Any
    servers: list[ServerProcess]  # the first is the server that answers messages
    startup: dict[str, Any] = field(default_factory=dict)

    def cpu(self) -> float:
        """CPU seconds used so far by all its processes (clock-tick resolution)."""
        return sum(server.cpu_seconds() for server in self.servers)

    def turn_cpu(self) -> float:
        """The same at nanosecond resolution (live threads only), for one message."""
        return sum(server.cpu_seconds_precise() for server in self.servers)

    def memory(self) -> dict[str, Any]:
        """Peak RSS (VmHWM) of the main server, and of all its processes together."""
        detail = {server.name: server.memory() for server in self.servers}

        def total(m: dict) -> int:
            return (m["process"] or 0) + (m["children"] or 0)

        main = detail[self.servers[0].name]
        return {
            "peak_rss_bytes": total(main) if main["process"] else None,
            "peak_rss_total_bytes": sum(total(m) for m in detail.values()) or None,
            "memory_detail": detail,
        }

    def stop(self) -> None:
        for server in self.servers:
            server.stop()


def _http_ok(url: str) -> bool:
    return httpx.get(url, timeout=2.0).status_code == 200


@dataclass(frozen=True)
class BenchPortal:
    """The benchmark plays the patient portal: the service is started trusting this run's own
    HS256 key, issuer and audience (its documented AFTERCARE_PATIENT_TOKEN_* settings), and
    each conversation gets a token signed with it, as a portal back end would mint one."""

    key: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    issuer: str = "aftercare-bench"
    audience: str = "marrow-aftercare"
    lifetime_seconds: int = 900  # the service's maximum; a bench run per token is far shorter

    def environment(self) -> dict[str, str]:
        return {
            "AFTERCARE_PATIENT_TOKEN_HS256_KEYS": self.key,
            "AFTERCARE_PATIENT_TOKEN_ISSUER": self.issuer,
            "AFTERCARE_PATIENT_TOKEN_AUDIENCE": self.audience,
        }

    def mint(self, patient_id: str) -> str:
        now = int(time.time())
        claims = {
            "sub": patient_id,
            "iss": self.issuer,
            "aud": self.audience,
            "iat": now,
            "nbf": now,
            "exp": now + self.lifetime_seconds,
        }
        return jwt.encode(claims, self.key, algorithm="HS256")


async def _first_reply(target: Any, deadline: float, servers: list[ServerProcess]) -> tuple[float, str]:
    """Retry one message until a reply arrives; returns (perf_counter time, outcome detail)."""
    async with httpx.AsyncClient(timeout=REQUEST_TIMEOUT) as client:
        last = "no attempt"
        while time.perf_counter() < deadline:
            for server in servers:
                if not server.alive():
                    raise StartupError(f"{server.name} exited during start-up:\n{server.log_tail()}")
            try:
                handle = await target.open(client, "coldstart-0")
                outcome = await target.send(client, handle, FIRST_MESSAGE)
                if outcome.ok:
                    return time.perf_counter(), outcome.detail
                last = outcome.detail
            except (httpx.HTTPError, KeyError, ValueError) as error:
                last = type(error).__name__
            await asyncio.sleep(0.2)
    raise StartupError(f"no reply before the start-up deadline (last: {last})")


def start_service(
    model: Path,
    workdir: Path,
    timeout: float,
    workers: int = 1,
    database_url: str | None = None,
    redis_url: str | None = None,
) -> System:
    """`aftercare serve` (default: one process on a fresh SQLite file; `--workers N` needs
    PostgreSQL and Redis URLs). Cold start: spawn -> GET /readyz 200."""
    port = free_port()
    base = f"http://{LOOPBACK}:{port}"
    portal = BenchPortal()
    shared = {"AFTERCARE_REDIS_URL": redis_url} if redis_url else {}
    env = {
        **os.environ,
        **portal.environment(),
        **shared,
        "AFTERCARE_DATABASE_URL": database_url or f"sqlite:///{workdir}/bench.db",
        "AFTERCARE_MODEL_PATH": str(model),
        "AFTERCARE_SPOOL_PATH": str(workdir / "escalation-spool.jsonl"),
        "AFTERCARE_PATIENT_RATE_LIMIT": "100000/minute",
        "AFTERCARE_CLIENT_RATE_LIMIT": "100000/minute",
    }
    server = ServerProcess(
        "aftercare serve",
        [venv_bin("aftercare"), "serve", "--host", LOOPBACK, "--port", str(port), "--workers", str(workers)],
        env,
        workdir / "service.log",
        cwd=ROOT,
    )
    system = System("service", ServiceTarget(base, portal.mint), [server])
    server.start()
    try:
        ready = wait_until(lambda: _http_ok(f"{base}/readyz"), [server], timeout)
        if workers > 1:  # /readyz answers from the first worker with its model: wait for all
            ready = wait_until(lambda: _models_loaded(server) >= workers, [server], timeout)
        first, detail = asyncio.run(_first_reply(system.target, ready + 60, [server]))
    except BaseException:
        system.stop()
        raise
    system.startup = {
        "label": system.target.label,
        "command": " ".join(server.command[1:]),
        "ready_s": ready - server.started_at,
        "first_reply_s": first - server.started_at,
        "cold_start_s": ready - server.started_at,
        "first_reply_outcome": detail,
    }
    return system


def _models_loaded(server: ServerProcess) -> int:
    """How many worker processes have logged their model as loaded (api.main)."""
    try:
        return server.log_path.read_text(errors="replace").count("assistant loaded")
    except OSError:
        return 0


def start_plain_rasa(model: Path, workdir: Path, timeout: float) -> System:
    """`rasa run --enable-api` (REST channel, in-memory tracker store) and `rasa run actions`.
    Cold start: spawn -> GET /status 200 and a first webhook reply (through a custom action)."""
    port, action_port = free_port(), free_port()
    base = f"http://{LOOPBACK}:{port}"
    endpoints = workdir / "endpoints.yml"
    endpoints.write_text(f'action_endpoint:\n  url: "http://{LOOPBACK}:{action_port}/webhook"\n')
    credentials = workdir / "credentials.yml"
    credentials.write_text(RASA_CREDENTIALS)
    env = {**os.environ, "RASA_TELEMETRY_ENABLED": "false"}
    # rasa-sdk 3.6's `rasa run actions` has no interface option; it reads SANIC_HOST
    # (default 0.0.0.0), so the action server is bound to loopback through that.
    actions = ServerProcess(
        "rasa run actions",
        [venv_bin("rasa"), "run", "actions", "--actions", "actions", "-p", str(action_port)],
        {**env, "SANIC_HOST": LOOPBACK},
        workdir / "actions.log",
        cwd=ROOT,
    )
    command = [
        venv_bin("rasa"),
        "run",
        "--enable-api",
        "-m",
        str(model),
        "--port",
        str(port),
        "-i",
        LOOPBACK,
        "--endpoints",
        str(endpoints),
        "--credentials",
        str(credentials),
    ]
    rasa = ServerProcess("rasa run", command, env, workdir / "rasa.log", cwd=ROOT)
    system = System("plain_rasa", RasaTarget(base), [rasa, actions])
    actions.start()
    rasa.start()
    try:
        ready = wait_until(lambda: _http_ok(f"{base}/status"), [rasa, actions], timeout)
        first, detail = asyncio.run(_first_reply(system.target, ready + 60, [rasa, actions]))
    except BaseException:
        system.stop()
        raise
    system.startup = {
        "label": system.target.label,
        "command": " ".join(rasa.command[1:]) + " + " + " ".join(actions.command[1:]),
        "ready_s": ready - rasa.started_at,
        "first_reply_s": first - rasa.started_at,
        "cold_start_s": first - rasa.started_at,
        "first_reply_outcome": detail,
    }
    return system


STARTERS = {"service": start_service, "plain_rasa": start_plain_rasa}
