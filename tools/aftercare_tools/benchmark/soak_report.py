"""reports/soak.md and reports/soak.json from a soak result."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from aftercare_tools.benchmark import soak

MIB = 2**20


def _num(value: float | None, digits: int = 1) -> str:
    return "n/a" if value is None else f"{value:,.{digits}f}"


def _target(row: dict[str, Any]) -> str:
    verdict = "NOT MEASURED" if row["passed"] is None else ("PASS" if row["passed"] else "MISS")
    unit = row["unit"]
    value = "n/a" if row["value"] is None else f"{row['value']:,.2f}{unit}"
    return f"| {row['name']} | {value} | {row['op']} {row['limit']:g}{unit} | {verdict} |"


def markdown(result: dict[str, Any]) -> str:
    machine = result.get("machine") or {}
    lines = [
        "# Soak: Marrow Aftercare service under steady load",
        "",
        f"Generated {result.get('generated_at')} by `aftercare bench --soak`: {_num(result.get('duration_s'), 0)} s, "
        f"{result.get('workers')} worker(s), {result.get('backends', 'SQLite, one process')}, on "
        f"{machine.get('cpu_affinity') or machine.get('cpus')} CPU(s).",
        "",
    ]
    lines += [f"- {note}" for note in result.get("notes") or []]
    if result.get("error"):
        return "\n".join(lines + ["", f"The run failed: {result['error'].splitlines()[0]}"]) + "\n"
    lines += [
        f"- Load: {_num(result.get('rate_msgs_per_s'))} messages/s = {result.get('load_fraction', 0):.0%} of "
        f"{_num(result.get('capacity_msgs_per_s'))} messages/s capacity ({result.get('capacity_source')}).",
        f"- Conversations of {soak.TURNS} turns start at a steady rate; each patient waits "
        f"{soak.THINK_SECONDS:g} s after a reply before the next message. {result.get('messages', 0)} "
        "messages answered in all.",
        "- RSS: the workers' resident memory (VmRSS) summed, sampled every "
        f"{soak.SAMPLE_SECONDS:g} s; growth from the end of minute 1 to the end of the run.",
        "- Other jobs' CPU: what the rest of the machine used (all busy time minus the load client, "
        "the service and its PostgreSQL and Redis): a p99 that rises with it is the machine's, not the service's.",
        "",
        "| Check | Measured | Limit | Result |",
        "|---|---:|---:|:---:|",
        *[_target(row) for row in result.get("targets") or []],
        "",
        "| Minute | Messages | Errors | p50 ms | p99 ms | Worker RSS MiB | Other jobs' CPU (cores) |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for minute in result.get("minutes") or []:
        rss = minute["rss_bytes"] / MIB if minute["rss_bytes"] else None
        lines.append(
            f"| {minute['minute']} | {minute['messages']} | {minute['errors']} | {_num(minute['p50_ms'])} "
            f"| {_num(minute['p99_ms'])} | {_num(rss, 0)} | {_num(minute.get('other_cpu_cores'), 2)} |"
        )
    return "\n".join(lines) + "\n"


def write(result: dict[str, Any], out_dir: Path) -> list[Path]:
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = [out_dir / "soak.md", out_dir / "soak.json"]
    paths[0].write_text(markdown(result))
    paths[1].write_text(json.dumps(result, indent=1, default=str) + "\n")
    return paths
