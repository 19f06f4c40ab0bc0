"""reports/bench.md, reports/bench.json and reports/bench_latency.png from a result dict."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from aftercare_tools.benchmark import stats

MIB = 2**20
NAMES = {"service": "Service", "plain_rasa": "Plain Rasa"}
PHASE_TITLES = {
    "sequential": "Sequential",
    "concurrent_8": "8 concurrent",
    "concurrent_32": "32 concurrent",
}
SHORT_TITLES = {"sequential": "seq.", "concurrent_8": "8 conc.", "concurrent_32": "32 conc."}
COLORS = {"service": "#1f77b4", "plain_rasa": "#ff7f0e"}


def _num(value: float | None, digits: int = 1, suffix: str = "") -> str:
    return "n/a" if value is None else f"{value:,.{digits}f}{suffix}"


def _ratio(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}x"


def _verdict(passed: bool | None) -> str:
    return "NOT MEASURED" if passed is None else ("PASS" if passed else "MISS")


def _get(node: Any, *path: str) -> Any:
    for key in path:
        if not isinstance(node, dict) or key not in node:
            return None
        node = node[key]
    return node


def _target_value(target: dict) -> str:
    value, unit = target["value"], target["unit"]
    if value is None:
        return "n/a"
    if unit == "x":
        return f"{value:.2f}x"
    if unit == "msg/s":
        return f"{value:,.0f} msg/s"
    return f"{value:,.2f} {unit}" if value % 1 else f"{value:,.0f} {unit}"


def _systems(result: dict) -> dict[str, dict]:
    return {k: v for k, v in (result.get("systems") or {}).items() if isinstance(v, dict)}


def _row(*cells: Any) -> str:
    return "| " + " | ".join(str(c) for c in cells) + " |"


def _mib(system: dict, key: str) -> str:
    value = system.get(key)
    return _num(value / MIB, 0) if value else "n/a"


def _header(result: dict) -> list[str]:
    machine, model = result.get("machine", {}), result.get("model", {})
    cpus = machine.get("cpu_affinity") or machine.get("cpus", "?")
    size = _num((model.get("size_bytes") or 0) / MIB, 1)
    lines = [
        "# Benchmark: Marrow Aftercare service vs plain Rasa",
        "",
        f"Generated {result.get('generated_at', '?')} by `aftercare bench` in "
        f"{_num(result.get('duration_s'), 0)} s on {cpus} CPU(s) "
        f"({machine.get('cpu_model', '?')}), "
        f"Python {machine.get('python', '?')}. Model `{model.get('path', '?')}` ({size} MiB, "
        f"sha256 {model.get('sha256', '?')}), the same file for both systems.",
        "",
    ]
    for note in result.get("notes") or []:
        if note.startswith("WARNING"):
            lines += [f"**{note}**", ""]
    if result.get("quick"):
        lines += [
            "**Quick smoke run (`--quick`): small counts, figures are not representative.**",
            "",
        ]
    return lines + [
        "- **Service**: `aftercare serve` (FastAPI, in-process Rasa agent, SQL tracker store on "
        "SQLite, JWT auth, safety detector, one transaction per message): "
        "`POST /api/v1/conversations/{id}/messages`.",
        "- **Plain Rasa**: `rasa run --enable-api` with the REST channel and the default in-memory "
        "tracker store, plus `rasa run actions` as its action server: "
        "`POST /webhooks/rest/webhook`.",
    ]


def _targets(result: dict) -> list[str]:
    lines = [
        "",
        "## Targets",
        "",
        _row("Target", "Measured", "Limit", "Result"),
        "|---|---:|---:|:---:|",
    ]
    for target in result.get("targets") or []:
        limit = f"{target['op']} {_target_value({**target, 'value': target['limit']})}"
        lines.append(_row(target["name"], _target_value(target), limit, _verdict(target["passed"])))
    return lines


def _phases(service: dict, rasa: dict, ratios: dict) -> list[str]:
    lines = [
        "",
        "## Latency and throughput",
        "",
        "Latency in ms from sending a message to receiving its reply (successful replies only); "
        "throughput = successful messages / phase wall time; server CPU = user + system CPU time "
        "of the server processes over the phase (plain Rasa: Rasa and its action server) per "
        "message, which other load on the machine barely affects.",
        "",
        _row("Phase", "Figure", "Service", "Plain Rasa", "Service / Rasa"),
        "|---|---|---:|---:|---:|",
    ]
    for phase, title in PHASE_TITLES.items():
        ours, theirs = _get(service, "phases", phase) or {}, _get(rasa, "phases", phase) or {}
        shape = ours or theirs
        if not shape:
            continue
        heading = f"{title} ({shape.get('conversations')} conv. x {shape.get('turns')} turns)"
        for stat in ("p50", "p95", "p99"):
            lines.append(
                _row(
                    heading,
                    f"{stat} ms",
                    _num(_get(ours, "latency_ms", stat)),
                    _num(_get(theirs, "latency_ms", stat)),
                    _ratio(ratios.get(f"{phase}.{stat}")),
                )
            )
            heading = ""
        lines.append(
            _row(
                "",
                "throughput msg/s",
                _num(ours.get("throughput_msgs_per_s")),
                _num(theirs.get("throughput_msgs_per_s")),
                _ratio(ratios.get(f"{phase}.throughput")),
            )
        )
        lines.append(
            _row(
                "",
                "server CPU ms/msg",
                _num(ours.get("server_cpu_ms_per_msg")),
                _num(theirs.get("server_cpu_ms_per_msg")),
                _ratio(stats.ratio(ours.get("server_cpu_ms_per_msg"), theirs.get("server_cpu_ms_per_msg"))),
            )
        )
        lines.append(_row("", "errors", ours.get("errors", "n/a"), theirs.get("errors", "n/a"), ""))
    return lines


def _long(service: dict, rasa: dict, ratios: dict) -> list[str]:
    ours, theirs = service.get("long_conversation") or {}, rasa.get("long_conversation") or {}
    turns = ours.get("turns") or theirs.get("turns") or "n/a"
    lines = [
        "",
        f"## Latency by turn in one long conversation ({turns} turns)",
        "",
        "Median latency (ms) of each bucket of turns.",
        "",
        _row("Turns", "Service", "Plain Rasa", "Service / Rasa"),
        "|---|---:|---:|---:|",
    ]
    for bucket in stats.TURN_BUCKETS:
        lines.append(
            _row(
                bucket,
                _num(_get(ours, "buckets_ms", bucket)),
                _num(_get(theirs, "buckets_ms", bucket)),
                _ratio(ratios.get(f"long.{bucket}")),
            )
        )

    def growth(node: dict) -> str:
        return _ratio(stats.ratio(_get(node, "buckets_ms", "190-200"), _get(node, "buckets_ms", "1-10")))

    return lines + [
        _row("growth: 190-200 / 1-10", growth(ours), growth(theirs), ""),
        _row(
            "slope (ms per turn, least squares)",
            _num(ours.get("slope_ms_per_turn"), 3),
            _num(theirs.get("slope_ms_per_turn"), 3),
            "",
        ),
        _row(
            "server CPU ms/msg over the conversation",
            _num(ours.get("server_cpu_ms_per_msg")),
            _num(theirs.get("server_cpu_ms_per_msg")),
            "",
        ),
        *[
            _row(
                f"server CPU ms per turn, turns {bucket} (median)",
                _num(_get(ours, "buckets_cpu_ms", bucket)),
                _num(_get(theirs, "buckets_cpu_ms", bucket)),
                _ratio(stats.ratio(_get(ours, "buckets_cpu_ms", bucket), _get(theirs, "buckets_cpu_ms", bucket))),
            )
            for bucket in stats.TURN_BUCKETS
        ],
        _row("errors", ours.get("errors", "n/a"), theirs.get("errors", "n/a"), ""),
    ]


def _resources(result: dict, service: dict, rasa: dict, ratios: dict) -> list[str]:
    training, detector = result.get("training") or {}, result.get("detector") or {}
    context = result.get("context") or {}

    def both(title: str, key: str) -> str:
        return _row(title, _num(service.get(key)), _num(rasa.get(key)), _ratio(ratios.get(key)))

    return [
        "",
        "## Start-up, memory, training, detector",
        "",
        _row("Figure", "Service", "Plain Rasa", "Service / Rasa"),
        "|---|---:|---:|---:|",
        both("Ready: spawn to `GET /readyz` / `GET /status` 200 (s)", "ready_s"),
        both("First reply: spawn to a first answered message (s)", "first_reply_s"),
        both("Cold start (service: ready; plain Rasa: first reply) (s)", "cold_start_s"),
        _row(
            "Peak RSS, server process (MiB)",
            _mib(service, "peak_rss_bytes"),
            _mib(rasa, "peak_rss_bytes"),
            _ratio(ratios.get("peak_rss_bytes")),
        ),
        _row(
            "Peak RSS, all processes incl. action server (MiB)",
            _mib(service, "peak_rss_total_bytes"),
            _mib(rasa, "peak_rss_total_bytes"),
            _ratio(ratios.get("peak_rss_total_bytes")),
        ),
        _row("Training time (s), same model for both", _num(training.get("seconds"), 0), "", ""),
        _row("Safety detector alone (messages/s)", _num(detector.get("messages_per_s"), 0), "", ""),
        _row(
            "Detector + conversation context per message, p50 / p99 (ms)",
            f"{_num(context.get('p50_ms'), 2)} / {_num(context.get('p99_ms'), 2)}",
            "",
            "",
        ),
        "",
        f"Training: {training.get('note', 'n/a')}. Detector: the `bot.triage` detector in the "
        f"benchmark process over the message mix for {_num(detector.get('seconds'), 1)} s "
        f"({detector.get('messages', 'n/a')} messages). Detector + conversation context: the "
        f"detector and the conversation's assessment per message, replaying the evaluation's "
        f"{context.get('conversations', 'n/a')} multi-turn conversations for "
        f"{_num(context.get('seconds'), 1)} s ({context.get('messages', 'n/a')} messages, thread CPU "
        "time; the service's database reads and writes not included).",
        "",
        "![Latency by percentile and by turn](bench_latency.png)",
    ]


def _mode_lines(mode: str | None, order: str) -> list[str]:
    common = (
        "Both servers run as subprocesses on free 127.0.0.1 ports; the load generator (this "
        "process, httpx) is the same for both."
    )
    if mode == "interleaved":
        return [
            f"- {common} **Interleaved** (order: {order}): each system starts alone, so its cold "
            "start is timed with the other not yet running; then both stay up and take turns: "
            "the sequential phase conversation by conversation, the long conversation turn by "
            "turn, the concurrent phases one system after the other (the first alternating). "
            "Only one system is ever under load (an idle server uses next to no CPU), and both "
            "meet the same background load when other work shares the machine.",
        ]
    return [
        f"- {common} **One at a time** (order: {order}): one system's phases, stop it, then the other's.",
    ]


def _method(result: dict) -> list[str]:
    plan = result.get("plan", {})
    concurrent = "; ".join(f"{k} concurrent {_plan_shape(v)}" for k, v in (plan.get("concurrent") or {}).items())
    order = ", ".join(result.get("order") or [])
    return [
        "",
        "## How this was measured",
        "",
        *_mode_lines(result.get("mode"), order),
        "- The same deterministic message mix for both (seeded; greetings, questions on the 8 "
        "topics, warning-sign reports, out-of-scope, thanks). Each conversation: a greeting, "
        "distinct messages from the mix, a closing.",
        f"- Phases: warm-up {plan.get('warmup_messages', '?')} messages (not measured); sequential "
        f"{_plan_shape(plan.get('sequential'))}; {concurrent} (asyncio semaphore); one long "
        f"conversation of {plan.get('long_turns', '?')} turns.",
        "- The service's conversation set-up request (`POST /api/v1/conversations`) is not in the "
        "message latency but is in the phase wall time (plain Rasa needs none): this slightly "
        "favours plain Rasa's throughput.",
        "- Peak RSS: `VmHWM` from /proc at the end of the run (each process's high-water mark). "
        "For plain Rasa the all-process figure adds the action server's peak (an upper bound: "
        "the peaks may not coincide).",
        "- Plain Rasa uses TensorFlow's default thread pools; the service pins one intra-op thread "
        "(bot/assistant/environment.py). Both load the same model, whose NLU pipeline includes "
        "the detector-backed WarningSignRouter; the service also runs the detector once per "
        "message before the agent.",
    ]


def _notes(result: dict, systems: dict[str, dict]) -> list[str]:
    notes = list(result.get("notes") or [])
    for key, system in systems.items():
        name = NAMES.get(key, key)
        if "error" in system:
            notes.append(f"{name} failed: {system['error'].splitlines()[0]}")
            continue
        outcomes: dict[str, int] = {}
        for phase in (system.get("phases") or {}).values():
            for detail, count in (phase.get("outcomes") or {}).items():
                outcomes[detail] = outcomes.get(detail, 0) + count
        if outcomes:
            listed = ", ".join(f"{k} {v}" for k, v in sorted(outcomes.items()))
            notes.append(f"{name} reply outcomes over the measured phases: {listed}")
        if system.get("warmup_errors"):
            notes.append(f"{name}: {system['warmup_errors']} warm-up errors")
    return ["", "## Notes", ""] + [f"- {n}" for n in notes] if notes else []


def markdown(result: dict) -> str:
    """The single-process comparison, then (when measured) the several-worker one."""
    from aftercare_tools.benchmark.scaleout_report import section

    systems = _systems(result)
    service, rasa = systems.get("service", {}), systems.get("plain_rasa", {})
    ratios = result.get("ratios") or {}
    if systems:
        lines = (
            _header(result)
            + _targets(result)
            + _phases(service, rasa, ratios)
            + _long(service, rasa, ratios)
            + _resources(result, service, rasa, ratios)
            + _method(result)
            + _notes(result, systems)
        )
    else:
        lines = ["# Benchmark: Marrow Aftercare service vs plain Rasa", "", "(single-process run not measured yet)"]
    if result.get("scale_out"):
        lines += section(result["scale_out"])
    return "\n".join(lines) + "\n"


def _plan_shape(shape: Any) -> str:
    if isinstance(shape, (list, tuple)) and len(shape) == 2:
        return f"{shape[0]} conversations x {shape[1]} turns"
    return "?"


def plot(result: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    systems = {k: v for k, v in _systems(result).items() if "error" not in v}
    fig, (left, right) = plt.subplots(1, 2, figsize=(13, 4.8))
    labels = [(phase, stat) for phase in PHASE_TITLES for stat in ("p50", "p95", "p99")]
    width = 0.8 / max(len(systems), 1)
    for index, (key, system) in enumerate(systems.items()):
        values = [_get(system, "phases", phase, "latency_ms", stat) or 0 for phase, stat in labels]
        xs = [i + (index - (len(systems) - 1) / 2) * width for i in range(len(labels))]
        left.bar(xs, values, width, label=NAMES.get(key, key), color=COLORS.get(key))
    left.set_xticks(range(len(labels)))
    left.set_xticklabels([f"{SHORT_TITLES[p]}\n{s}" for p, s in labels], fontsize=8)
    left.set_yscale("log")
    left.yaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    left.yaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
    left.yaxis.set_minor_formatter(NullFormatter())
    left.set_ylabel("latency (ms, log scale)")
    left.set_title("Latency percentiles per phase")
    left.grid(axis="y", alpha=0.3, which="both")
    left.legend()

    for key, system in systems.items():
        rows = _get(system, "long_conversation", "by_10_turns") or []
        xs = [(r["first"] + r["last"]) / 2 for r in rows]
        right.plot(
            xs,
            [r["median"] for r in rows],
            marker="o",
            markersize=3,
            label=NAMES.get(key, key),
            color=COLORS.get(key),
        )
    for first, last in stats.TURN_BUCKETS.values():
        right.axvspan(first, last, color="grey", alpha=0.12)
    right.set_xlabel("turn (median of each 10 turns; shaded: the reported buckets)")
    right.set_ylabel("median latency (ms)")
    right.set_title("Latency by turn in one long conversation")
    right.set_ylim(bottom=0)
    right.grid(alpha=0.3)
    right.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def write_reports(result: dict, out_dir: Path) -> list[Path]:
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = [out_dir / "bench.md", out_dir / "bench.json", out_dir / "bench_latency.png"]
    paths[0].write_text(markdown(result))
    paths[1].write_text(json.dumps(result, indent=1, default=str) + "\n")
    if _systems(result):
        plot(result, paths[2])
    else:
        paths.pop()
    return paths


def previous(out_dir: Path) -> dict:
    """The last bench.json in `out_dir`, or {}: each kind of run replaces only its own part."""
    try:
        data = json.loads((Path(out_dir) / "bench.json").read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def summary_text(result: dict) -> str:
    """A few lines for the terminal."""
    systems = _systems(result)
    lines = []
    for key in ("service", "plain_rasa"):
        system = systems.get(key)
        if not system:
            continue
        if "error" in system:
            lines.append(f"{NAMES[key]:10} failed to start")
            continue
        seq = _get(system, "phases", "sequential", "latency_ms") or {}
        lines.append(
            f"{NAMES[key]:10} seq p50 {_num(seq.get('p50'))} ms, p99 {_num(seq.get('p99'))} ms; "
            f"8-conc {_num(_get(system, 'phases', 'concurrent_8', 'throughput_msgs_per_s'))}"
            " msg/s; "
            f"turns 1-10/190-200 {_num(_get(system, 'long_conversation', 'buckets_ms', '1-10'))}/"
            f"{_num(_get(system, 'long_conversation', 'buckets_ms', '190-200'))} ms; "
            f"cold start {_num(system.get('cold_start_s'))} s; "
            f"peak RSS {_num((system.get('peak_rss_bytes') or 0) / MIB, 0)} MiB"
        )
    for target in result.get("targets") or []:
        lines.append(f"  {_verdict(target['passed']):12} {target['name']}: {_target_value(target)}")
    return "\n".join(lines)
