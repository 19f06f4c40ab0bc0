"""The several-worker section of reports/bench.md (from bench.json's "scale_out")."""

from __future__ import annotations

from typing import Any

from aftercare_tools.benchmark import stats

MIB = 2**20
FIGURES = (("p50", "p50 ms"), ("p95", "p95 ms"), ("p99", "p99 ms"))


def _num(value: float | None, digits: int = 1) -> str:
    return "n/a" if value is None else f"{value:,.{digits}f}"


def _ratio(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}x"


def _row(*cells: Any) -> str:
    return "| " + " | ".join(str(c) for c in cells) + " |"


def _target_row(target: dict) -> str:
    value, unit = target["value"], target["unit"]
    shown = "n/a" if value is None else (f"{value:.2f}x" if unit == "x" else f"{value:,.2f} {unit}".strip())
    verdict = "NOT MEASURED" if target["passed"] is None else ("PASS" if target["passed"] else "MISS")
    limit = f"{target['op']} {target['limit']:g}{'x' if unit == 'x' else ' ' + unit}".strip()
    return _row(target["name"], shown, limit, verdict)


def _phase_rows(service: dict, rasa: dict) -> list[str]:
    rows = []
    for name in sorted(service.get("phases") or {}, key=lambda n: int(n.split("_")[1])):
        mine, theirs = service["phases"][name], (rasa.get("phases") or {}).get(name, {})
        shape = f"{name.split('_')[1]} concurrent ({mine['conversations']} conv. x {mine['turns']} turns)"
        cells = []
        for key, label in FIGURES:
            ours, other = mine["latency_ms"].get(key), stats._get(theirs, "latency_ms", key)
            cells.append((label, _num(ours), _num(other), _ratio(stats.ratio(ours, other))))
        ours, other = mine.get("throughput_msgs_per_s"), theirs.get("throughput_msgs_per_s")
        cells.append(("throughput msg/s", _num(ours), _num(other), _ratio(stats.ratio(ours, other))))
        ours, other = mine.get("server_cpu_ms_per_msg"), theirs.get("server_cpu_ms_per_msg")
        cells.append(("server CPU ms/msg", _num(ours), _num(other), _ratio(stats.ratio(ours, other))))
        ours, other = _cores(mine), _cores(theirs)
        cells.append(
            ("cores used (msg/s x CPU per msg)", _num(ours, 2), _num(other, 2), _ratio(stats.ratio(ours, other)))
        )
        split = ", ".join(_num(seconds) for seconds in mine.get("worker_cpu_s") or []) or "n/a"
        cells.append(("CPU s per worker (how evenly they share)", split, "", ""))
        cells.append(("errors", mine.get("errors", 0), theirs.get("errors", "n/a"), ""))
        for index, (label, *values) in enumerate(cells):
            rows.append(_row(shape if index == 0 else "", label, *values))
    return rows


def _cores(phase: dict) -> float | None:
    """How much of the machine a system got in a phase: its servers' CPU seconds per second."""
    rate, cpu_ms = phase.get("throughput_msgs_per_s"), phase.get("server_cpu_ms_per_msg")
    return None if rate is None or cpu_ms is None else rate * cpu_ms / 1000


def _long_rows(service: dict, rasa: dict) -> list[str]:
    rows = []
    for bucket in stats.TURN_BUCKETS:
        ours = stats._get(service, "long_conversation", "buckets_ms", bucket)
        other = stats._get(rasa, "long_conversation", "buckets_ms", bucket)
        rows.append(_row(f"turns {bucket} median ms", _num(ours), _num(other), _ratio(stats.ratio(ours, other))))

    def growth(system: dict) -> str:
        return _ratio(
            stats.ratio(
                stats._get(system, "long_conversation", "buckets_ms", "190-200"),
                stats._get(system, "long_conversation", "buckets_ms", "1-10"),
            )
        )

    rows.append(_row("growth: 190-200 / 1-10", growth(service), growth(rasa), ""))
    return rows


