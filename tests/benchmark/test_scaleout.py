"""The several-worker benchmark's targets, its section of bench.md, and its back ends."""

from __future__ import annotations

import json
import shutil

import pytest

from aftercare_tools.benchmark import backends, report, scaleout
from aftercare_tools.benchmark.scaleout_report import section
from tests.benchmark.test_report import _phase, _system, fake_result

GIB = 2**30


def fake_scale(service_16: float, rasa_16: float, growth: float, worker_rss: int, errors: int = 0) -> dict:
    service = _system(40.0, growth, worker_rss, 25.0)
    service["phases"] = {"concurrent_8": _phase(200.0, 50.0, 48, 6), "concurrent_16": _phase(300.0, service_16, 64, 6)}
    service["phases"]["concurrent_16"]["errors"] = errors
    service["phases"]["concurrent_16"]["worker_cpu_s"] = [2.5, 2.25]
    service["backend_cpu_ms_per_msg"] = 4.0
    service["worker_peak_rss_bytes"] = [worker_rss, worker_rss - 2**20]
    service["max_worker_peak_rss_bytes"] = worker_rss
    service["supervisor_peak_rss_bytes"] = 30 * 2**20
    rasa = _system(50.0, 0.5, 900 * 2**20, 16.0)
    rasa["phases"] = {"concurrent_8": _phase(250.0, 30.0, 48, 6), "concurrent_16": _phase(500.0, rasa_16, 64, 6)}
    result = {
        "generated_at": "2026-11-27T20:00:00+00:00",
        "workers": 2,
        "duration_s": 120.0,
        "machine": {"cpus": 2, "cpu_affinity": 2},
        "backends": "throwaway PostgreSQL and Redis started by the benchmark on loopback",
        "systems": {"service": service, "plain_rasa": rasa},
        "notes": ["WARNING: the machine was not idle"],
    }
    result["targets"] = scaleout.targets(result)
    return result


def test_targets_pass_when_every_figure_is_within_its_limit():
    targets = fake_scale(service_16=60.0, rasa_16=30.0, growth=0.0, worker_rss=900 * 2**20)["targets"]
    assert [t["passed"] for t in targets] == [True, True, True, True]
    assert targets[0]["value"] == pytest.approx(2.0)


def test_targets_miss_low_throughput_growth_memory_and_errors():
    targets = fake_scale(service_16=40.0, rasa_16=30.0, growth=0.5, worker_rss=int(1.2 * GIB), errors=3)["targets"]
    assert [t["passed"] for t in targets] == [False, False, False, False]
    assert targets[0]["value"] == pytest.approx(40 / 30)
    assert targets[2]["value"] == pytest.approx(1.2)
    assert targets[3]["value"] == 3


def test_targets_not_measured_when_the_run_failed():
    targets = scaleout.targets({"systems": {}})
    assert [t["passed"] for t in targets] == [None, None, None, None]


def test_section_shows_both_systems_side_by_side():
    text = "\n".join(section(fake_scale(60.0, 30.0, 0.0, 900 * 2**20)))
    assert "## Several workers: `aftercare serve --workers 2` on PostgreSQL and Redis vs plain Rasa" in text
    assert "| Throughput at 16 concurrent >= 1.8x plain Rasa | 2.00x | >= 1.8x | PASS |" in text
    assert "| 16 concurrent (64 conv. x 6 turns) | p50 ms |" in text
    assert "| Peak RSS per worker (MiB) | 900, 899 |" in text
    assert "| CPU s per worker (how evenly they share) | 2.5, 2.2 |" in text


def test_section_shows_how_much_of_the_machine_each_system_got():
    scale = fake_scale(60.0, 30.0, 0.0, 900 * 2**20)
    scale["systems"]["service"]["phases"]["concurrent_16"]["server_cpu_ms_per_msg"] = 30.0
    scale["systems"]["plain_rasa"]["phases"]["concurrent_16"]["server_cpu_ms_per_msg"] = 35.0
    text = "\n".join(section(scale))
    assert "|  | cores used (msg/s x CPU per msg) | 1.80 | 1.05 | 1.71x |" in text
    assert "| PostgreSQL + Redis CPU ms per service message (throwaway servers only) | 4.0 |" in text
    assert "WARNING: the machine was not idle" in text


def test_bench_md_keeps_the_single_process_run_and_adds_the_workers_section(tmp_path):
    first = fake_result()
    report.write_reports(first, tmp_path)
    result = report.previous(tmp_path)
    result["scale_out"] = fake_scale(60.0, 30.0, 0.0, 900 * 2**20)
    report.write_reports(result, tmp_path)
    text = (tmp_path / "bench.md").read_text()
    assert text.index("## Targets") < text.index("## Several workers")
    assert json.loads((tmp_path / "bench.json").read_text())["systems"] == json.loads(json.dumps(first["systems"]))


def test_workers_section_alone_when_no_single_process_run_yet(tmp_path):
    paths = report.write_reports({"scale_out": fake_scale(60.0, 30.0, 0.0, 900 * 2**20)}, tmp_path)
    assert [p.name for p in paths] == ["bench.md", "bench.json"]
    assert "## Several workers" in (tmp_path / "bench.md").read_text()


def test_previous_is_empty_without_a_report(tmp_path):
    assert report.previous(tmp_path) == {}
    (tmp_path / "bench.json").write_text("not json")
    assert report.previous(tmp_path) == {}


def test_given_urls_start_no_server(tmp_path):
    given = backends.provide(tmp_path, "postgresql://db.example/x", "redis://cache.example/0")
    assert (given.database_url, given.redis_url, given.started) == (
        "postgresql://db.example/x",
        "redis://cache.example/0",
        [],
    )
    assert given.describe() == "PostgreSQL and Redis given by URL"


@pytest.mark.skipif(
    backends.postgres_bindir() is None or shutil.which("redis-server") is None,
    reason="needs Debian's postgresql and redis-server",
)
def test_throwaway_servers_answer_and_are_gone_after_stop(tmp_path):
    import redis
    import sqlalchemy as sa

    started = backends.provide(tmp_path, None, None)
    try:
        engine = sa.create_engine(started.database_url)
        with engine.connect() as connection:
            assert connection.execute(sa.text("SELECT 1")).scalar() == 1
        engine.dispose()
        client = redis.Redis.from_url(started.redis_url)
        assert client.ping()
        client.close()
    finally:
        started.stop()
    assert all(not server.alive() for server in started.started)
    assert all(not folder.exists() for folder in started.folders)


def test_cli_runs_several_workers_only_with_more_than_one(tmp_path, capsys):
    from bot.cli import main

    with pytest.raises(SystemExit) as exit_info:
        main(["bench", "--workers", "0", "--model", str(tmp_path / "none.tar.gz"), "--out", str(tmp_path)])
    assert exit_info.value.code == 2
    assert "--workers needs a number of 1 or more" in capsys.readouterr().err
