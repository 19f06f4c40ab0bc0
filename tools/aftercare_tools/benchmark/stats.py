"""Latency statistics, ratios and the performance targets (pure functions, no I/O)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

GIB = 2**30

# Turn buckets of the long conversation (1-based, inclusive), as the issue states them.
TURN_BUCKETS: dict[str, tuple[int, int]] = {
    "1-10": (1, 10),
    "90-100": (90, 100),
    "190-200": (190, 200),
}


def percentile(values: Sequence[float], p: float) -> float | None:
    """The p-th percentile (0-100) with linear interpolation between ranks (numpy's default)."""
    if not values:
        return None
    if not 0 <= p <= 100:
        raise ValueError("p must be between 0 and 100")
    ordered = sorted(values)
    rank = (len(ordered) - 1) * p / 100
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def median(values: Sequence[float]) -> float | None:
    return percentile(values, 50)


def summarize(latencies_ms: Sequence[float]) -> dict[str, Any]:
    """n, mean, p50, p95, p99 and max of latencies in milliseconds (None when empty)."""
    values = list(latencies_ms)
    return {
        "n": len(values),
        "mean": sum(values) / len(values) if values else None,
        "p50": percentile(values, 50),
        "p95": percentile(values, 95),
        "p99": percentile(values, 99),
        "max": max(values) if values else None,
    }


def throughput(messages: int, wall_seconds: float) -> float | None:
    return messages / wall_seconds if wall_seconds > 0 else None


def turn_buckets(
    turn_latencies_ms: Sequence[float], buckets: dict[str, tuple[int, int]] = TURN_BUCKETS
) -> dict[str, float | None]:
    """Median latency of each bucket of 1-based turns; None when the run was too short."""
    result: dict[str, float | None] = {}
    for name, (first, last) in buckets.items():
        if len(turn_latencies_ms) < last:
            result[name] = None
        else:
            result[name] = median(turn_latencies_ms[first - 1 : last])
    return result


def rolling_buckets(turn_latencies_ms: Sequence[float], size: int = 10) -> list[dict[str, Any]]:
    """Median of each consecutive block of `size` turns, for the plot (turns 1-10, 11-20, ...)."""
    rows = []
    for start in range(0, len(turn_latencies_ms), size):
        block = turn_latencies_ms[start : start + size]
        rows.append({"first": start + 1, "last": start + len(block), "median": median(block)})
    return rows


def slope_per_turn(turn_latencies_ms: Sequence[float]) -> float | None:
    """Least-squares slope of latency against turn number, in ms per turn."""
    n = len(turn_latencies_ms)
    if n < 2:
        return None
    xs = range(1, n + 1)
    mean_x = (n + 1) / 2
    mean_y = sum(turn_latencies_ms) / n
    sxx = sum((x - mean_x) ** 2 for x in xs)
    sxy = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, turn_latencies_ms, strict=True))
    return sxy / sxx


def ratio(ours: float | None, theirs: float | None) -> float | None:
    """ours / theirs, or None when either is missing or theirs is zero."""
    if ours is None or theirs is None or theirs == 0:
        return None
    return ours / theirs


def _get(result: dict, *path: str) -> Any:
    node: Any = result
    for key in path:
        if not isinstance(node, dict) or key not in node:
            return None
        node = node[key]
    return node


def compute_ratios(service: dict | None, rasa: dict | None) -> dict[str, float | None]:
    """This service / plain Rasa for each comparable figure (lower is better except throughput)."""
    service, rasa = service or {}, rasa or {}
    out: dict[str, float | None] = {}
    for phase in ("sequential", "concurrent_8", "concurrent_32"):
        for stat in ("p50", "p95", "p99"):
            out[f"{phase}.{stat}"] = ratio(
                _get(service, "phases", phase, "latency_ms", stat),
                _get(rasa, "phases", phase, "latency_ms", stat),
            )
        out[f"{phase}.throughput"] = ratio(
            _get(service, "phases", phase, "throughput_msgs_per_s"),
            _get(rasa, "phases", phase, "throughput_msgs_per_s"),
        )
    for bucket in TURN_BUCKETS:
        out[f"long.{bucket}"] = ratio(
            _get(service, "long_conversation", "buckets_ms", bucket),
            _get(rasa, "long_conversation", "buckets_ms", bucket),
        )
    for key in (
        "ready_s",
        "first_reply_s",
        "cold_start_s",
        "peak_rss_bytes",
        "peak_rss_total_bytes",
    ):
        out[key] = ratio(_get(service, key), _get(rasa, key))
    return out


def evaluate_targets(result: dict) -> list[dict[str, Any]]:
    """The issue's performance targets; `passed` is None when the figure was not measured."""
    service = _get(result, "systems", "service") or {}
    rasa = _get(result, "systems", "plain_rasa") or {}
    seq_ratio = ratio(
        _get(service, "phases", "sequential", "latency_ms", "p50"),
        _get(rasa, "phases", "sequential", "latency_ms", "p50"),
    )
    c8_ratio = ratio(
        _get(service, "phases", "concurrent_8", "throughput_msgs_per_s"),
        _get(rasa, "phases", "concurrent_8", "throughput_msgs_per_s"),
    )
    growth = ratio(
        _get(service, "long_conversation", "buckets_ms", "190-200"),
        _get(service, "long_conversation", "buckets_ms", "1-10"),
    )
    rss = _get(service, "peak_rss_bytes")
    rows = [
        ("Sequential p50 within 1.2x of plain Rasa", seq_ratio, "<=", 1.2, "x"),
        (
            "Sequential p99 <= 60 ms",
            _get(service, "phases", "sequential", "latency_ms", "p99"),
            "<=",
            60.0,
            "ms",
        ),
        ("Throughput at 8 concurrent >= plain Rasa", c8_ratio, ">=", 1.0, "x"),
        ("Turns 190-200 at most 1.3x turns 1-10", growth, "<=", 1.3, "x"),
        ("Peak RSS <= 1.5 GiB", rss / GIB if rss is not None else None, "<=", 1.5, "GiB"),
        ("Cold start <= 30 s", _get(service, "cold_start_s"), "<=", 30.0, "s"),
        (
            "Detector >= 2,000 messages/s",
            _get(result, "detector", "messages_per_s"),
            ">=",
            2000.0,
            "msg/s",
        ),
        ("Detector + conversation context p50 <= 3 ms", _get(result, "context", "p50_ms"), "<=", 3.0, "ms"),
    ]
    targets = []
    for name, value, op, limit, unit in rows:
        passed = None if value is None else (value <= limit if op == "<=" else value >= limit)
        targets.append({"name": name, "value": value, "op": op, "limit": limit, "unit": unit, "passed": passed})
    return targets
