"""The `aftercare bench` subcommand, registered by bot/cli.py through `register(subparsers)`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from bot.assistant.runtime import DEFAULT_MODEL

DEFAULT_OUT = Path("reports")
SYSTEM_CHOICES = {
    "both": ("service", "plain_rasa"),
    "service": ("service",),
    "rasa": ("plain_rasa",),
}


def register(subparsers: Any) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "bench",
        help="latency/throughput benchmark against plain `rasa run`, report under reports/",
        description=(
            "Start this service and a plain `rasa run --enable-api` (with its action server) "
            "one after the other on loopback ports, send both the same message mix (sequential, "
            "8 and 32 concurrent conversations, one 200-turn conversation), and write bench.md, "
            "bench.json and bench_latency.png. Takes a few minutes on 2 cores."
        ),
    )
    add_arguments(parser)
    parser.set_defaults(func=run)
    return parser


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--model",
        type=Path,
        default=DEFAULT_MODEL,
        help="trained model archive, used by both systems (default: %(default)s)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=DEFAULT_OUT,
        help="directory for the reports (default: %(default)s)",
    )
    parser.add_argument("--quick", action="store_true", help="small counts: a smoke run of every phase")
    parser.add_argument(
        "--train",
        action="store_true",
        help="also time `aftercare train --force` into a temporary path (adds 4-6 minutes on 2 cores)",
    )
    parser.add_argument(
        "--systems",
        choices=sorted(SYSTEM_CHOICES),
        default="both",
        help="which systems to run (default: both; ratios need both)",
    )
    parser.add_argument(
        "--one-at-a-time",
        action="store_true",
        help="run one system's phases, stop it, then the other's (default: interleaved)",
    )
    parser.add_argument("--rasa-first", action="store_true", help="run plain Rasa before the service")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a performance target is missed")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bars")
    parser.add_argument(
        "--workers",
        type=int,
        default=None,
        help="N > 1: run the service as N workers on PostgreSQL and Redis beside plain Rasa (16 and "
        "8 concurrent, the long conversation, memory per worker), as bench.md's second section",
    )
    parser.add_argument(
        "--soak",
        type=_duration,
        metavar="DURATION",
        help="instead: hold the service (--workers, default 2) at 60%% of its capacity for DURATION "
        "(30s, 5m, 20m, 1h) and write soak.md",
    )
    parser.add_argument(
        "--capacity", type=float, help="with --soak: capacity in messages/s (default: the last bench.json, or a probe)"
    )
    parser.add_argument("--database-url", help="PostgreSQL for --workers/--soak (default: a throwaway local server)")
    parser.add_argument("--redis-url", help="Redis for --workers/--soak (default: a throwaway local server)")


def _duration(text: str) -> float:
    from aftercare_tools.benchmark.soak import parse_duration

    try:
        return parse_duration(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def run(args: argparse.Namespace) -> None:
    """Handler: exits 2 when it cannot run; with --strict, 1 when a target is missed."""
    from aftercare_tools.benchmark.report import previous, summary_text, write_reports
    from aftercare_tools.benchmark.runner import Plan, run_benchmark

    if args.workers is not None and args.workers < 1:
        print("error: --workers needs a number of 1 or more", file=sys.stderr)
        sys.exit(2)
    model = Path(args.model)
    if not model.exists():
        print(f"error: no trained model at {model}; run `aftercare train` first", file=sys.stderr)
        sys.exit(2)
    if args.soak is not None:
        _soak(args, model)
        return
    if args.workers and args.workers > 1:
        _scale_out(args, model)
        return
    systems = SYSTEM_CHOICES[args.systems]
    if args.rasa_first:
        systems = tuple(reversed(systems))
    plan = Plan.quick() if args.quick else Plan()
    result = run_benchmark(
        model,
        plan,
        systems=systems,
        measure_training=args.train,
        progress=not args.no_progress,
        quick=args.quick,
        interleave=not args.one_at_a_time,
    )
    earlier = previous(args.out).get("scale_out")
    if earlier:  # a single-process run keeps the last several-worker section
        result["scale_out"] = earlier
    paths = write_reports(result, args.out)
    print(summary_text(result))
    print("wrote " + ", ".join(str(p) for p in paths))
    if any("error" in s for s in result["systems"].values()):
        sys.exit(2)
    if args.strict and any(t["passed"] is False for t in result["targets"]):
        sys.exit(1)


def _scale_out(args: argparse.Namespace, model: Path) -> None:
    """Several workers beside plain Rasa; replaces only bench.json's "scale_out" part."""
    from aftercare_tools.benchmark.report import previous, write_reports
    from aftercare_tools.benchmark.scaleout import ScalePlan, run_scale_out

    plan = ScalePlan.quick() if args.quick else ScalePlan()
    scale = run_scale_out(model, args.workers, plan, args.database_url, args.redis_url, not args.no_progress)
    result = previous(args.out)
    result["scale_out"] = scale
    paths = write_reports(result, args.out)
    for note in scale["notes"]:
        print(note)
    for target in scale["targets"]:
        verdict = {None: "NOT MEASURED", True: "PASS", False: "MISS"}[target["passed"]]
        print(f"  {verdict:12} {target['name']}: {target['value']}")
    print("wrote " + ", ".join(str(p) for p in paths))
    if scale.get("error"):
        sys.exit(2)
    if args.strict and any(t["passed"] is False for t in scale["targets"]):
        sys.exit(1)


def _soak(args: argparse.Namespace, model: Path) -> None:
    from aftercare_tools.benchmark import soak_report
    from aftercare_tools.benchmark.report import previous
    from aftercare_tools.benchmark.soak import capacity_from, run_soak

    workers = args.workers or 2
    capacity = args.capacity or capacity_from(previous(args.out), workers)
    source = "given" if args.capacity else f"the last `aftercare bench --workers {workers}` (16 concurrent), bench.json"
    result = run_soak(
        model, args.soak, workers, capacity, source, args.database_url, args.redis_url, progress=not args.no_progress
    )
    paths = soak_report.write(result, args.out)
    for note in result["notes"]:
        print(note)
    for target in result["targets"]:
        verdict = {None: "NOT MEASURED", True: "PASS", False: "MISS"}[target["passed"]]
        print(f"  {verdict:12} {target['name']}: {target['value']}")
    print("wrote " + ", ".join(str(p) for p in paths))
    if result.get("error"):
        sys.exit(2)
    if args.strict and any(t["passed"] is False for t in result["targets"]):
        sys.exit(1)
