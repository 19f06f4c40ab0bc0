"""`aftercare bench --soak`: durations, the checks and soak.md from a fake result."""

from __future__ import annotations

import json

import pytest

from aftercare_tools.benchmark import soak, soak_report


@pytest.mark.parametrize(("text", "seconds"), [("30s", 30), ("5m", 300), ("20m", 1200), ("1h", 3600), (" 2m ", 120)])
def test_durations(text, seconds):
    assert soak.parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["20", "5x", "0m", "-5m", "1.5h", "m", "", "20 minutes"])
def test_other_durations_are_refused_with_the_accepted_forms(text):
    with pytest.raises(ValueError, match=r"e\.g\. 30s, 5m, 20m, 1h"):
        soak.parse_duration(text)


def test_cli_refuses_a_bad_duration(capsys):
    from bot.cli import main

    with pytest.raises(SystemExit) as exit_info:
        main(["bench", "--soak", "20 minutes"])
    assert exit_info.value.code == 2
    assert "invalid duration '20 minutes'" in capsys.readouterr().err


def _minute(index: int, p99: float, rss_mib: int, errors: int = 0) -> dict:
    return {
        "minute": index,
        "messages": 600,
        "errors": errors,
        "error_kinds": {"http_500": errors} if errors else {},
        "p50_ms": p99 / 3,
        "p99_ms": p99,
        "rss_bytes": rss_mib * 2**20,
        "other_cpu_cores": 1.25,
    }


def fake_soak(p99s: list[float], rss: list[int], errors: int = 0) -> dict:
    minutes = [_minute(i + 1, p, r) for i, (p, r) in enumerate(zip(p99s, rss, strict=True))]
    minutes[-1]["errors"] = errors
    result = {
        "generated_at": "2026-11-27T20:00:00+00:00",
        "duration_s": 60.0 * len(minutes),
        "workers": 2,
        "machine": {"cpus": 2},
        "load_fraction": soak.LOAD_FRACTION,
        "capacity_msgs_per_s": 50.0,
        "capacity_source": "given",
        "rate_msgs_per_s": 30.0,
        "minutes": minutes,
        "messages": sum(m["messages"] for m in minutes),
        "errors": errors,
        "rss_growth_percent": soak._rss_growth(minutes),
        "notes": [],
    }
    result["targets"] = soak.verdicts(result)
    return result


def test_a_steady_run_passes():
    result = fake_soak([80, 90, 85, 88], [1900, 1910, 1920, 1930])
    assert result["rss_growth_percent"] == pytest.approx(30 * 100 / 1900)
    assert [t["passed"] for t in result["targets"]] == [True, True, True]


def test_errors_growth_and_an_unstable_p99_miss():
    result = fake_soak([80, 90, 400, 85], [1000, 1030, 1060, 1100], errors=2)
    assert [t["passed"] for t in result["targets"]] == [False, False, False]


def test_soak_md_has_a_row_per_minute_and_the_checks(tmp_path):
    paths = soak_report.write(fake_soak([80, 90], [1900, 1905]), tmp_path)
    text = paths[0].read_text()
    assert "| Errors | 0.00 | <= 0 | PASS |" in text
    assert "| 2 | 600 | 0 | 30.0 | 90.0 | 1,905 | 1.25 |" in text
    assert "30.0 messages/s = 60% of 50.0 messages/s" in text
    assert json.loads(paths[1].read_text())["minutes"][1]["p99_ms"] == 90


def test_a_failed_start_is_reported(tmp_path):
    result = {"duration_s": 120.0, "workers": 2, "machine": {}, "error": "postgres exited\nlog", "notes": []}
    result["targets"] = soak.verdicts(result)
    targets = result["targets"]
    assert isinstance(targets, list) and [t["passed"] for t in targets] == [None, None, None]
    assert "The run failed: postgres exited" in soak_report.markdown(result)


def test_other_cpu_leaves_out_the_servers_under_test():
    """Servers that used more CPU than the whole machine (impossible) leave nothing for others."""
    used = iter([0.0, 1e9])
    other = soak.OtherCpu(lambda: next(used))
    sum(range(200_000))  # a little CPU time passes
    assert other.cores() == 0.0
