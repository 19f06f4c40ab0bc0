"""Start, probe, measure and stop the two servers under test (subprocesses on loopback)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx

LOOPBACK = "127.0.0.1"


def free_port() -> int:
    """A port free on loopback right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        return sock.getsockname()[1]


def _status_kib(pid: int, field_name: str) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field_name + ":"):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return None


def peak_rss_bytes(pid: int) -> int | None:
    """VmHWM (the process's peak resident set size) from /proc, in bytes."""
    kib = _status_kib(pid, "VmHWM")
    return kib * 1024 if kib is not None else None


def children(pid: int) -> list[int]:
    """Every descendant of `pid`, from /proc/<pid>/task/*/children."""
    found: list[int] = []
    todo = [pid]
    while todo:
        current = todo.pop()
        for task in Path(f"/proc/{current}/task").glob("*") if Path(f"/proc/{current}/task").exists() else []:
            try:
                kids = [int(k) for k in (task / "children").read_text().split()]
            except OSError:
                continue
            found.extend(kids)
            todo.extend(kids)
    return found


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU time a process has used so far (/proc/<pid>/stat), in seconds."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
        fields = text[text.rindex(")") + 2 :].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def cpu_seconds_precise(pid: int) -> float | None:
    """CPU time of a process's live threads from /proc/<pid>/task/*/schedstat (nanoseconds,
    so fine enough for one message; threads that already exited are not counted)."""
    total, found = 0, False
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            total += int((task / "schedstat").read_text().split()[0])
            found = True
        except (OSError, ValueError, IndexError):
            continue
    return total / 1e9 if found else None


@dataclass
class ServerProcess:
    """One spawned server: its command, its log, and the figures measured on it."""

    name: str
    command: list[str]
    env: dict[str, str]
    log_path: Path
    process: subprocess.Popen | None = None
    cwd: Path | None = None  # the project root: `actions` and `bot` import from there
    started_at: float = 0.0
    extra: list[ServerProcess] = field(default_factory=list)

    def start(self) -> None:
        self.log = open(self.log_path, "wb")  # noqa: SIM115 - closed in stop()
        self.started_at = time.perf_counter()
        # Own process group: stop() can end the server and anything it spawned, nothing else.
        self.process = subprocess.Popen(  # noqa: S603 - fixed argv, no shell
            self.command,
            env=self.env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            cwd=self.cwd,
            start_new_session=True,
        )

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def memory(self) -> dict[str, int | None]:
        """Peak RSS of the server process and, separately, of its descendants (summed)."""
        own = peak_rss_bytes(self.pid)
        kids = [peak_rss_bytes(k) for k in children(self.pid)]
        kids_total = sum(k for k in kids if k) if kids else 0
        return {"process": own, "children": kids_total, "children_count": len(kids)}

    def cpu_seconds(self) -> float:
        """CPU time of the server and its live descendants so far."""
        return sum(cpu_seconds(p) or 0.0 for p in [self.pid, *children(self.pid)])

    def cpu_seconds_precise(self) -> float:
        """Like cpu_seconds, at nanosecond resolution (live threads only): per-turn figures."""
        return sum(cpu_seconds_precise(p) or 0.0 for p in [self.pid, *children(self.pid)])

    def log_tail(self, lines: int = 30) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def stop(self, grace_seconds: float = 15.0) -> None:
        if self.process is not None and self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.process.wait(grace_seconds)
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(self.process.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                self.process.wait(5)
        if getattr(self, "log", None):
            self.log.close()


class StartupError(RuntimeError):
    pass


def wait_until(check: Callable[[], bool], servers: list[ServerProcess], timeout: float, interval: float = 0.1) -> float:
    """Poll `check` until it is true; returns when it was (perf_counter). Fails if a server dies."""
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        for server in servers:
            if not server.alive():
                code = server.process.returncode if server.process is not None else None
                raise StartupError(f"{server.name} exited during start-up (code {code}):\n{server.log_tail()}")
        try:
            if check():
                return time.perf_counter()
        except httpx.HTTPError:
            pass
        time.sleep(interval)
    raise StartupError(f"{servers[0].name} not ready after {timeout:.0f} s:\n{servers[0].log_tail()}")


def venv_bin(name: str) -> str:
    """An executable next to this interpreter (the project's .venv/bin)."""
    candidate = Path(sys.executable).parent / name
    return str(candidate) if candidate.exists() else name
