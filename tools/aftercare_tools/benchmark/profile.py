"""Where a message's time goes in this service: an in-process stage breakdown and a profile.

    python -m aftercare_tools.benchmark.profile [--model M] [--turns 200] [--out reports]

Runs the real app (create_app + the trained agent) in this process through httpx's ASGI
transport, no sockets: a sequential run of short conversations and one long conversation.
Each stage is timed by wrapping it (detector, the agent's tracker fetch, NLU parse, policy
prediction, actions, tracker save; the database transaction), and pyinstrument profiles both
runs (bench_profile_short.html, bench_profile_long.html). A diagnostic, not a benchmark:
the wrappers and the profiler add a little overhead.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import os
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from bot.assistant.runtime import DEFAULT_MODEL
from aftercare_tools.benchmark import messages, stats

STAGES = (
    "detector",
    "tracker_fetch",
    "nlu_parse",
    "policy_predict",
    "actions",
    "tracker_save",
    "agent_total",
    "persist_db",
    "request_total",
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


def instrument(app: Any, timings: Timings) -> None:
    """Wrap each stage of a message in timers (instance attributes only; no file changes)."""
    import api.conversations.service as service

    ctx = app.state.ctx
    ctx.detector = _TimedDetector(ctx.detector, timings)
    processor = ctx.assistant.agent.processor
    for attr, name in (
        ("fetch_tracker_and_update_session", "tracker_fetch"),
        ("parse_message", "nlu_parse"),
        ("_run_action", "actions"),
        ("save_tracker", "tracker_save"),
    ):
        setattr(processor, attr, _timed_async(timings, name, getattr(processor, attr)))
    processor._predict_next_with_tracker = _timed_sync(timings, "policy_predict", processor._predict_next_with_tracker)
    ctx.assistant.respond = _timed_async(timings, "agent_total", ctx.assistant.respond)
    if not hasattr(service, "_original_persist"):
        service._original_persist = service._persist
    service._persist = _timed_sync(timings, "persist_db", service._original_persist)


async def _drive(app: Any, scripts: list[list[str]], timings: Timings, profiler: Any) -> None:
    import httpx

    from api.identity import mint_patient_token

    settings = app.state.ctx.settings
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
        for index, script in enumerate(scripts):
            headers = {"Authorization": f"Bearer {mint_patient_token(f'profile-{index}', settings)}"}
            created = await client.post("/api/v1/conversations", headers=headers)
            created.raise_for_status()
            conversation = created.json()["conversation_id"]
            for text in script:
                timings.current.clear()
                if profiler:
                    profiler.start()
                started = timings.clock()
                response = await client.post(
                    f"/api/v1/conversations/{conversation}/messages",
                    json={"text": text},
                    headers=headers,
                )
                timings.add("request_total", (timings.clock() - started) * 1000)
                if profiler:
                    profiler.stop()
                response.raise_for_status()
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

    from api.main import create_app
    from api.settings import Settings
    from api.tracker_store import build_tracker_store
    from bot.assistant.runtime import Assistant

    tmp = Path(tempfile.mkdtemp(prefix="aftercare-profile-"))
    url = f"sqlite:///{tmp}/profile.db"
    settings = Settings(
        database_url=url,
        model_path=args.model,
        patient_rate_limit="100000/minute",
        client_rate_limit="100000/minute",
        log_level="WARNING",
    )
    tracker_store = build_tracker_store(url) if args.tracker_store == "sql" else None
    started = time.perf_counter()
    assistant = Assistant.load(args.model, tracker_store=tracker_store)
    print(
        f"agent loaded in {time.perf_counter() - started:.1f} s "
        f"(tracker store: {type(assistant.agent.tracker_store).__name__} -> {args.tracker_store})",
        file=sys.stderr,
    )
    app = create_app(settings, assistant=assistant)
    timings = Timings()
    if args.cpu:
        timings.clock = time.thread_time
    instrument(app, timings)
    args.out.mkdir(parents=True, exist_ok=True)
    async with app.router.lifespan_context(app):
        await _drive(app, messages.conversations(3, 5, salt="profile-warmup"), timings, None)
        timings.rows.clear()

        profiler = Profiler(async_mode="disabled")
        await _drive(app, messages.conversations(args.conversations, 8, salt="sequential"), timings, profiler)
        short_rows, timings.rows = timings.rows, []
        (args.out / "bench_profile_short.html").write_text(profiler.output_html())
        short_text = profiler.output_text(unicode=False, color=False, show_all=False)

        profiler = Profiler(async_mode="disabled")
        await _drive(app, [messages.long_conversation(args.turns)], timings, profiler)
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
        help="sql: the service's store (default); memory: Rasa's in-memory store",
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
    os.environ.setdefault("AFTERCARE_LOG_LEVEL", "WARNING")
    asyncio.run(_main(args))


if __name__ == "__main__":
    main()
