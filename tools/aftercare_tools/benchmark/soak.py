"""`aftercare bench --soak 20m`: the service under a steady 60% of its measured capacity for a
long time: errors, memory growth and p99 minute by minute (reports/soak.md, soak.json)."""

from __future__ import annotations

import asyncio
import datetime as dt
import re
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from aftercare_tools.benchmark import messages, phases, stats
from aftercare_tools.benchmark.backends import Backends, provide
from aftercare_tools.benchmark.runner import (
    CpuMeter,
    _machine,
    _machine_busy_seconds,
    _model_info,
    _own_cpu_seconds,
    busy_note,
)
from aftercare_tools.benchmark.servers import StartupError, _status_kib, children
from aftercare_tools.benchmark.systems import System, start_service
from aftercare_tools.benchmark.targets import Outcome

UNITS = {"s": 1, "m": 60, "h": 3600}
LOAD_FRACTION = 0.6
TURNS = 6  # per conversation; a conversation's next message goes after the previous reply
THINK_SECONDS = 2.0  # a patient's pause between messages
PROBE = (16, 48, 4)  # capacity probe when none is known: concurrency, conversations, turns
SAMPLE_SECONDS = 10.0  # memory samples and progress lines
RSS_GROWTH_LIMIT = 5.0  # percent, the limit
P99_SPREAD_LIMIT = 2.0  # "p99 stable": no minute's p99 above twice the median minute's p99
MIN_WORKER_BYTES = 64 * 2**20


def parse_duration(text: str) -> float:
    """'30s', '5m', '20m', '1h' -> seconds; ValueError naming the accepted forms otherwise."""
    match = re.fullmatch(r"\s*(\d+)\s*([smh])\s*", text or "")
    if not match or int(match.group(1)) == 0:
        raise ValueError(f"invalid duration {text!r}: give a positive whole number and a unit, e.g. 30s, 5m, 20m, 1h")
    return float(int(match.group(1)) * UNITS[match.group(2)])


def rss_bytes(system: System) -> dict[str, int]:
    """Current RSS (VmRSS) of each worker process, or of the server itself with one process."""
    server = system.servers[0]
    found = {}
    for pid in children(server.pid):
        kib = _status_kib(pid, "VmRSS")
        if kib and kib * 1024 >= MIN_WORKER_BYTES:
            found[str(pid)] = kib * 1024
    if not found:
        kib = _status_kib(server.pid, "VmRSS")
        found[str(server.pid)] = (kib or 0) * 1024
    return found


class OtherCpu:
    """CPU the rest of the machine used since the last call, in cores: all busy time minus this
    process (the load client) and the servers under test. Shows whether a slow minute was the
    service's doing or the machine's."""

    def __init__(self, servers: Callable[[], float]) -> None:
        self.servers = servers  # CPU seconds the servers under test have used so far
        self._last = self._now()

    def _now(self) -> tuple[float, float] | None:
        busy = _machine_busy_seconds()
        return None if busy is None else (time.perf_counter(), busy - _own_cpu_seconds() - self.servers())

    def cores(self) -> float | None:
        now, last = self._now(), self._last
        self._last = now
        if now is None or last is None or now[0] <= last[0]:
            return None
        return max(now[1] - last[1], 0.0) / (now[0] - last[0])


@dataclass
class Minute:
    latencies: list[float] = field(default_factory=list)
    errors: dict[str, int] = field(default_factory=dict)
    rss: list[int] = field(default_factory=list)  # total worker RSS, sampled
    other_cores: list[float] = field(default_factory=list)  # the rest of the machine, sampled

    def summary(self, index: int) -> dict[str, Any]:
        latency = stats.summarize(self.latencies)
        return {
            "minute": index + 1,
            "messages": len(self.latencies),
            "errors": sum(self.errors.values()),
            "error_kinds": self.errors,
            "p50_ms": latency["p50"],
            "p99_ms": latency["p99"],
            "rss_bytes": self.rss[-1] if self.rss else None,
            "other_cpu_cores": sum(self.other_cores) / len(self.other_cores) if self.other_cores else None,
        }


