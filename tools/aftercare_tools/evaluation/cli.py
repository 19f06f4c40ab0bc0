"""The `aftercare eval` subcommand, registered by bot/cli.py through `register(subparsers)`."""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import sys
import time
from pathlib import Path
from typing import Any

from bot.assistant.runtime import DEFAULT_MODEL

DEFAULT_OUT = Path("reports")
CROSS_VALIDATION_DIR = "cross-validation"


def register(subparsers: Any) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "eval",
        help="run the held-out triage evaluation and write reports/eval.md",
        description=(
            "Run every message of the held-out evaluation set through the full in-process "
            "assistant, write eval.md, eval.json and eval_confusion.png, and exit non-zero "
            "when the gate fails (recall 100%%, over-triage <= 5%%, topic accuracy >= 90%%)."
        ),
    )
    parser.add_argument(
        "--model",
        type=Path,
        default=DEFAULT_MODEL,
        help="trained model archive (default: %(default)s)",
    )
    parser.add_argument(
        "--cross-validation",
        action="store_true",
        help="also run Rasa's 5-fold NLU cross-validation (slow: trains 5 models)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=DEFAULT_OUT,
        help="directory for the reports (default: %(default)s)",
    )
    parser.add_argument(
        "--conversations",
        action="store_true",
        help="also play the multi-turn set through the patient API (reports/eval_conversations.md)",
    )
    parser.add_argument(
        "--url",
        default=None,
        help="play only the multi-turn set, against this running `aftercare serve` (tokens minted "
        "with this environment's AFTERCARE_PATIENT_TOKEN_* keys)",
    )
    parser.add_argument("--eval-set", type=Path, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--conversation-set", type=Path, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    parser.set_defaults(func=run)
    return parser


def run(args: argparse.Namespace) -> None:
    """Handler for `aftercare eval`; exits 1 when the gate fails, 2 when it cannot run."""
    url = getattr(args, "url", None)
    if url:
        from aftercare_tools.evaluation.conversation_eval import evaluate_conversations_and_report

        code = evaluate_conversations_and_report(
            args.out,
            url=url,
            conversation_set=getattr(args, "conversation_set", None),
            progress=not getattr(args, "no_progress", False),
        )
        if code:
            sys.exit(code)
        return
    code = evaluate_and_report(
        model=args.model,
        out_dir=args.out,
        cross_validation=args.cross_validation,
        eval_set=getattr(args, "eval_set", None),
        progress=not getattr(args, "no_progress", False),
        conversations=getattr(args, "conversations", False),
        conversation_set=getattr(args, "conversation_set", None),
    )
    if code:
        sys.exit(code)


def evaluate_and_report(
    model: Path,
    out_dir: Path = DEFAULT_OUT,
    cross_validation: bool = False,
    eval_set: Path | None = None,
    progress: bool = True,
    conversations: bool = False,
    conversation_set: Path | None = None,
) -> int:
    from aftercare_tools.evaluation import crossval
    from aftercare_tools.evaluation.dataset import DEFAULT_EVAL_SET, load_eval_set
    from aftercare_tools.evaluation.metrics import compute_metrics, result_row
    from aftercare_tools.evaluation.report import failure_text, summary_text, write_reports
    from aftercare_tools.evaluation.runner import evaluate, latency_summary, load_assistant

    eval_set = Path(eval_set or DEFAULT_EVAL_SET)
    cases = load_eval_set(eval_set)
    model = Path(model)
    if not model.exists():
        print(f"error: no trained model at {model}; run `aftercare train` first", file=sys.stderr)
        return 2

    cv_dir = Path(out_dir) / CROSS_VALIDATION_DIR
    cv_summary: dict[str, Any] | None
    if cross_validation:
        try:
            cv_summary = crossval.run_cross_validation(cv_dir)
        except crossval.CrossValidationError as error:
            print(f"error: cross-validation failed: {error}", file=sys.stderr)
            return 2
    else:
        cv_summary = crossval.load_summary(cv_dir)  # reuse an earlier run; never start one here

    print(f"loading {model} ...", file=sys.stderr)
    started = time.perf_counter()
    assistant = load_assistant(model)
    load_seconds = time.perf_counter() - started

    results = evaluate(assistant, cases, progress=progress)
    metrics = compute_metrics(results)
    meta = {
        "generated": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "model": str(model),
        "model_sha256": _sha256(model),
        "eval_set": _display_path(eval_set),
        "eval_set_sha256": _sha256(eval_set),
        "messages": len(cases),
        "load_seconds": round(load_seconds, 2),
        "latency": latency_summary(results),
        "fever_threshold_c": _fever_threshold(),  # the set's temperature labels assume 38.0
    }
    paths = write_reports(metrics, meta, cv_summary, out_dir, rows=[result_row(r) for r in results])

    print(summary_text(metrics, cv_summary))
    print(f"report: {paths['markdown']} (also {paths['json'].name}, {paths['png'].name})")
    code = 0
    if not metrics.passed:
        print("")
        print(failure_text(metrics))
        code = 1
    if conversations:  # the same loaded model, served through the patient API
        from aftercare_tools.evaluation.conversation_eval import evaluate_conversations_and_report

        print("")
        code = max(
            code,
            evaluate_conversations_and_report(
                out_dir, assistant=assistant, conversation_set=conversation_set, progress=progress
            ),
        )
    return code


def _fever_threshold() -> float | None:
    try:
        from bot.content.clinic import get_clinic

        return get_clinic().fever_threshold_c
    except Exception:  # noqa: BLE001 - informational only
        return None


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _display_path(path: Path) -> str:
    try:
        return str(Path(path).resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)
