"""The load phases, driving one system or several interleaved.

Interleaved, the systems take turns at a fine grain (sequential: conversation by
conversation; long conversation: turn by turn; concurrent phases: one system's phase, then
the other's, the order alternating), so both meet the same background load on the machine
and their ratios stay meaningful even when other work shares the CPUs.
"""

from __future__ import annotations

import asyncio
import functools
import ssl
import time
from collections import Counter
from typing import Any

import httpx

from aftercare_tools.benchmark import messages, stats
from aftercare_tools.benchmark.targets import Outcome

REQUEST_TIMEOUT = httpx.Timeout(30.0, connect=5.0)


class NoBar:
    def update(self, n: int = 1) -> None: ...
    def set_description_str(self, text: str) -> None: ...
    def reset(self, total: int | None = None) -> None: ...
    def close(self) -> None: ...


def _rounded(values: list[float]) -> list[float]:
    return [round(v, 2) for v in values]


@functools.lru_cache(maxsize=1)
def _tls_context() -> ssl.SSLContext:
    """Built once: httpx builds one per client by default (loading the CA bundle, 26 ms of CPU),
    and with a connection per conversation that was 4 ms per message of benchmark CPU taken
    from the servers on a 2-core machine (2026-11-28). The traffic is plain HTTP on loopback."""
    return httpx.create_ssl_context()


def _client(concurrency: int) -> httpx.AsyncClient:
    size = concurrency + 4
    limits = httpx.Limits(max_connections=size, max_keepalive_connections=size)
    return httpx.AsyncClient(timeout=REQUEST_TIMEOUT, limits=limits, verify=_tls_context())


async def run_conversations(
    target: Any,
    scripts: list[list[str]],
    concurrency: int,
    salt: str,
    bar: Any = None,
    client: httpx.AsyncClient | None = None,
    first_index: int = 0,
    own_connections: bool = False,
) -> dict[str, Any]:
    """Every script as one conversation, at most `concurrency` conversations at a time.

    Latency: from sending a message to its reply. The conversation's set-up request (only
    this service has one) is timed separately but counts in the phase's wall time.
    `own_connections`: each conversation on its own connection, as each patient's browser has
    one (several workers share a listening socket: a pool of keep-alive connections opened at
    once is accepted by one worker, which then serves all of them).
    """
    bar = bar or NoBar()
    latencies: list[float] = []
    opens: list[float] = []
    outcomes: Counter = Counter()
    errors: Counter = Counter()
    semaphore = asyncio.Semaphore(concurrency)

    async def one(client: httpx.AsyncClient, index: int, script: list[str]) -> None:
        async with semaphore:
            if own_connections:
                async with _client(1) as own:
                    await converse(own, index, script)
            else:
                await converse(client, index, script)

    async def converse(client: httpx.AsyncClient, index: int, script: list[str]) -> None:
        started = time.perf_counter()
        try:
            handle = await target.open(client, f"{salt}-{index}")
        except (httpx.HTTPError, KeyError, ValueError) as error:
            errors[f"open:{type(error).__name__}"] += len(script)
            bar.update(len(script))
            return
        opens.append((time.perf_counter() - started) * 1000)
        for text in script:
            started = time.perf_counter()
            try:
                outcome = await target.send(client, handle, text)
            except (httpx.HTTPError, ValueError) as error:
                outcome = Outcome(False, type(error).__name__)
            elapsed = (time.perf_counter() - started) * 1000
            outcomes[outcome.detail] += 1
            if outcome.ok:
                latencies.append(elapsed)
            else:
                errors[outcome.detail] += 1
            bar.update(1)

    async def run_all(client: httpx.AsyncClient) -> float:
        started = time.perf_counter()
        await asyncio.gather(*(one(client, first_index + i, s) for i, s in enumerate(scripts)))
        return time.perf_counter() - started

    if client is None:
        async with _client(concurrency) as own:
            wall = await run_all(own)
    else:
        wall = await run_all(client)
    return _phase_result(len(scripts), scripts, concurrency, latencies, opens, outcomes, errors, wall)


def _phase_result(conversations, scripts, concurrency, latencies, opens, outcomes, errors, wall):
    return {
        "conversations": conversations,
        "turns": max((len(s) for s in scripts), default=0),
        "concurrency": concurrency,
        "messages": len(latencies),
        "errors": sum(errors.values()),
        "error_kinds": dict(errors),
        "outcomes": dict(outcomes),
        "wall_s": wall,
        "throughput_msgs_per_s": stats.throughput(len(latencies), wall),
        "latency_ms": stats.summarize(latencies),
        "open_conversation_ms": stats.summarize(opens),
        "latencies_ms": _rounded(latencies),
        "_opens": opens,
    }


def merge(parts: list[dict[str, Any]]) -> dict[str, Any]:
    """One phase result from several parts run one after the other by the same system."""
    latencies = [v for p in parts for v in p["latencies_ms"]]
    opens = [v for p in parts for v in p.get("_opens", [])]
    outcomes: Counter = Counter()
    errors: Counter = Counter()
    for part in parts:
        outcomes.update(part["outcomes"])
        errors.update(part["error_kinds"])
    wall = sum(p["wall_s"] for p in parts)
    scripts = [[None] * p["turns"] for p in parts]
    result = _phase_result(
        sum(p["conversations"] for p in parts),
        scripts,
        parts[0]["concurrency"] if parts else 1,
        latencies,
        opens,
        outcomes,
        errors,
        wall,
    )
    if parts and all("server_cpu_s" in p for p in parts):
        _set_cpu(result, sum(p["server_cpu_s"] for p in parts))
    return result


