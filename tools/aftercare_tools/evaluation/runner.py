"""Runs every evaluation message through the full in-process assistant.

Each message gets a fresh conversation id, so no message is read in the context of another,
and all of them run one after another on a single asyncio event loop (Rasa's inference runs
on the loop anyway, so concurrency would only interleave, not speed up).
"""

from __future__ import annotations

import asyncio
import sys
import time
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

from aftercare_tools.evaluation.dataset import EvalCase
from aftercare_tools.evaluation.metrics import Observation, RowResult


class Responder(Protocol):
    """The part of bot.assistant.runtime.Assistant the runner needs."""

    async def respond(self, conversation_id: str, text: str) -> Any: ...


def load_assistant(model_path: Path) -> Any:
    """Load the trained model in-process (blocking, 20-30 s)."""
    from bot.assistant.runtime import Assistant

    return Assistant.load(Path(model_path))


async def run_cases(assistant: Responder, cases: Sequence[EvalCase], *, progress: bool = True) -> list[RowResult]:
    from tqdm import tqdm

    run_id = uuid.uuid4().hex[:8]
    results: list[RowResult] = []
    bar = tqdm(cases, desc="eval", unit="msg", file=sys.stderr, disable=not progress, leave=False)
    for index, case in enumerate(bar):
        conversation_id = f"eval-{run_id}-{index:04d}"
        started = time.perf_counter()
        try:
            reply = await assistant.respond(conversation_id, case.text)
            observed = Observation.from_reply(reply, _ms_since(started))
        except Exception as error:  # noqa: BLE001 - a crash on one message is a result, not an abort
            # Only the exception's type: its message could quote the patient's text.
            observed = Observation(error=type(error).__name__, latency_ms=_ms_since(started))
        results.append(RowResult(case, observed))
    bar.close()
    return results


def evaluate(assistant: Responder, cases: Sequence[EvalCase], *, progress: bool = True) -> list[RowResult]:
    """Synchronous wrapper: one event loop for the whole run."""
    return asyncio.run(run_cases(assistant, cases, progress=progress))


def _ms_since(started: float) -> float:
    return (time.perf_counter() - started) * 1000.0


class _Latency(Protocol):
    @property
    def latency_ms(self) -> float: ...


class _Timed(Protocol):
    """A single-message row or a conversation turn: anything with an observed latency."""

    @property
    def observed(self) -> _Latency: ...


def latency_summary(results: Sequence[_Timed]) -> dict[str, float] | None:
    values = sorted(r.observed.latency_ms for r in results)
    if not values:
        return None

    def pct(q: float) -> float:
        return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]

    return {
        "mean_ms": sum(values) / len(values),
        "p50_ms": pct(0.50),
        "p95_ms": pct(0.95),
        "max_ms": values[-1],
    }
