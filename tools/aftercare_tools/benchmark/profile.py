"""Where a message's time goes in the assistant: an in-process stage breakdown and a profile.

    python -m aftercare_tools.benchmark.profile [--model M] [--turns 200] [--out reports]

Loads the trained model through the public Assistant (bot.assistant.runtime) and runs, in
this process, what the service runs for each patient message: the safety detector, then the
assistant. A sequential run of short conversations and one long conversation (shown to Rasa
in windows of --window-turns turns, as the service does). Each stage is timed by wrapping it
(detector, the agent's tracker fetch, NLU parse, policy prediction, actions, tracker save),
and pyinstrument profiles both runs (bench_profile_short.html, bench_profile_long.html).
A diagnostic, not a benchmark: the wrappers and the profiler add a little overhead. The HTTP
layer and the service's database transaction are not in it; `aftercare bench` measures the
service end to end through its HTTP API.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from aftercare_tools.benchmark import messages, stats
from bot.assistant.runtime import DEFAULT_MODEL

RASA_WINDOW_TURNS = 5  # as api.messaging.service (tests/benchmark/test_profile.py holds them equal)

STAGES = (
    "detector",
    "tracker_fetch",
    "nlu_parse",
    "policy_predict",
    "actions",
    "tracker_save",
    "agent_total",
    "turn_total",
)


class Timings:
    clock = staticmethod(time.perf_counter)  # --cpu: time.thread_time (robust to other load)

    def __init__(self) -> None:
        self.current: dict[str, float] = defaultdict(float)
        self.rows: list[dict[str, float]] = []

    def add(self, name: str, ms: float) -> None:
        self.current[name] += ms

    def close_turn(self) -> None:
        self.rows.append(dict(self.current))
        self.current = defaultdict(float)


def _timed_async(timings: Timings, name: str, fn: Any) -> Any:
    @functools.wraps(fn)
    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        started = timings.clock()
        try:
            return await fn(*args, **kwargs)
        finally:
            timings.add(name, (timings.clock() - started) * 1000)

    return wrapper


def _timed_sync(timings: Timings, name: str, fn: Any) -> Any:
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        started = timings.clock()
        try:
            return fn(*args, **kwargs)
        finally:
            timings.add(name, (timings.clock() - started) * 1000)

    return wrapper


class _TimedDetector:
    def __init__(self, inner: Any, timings: Timings) -> None:
        self._inner = inner
        self.detect = _timed_sync(timings, "detector", inner.detect)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


def instrument(assistant: Any, detector: Any, timings: Timings) -> Any:
    """Wrap each stage of a message in timers (instance attributes only; no file changes).
    Returns the timed detector."""
    processor = assistant.agent.processor
    for attr, name in (
        ("fetch_tracker_and_update_session", "tracker_fetch"),
        ("parse_message", "nlu_parse"),
        ("_run_action", "actions"),
        ("save_tracker", "tracker_save"),
    ):
        setattr(processor, attr, _timed_async(timings, name, getattr(processor, attr)))
    processor._predict_next_with_tracker = _timed_sync(timings, "policy_predict", processor._predict_next_with_tracker)
    assistant.respond = _timed_async(timings, "agent_total", assistant.respond)
    return _TimedDetector(detector, timings)


async def _drive(
    assistant: Any, detector: Any, scripts: list[list[str]], timings: Timings, profiler: Any, window: int, salt: str
) -> None:
    """Each message as the service handles it: the detector first, then the assistant."""
    for index, script in enumerate(scripts):
        for turn, text in enumerate(script):
            timings.current.clear()
            if profiler:
                profiler.start()
            started = timings.clock()
            detector.detect(text)
            await assistant.respond(f"profile-{salt}-{index}.{turn // window}", text)
            timings.add("turn_total", (timings.clock() - started) * 1000)
            if profiler:
                profiler.stop()
            timings.close_turn()


def _table(title: str, rows: list[dict[str, float]]) -> str:
    lines = [title, f"{'stage':16} {'p50 ms':>8} {'p95 ms':>8} {'mean ms':>8}"]
    for stage in STAGES:
        values = [row.get(stage, 0.0) for row in rows]
        summary = stats.summarize(values)
        lines.append(f"{stage:16} {summary['p50']:8.2f} {summary['p95']:8.2f} {summary['mean']:8.2f}")
    return "\n".join(lines)


def _by_bucket(rows: list[dict[str, float]]) -> str:
    lines = [
        "long conversation, median ms per stage by turn bucket",
        f"{'stage':16} " + " ".join(f"{b:>9}" for b in stats.TURN_BUCKETS),
    ]
    for stage in STAGES:
        values = [row.get(stage, 0.0) for row in rows]
        buckets = stats.turn_buckets(values)
        lines.append(
            f"{stage:16} " + " ".join(f"{v:9.2f}" if v is not None else f"{'n/a':>9}" for v in buckets.values())
        )
    return "\n".join(lines)


async def _main(args: argparse.Namespace) -> None:
    from pyinstrument import Profiler

    from bot.assistant.runtime import Assistant
    from bot.triage import get_detector

    started = time.perf_counter()
    if args.tracker_store == "sql":  # as the service loads it: its own tracker store (pooled, WAL)
        from api.main import load_assistant
        from api.settings import Settings

        tmp = Path(tempfile.mkdtemp(prefix="aftercare-profile-"))
        assistant = load_assistant(Settings(database_url=f"sqlite:///{tmp / 'aftercare.db'}", model_path=args.model))
    else:
        assistant = Assistant.load(args.model)
    print(
        f"agent loaded in {time.perf_counter() - started:.1f} s "
        f"(tracker store: {type(assistant.agent.tracker_store).__name__})",
        file=sys.stderr,
    )
    timings = Timings()
    if args.cpu:
        timings.clock = time.thread_time
    detector = instrument(assistant, get_detector(), timings)
    args.out.mkdir(parents=True, exist_ok=True)

    async def drive(scripts: list[list[str]], profiler: Any, salt: str) -> None:
        await _drive(assistant, detector, scripts, timings, profiler, args.window_turns, salt)

    await drive(messages.conversations(3, 5, salt="profile-warmup"), None, "warmup")
    timings.rows.clear()

    profiler = Profiler(async_mode="disabled")
    await drive(messages.conversations(args.conversations, 8, salt="sequential"), profiler, "short")
    short_rows, timings.rows = timings.rows, []
    (args.out / "bench_profile_short.html").write_text(profiler.output_html())
    short_text = profiler.output_text(unicode=False, color=False, show_all=False)

    profiler = Profiler(async_mode="disabled")
    await drive([messages.long_conversation(args.turns)], profiler, "long")
    long_rows = timings.rows
    (args.out / "bench_profile_long.html").write_text(profiler.output_html())
    long_text = profiler.output_text(unicode=False, color=False, show_all=False)

    unit = "thread CPU time" if args.cpu else "wall time"
    print(_table(f"short conversations ({args.conversations} x 8 turns), per message, {unit}", short_rows))
    print()
    print(_by_bucket(long_rows))
    if args.verbose:
        print("\n--- profile, short conversations ---\n" + short_text)
        print("\n--- profile, long conversation ---\n" + long_text)
    written = [str(args.out / f"bench_profile_{run}.html") for run in ("short", "long")]
    print("\nwrote " + " and ".join(written), file=sys.stderr)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m aftercare_tools.benchmark.profile",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL)
    parser.add_argument("--out", type=Path, default=Path("reports"))
    parser.add_argument("--turns", type=int, default=200, help="turns of the long conversation")
    parser.add_argument("--conversations", type=int, default=30, help="short conversations")
    parser.add_argument(
        "--tracker-store",
        choices=("sql", "memory"),
        default="sql",
        help="sql: the service's SQL tracker store on a temporary SQLite file (default); "
        "memory: Rasa's in-memory store",
    )
    parser.add_argument(
        "--window-turns",
        type=int,
        default=RASA_WINDOW_TURNS,
        help="turns per Rasa tracker window in the long conversation (default: %(default)s, as the service)",
    )
    parser.add_argument(
        "--cpu",
        action="store_true",
        help="time stages in thread CPU time instead of wall time (a busy machine)",
    )
    parser.add_argument("--verbose", action="store_true", help="also print the call trees")
    args = parser.parse_args(argv)
    if not args.model.exists():
        sys.exit(f"error: no trained model at {args.model}")
    asyncio.run(_main(args))


if __name__ == "__main__":
    main()
