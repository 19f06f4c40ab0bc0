"""The benchmark reports the last training's duration without training again."""

from __future__ import annotations

import json

from aftercare_tools.benchmark.runner import training_time
from bot.assistant.training import training_record


def test_the_recorded_training_time_is_reported(tmp_path):
    model = tmp_path / "aftercare.tar.gz"
    training_record(model).write_text(json.dumps({"seconds": 351.4, "cpus": 2}))
    result = training_time(model, measure=False, workdir=tmp_path)
    assert result["seconds"] == 351.4
    assert "aftercare.training.json" in result["note"]


def test_without_a_record_the_report_says_how_to_measure(tmp_path):
    result = training_time(tmp_path / "aftercare.tar.gz", measure=False, workdir=tmp_path)
    assert result["seconds"] is None
    assert "--train" in result["note"]


def test_a_damaged_record_is_not_reported(tmp_path):
    model = tmp_path / "aftercare.tar.gz"
    training_record(model).write_text("{not json")
    assert training_time(model, measure=False, workdir=tmp_path)["seconds"] is None
