"""Percentiles, summaries, turn buckets, ratios and target verdicts (pure math, no timing)."""

from __future__ import annotations

import pytest

from aftercare_tools.benchmark import stats


def test_percentile_interpolates_linearly_like_numpy():
    values = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]
    assert stats.percentile(values, 0) == 1
    assert stats.percentile(values, 100) == 10
    assert stats.percentile(values, 50) == pytest.approx(5.5)
    assert stats.percentile(values, 95) == pytest.approx(9.55)
    assert stats.percentile(values, 99) == pytest.approx(9.91)


def test_percentile_ignores_input_order_and_handles_one_value():
    assert stats.percentile([10, 1, 5], 50) == 5
    assert stats.percentile([42.0], 99) == 42.0


def test_percentile_of_nothing_is_none_and_bad_p_is_refused():
    assert stats.percentile([], 50) is None
    with pytest.raises(ValueError):
        stats.percentile([1, 2], 101)


def test_summarize():
    summary = stats.summarize([10.0, 20.0, 30.0, 40.0])
    assert summary["n"] == 4
    assert summary["mean"] == 25.0
    assert summary["p50"] == 25.0
    assert summary["max"] == 40.0
    assert summary["p99"] == pytest.approx(39.7)


def test_summarize_empty():
    assert stats.summarize([]) == {
        "n": 0,
        "mean": None,
        "p50": None,
        "p95": None,
        "p99": None,
        "max": None,
    }


def test_throughput():
    assert stats.throughput(100, 4.0) == 25.0
    assert stats.throughput(100, 0) is None


def test_turn_buckets_use_one_based_inclusive_turns():
    latencies = [float(turn) for turn in range(1, 201)]  # turn n took n ms
    buckets = stats.turn_buckets(latencies)
    assert buckets == {"1-10": 5.5, "90-100": 95.0, "190-200": 195.0}


def test_turn_buckets_of_a_short_run_are_none():
    buckets = stats.turn_buckets([1.0] * 40)
    assert buckets["1-10"] == 1.0
    assert buckets["90-100"] is None and buckets["190-200"] is None


def test_rolling_buckets():
    rows = stats.rolling_buckets([float(i) for i in range(1, 26)], size=10)
    assert [(r["first"], r["last"]) for r in rows] == [(1, 10), (11, 20), (21, 25)]
    assert rows[0]["median"] == 5.5 and rows[2]["median"] == 23.0


def test_slope_per_turn():
    assert stats.slope_per_turn([3.0 + 0.5 * t for t in range(1, 101)]) == pytest.approx(0.5)
    assert stats.slope_per_turn([7.0] * 10) == pytest.approx(0.0)
    assert stats.slope_per_turn([1.0]) is None


def test_ratio():
    assert stats.ratio(30, 20) == 1.5
    assert stats.ratio(None, 20) is None
    assert stats.ratio(30, 0) is None


def _system(p50, p99, c8_throughput, first, last, rss, cold):
    return {
        "phases": {
            "sequential": {
                "latency_ms": {"p50": p50, "p95": p99, "p99": p99},
                "throughput_msgs_per_s": 40.0,
            },
            "concurrent_8": {
                "latency_ms": {"p50": p50, "p95": p99, "p99": p99},
                "throughput_msgs_per_s": c8_throughput,
            },
        },
        "long_conversation": {"buckets_ms": {"1-10": first, "90-100": first, "190-200": last}},
        "peak_rss_bytes": rss,
        "cold_start_s": cold,
    }


def test_compute_ratios():
    ratios = stats.compute_ratios(
        _system(30, 50, 60, 30, 33, 2 * stats.GIB, 20), _system(25, 40, 50, 27, 125, stats.GIB, 10)
    )
    assert ratios["sequential.p50"] == pytest.approx(1.2)
    assert ratios["concurrent_8.throughput"] == pytest.approx(1.2)
    assert ratios["long.190-200"] == pytest.approx(33 / 125)
    assert ratios["peak_rss_bytes"] == pytest.approx(2.0)
    assert ratios["cold_start_s"] == pytest.approx(2.0)
    assert ratios["concurrent_32.p50"] is None  # phase not run


def test_compute_ratios_without_plain_rasa():
    ratios = stats.compute_ratios(_system(30, 50, 60, 30, 33, 1, 1), None)
    assert all(value is None for value in ratios.values())


def _verdicts(result):
    return {t["name"]: t["passed"] for t in stats.evaluate_targets(result)}


def test_targets_all_pass():
    result = {
        "systems": {
            "service": _system(26, 45, 55, 30, 33, stats.GIB, 25),
            "plain_rasa": _system(25, 40, 50, 27, 125, stats.GIB, 10),
        },
        "detector": {"messages_per_s": 5000},
        "context": {"p50_ms": 2.9},
    }
    assert all(_verdicts(result).values())


def test_targets_miss_each_limit():
    result = {
        "systems": {
            "service": _system(31, 61, 49, 30, 40, 1.6 * stats.GIB, 31),
            "plain_rasa": _system(25, 40, 50, 27, 125, stats.GIB, 10),
        },
        "detector": {"messages_per_s": 1999},
        "context": {"p50_ms": 3.1},
    }
    assert not any(_verdicts(result).values())


def test_targets_at_the_limits_pass():
    result = {
        "systems": {
            "service": _system(30, 60, 50, 10, 13, 1.5 * stats.GIB, 30),
            "plain_rasa": _system(25, 40, 50, 27, 125, stats.GIB, 10),
        },
        "detector": {"messages_per_s": 2000},
        "context": {"p50_ms": 3.0},
    }
    assert all(_verdicts(result).values())


def test_targets_not_measured_are_none():
    verdicts = _verdicts({"systems": {"service": _system(26, 45, 55, 30, 33, stats.GIB, 25)}})
    assert verdicts["Sequential p50 within 1.2x of plain Rasa"] is None
    assert verdicts["Throughput at 8 concurrent >= plain Rasa"] is None
    assert verdicts["Detector >= 2,000 messages/s"] is None
    assert verdicts["Sequential p99 <= 60 ms"] is True
