"""PostgreSQL and Redis for the several-worker benchmark: the URLs given, or throwaway local
servers on free loopback ports (Debian's binaries, as .ci/run starts them), stopped afterwards."""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from aftercare_tools.benchmark.servers import LOOPBACK, ServerProcess, StartupError, free_port, wait_until

PG_USER = "postgres"  # initdb refuses to run as root; Debian's package creates this user


def postgres_bindir() -> Path | None:
    """The newest /usr/lib/postgresql/<version>/bin holding initdb, or None."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: _version(p.parent.parent.name))
    return found[-1].parent if found else None


def _version(name: str) -> tuple[int, ...]:
    return tuple(int(part) for part in name.split(".") if part.isdigit())


def _as_postgres_user(command: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return command
    return ["runuser", "-u", PG_USER, "--", *command]


def _connects(port: int) -> bool:
    import socket

    try:
        with socket.create_connection((LOOPBACK, port), timeout=0.5):
            return True
    except OSError:
        return False


@dataclass
class Backends:
    """The database and Redis URLs for the service, and any servers started for them."""

    database_url: str
    redis_url: str
    started: list[ServerProcess] = field(default_factory=list)
    folders: list[Path] = field(default_factory=list)  # removed after the servers stop

    def describe(self) -> str:
        if not self.started:
            return "PostgreSQL and Redis given by URL"
        return "throwaway PostgreSQL and Redis started by the benchmark on loopback"

    def cpu(self) -> float:
        """CPU seconds used so far by the servers started here (PostgreSQL with its backends)."""
        return sum(server.cpu_seconds() for server in self.started)

    def stop(self) -> None:
        for server in reversed(self.started):
            server.stop()
        for folder in self.folders:
            shutil.rmtree(folder, ignore_errors=True)


def _start_postgres(workdir: Path, backends: Backends) -> str:
    bindir = postgres_bindir()
    if bindir is None:
        raise StartupError("no PostgreSQL binaries (apt-get install postgresql), or give --database-url")
    # Its own folder outside the benchmark's private temporary one, which the postgres user
    # (initdb refuses root) could not enter.
    folder = Path(tempfile.mkdtemp(prefix="aftercare-bench-pg-"))
    backends.folders.append(folder)
    data = folder / "data"
    if os.geteuid() == 0:
        pwd.getpwnam(PG_USER)  # a KeyError naming the user if Debian's package did not create it
        shutil.chown(folder, PG_USER)
    done = subprocess.run(  # noqa: S603 - fixed argv
        _as_postgres_user([str(bindir / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres"]),
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise StartupError(f"initdb failed: {done.stderr.strip()[-500:]}")
    port = free_port()
    command = [str(bindir / "postgres"), "-D", str(data), "-p", str(port), "-k", str(data)]
    command += ["-c", f"listen_addresses={LOOPBACK}", "-c", "fsync=off", "-c", "max_connections=200"]
    server = ServerProcess("postgres", _as_postgres_user(command), dict(os.environ), workdir / "postgres.log")
    backends.started.append(server)
    server.start()
    wait_until(lambda: _connects(port), [server], 60)
    time.sleep(0.5)  # accepting TCP a moment before the start-up checkpoint is done
    return f"postgresql://postgres@{LOOPBACK}:{port}/postgres"


def _start_redis(workdir: Path, backends: Backends) -> str:
    binary = shutil.which("redis-server")
    if binary is None:
        raise StartupError("no redis-server (apt-get install redis-server), or give --redis-url")
    port = free_port()
    command = [binary, "--bind", LOOPBACK, "--port", str(port), "--save", "", "--appendonly", "no"]
    command += ["--dir", str(workdir)]
    server = ServerProcess("redis-server", command, dict(os.environ), workdir / "redis.log")
    backends.started.append(server)
    server.start()
    wait_until(lambda: _connects(port), [server], 30)
    return f"redis://{LOOPBACK}:{port}/0"


def provide(workdir: Path, database_url: str | None, redis_url: str | None) -> Backends:
    """The given URLs, and throwaway servers for whichever is missing (stop() ends them)."""
    workdir.mkdir(parents=True, exist_ok=True)
    backends = Backends(database_url or "", redis_url or "")
    try:
        if not database_url:
            backends.database_url = _start_postgres(workdir, backends)
        if not redis_url:
            backends.redis_url = _start_redis(workdir, backends)
    except BaseException:
        backends.stop()
        raise
    return backends