def _set_cpu(phase: dict[str, Any], used: float) -> dict[str, Any]:
    """The servers' CPU time over the phase: barely affected by other load on the machine,
    and what bounds throughput on a small machine (plain Rasa: Rasa plus its action server)."""
    phase["server_cpu_s"] = used
    phase["server_cpu_ms_per_msg"] = used * 1000 / phase["messages"] if phase["messages"] else None
    return phase


def _order(systems: list[Any], index: int) -> list[Any]:
    """Alternate who goes first, so neither system always follows the other."""
    return systems if index % 2 == 0 else list(reversed(systems))


async def sequential(systems: list[Any], scripts: list[list[str]], salt: str, bar: Any) -> dict:
    """One conversation at a time; interleaved conversation by conversation."""
    parts: dict[str, list[dict]] = {s.key: [] for s in systems}
    clients = {s.key: _client(1) for s in systems}
    try:
        for index, script in enumerate(scripts):
            for system in _order(systems, index):
                before = system.cpu()
                part = await run_conversations(
                    system.target, [script], 1, salt, bar, clients[system.key], first_index=index
                )
                parts[system.key].append(_set_cpu(part, system.cpu() - before))
    finally:
        for client in clients.values():
            await client.aclose()
    return {key: merge(p) for key, p in parts.items()}


async def concurrent(
    systems: list[Any],
    scripts: list[list[str]],
    concurrency: int,
    salt: str,
    bar: Any,
    flip: bool = False,
    own_connections: bool = False,
) -> dict:
    """`concurrency` conversations at once; one system's whole phase, then the next's."""
    results = {}
    for system in list(reversed(systems)) if flip else systems:
        before = system.cpu()
        phase = await run_conversations(system.target, scripts, concurrency, salt, bar, own_connections=own_connections)
        results[system.key] = _set_cpu(phase, system.cpu() - before)
    return results


async def long_conversation(systems: list[Any], script: list[str], bar: Any) -> dict:
    """One conversation of len(script) turns per system, interleaved turn by turn; every
    turn's latency and the servers' CPU time for it (fine-grained clock)."""
    data: dict[str, dict[str, Any]] = {
        s.key: {"lat": [], "cpu": [], "outcomes": Counter(), "errors": 0} for s in systems
    }
    async with _client(1) as client:
        handles = {s.key: await s.target.open(client, "long-0") for s in systems}
        cpu_started = {s.key: s.cpu() for s in systems}
        for index, text in enumerate(script):
            for system in _order(systems, index):
                row = data[system.key]
                cpu_before = system.turn_cpu()
                started = time.perf_counter()
                try:
                    outcome = await system.target.send(client, handles[system.key], text)
                except (httpx.HTTPError, ValueError) as error:
                    outcome = Outcome(False, type(error).__name__)
                row["lat"].append((time.perf_counter() - started) * 1000)
                row["cpu"].append((system.turn_cpu() - cpu_before) * 1000)
                row["outcomes"][outcome.detail] += 1
                row["errors"] += not outcome.ok
                bar.update(1)
        cpu_used = {s.key: s.cpu() - cpu_started[s.key] for s in systems}
    return {
        key: {
            "turns": len(script),
            "errors": row["errors"],
            "outcomes": dict(row["outcomes"]),
            "buckets_ms": stats.turn_buckets(row["lat"]),
            "by_10_turns": stats.rolling_buckets(row["lat"]),
            "slope_ms_per_turn": stats.slope_per_turn(row["lat"]),
            "buckets_cpu_ms": stats.turn_buckets(row["cpu"]),
            "server_cpu_ms_per_msg": cpu_used[key] * 1000 / max(len(script), 1),
            "turn_latencies_ms": _rounded(row["lat"]),
            "turn_cpu_ms": _rounded(row["cpu"]),
        }
        for key, row in data.items()
    }


def warmup_scripts(count: int, per: int = 5) -> list[list[str]]:
    flat = [m for s in messages.conversations(-(-count // per), per, salt="warmup") for m in s]
    flat = flat[:count]
    return [flat[i : i + per] for i in range(0, len(flat), per)]


async def run_all(systems: list[Any], plan: Any, bar: Any = None) -> dict[str, dict[str, Any]]:
    """Every phase for these systems (interleaved when more than one); results by system key."""
    bar = bar or NoBar()
    names = "+".join(s.key for s in systems)
    out: dict[str, dict[str, Any]] = {s.key: {"phases": {}} for s in systems}

    bar.set_description_str(f"{names}: warm-up")
    for key, phase in (await sequential(systems, warmup_scripts(plan.warmup_messages), "warmup", bar)).items():
        out[key]["warmup_errors"] = phase["errors"]

    count, turns = plan.sequential
    bar.set_description_str(f"{names}: sequential")
    scripts = messages.conversations(count, turns, salt="sequential")
    for key, phase in (await sequential(systems, scripts, "sequential", bar)).items():
        out[key]["phases"]["sequential"] = phase

    for number, (concurrency, (count, turns)) in enumerate(plan.concurrent.items()):
        name = f"concurrent_{concurrency}"
        bar.set_description_str(f"{names}: {concurrency} concurrent")
        scripts = messages.conversations(count, turns, salt=name)
        results = await concurrent(systems, scripts, concurrency, name, bar, flip=number % 2 == 1)
        for key, phase in results.items():
            out[key]["phases"][name] = phase

    bar.set_description_str(f"{names}: long conversation")
    for key, long in (await long_conversation(systems, messages.long_conversation(plan.long_turns), bar)).items():
        out[key]["long_conversation"] = long
    for system in out.values():
        for phase in system["phases"].values():
            phase.pop("_opens", None)
    return out
