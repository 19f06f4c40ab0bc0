"""`aftercare bench --workers N`: the service as N worker processes on PostgreSQL and Redis,
beside plain Rasa (rasa run + action server, same model) in the same run, interleaved as in
the single-process benchmark so both meet the same background load."""

from __future__ import annotations

import asyncio
import datetime as dt
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from aftercare_tools.benchmark import messages, phases, stats
from aftercare_tools.benchmark.backends import Backends, provide
from aftercare_tools.benchmark.runner import CpuMeter, _bar, _machine, _model_info, busy_note
from aftercare_tools.benchmark.servers import StartupError, children, cpu_seconds, peak_rss_bytes
from aftercare_tools.benchmark.systems import System, start_plain_rasa, start_service

THROUGHPUT_CONCURRENCY = 16  # the throughput figure
LATENCY_CONCURRENCY = 8  # the p99 figure
WORKER_MIN_RSS = 64 * 2**20  # smaller children of the supervisor are helpers (multiprocessing's tracker)


@dataclass
class ScalePlan:
    """Traffic per system: conversations x turns per concurrency, and one long conversation."""

    warmup_messages: int = 40
    concurrent: dict[int, tuple[int, int]] = field(
        default_factory=lambda: {LATENCY_CONCURRENCY: (48, 6), THROUGHPUT_CONCURRENCY: (64, 6)}
    )
    long_turns: int = 200
    startup_timeout_s: float = 300.0  # N models loading at once on a small machine

    @classmethod
    def quick(cls) -> ScalePlan:
        return cls(
            warmup_messages=16,
            concurrent={LATENCY_CONCURRENCY: (16, 4), THROUGHPUT_CONCURRENCY: (32, 3)},
            long_turns=40,
        )

    def messages_per_system(self) -> int:
        return self.warmup_messages + sum(c * t for c, t in self.concurrent.values()) + self.long_turns

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["concurrent"] = {str(k): list(v) for k, v in self.concurrent.items()}
        return data


def worker_memory(system: System) -> dict[str, Any]:
    """Peak RSS (VmHWM) of each worker process and of the supervisor that forks them."""
    server = system.servers[0]
    peaks = [peak_rss_bytes(pid) for pid in children(server.pid)]
    workers = sorted((p for p in peaks if p and p >= WORKER_MIN_RSS), reverse=True)
    return {
        "worker_peak_rss_bytes": workers,
        "max_worker_peak_rss_bytes": workers[0] if workers else None,
        "supervisor_peak_rss_bytes": peak_rss_bytes(server.pid),
    }


def worker_cpu(system: System) -> dict[int, float]:
    """CPU seconds used so far by each worker process: shows how evenly the workers share work."""
    server = system.servers[0]
    pids = [pid for pid in children(server.pid) if (peak_rss_bytes(pid) or 0) >= WORKER_MIN_RSS]
    return {pid: cpu_seconds(pid) or 0.0 for pid in pids}


async def _phases(service: System, rasa: System, plan: ScalePlan, workers: int, bar: Any) -> dict[str, dict]:
    systems = [service, rasa]
    out: dict[str, dict[str, Any]] = {s.key: {"phases": {}} for s in systems}
    bar.set_description_str("warm-up")
    # Concurrent, so every worker gets messages before the measured phases.
    scripts = phases.warmup_scripts(plan.warmup_messages)
    for key, phase in (
        await phases.concurrent(systems, scripts, 2 * workers, "warmup", bar, own_connections=True)
    ).items():
        out[key]["warmup_errors"] = phase["errors"]
    for number, (concurrency, (count, turns)) in enumerate(plan.concurrent.items()):
        name = f"concurrent_{concurrency}"
        bar.set_description_str(f"{concurrency} concurrent")
        scripts = messages.conversations(count, turns, salt=f"scale-{name}")
        before = worker_cpu(service)
        results = await phases.concurrent(
            systems, scripts, concurrency, name, bar, flip=number % 2 == 1, own_connections=True
        )
        after = worker_cpu(service)
        results[service.key]["worker_cpu_s"] = sorted((after[p] - before.get(p, 0.0) for p in after), reverse=True)
        for key, phase in results.items():
            phase.pop("_opens", None)
            out[key]["phases"][name] = phase
    bar.set_description_str("long conversation")
    script = messages.long_conversation(plan.long_turns)
    for key, long in (await phases.long_conversation(systems, script, bar)).items():
        out[key]["long_conversation"] = long
    return out


