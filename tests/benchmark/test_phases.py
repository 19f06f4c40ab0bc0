"""The load phases driven against fake systems: no servers, no sockets, no clocks asserted."""

from __future__ import annotations

import asyncio
import itertools

import pytest

from aftercare_tools.benchmark import phases
from aftercare_tools.benchmark.runner import Plan
from aftercare_tools.benchmark.targets import Outcome


class FakeTarget:
    def __init__(self, key: str = "fake", log: list[str] | None = None):
        self.key = key
        self.label = key
        self.seen: list[tuple[str, str]] = []
        self.log = log  # shared between systems: the order the systems were sent to

    async def open(self, client, conversation):
        return conversation

    async def send(self, client, handle, text):
        if self.log is not None:
            self.log.append(self.key)
        self.seen.append((handle, text))
        await asyncio.sleep(0)
        if text == "fail":
            return Outcome(False, "http_500")
        return Outcome(True, "assistant")


class FakeSystem:
    """Each CPU read advances a fake clock by one second (coarse) or 10 ms (fine)."""

    def __init__(self, key: str, log: list[str]):
        self.key = key
        self.target = FakeTarget(key, log)
        self.coarse = itertools.count()
        self.fine = itertools.count()
        self.log = log

    def cpu(self) -> float:
        return float(next(self.coarse))

    def turn_cpu(self) -> float:
        return next(self.fine) * 0.01


def test_run_conversations_counts_messages_errors_and_outcomes():
    target = FakeTarget()
    scripts = [["a", "b", "fail"], ["c", "d", "e"]]
    phase = asyncio.run(phases.run_conversations(target, scripts, 2, "t"))
    assert phase["messages"] == 5
    assert phase["errors"] == 1 and phase["error_kinds"] == {"http_500": 1}
    assert phase["outcomes"] == {"assistant": 5, "http_500": 1}
    assert phase["latency_ms"]["n"] == 5
    assert phase["conversations"] == 2 and phase["turns"] == 3
    # each conversation's turns are sent in order under its own handle
    assert [t for h, t in target.seen if h == "t-0"] == ["a", "b", "fail"]


def test_merge_adds_parts_up():
    one = asyncio.run(phases.run_conversations(FakeTarget(), [["a", "b"]], 1, "x"))
    two = asyncio.run(phases.run_conversations(FakeTarget(), [["c", "fail"]], 1, "x"))
    one["server_cpu_s"], two["server_cpu_s"] = 1.0, 2.0
    merged = phases.merge([one, two])
    assert merged["messages"] == 3 and merged["errors"] == 1 and merged["conversations"] == 2
    assert merged["latency_ms"]["n"] == 3
    assert merged["wall_s"] == pytest.approx(one["wall_s"] + two["wall_s"])
    assert merged["server_cpu_s"] == 3.0 and merged["server_cpu_ms_per_msg"] == 1000.0


def test_sequential_interleaves_conversations_and_alternates_who_goes_first():
    log: list[str] = []
    systems = [FakeSystem("a", log), FakeSystem("b", log)]
    scripts = [["m1", "m2"], ["m3", "m4"], ["m5", "m6"]]
    results = asyncio.run(phases.sequential(systems, scripts, "s", phases.NoBar()))
    assert log == ["a", "a", "b", "b", "b", "b", "a", "a", "a", "a", "b", "b"]
    for key, system in zip("ab", systems, strict=True):
        assert [t for _, t in system.target.seen] == ["m1", "m2", "m3", "m4", "m5", "m6"]
        assert results[key]["messages"] == 6
        assert results[key]["server_cpu_s"] == 3.0  # one fake second per conversation


def test_long_conversation_interleaves_turns_and_records_cpu():
    log: list[str] = []
    systems = [FakeSystem("a", log), FakeSystem("b", log)]
    results = asyncio.run(phases.long_conversation(systems, ["x"] * 12, phases.NoBar()))
    assert log[:4] == ["a", "b", "b", "a"]
    for key in "ab":
        long = results[key]
        assert long["turns"] == 12 and len(long["turn_latencies_ms"]) == 12
        assert long["buckets_ms"]["1-10"] is not None and long["buckets_ms"]["190-200"] is None
        assert long["buckets_cpu_ms"]["1-10"] == pytest.approx(10.0)
        assert long["errors"] == 0


def test_run_all_gives_every_system_the_same_traffic():
    log: list[str] = []
    systems = [FakeSystem("a", log), FakeSystem("b", log)]
    plan = Plan(warmup_messages=3, sequential=(2, 3), concurrent={8: (4, 2), 32: (3, 2)}, long_turns=12)
    out = asyncio.run(phases.run_all(systems, plan))
    assert systems[0].target.seen == systems[1].target.seen
    assert len(systems[0].target.seen) == plan.messages_per_system()
    for key in "ab":
        assert out[key]["warmup_errors"] == 0
        assert out[key]["phases"]["sequential"]["messages"] == 6
        assert out[key]["phases"]["concurrent_8"]["messages"] == 8
        assert out[key]["phases"]["concurrent_32"]["messages"] == 6
        assert out[key]["long_conversation"]["turns"] == 12
        assert "_opens" not in out[key]["phases"]["sequential"]


def test_run_all_with_one_system():
    system = FakeSystem("solo", [])
    out = asyncio.run(phases.run_all([system], Plan.quick()))
    assert set(out) == {"solo"}
    assert out["solo"]["long_conversation"]["turns"] == Plan.quick().long_turns


def test_context_cost_replays_every_evaluation_turn_and_reports_p50_and_p99():
    """The detector + conversation context figure of `make bench` (its value is not asserted)."""
    from aftercare_tools.benchmark.runner import context_cost
    from aftercare_tools.evaluation.conversations import load_conversations

    conversations = load_conversations()
    cost = context_cost(0.0)  # one timed pass after the warm one
    assert cost["conversations"] == len(conversations)
    assert cost["messages"] == sum(len(c.turns) for c in conversations)
    assert 0 < cost["p50_ms"] <= cost["p99_ms"]
