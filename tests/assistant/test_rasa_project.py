"""Rasa's own checks on the project: data validation and conversation tests on the trained model."""

import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import MODEL, ROOT

RASA = str(Path(sys.executable).with_name("rasa"))


def _rasa(*args: str, timeout: int = 600) -> subprocess.CompletedProcess:
    return subprocess.run([RASA, *args], cwd=ROOT, capture_output=True, text=True, timeout=timeout)


def test_data_validates_without_warnings():
    result = _rasa("data", "validate", "--fail-on-warnings")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]


@pytest.mark.integration
def test_conversation_tests_pass_on_the_trained_model(tmp_path):
    result = _rasa(
        "test",
        "core",
        "--model",
        str(MODEL),
        "--stories",
        "tests/test_stories.yml",
        "--fail-on-prediction-errors",
        "--out",
        str(tmp_path),
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
