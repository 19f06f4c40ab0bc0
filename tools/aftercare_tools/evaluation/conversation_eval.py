"""`aftercare eval --conversations`: play conversations.yml through the patient API, report, gate."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path
from typing import Any

from aftercare_tools.evaluation.conversation_metrics import (
    REGRESSION_FLOOR,
    ConversationGate,
    ConversationMetrics,
    compute_conversation_metrics,
)
from aftercare_tools.evaluation.conversation_runner import in_process_api, live_api, play_conversations
from aftercare_tools.evaluation.conversations import DEFAULT_CONVERSATIONS, load_conversations


def run_conversation_eval(
    *,
    assistant: Any = None,
    url: str | None = None,
    conversation_set: Path | None = None,
    progress: bool = True,
    gate: ConversationGate = REGRESSION_FLOOR,
) -> tuple[ConversationMetrics, dict[str, Any]]:
    """Against a live server when `url` is given, else in process serving `assistant`."""
    conversation_set = Path(conversation_set or DEFAULT_CONVERSATIONS)
    conversations = load_conversations(conversation_set)
    api = live_api(url) if url else in_process_api(assistant)
    started = time.perf_counter()
    with api as (client, token_for):
        played = play_conversations(client, token_for, conversations, progress=progress)
    seconds = time.perf_counter() - started
    metrics = compute_conversation_metrics(played, gate)
    from aftercare_tools.evaluation.cli import _display_path
    from aftercare_tools.evaluation.runner import latency_summary

    meta = {
        "generated": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "conversation_set": _display_path(conversation_set),
        "target": f"the live API at {url}" if url else "the patient API in process (api.main.create_app, SQLite)",
        "seconds": round(seconds, 2),
        "latency": latency_summary(metrics.results),
    }
    return metrics, meta


def evaluate_conversations_and_report(out_dir: Path, **kwargs: Any) -> int:
    """Run, write reports/eval_conversations.{md,json}, print the summary; 1 when the gate fails."""
    from aftercare_tools.evaluation.conversation_report import failure_text, summary_text, write_reports

    metrics, meta = run_conversation_eval(**kwargs)
    paths = write_reports(metrics, meta, out_dir)
    print(summary_text(metrics))
    print(f"report: {paths['markdown']} (also {paths['json'].name})")
    if not metrics.passed:
        print("")
        print(failure_text(metrics))
        return 1
    return 0
