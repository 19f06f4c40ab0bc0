"""`aftercare eval` end to end with a scripted assistant: reports, exit codes, privacy, CV reuse."""

from __future__ import annotations

import argparse
import json
import subprocess

import pytest

from aftercare_tools.evaluation import cli, crossval
from aftercare_tools.evaluation import runner as runner_module
from aftercare_tools.evaluation.dataset import load_eval_set
from aftercare_tools.evaluation.metrics import Observation, RowResult, compute_metrics
from aftercare_tools.evaluation.report import failure_text, render_markdown, summary_text
from bot.triage.vocabulary import Tier

from .fakes import FakeReply, ScriptedAssistant, case

CASES = load_eval_set()


def oracle_replies(cases=CASES):
    """The reply a perfect assistant would give to every message."""
    return {c.text: FakeReply(Tier(c.expected_tier), list(c.expected_signs), c.expected_topic) for c in cases}


@pytest.fixture
def model(tmp_path):
    path = tmp_path / "aftercare.tar.gz"
    path.write_bytes(b"not really a model")
    return path


@pytest.fixture
def use_assistant(monkeypatch):
    def install(assistant):
        monkeypatch.setattr(runner_module, "load_assistant", lambda path: assistant)
        return assistant

    return install


def parse(argv):
    parser = argparse.ArgumentParser(prog="aftercare")
    sub = parser.add_subparsers(dest="command", required=True)
    cli.register(sub)
    return parser.parse_args(argv)


def test_register_adds_the_eval_subcommand_with_its_options(tmp_path):
    args = parse(["eval"])
    assert args.func is cli.run
    assert str(args.model) == "models/aftercare.tar.gz"
    assert args.cross_validation is False
    assert str(args.out) == "reports"
    args = parse(["eval", "--model", "m.tar.gz", "--cross-validation", "--out", str(tmp_path)])
    assert (str(args.model), args.cross_validation, args.out) == ("m.tar.gz", True, tmp_path)


