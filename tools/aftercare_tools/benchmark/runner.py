"""Run the benchmark: start the systems, drive the phases, gather one result dict.

Default (interleaved): each system starts alone (cold start measured on an otherwise idle
machine: the other is not running yet), then both stay up and take turns at a fine grain
(see aftercare_tools.benchmark.phases), so both meet the same background load; an idle server costs
next to no CPU. `--one-at-a-time`: run one system's phases, stop it, then the other's.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from aftercare_tools.benchmark import messages, phases, stats
from aftercare_tools.benchmark.servers import StartupError, venv_bin
from aftercare_tools.benchmark.systems import ROOT, STARTERS, System

SYSTEMS = ("service", "plain_rasa")


@dataclass
class Plan:
    """How much traffic each phase sends (conversations x turns)."""

    warmup_messages: int = 20
    sequential: tuple[int, int] = (30, 8)
    concurrent: dict[int, tuple[int, int]] = field(default_factory=lambda: {8: (64, 6), 32: (64, 6)})
    long_turns: int = 200
    detector_seconds: float = 2.0
    context_seconds: float = 2.0  # detector + conversation context over the evaluation's conversations
    startup_timeout_s: float = 240.0

    @classmethod
    def quick(cls) -> Plan:
        """A smoke run: every phase, small counts (the long conversation stops at 40 turns)."""
        return cls(
            warmup_messages=5,
            sequential=(5, 8),
            concurrent={8: (16, 4), 32: (32, 2)},
            long_turns=40,
            detector_seconds=0.5,
            context_seconds=0.5,
        )

    def messages_per_system(self) -> int:
        counts = [self.sequential] + list(self.concurrent.values())
        return self.warmup_messages + sum(c * t for c, t in counts) + self.long_turns

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["concurrent"] = {str(k): list(v) for k, v in self.concurrent.items()}
        data["sequential"] = list(self.sequential)
        return data


def _bar(total: int, label: str, enabled: bool) -> Any:
    if not enabled:
        return phases.NoBar()
    from tqdm import tqdm

    return tqdm(total=total, desc=label, unit="msg", file=sys.stderr, leave=True, dynamic_ncols=True)


# ---------------------------------------------------------------- detector, training, machine


def detector_throughput(seconds: float) -> dict[str, Any]:
    """The safety detector alone, in this process, over the message mix for about `seconds`."""
    from bot.content import get_clinic
    from bot.triage import get_detector

    detector = get_detector(get_clinic().fever_threshold_c)
    for text in messages.MESSAGES:  # warm (lazy pipelines, caches of the rules)
        detector.detect(text)
    done = 0
    started = time.perf_counter()
    while time.perf_counter() - started < seconds:
        for text in messages.MESSAGES:
            detector.detect(text)
        done += len(messages.MESSAGES)
    elapsed = time.perf_counter() - started
    return {"messages_per_s": done / elapsed, "messages": done, "seconds": elapsed}


def context_cost(seconds: float) -> dict[str, Any]:
    """What judging a message in its conversation costs the service per message: the detector
    plus the conversation's assessment (bot.triage.conversation.assess), in this process, over
    the evaluation's multi-turn conversations (each from an empty state) replayed for about
    `seconds` after one warm pass. Timed in thread CPU time: on a shared machine, wall time's
    p99 is other processes' time slices. The service's database reads and writes are not in it."""
    from aftercare_tools.evaluation.conversations import load_conversations
    from aftercare_tools.evaluation.engine_check import replay
    from bot.content import get_clinic
    from bot.triage import get_detector

    threshold = get_clinic().fever_threshold_c
    detector = get_detector(threshold)
    conversations = load_conversations()
    for _ in replay(detector, conversations, threshold):  # warm (lazy pipelines, the protocol's caches)
        pass
    timings: list[float] = []
    started = time.perf_counter()
    while not timings or time.perf_counter() - started < seconds:
        timings += [played.ms for played in replay(detector, conversations, threshold, time.thread_time)]
    summary = stats.summarize(timings)
    return {
        "p50_ms": summary["p50"],
        "p99_ms": summary["p99"],
        "messages": len(timings),
        "conversations": len(conversations),
        "seconds": time.perf_counter() - started,
    }


def training_time(model: Path, measure: bool, workdir: Path) -> dict[str, Any]:
    """`aftercare train --force` into a temporary path (only with --train), else a recorded one."""
    if measure:
        target = workdir / "train" / "aftercare.tar.gz"
        target.parent.mkdir(parents=True, exist_ok=True)
        started = time.perf_counter()
        done = subprocess.run(  # noqa: S603 - fixed argv
            [venv_bin("aftercare"), "train", "--force", "--model", str(target)],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        seconds = time.perf_counter() - started
        if done.returncode != 0:
            return {
                "seconds": None,
                "note": f"training failed: {done.stderr.strip().splitlines()[-1:]}",
            }
        return {
            "seconds": seconds,
            "note": "measured: aftercare train --force (same model for both systems)",
        }
    from bot.assistant.training import training_record

    recorded = training_record(model)
    if recorded.exists():
        try:
            seconds = float(json.loads(recorded.read_text())["seconds"])
            return {"seconds": seconds, "note": f"recorded by the last training in {recorded.name}"}
        except (ValueError, KeyError, TypeError):
            pass
    return {
        "seconds": None,
        "note": "not measured (run `aftercare bench --train` to time a training)",
    }


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def load_average() -> float | None:
    """The 1-minute load average (other work on the machine skews every figure)."""
    try:
        return os.getloadavg()[0]
    except OSError:
        return None


def busy_note(load_at_start: float | None, other_cores: float | None, cpus: int) -> str | None:
    """A warning when other work shared the machine: a busy start, or other processes' CPU."""
    reasons = []
    if load_at_start is not None and load_at_start >= 0.5 * cpus:
        reasons.append(f"1-minute load average {load_at_start:.1f} at the start")
    if other_cores is not None and other_cores >= 0.2:
        reasons.append(f"other processes used {other_cores:.2f} of the {cpus} CPUs on average")
    if not reasons:
        return None
    return "WARNING: the machine was not idle (" + "; ".join(reasons) + "): figures are skewed."


