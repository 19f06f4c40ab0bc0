"""Argument parsing, the plan sizes, and the runner driven by a fake target (no servers)."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import pytest

from aftercare_tools.benchmark import cli
from aftercare_tools.benchmark.runner import CpuMeter, Plan, busy_note
from aftercare_tools.benchmark.servers import (
    ServerProcess,
    cpu_seconds,
    cpu_seconds_precise,
    free_port,
    peak_rss_bytes,
)


def _parse(argv):
    parser = argparse.ArgumentParser(prog="aftercare")
    sub = parser.add_subparsers(dest="command", required=True)
    cli.register(sub)
    return parser.parse_args(argv)


def test_register_adds_bench_with_defaults():
    args = _parse(["bench"])
    assert args.command == "bench"
    assert args.func is cli.run
    assert args.model == Path("models/aftercare.tar.gz")
    assert args.out == Path("reports")
    assert not args.quick and not args.train and not args.strict
    assert args.systems == "both"
    assert not args.one_at_a_time  # interleaved by default


def test_options():
    args = _parse(
        [
            "bench",
            "--model",
            "m.tar.gz",
            "--out",
            "o",
            "--quick",
            "--train",
            "--systems",
            "service",
            "--strict",
            "--no-progress",
            "--rasa-first",
            "--one-at-a-time",
        ]
    )
    assert args.model == Path("m.tar.gz") and args.out == Path("o")
    assert args.quick and args.train and args.strict and args.no_progress and args.rasa_first
    assert args.one_at_a_time
    assert cli.SYSTEM_CHOICES[args.systems] == ("service",)


def test_the_aftercare_command_has_bench():
    from bot.cli import build_parser

    args = build_parser().parse_args(["bench", "--quick"])
    assert args.quick and args.func is cli.run


def test_missing_model_exits_2(tmp_path, capsys):
    from bot.cli import main

    with pytest.raises(SystemExit) as exit_info:
        main(["bench", "--model", str(tmp_path / "none.tar.gz"), "--out", str(tmp_path)])
    assert exit_info.value.code == 2
    assert "no trained model" in capsys.readouterr().err


def test_quick_plan_is_smaller():
    assert Plan.quick().messages_per_system() < Plan().messages_per_system()
    # warm-up 20 + 30x8 + 64x6 + 64x6 + 200
    assert Plan().messages_per_system() == 20 + 240 + 384 + 384 + 200


def test_free_port_and_peak_rss_of_this_process():
    assert 0 < free_port() < 65536
    rss = peak_rss_bytes(os.getpid())
    assert rss is not None and rss > 0
    assert peak_rss_bytes(2**22 + 12345) is None  # no such process


def test_server_process_stops_what_it_started(tmp_path):
    server = ServerProcess(
        "sleeper",
        [sys.executable, "-c", "import time; time.sleep(60)"],
        dict(os.environ),
        tmp_path / "sleeper.log",
    )
    server.start()
    assert server.alive()
    memory = server.memory()
    assert memory["children_count"] == 0
    server.stop()
    assert not server.alive()


def test_busy_note():
    assert busy_note(0.2, 0.05, 2) is None
    assert busy_note(None, None, 2) is None
    assert (busy_note(3.0, 0.0, 2) or "").startswith("WARNING")
    assert "other processes used 0.90" in (busy_note(0.1, 0.9, 2) or "")


def test_cpu_meter_reports_other_work():
    other = CpuMeter().others()
    assert set(other) == {"seconds", "cores"}


def test_cpu_seconds_of_this_process():
    seconds = cpu_seconds(os.getpid())
    assert seconds is not None and seconds >= 0
    assert cpu_seconds(2**22 + 12345) is None


def test_precise_cpu_of_this_process():
    seconds = cpu_seconds_precise(os.getpid())
    assert seconds is not None and seconds > 0
    assert cpu_seconds_precise(2**22 + 12345) is None