def test_a_perfect_assistant_passes_and_writes_every_report(tmp_path, model, use_assistant, capsys):
    use_assistant(ScriptedAssistant(oracle_replies()))
    args = parse(["eval", "--model", str(model), "--out", str(tmp_path), "--no-progress"])
    cli.run(args)  # no SystemExit: the gate passed

    out = capsys.readouterr().out
    assert "GATE PASSED" in out
    # the console summary carries numbers only, never a patient's message
    assert not [c.text for c in CASES if len(c.text) > 12 and c.text in out]

    document = json.loads((tmp_path / "eval.json").read_text())
    assert document["gate"]["passed"] is True
    assert document["warning_sign_recall"]["recall"] == 1.0
    assert document["warning_sign_recall"]["miss_rate_upper_95"] == pytest.approx(
        1 - 0.025 ** (1 / document["warning_sign_recall"]["reports"])
    )
    assert document["over_triage"]["rate"] == 0.0
    assert document["topics"]["accuracy"] == 1.0
    assert document["emergency"]["accuracy"] == 1.0
    assert len(document["rows"]) == len(CASES)
    assert document["meta"]["messages"] == len(CASES)
    assert document["cross_validation"] is None

    markdown = (tmp_path / "eval.md").read_text()
    for heading in (
        "# Triage evaluation",
        "## Warning-sign recall",
        "## Emergency tier",
        "## Over-triage",
        "## Topics",
        "## NLU cross-validation",
        "**Gate: PASS**",
    ):
        assert heading in markdown
    assert "![topic confusion matrix](eval_confusion.png)" in markdown
    assert (tmp_path / "eval_confusion.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_failing_gate_exits_non_zero_and_lists_the_failing_messages(tmp_path, model, use_assistant, capsys):
    replies = oracle_replies()
    report = next(c for c in CASES if c.category == "report")
    negated = next(c for c in CASES if c.category == "negated")
    replies[report.text] = FakeReply()  # a miss
    replies[negated.text] = FakeReply(Tier.CALL_PROVIDER, ["fever"], "soreness")  # over-triage
    use_assistant(ScriptedAssistant(replies))

    with pytest.raises(SystemExit) as exit_info:
        cli.run(parse(["eval", "--model", str(model), "--out", str(tmp_path), "--no-progress"]))
    assert exit_info.value.code == 1
    out = capsys.readouterr().out
    assert "GATE FAILED" in out
    assert report.text in out and report.id in out
    assert negated.text not in out  # 1 over-triaged row is within 5%: not a gate failure
    document = json.loads((tmp_path / "eval.json").read_text())
    assert document["gate"]["passed"] is False
    assert [r["id"] for r in document["warning_sign_recall"]["missed_rows"]] == [report.id]
    assert [r["id"] for r in document["over_triage"]["rows"]] == [negated.id]
    markdown = (tmp_path / "eval.md").read_text()
    assert report.text in markdown and negated.text in markdown


def test_a_missing_model_exits_2(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.run(parse(["eval", "--model", str(tmp_path / "none.tar.gz"), "--out", str(tmp_path)]))
    assert exit_info.value.code == 2
    assert "aftercare train" in capsys.readouterr().err


def test_failure_text_covers_each_failed_criterion():
    results = [
        RowResult(case("r", "report", "call_provider", ["fever"], text="hot 39"), Observation("none")),
        RowResult(
            case("t", topic="results", text="results when"),
            Observation("emergency", (), "activity"),
        ),
    ]
    metrics = compute_metrics(results)
    text = failure_text(metrics)
    assert "Missed warning-sign reports (1)" in text and "hot 39" in text
    assert "Over-triaged non-reports (1)" in text and "Topic misses (1)" in text
    assert "hot 39" not in summary_text(metrics)
    passing = [
        RowResult(case("r", "report", "call_provider", ["fever"]), Observation("call_provider")),
        RowResult(case("t", topic="results"), Observation("none", (), "results")),
    ]
    assert failure_text(compute_metrics(passing)) == ""


def test_markdown_escapes_table_cells():
    results = [
        RowResult(case("r", "report", "call_provider", ["fever"], text="temp | 39"), Observation("none")),
        RowResult(case("t", topic="results"), Observation("none", (), "results")),
    ]
    markdown = render_markdown(compute_metrics(results), {}, None)
    assert "temp \\| 39" in markdown


# ---------------------------------------------------------------- cross-validation
INTENT_REPORT = {
    "ask_results": {
        "precision": 1.0,
        "recall": 0.9,
        "f1-score": 0.947,
        "support": 10,
        "confused_with": {"ask_procedure": 1},
    },
    "ask_procedure": {
        "precision": 0.9,
        "recall": 1.0,
        "f1-score": 0.947,
        "support": 9,
        "confused_with": {},
    },
    "accuracy": 0.947,
    "macro avg": {"precision": 0.95, "recall": 0.95, "f1-score": 0.947, "support": 19},
    "weighted avg": {"precision": 0.953, "recall": 0.947, "f1-score": 0.9472, "support": 19},
}


def test_summarise_intent_report():
    summary = crossval.summarise_report(INTENT_REPORT)
    assert summary["accuracy"] == 0.947
    assert summary["macro_f1"] == 0.947
    assert summary["weighted_f1"] == 0.9472
    assert summary["examples"] == 19 and summary["intents"] == 2
    assert summary["confused"] == {"ask_results": {"ask_procedure": 1}}


def test_load_summary_is_none_without_a_report(tmp_path):
    assert crossval.load_summary(tmp_path) is None
    (tmp_path / "intent_report.json").write_text("{not json")
    assert crossval.load_summary(tmp_path) is None


def test_default_eval_reuses_an_existing_summary_and_never_runs_cv(tmp_path, model, use_assistant, monkeypatch):
    cv_dir = tmp_path / "cross-validation"
    cv_dir.mkdir()
    (cv_dir / "intent_report.json").write_text(json.dumps(INTENT_REPORT))

    def forbidden(*args, **kwargs):
        raise AssertionError("the default eval must not run cross-validation")

    monkeypatch.setattr(crossval, "run_cross_validation", forbidden)
    monkeypatch.setattr(subprocess, "run", forbidden)
    use_assistant(ScriptedAssistant(oracle_replies()))
    cli.run(parse(["eval", "--model", str(model), "--out", str(tmp_path), "--no-progress"]))
    document = json.loads((tmp_path / "eval.json").read_text())
    assert document["cross_validation"]["macro_f1"] == 0.947
    assert "macro-F1 94.7%" in (tmp_path / "eval.md").read_text()


def test_the_flag_runs_rasa_cross_validation(tmp_path, model, use_assistant, monkeypatch):
    calls = []

    def fake_run(command, cwd=None, check=False):
        calls.append(command)
        out = command[command.index("--out") + 1]
        with open(f"{out}/intent_report.json", "w") as handle:
            json.dump(INTENT_REPORT, handle)
        return subprocess.CompletedProcess(command, 0)

    (tmp_path / "cross-validation").mkdir()
    monkeypatch.setattr(crossval.subprocess, "run", fake_run)
    use_assistant(ScriptedAssistant(oracle_replies()))
    cli.run(
        parse(
            [
                "eval",
                "--model",
                str(model),
                "--out",
                str(tmp_path),
                "--cross-validation",
                "--no-progress",
            ]
        )
    )
    assert len(calls) == 1
    assert calls[0][1:] == [
        "test",
        "nlu",
        "--cross-validation",
        "--folds",
        "5",
        "--nlu",
        "data/",
        "-c",
        "config.yml",
        "--out",
        str(tmp_path / "cross-validation"),
    ]
    assert json.loads((tmp_path / "eval.json").read_text())["cross_validation"]["accuracy"] == 0.947


def test_a_failed_cross_validation_exits_2(tmp_path, model, monkeypatch):
    monkeypatch.setattr(crossval.subprocess, "run", lambda command, **kw: subprocess.CompletedProcess(command, 1))
    with pytest.raises(SystemExit) as exit_info:
        cli.run(parse(["eval", "--model", str(model), "--out", str(tmp_path), "--cross-validation"]))
    assert exit_info.value.code == 2
