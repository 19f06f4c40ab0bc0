"""`aftercare detect` loads only the detector: no Rasa, TensorFlow or API."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import ROOT

HEAVY = ("tensorflow", "keras", "rasa", "rasa_sdk", "api", "fastapi", "sqlalchemy", "aftercare_tools")


def test_detect_prints_the_findings_and_tier() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "detect", "my hip is bleeding and I feel dizzy"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "bleeding" in result.stdout and "fainting" in result.stdout
    assert result.stdout.strip().endswith("tier: emergency")


def test_detect_imports_nothing_heavy() -> None:
    code = (
        "import sys\n"
        "from bot.cli import main\n"
        "main(['detect', 'my hip is bleeding'])\n"
        f"loaded = sorted({{m for m in sys.modules if sys.modules[m] is not None and m.split('.')[0] in {HEAVY!r}}})\n"
        "assert not loaded, loaded\n"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "tier: call_provider" in result.stdout
