"""`aftercare shell` through its real entry point, driven on standard input."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.conftest import MODEL, ROOT


def _terminal_environment() -> dict[str, str]:
    """This process's environment minus the TensorFlow log level that libraries loaded in the
    test session set (jax sets 1, which shows TensorFlow's C++ warnings): as in a fresh terminal."""
    return {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}


@pytest.mark.integration
def test_shell_starts_quietly_and_answers_help_itself():
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "shell", "--model", str(MODEL)],
        input="/help\n/quit\n",
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        env=_terminal_environment(),
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Warning" not in result.stderr, result.stderr[-3000:]  # no library deprecation warnings
    prompt, _, after = result.stdout.partition("you> ")
    assert "/help for help" in prompt
    assert "/quit" in after and "no escalation is opened" in after  # the shell's own help
    assert "bot>" not in after  # /help never reached Rasa (it would have answered it as a message)