class CpuMeter:
    """CPU time the whole machine spent busy, minus this process's and its reaped children's."""

    def __init__(self) -> None:
        self.started = time.perf_counter()
        self.busy = _machine_busy_seconds()
        self.ours = _own_cpu_seconds()

    def others(self) -> dict[str, float | None]:
        wall = time.perf_counter() - self.started
        busy = _machine_busy_seconds()
        if busy is None or self.busy is None or wall <= 0:
            return {"seconds": None, "cores": None}
        other = max((busy - self.busy) - (_own_cpu_seconds() - self.ours), 0.0)
        return {"seconds": other, "cores": other / wall}


def _machine_busy_seconds() -> float | None:
    try:
        fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
        user, nice, system, _idle, _iowait, irq, softirq, steal = (int(x) for x in fields[:8])
    except (OSError, ValueError, IndexError):
        return None
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def _own_cpu_seconds() -> float:
    """This process and every child it waited for (the servers are reaped when stopped)."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def _machine() -> dict[str, Any]:
    return {
        "load_average_at_start": load_average(),
        "cpus": os.cpu_count(),
        "cpu_affinity": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "cpu_model": _cpu_model(),
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def _model_info(model: Path) -> dict[str, Any]:
    digest = hashlib.sha256(model.read_bytes()).hexdigest()
    return {"path": str(model), "size_bytes": model.stat().st_size, "sha256": digest[:16]}


def _start(key: str, model: Path, workdir: Path, plan: Plan, result: dict) -> System | None:
    workdir.mkdir(parents=True, exist_ok=True)
    try:
        return STARTERS[key](model, workdir, plan.startup_timeout_s)
    except StartupError as error:
        result["systems"][key] = {"error": str(error)}
        result["notes"].append(f"{key} did not start: {str(error).splitlines()[0]}")
        return None


def _measure(systems: list[System], plan: Plan, bar: Any, result: dict) -> None:
    """Drive the phases, then read each system's peak memory, and keep it all in `result`."""
    bar.reset(total=plan.messages_per_system() * len(systems))  # no start-up in the rate
    measured = asyncio.run(phases.run_all(systems, plan, bar))
    for system in systems:
        result["systems"][system.key] = {**system.startup, **measured[system.key], **system.memory()}


def run_benchmark(
    model: Path,
    plan: Plan,
    systems: tuple[str, ...] = SYSTEMS,
    measure_training: bool = False,
    progress: bool = True,
    quick: bool = False,
    interleave: bool = True,
) -> dict[str, Any]:
    """Everything the report needs, as one JSON-serialisable dict."""
    model = Path(model).resolve()
    started = time.perf_counter()
    cpu = CpuMeter()
    result: dict[str, Any] = {
        "schema": 1,
        "generated_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "machine": _machine(),
        "model": _model_info(model),
        "plan": plan.as_dict(),
        "quick": quick,
        "mode": "interleaved" if interleave and len(systems) > 1 else "one at a time",
        "order": list(systems),
        "systems": {},
        "notes": [],
    }
    with tempfile.TemporaryDirectory(prefix="aftercare-bench-") as tmp:
        workdir = Path(tmp)
        result["detector"] = detector_throughput(plan.detector_seconds)  # no server running yet
        result["context"] = context_cost(plan.context_seconds)
        if result["mode"] == "interleaved":
            bar = _bar(plan.messages_per_system() * len(systems), "+".join(systems), progress)
            running: list[System] = []
            try:
                for key in systems:
                    bar.set_description_str(f"{key}: starting (cold start)")
                    system = _start(key, model, workdir / key, plan, result)
                    if system:
                        running.append(system)
                if running:
                    _measure(running, plan, bar, result)
            finally:
                for system in running:
                    system.stop()
                bar.close()
        else:
            for key in systems:
                bar = _bar(plan.messages_per_system(), key, progress)
                bar.set_description_str(f"{key}: starting (cold start)")
                system = _start(key, model, workdir / key, plan, result)
                try:
                    if system:
                        _measure([system], plan, bar, result)
                finally:
                    if system:
                        system.stop()
                    bar.close()
                time.sleep(1.0)  # let the stopped server's memory and sockets go
        result["training"] = training_time(model, measure_training, workdir)
    if "plain_rasa" in systems:
        result["notes"].append(
            "rasa run actions (rasa-sdk 3.6) has no bind option; it was bound to 127.0.0.1 "
            "through SANIC_HOST (its default is 0.0.0.0)."
        )
    result["duration_s"] = time.perf_counter() - started
    result["machine"]["other_cpu"] = other = cpu.others()
    cpus = result["machine"]["cpu_affinity"] or result["machine"]["cpus"] or 1
    note = busy_note(result["machine"]["load_average_at_start"], other["cores"], cpus)
    if note:
        result["notes"].insert(0, note)
    service, rasa = result["systems"].get("service"), result["systems"].get("plain_rasa")
    result["ratios"] = stats.compute_ratios(service, rasa)
    result["targets"] = stats.evaluate_targets(result)
    return result