def targets(result: dict[str, Any]) -> list[dict[str, Any]]:
    """The issue's several-worker targets; `passed` is None when a figure is missing."""
    service = stats._get(result, "systems", "service") or {}
    rasa = stats._get(result, "systems", "plain_rasa") or {}
    name16 = f"concurrent_{THROUGHPUT_CONCURRENCY}"
    rss = service.get("max_worker_peak_rss_bytes")
    errors = [phase.get("errors", 0) for phase in (service.get("phases") or {}).values()] + [
        stats._get(service, "long_conversation", "errors") or 0
    ]
    rows = [
        (
            f"Throughput at {THROUGHPUT_CONCURRENCY} concurrent >= 1.8x plain Rasa",
            stats.ratio(
                stats._get(service, "phases", name16, "throughput_msgs_per_s"),
                stats._get(rasa, "phases", name16, "throughput_msgs_per_s"),
            ),
            ">=",
            1.8,
            "x",
        ),
        (
            "Turns 190-200 at most 1.1x turns 1-10",
            stats.ratio(
                stats._get(service, "long_conversation", "buckets_ms", "190-200"),
                stats._get(service, "long_conversation", "buckets_ms", "1-10"),
            ),
            "<=",
            1.1,
            "x",
        ),
        ("Peak RSS per worker <= 1.0 GiB", rss / stats.GIB if rss else None, "<=", 1.0, "GiB"),
        ("Failed messages (service)", float(sum(errors)) if service.get("phases") else None, "<=", 0.0, ""),
    ]
    out = []
    for name, value, op, limit, unit in rows:
        passed = None if value is None else (value <= limit if op == "<=" else value >= limit)
        out.append({"name": name, "value": value, "op": op, "limit": limit, "unit": unit, "passed": passed})
    return out


def run_scale_out(
    model: Path,
    workers: int,
    plan: ScalePlan,
    database_url: str | None = None,
    redis_url: str | None = None,
    progress: bool = True,
) -> dict[str, Any]:
    """Everything the report's several-worker section needs, as one JSON-serialisable dict."""
    model = Path(model).resolve()
    started, cpu = time.perf_counter(), CpuMeter()
    result: dict[str, Any] = {
        "schema": 1,
        "generated_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "workers": workers,
        "machine": _machine(),
        "model": _model_info(model),
        "plan": plan.as_dict(),
        "systems": {},
        "notes": [],
    }
    with tempfile.TemporaryDirectory(prefix="aftercare-bench-workers-") as tmp:
        workdir = Path(tmp)
        bar = _bar(plan.messages_per_system() * 2, f"service x{workers} + plain rasa", progress)
        backends: Backends | None = None
        running: list[System] = []
        try:
            bar.set_description_str("starting PostgreSQL and Redis")
            backends = provide(workdir / "backends", database_url, redis_url)
            result["backends"] = backends.describe()
            bar.set_description_str(f"service: starting {workers} workers")
            (workdir / "service").mkdir()
            service = start_service(
                model,
                workdir / "service",
                plan.startup_timeout_s,
                workers=workers,
                database_url=backends.database_url,
                redis_url=backends.redis_url,
            )
            running.append(service)
            bar.set_description_str("plain rasa: starting")
            (workdir / "plain_rasa").mkdir()
            rasa = start_plain_rasa(model, workdir / "plain_rasa", plan.startup_timeout_s)
            running.append(rasa)
            bar.reset(total=plan.messages_per_system() * 2)
            cpu_before = backends.cpu()
            measured = asyncio.run(_phases(service, rasa, plan, workers, bar))
            backend_cpu = backends.cpu() - cpu_before if backends.started else None
            for system in running:
                result["systems"][system.key] = {**system.startup, **measured[system.key], **system.memory()}
            result["systems"]["service"].update(worker_memory(service))
            result["systems"]["service"]["backend_cpu_ms_per_msg"] = (
                backend_cpu * 1000 / plan.messages_per_system() if backend_cpu is not None else None
            )
        except StartupError as error:
            result["error"] = str(error)
            result["notes"].append(f"did not start: {str(error).splitlines()[0]}")
        finally:
            for system in running:
                system.stop()
            if backends is not None:
                backends.stop()
            bar.close()
    result["duration_s"] = time.perf_counter() - started
    result["machine"]["other_cpu"] = other = cpu.others()
    cpus = result["machine"]["cpu_affinity"] or result["machine"]["cpus"] or 1
    note = busy_note(result["machine"]["load_average_at_start"], other["cores"], cpus)
    if note:
        result["notes"].insert(0, note)
    result["targets"] = targets(result)
    return result