class Soak:
    """Conversations started at a steady rate; each sends its turns after a think time."""

    def __init__(self, system: System, rate: float, seconds: float, progress: bool, other_cpu: OtherCpu) -> None:
        self.system, self.rate, self.seconds, self.progress = system, rate, seconds, progress
        self.other_cpu = other_cpu
        self.minutes: list[Minute] = [Minute() for _ in range(int(-(-seconds // 60)))]
        self.sent = 0
        self.started = 0.0

    def _minute(self) -> Minute:
        index = min(int((time.perf_counter() - self.started) // 60), len(self.minutes) - 1)
        return self.minutes[index]

    async def _conversation(self, index: int, script: list[str]) -> None:
        # Its own connection, as each patient's browser has (see phases.run_conversations).
        async with phases._client(1) as client:
            await self._talk(client, index, script)

    async def _talk(self, client: httpx.AsyncClient, index: int, script: list[str]) -> None:
        target = self.system.target
        try:
            handle = await target.open(client, f"soak-{index}")
        except (httpx.HTTPError, KeyError, ValueError) as error:
            errors = self._minute().errors
            errors[f"open:{type(error).__name__}"] = errors.get(f"open:{type(error).__name__}", 0) + 1
            return
        for number, text in enumerate(script):
            if number:
                await asyncio.sleep(THINK_SECONDS)
            started = time.perf_counter()
            try:
                outcome = await target.send(client, handle, text)
            except (httpx.HTTPError, ValueError) as error:
                outcome = Outcome(False, type(error).__name__)
            minute = self._minute()
            self.sent += 1
            if outcome.ok:
                minute.latencies.append((time.perf_counter() - started) * 1000)
            else:
                minute.errors[outcome.detail] = minute.errors.get(outcome.detail, 0) + 1

    async def _sample(self) -> None:
        while True:
            await asyncio.sleep(SAMPLE_SECONDS)
            total = sum(rss_bytes(self.system).values())
            minute = self._minute()
            minute.rss.append(total)
            other = self.other_cpu.cores()
            if other is not None:
                minute.other_cores.append(other)
            if self.progress:
                p99 = stats.percentile(minute.latencies, 99)
                errors = sum(sum(m.errors.values()) for m in self.minutes)
                print(
                    f"soak {time.perf_counter() - self.started:5.0f}/{self.seconds:.0f} s: {self.sent} messages, "
                    f"{errors} errors, this minute p99 {'-' if p99 is None else f'{p99:.0f}'} ms, "
                    f"worker RSS {total / 2**20:,.0f} MiB",
                    file=sys.stderr,
                    flush=True,
                )

    async def run(self) -> None:
        interval = TURNS / self.rate  # a conversation of TURNS messages every `interval` seconds
        scripts = messages.conversations(int(self.seconds / interval) + 1, TURNS, salt="soak")
        self.started = time.perf_counter()
        sampler = asyncio.create_task(self._sample())
        tasks = []
        for index, script in enumerate(scripts):
            due = self.started + index * interval
            if due >= self.started + self.seconds:
                break
            await asyncio.sleep(max(due - time.perf_counter(), 0))
            tasks.append(asyncio.create_task(self._conversation(index, script)))
        await asyncio.gather(*tasks)
        sampler.cancel()
        self.minutes[-1].rss.append(sum(rss_bytes(self.system).values()))


def capacity_from(previous: dict, workers: int) -> float | None:
    """The 16-concurrent throughput of the last `bench --workers` run with as many workers."""
    scale = previous.get("scale_out") or {}
    if scale.get("workers") != workers:
        return None
    return stats._get(scale, "systems", "service", "phases", "concurrent_16", "throughput_msgs_per_s")


async def _probe(system: System) -> float:
    concurrency, count, turns = PROBE
    scripts = messages.conversations(count, turns, salt="soak-probe")
    return (await phases.run_conversations(system.target, scripts, concurrency, "soak-probe"))["throughput_msgs_per_s"]


def verdicts(result: dict[str, Any]) -> list[dict[str, Any]]:
    minutes = result.get("minutes") or []
    p99s = [m["p99_ms"] for m in minutes if m["p99_ms"] is not None]
    spread = max(p99s) / stats.median(p99s) if p99s and stats.median(p99s) else None
    rows = [
        ("Errors", float(result.get("errors", 0)) if minutes else None, "<=", 0.0, ""),
        ("RSS growth, first minute to last (%)", result.get("rss_growth_percent"), "<=", RSS_GROWTH_LIMIT, "%"),
        ("p99 stable: worst minute / median minute", spread, "<=", P99_SPREAD_LIMIT, "x"),
    ]
    return [
        {
            "name": name,
            "value": value,
            "op": op,
            "limit": limit,
            "unit": unit,
            "passed": None if value is None else value <= limit,
        }
        for name, value, op, limit, unit in rows
    ]


def _rss_growth(minutes: list[dict]) -> float | None:
    """From the end of the first minute (models loaded, caches warm) to the end of the run."""
    values = [m["rss_bytes"] for m in minutes if m["rss_bytes"]]
    if len(values) < 2:
        return None
    return (values[-1] - values[0]) * 100 / values[0]


def run_soak(
    model: Path,
    seconds: float,
    workers: int,
    capacity: float | None = None,
    capacity_source: str = "given",
    database_url: str | None = None,
    redis_url: str | None = None,
    progress: bool = True,
) -> dict[str, Any]:
    model = Path(model).resolve()
    cpu = CpuMeter()
    result: dict[str, Any] = {
        "schema": 1,
        "generated_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "duration_s": seconds,
        "workers": workers,
        "machine": _machine(),
        "model": _model_info(model),
        "load_fraction": LOAD_FRACTION,
        "notes": [],
    }
    with tempfile.TemporaryDirectory(prefix="aftercare-soak-") as tmp:
        workdir = Path(tmp)
        backends: Backends | None = None
        system: System | None = None
        try:
            if workers > 1:
                backends = provide(workdir / "backends", database_url, redis_url)
                result["backends"] = backends.describe()
            print(f"soak: starting the service ({workers} worker(s))", file=sys.stderr, flush=True)
            system = start_service(
                model,
                workdir,
                300.0,
                workers=workers,
                database_url=backends.database_url if backends else database_url,
                redis_url=backends.redis_url if backends else redis_url,
            )
            if capacity is None:
                print("soak: measuring capacity (16 concurrent conversations)", file=sys.stderr, flush=True)
                capacity = asyncio.run(_probe(system))
                result["capacity_source"] = "measured by a 16-concurrent probe before the soak"
            else:
                result["capacity_source"] = capacity_source
            result["capacity_msgs_per_s"] = capacity
            result["rate_msgs_per_s"] = rate = LOAD_FRACTION * capacity
            print(f"soak: {rate:.1f} messages/s for {seconds:.0f} s", file=sys.stderr, flush=True)
            running, shared = system, backends
            other_cpu = OtherCpu(lambda: running.cpu() + (shared.cpu() if shared else 0.0))
            soak = Soak(system, rate, seconds, progress, other_cpu)
            asyncio.run(soak.run())
            result["minutes"] = [m.summary(i) for i, m in enumerate(soak.minutes)]
            result["messages"] = sum(m["messages"] for m in result["minutes"])
            result["errors"] = sum(m["errors"] for m in result["minutes"])
            result["rss_growth_percent"] = _rss_growth(result["minutes"])
        except StartupError as error:
            result["error"] = str(error)
        finally:
            if system is not None:
                system.stop()
            if backends is not None:
                backends.stop()
    other = cpu.others()
    result["machine"]["other_cpu"] = other
    cpus = result["machine"]["cpu_affinity"] or result["machine"]["cpus"] or 1
    note = busy_note(result["machine"]["load_average_at_start"], other["cores"], cpus)
    if note:
        result["notes"].insert(0, note)
    result["targets"] = verdicts(result)
    return result
