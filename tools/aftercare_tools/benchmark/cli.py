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


def run(args: argparse.Namespace) -> None:
    """Handler: exits 2 when it cannot run; with --strict, 1 when a target is missed."""
    from aftercare_tools.benchmark.report import summary_text, write_reports
    from aftercare_tools.benchmark.runner import Plan, run_benchmark

    model = Path(args.model)
    if not model.exists():
        print(f"error: no trained model at {model}; run `aftercare train` first", file=sys.stderr)
        sys.exit(2)
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
    paths = write_reports(result, args.out)
    print(summary_text(result))
    print("wrote " + ", ".join(str(p) for p in paths))
    if any("error" in s for s in result["systems"].values()):
        sys.exit(2)
    if args.strict and any(t["passed"] is False for t in result["targets"]):
        sys.exit(1)