def _memory_rows(service: dict, rasa: dict) -> list[str]:
    workers = service.get("worker_peak_rss_bytes") or []
    return [
        _row("Peak RSS per worker (MiB)", ", ".join(_num(w / MIB, 0) for w in workers) or "n/a", "", ""),
        _row(
            "Peak RSS, supervisor process (MiB)",
            _num((service.get("supervisor_peak_rss_bytes") or 0) / MIB, 0),
            "",
            "",
        ),
        _row(
            "Peak RSS, all processes (MiB)",
            _num((service.get("peak_rss_total_bytes") or 0) / MIB, 0),
            _num((rasa.get("peak_rss_total_bytes") or 0) / MIB, 0),
            _ratio(stats.ratio(service.get("peak_rss_total_bytes"), rasa.get("peak_rss_total_bytes"))),
        ),
        _row(
            "PostgreSQL + Redis CPU ms per service message (throwaway servers only)",
            _num(service.get("backend_cpu_ms_per_msg")),
            "",
            "",
        ),
        _row(
            "Ready: spawn to every worker's model loaded / `GET /status` (s)",
            _num(service.get("ready_s")),
            _num(rasa.get("ready_s")),
            "",
        ),
    ]


def section(scale: dict[str, Any]) -> list[str]:
    """Markdown lines: targets, phases, long conversation, memory, how measured, notes."""
    workers = scale.get("workers")
    systems = scale.get("systems") or {}
    service, rasa = systems.get("service") or {}, systems.get("plain_rasa") or {}
    machine = scale.get("machine") or {}
    lines = [
        "",
        f"## Several workers: `aftercare serve --workers {workers}` on PostgreSQL and Redis vs plain Rasa",
        "",
        f"Generated {scale.get('generated_at')} by `aftercare bench --workers {workers}` in "
        f"{_num(scale.get('duration_s'), 0)} s on {machine.get('cpu_affinity') or machine.get('cpus')} CPU(s); "
        f"{scale.get('backends', 'backends not started')}. Plain Rasa: `rasa run --enable-api` (one process, "
        "in-memory tracker store) plus `rasa run actions`, the same model, in the same run, interleaved "
        "as above (each concurrent phase one system after the other, the order alternating; the long "
        "conversation turn by turn).",
        "",
    ]
    lines += [f"- {note}" for note in scale.get("notes") or []]
    if scale.get("error"):
        return lines + ["", f"The run failed: {scale['error'].splitlines()[0]}"]
    lines += ["", "| Target | Measured | Limit | Result |", "|---|---:|---:|:---:|"]
    lines += [_target_row(t) for t in scale.get("targets") or []]
    lines += [
        "",
        f"| Phase | Figure | Service x{workers} | Plain Rasa | Service / Rasa |",
        "|---|---|---:|---:|---:|",
        *_phase_rows(service, rasa),
        "",
        f"| One conversation of {stats._get(service, 'long_conversation', 'turns')} turns "
        f"| Service x{workers} | Plain Rasa | Service / Rasa |",
        "|---|---:|---:|---:|",
        *_long_rows(service, rasa),
        "",
        f"| Memory and start-up | Service x{workers} | Plain Rasa | Service / Rasa |",
        "|---|---:|---:|---:|",
        *_memory_rows(service, rasa),
        "",
        "Each worker loads its own model and listens on its own SO_REUSEPORT socket (the kernel "
        "spreads new connections over the workers); the long conversation's turns land on whichever "
        "worker holds the connection, each waiting for the previous turn's commit (the "
        "per-conversation Redis lock).",
        f"Cores used: the service's {workers} workers can use {workers} cores, plain Rasa's server "
        "(one Python process) about one plus its action server; when each used less than that, "
        "the CPU that other work on the machine left over set the throughput ratio, not the servers.",
    ]
    outcomes: dict[str, int] = {}
    for phase in (service.get("phases") or {}).values():
        for detail, count in (phase.get("outcomes") or {}).items():
            outcomes[detail] = outcomes.get(detail, 0) + count
    if outcomes:
        lines.append("Service reply outcomes: " + ", ".join(f"{k} {v}" for k, v in sorted(outcomes.items())) + ".")
    return lines
