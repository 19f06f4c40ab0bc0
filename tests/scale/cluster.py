"""Two `aftercare serve` replicas (real model) behind HAProxy with deploy/haproxy.cfg, sharing
PostgreSQL and Redis; loopback only. Every wait polls with a deadline."""

from __future__ import annotations

import csv
import io
import os
import shutil
import signal
import socket
import subprocess
import sys
from pathlib import Path
from typing import IO

import httpx
import pytest

from tests.conftest import MODEL, ROOT
from tests.scale.servers import wait_for

MODEL_LOAD_SECONDS = 240.0  # a bound for two models loading at once on a busy 2-core machine


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Cluster:
    def __init__(self, folder: Path, database_url: str, redis_url: str, patient_limit: str) -> None:
        if shutil.which("haproxy") is None:
            if os.environ.get("CI") == "true":
                pytest.fail("the replica tests need Debian's haproxy (.ci/run installs it)")
            pytest.skip("the replica tests need Debian's haproxy")
        self.folder = folder
        self.database_url = database_url
        self.ports = {"api1": free_port(), "api2": free_port()}
        self.url = f"http://127.0.0.1:{free_port()}"
        self.stats = f"http://127.0.0.1:{free_port()}/stats;csv"
        self.replicas: dict[str, subprocess.Popen[bytes]] = {}
        self.env = {
            **os.environ,
            "PYTHONPATH": f"{ROOT}{os.pathsep}{ROOT / 'tools'}",
            "AFTERCARE_DATABASE_URL": database_url,
            "AFTERCARE_REDIS_URL": redis_url,
            "AFTERCARE_MODEL_PATH": str(MODEL),
            "AFTERCARE_DRAIN_SECONDS": "3",
            "AFTERCARE_PATIENT_RATE_LIMIT": patient_limit,
            "AFTERCARE_CLIENT_RATE_LIMIT": "100000/minute",  # every request comes from HAProxy's address
        }
        self.haproxy: subprocess.Popen[bytes] | None = None

    def start(self, name: str) -> None:
        log = self._log(name)
        env = {**self.env, "AFTERCARE_SPOOL_PATH": str(self.folder / f"{name}-spool.jsonl")}
        self.replicas[name] = subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "serve", "--port", str(self.ports[name])],
            env=env,
            stdout=log,
            stderr=log,
            cwd=ROOT,
        )

    def replica_url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.ports[name]}"

    def ready(self, name: str) -> bool:
        try:
            return httpx.get(f"{self.replica_url(name)}/readyz", timeout=2).status_code == 200
        except httpx.TransportError:
            return False

    def start_haproxy(self) -> None:
        extra = self.folder / "stats.cfg"
        extra.write_text(
            f"frontend stats\n    bind 127.0.0.1:{self.stats.split(':')[2].split('/')[0]}\n"
            "    stats enable\n    stats uri /stats\n"
        )
        env = {
            **os.environ,
            "AFTERCARE_LISTEN": self.url.removeprefix("http://"),
            "AFTERCARE_API1": f"127.0.0.1:{self.ports['api1']}",
            "AFTERCARE_API2": f"127.0.0.1:{self.ports['api2']}",
        }
        self.haproxy = subprocess.Popen(
            ["haproxy", "-db", "-f", str(ROOT / "deploy" / "haproxy.cfg"), "-f", str(extra)],
            env=env,
            stdout=self._log("haproxy"),
            stderr=subprocess.STDOUT,
        )

    def _log(self, name: str) -> IO[bytes]:
        return open(self.folder / f"{name}.log", "ab")  # noqa: SIM115 (the process owns it)

    def up_in_haproxy(self) -> set[str]:
        try:
            text = httpx.get(self.stats, timeout=2).text
        except httpx.TransportError:
            return set()
        rows = csv.DictReader(io.StringIO(text.lstrip("# ")))
        servers = [row for row in rows if row["pxname"] == "replicas" and row["svname"] in self.ports]
        return {row["svname"] for row in servers if row["status"] == "UP"}

    def wait_all_up(self) -> None:
        wait_for(lambda: all(self.ready(name) for name in self.ports), MODEL_LOAD_SECONDS, "both replicas ready")
        try:
            wait_for(lambda: self.up_in_haproxy() == set(self.ports), 30, "HAProxy to see both replicas up")
        except AssertionError:
            print((self.folder / "haproxy.log").read_text(errors="replace")[-3000:])
            raise

    def stop(self, name: str, sig: int = signal.SIGTERM) -> None:
        process = self.replicas[name]
        process.send_signal(sig)
        process.wait(timeout=60)

    def close(self) -> None:
        for process in [*self.replicas.values(), self.haproxy]:
            if process is not None and process.poll() is None:
                process.kill()
                process.wait(timeout=30)
