"""Report files from a fake result dict: no servers, no network."""

from __future__ import annotations

import json
from typing import Any

from aftercare_tools.benchmark import report, stats
from aftercare_tools.benchmark.runner import Plan


def _phase(p50, throughput, conversations=30, turns=8):
    latencies = [p50 * 0.9, p50, p50 * 1.1, p50 * 2]
    return {
        "conversations": conversations,
        "turns": turns,
        "concurrency": 1,
        "messages": 240,
        "errors": 0,
        "error_kinds": {},
        "outcomes": {"assistant": 240},
        "wall_s": 10.0,
        "throughput_msgs_per_s": throughput,
        "latency_ms": stats.summarize(latencies),
        "open_conversation_ms": stats.summarize([2.0]),
        "latencies_ms": latencies,
    }


def _system(base, growth, rss, cold):
    turns = [base + growth * t for t in range(200)]
    return {
        "label": "x",
        "ready_s": cold,
        "first_reply_s": cold + 1,
        "cold_start_s": cold,
        "phases": {
            "sequential": _phase(base, 40.0),
            "concurrent_8": _phase(base * 5, 42.0, 64, 6),
            "concurrent_32": _phase(base * 20, 41.0, 64, 6),
        },
        "long_conversation": {
            "turns": 200,
            "errors": 0,
            "buckets_ms": stats.turn_buckets(turns),
            "by_10_turns": stats.rolling_buckets(turns),
            "slope_ms_per_turn": stats.slope_per_turn(turns),
            "turn_latencies_ms": turns,
        },
        "peak_rss_bytes": rss,
        "peak_rss_total_bytes": rss + 100 * 2**20,
        "warmup_errors": 0,
    }


def fake_result(service_base=24.0):
    result: dict[str, Any] = {
        "generated_at": "2025-01-01T00:00:00+00:00",
        "duration_s": 200.0,
        "machine": {"cpus": 2, "cpu_model": "fake", "python": "3.10"},
        "model": {"path": "models/aftercare.tar.gz", "size_bytes": 25 * 2**20, "sha256": "abc"},
        "plan": Plan().as_dict(),
        "order": ["service", "plain_rasa"],
        "systems": {
            "service": _system(service_base, 0.01, 900 * 2**20, 22.0),
            "plain_rasa": _system(25.0, 0.5, 800 * 2**20, 18.0),
        },
        "detector": {"messages_per_s": 1500.0, "messages": 3000, "seconds": 2.0},
        "context": {"p50_ms": 1.2, "p99_ms": 4.0, "messages": 600, "conversations": 70, "seconds": 2.0},
        "training": {"seconds": None, "note": "not measured"},
        "notes": ["a note"],
    }
    result["ratios"] = stats.compute_ratios(result["systems"]["service"], result["systems"]["plain_rasa"])
    result["targets"] = stats.evaluate_targets(result)
    return result


def test_write_reports_creates_the_three_files(tmp_path):
    paths = report.write_reports(fake_result(), tmp_path / "reports")
    assert [p.name for p in paths] == ["bench.md", "bench.json", "bench_latency.png"]
    for path in paths:
        assert path.exists() and path.stat().st_size > 0
    assert paths[2].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_markdown_has_pass_and_miss_lines():
    result = fake_result()
    text = report.markdown(result)
    # detector at 1,500 msg/s misses 2,000; the sequential p99 (about 47 ms) passes 60 ms
    assert "| Detector >= 2,000 messages/s | 1,500 msg/s | >= 2,000 msg/s | MISS |" in text
    p99 = result["systems"]["service"]["phases"]["sequential"]["latency_ms"]["p99"]
    assert p99 < 60
    assert f"| Sequential p99 <= 60 ms | {p99:.2f} ms | <= 60 ms | PASS |" in text
    assert "| Turns 190-200 at most 1.3x turns 1-10 |" in text
    assert "| 190-200 |" in text and "Service / Rasa" in text
    assert "bench_latency.png" in text
    assert "not measured" in text


def test_markdown_reports_the_detector_and_conversation_context_cost():
    result = fake_result()
    text = report.markdown(result)
    assert "| Detector + conversation context p50 <= 3 ms | 1.20 ms | <= 3 ms | PASS |" in text
    assert "| Detector + conversation context per message, p50 / p99 (ms) | 1.20 / 4.00 |" in text
    result["context"]["p50_ms"] = 3.5
    result["targets"] = stats.evaluate_targets(result)
    assert "| Detector + conversation context p50 <= 3 ms | 3.50 ms | <= 3 ms | MISS |" in report.markdown(result)
    del result["context"]
    result["targets"] = stats.evaluate_targets(result)
    assert "| Detector + conversation context p50 <= 3 ms | n/a | <= 3 ms | NOT MEASURED |" in report.markdown(result)


def test_markdown_marks_unmeasured_targets():
    result = fake_result()
    del result["systems"]["plain_rasa"]
    result["ratios"] = stats.compute_ratios(result["systems"]["service"], None)
    result["targets"] = stats.evaluate_targets(result)
    text = report.markdown(result)
    assert "NOT MEASURED" in text
    assert "n/a" in text


def test_markdown_reports_a_system_that_failed_to_start(tmp_path):
    result = fake_result()
    result["systems"]["plain_rasa"] = {"error": "rasa run exited during start-up (code 1):\nboom"}
    result["ratios"] = stats.compute_ratios(result["systems"]["service"], result["systems"]["plain_rasa"])
    result["targets"] = stats.evaluate_targets(result)
    text = report.markdown(result)
    assert "Plain Rasa failed: rasa run exited during start-up (code 1):" in text
    report.write_reports(result, tmp_path)  # the plot copes with a missing system


def test_json_round_trips(tmp_path):
    result = fake_result()
    report.write_reports(result, tmp_path)
    loaded = json.loads((tmp_path / "bench.json").read_text())
    sequential = result["systems"]["service"]["phases"]["sequential"]
    assert loaded["systems"]["service"]["phases"]["sequential"]["latency_ms"] == sequential["latency_ms"]
    assert {t["name"] for t in loaded["targets"]} == {t["name"] for t in result["targets"]}


def test_summary_text_lists_every_target():
    text = report.summary_text(fake_result())
    assert text.count("PASS") + text.count("MISS") == 8
    assert "Service" in text and "Plain Rasa" in text
