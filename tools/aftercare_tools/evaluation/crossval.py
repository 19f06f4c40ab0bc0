"""Optional NLU cross-validation (`aftercare eval --cross-validation`) and its summary.

Cross-validation trains five models, so it is slow: the default eval only reuses a summary
that an earlier `--cross-validation` run left in <out>/cross-validation, and the CI gate
test never runs it.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

FOLDS = 5
REPORT_FILE = "intent_report.json"
SUMMARY_KEYS = ("accuracy", "macro avg", "weighted avg")


class CrossValidationError(RuntimeError):
    pass


def rasa_executable() -> str:
    """The `rasa` script of the running interpreter's environment (the project's venv)."""
    beside = Path(sys.executable).with_name("rasa")
    if beside.exists():
        return str(beside)
    found = shutil.which("rasa")
    if not found:
        raise CrossValidationError("the `rasa` command was not found next to this Python")
    return found


def cross_validation_command(
    out_dir: Path, data: str = "data/", config: str = "config.yml", folds: int = FOLDS
) -> list[str]:
    return [
        rasa_executable(),
        "test",
        "nlu",
        "--cross-validation",
        "--folds",
        str(folds),
        "--nlu",
        data,
        "-c",
        config,
        "--out",
        str(out_dir),
    ]


def run_cross_validation(cv_dir: Path, cwd: Path | None = None) -> dict[str, Any]:
    """Run Rasa's 5-fold NLU cross-validation and return the summary of its intent report."""
    cv_dir = Path(cv_dir)
    report = cv_dir / REPORT_FILE
    if report.exists():
        report.unlink()  # never summarise a stale report if this run fails
    command = cross_validation_command(cv_dir)
    print(f"running: {' '.join(command[1:])} (trains {FOLDS} models; takes minutes)", file=sys.stderr)
    completed = subprocess.run(command, cwd=cwd, check=False)  # noqa: S603 - fixed argv
    if completed.returncode != 0:
        raise CrossValidationError(f"rasa test nlu exited with status {completed.returncode}")
    summary = load_summary(cv_dir)
    if summary is None:
        raise CrossValidationError(f"rasa test nlu wrote no {report}")
    return summary


def summarise_report(report: dict[str, Any]) -> dict[str, Any]:
    """Macro-F1, accuracy and weighted F1 from Rasa's (sklearn-style) intent_report.json."""
    intents = {
        name: value
        for name, value in report.items()
        if name not in SUMMARY_KEYS and name != "micro avg" and isinstance(value, dict)
    }
    accuracy = report.get("accuracy")
    if accuracy is None and isinstance(report.get("micro avg"), dict):
        accuracy = report["micro avg"].get("f1-score")  # sklearn's form when labels are partial
    macro = report.get("macro avg") or {}
    weighted = report.get("weighted avg") or {}
    return {
        "accuracy": accuracy,
        "macro_f1": macro.get("f1-score"),
        "weighted_f1": weighted.get("f1-score"),
        "examples": weighted.get("support") or macro.get("support"),
        "intents": len(intents),
        "per_intent_f1": {name: v.get("f1-score") for name, v in sorted(intents.items())},
        "confused": {name: v.get("confused_with") for name, v in sorted(intents.items()) if v.get("confused_with")},
    }


def load_summary(cv_dir: Path) -> dict[str, Any] | None:
    """The summary of an earlier cross-validation run, or None when there is none."""
    report_path = Path(cv_dir) / REPORT_FILE
    if not report_path.is_file():
        return None
    try:
        report = json.loads(report_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(report, dict):
        return None
    summary = summarise_report(report)
    summary["folds"] = FOLDS
    summary["report"] = str(report_path)
    summary["generated"] = dt.datetime.fromtimestamp(report_path.stat().st_mtime, tz=dt.timezone.utc).isoformat(
        timespec="seconds"
    )
    return summary
