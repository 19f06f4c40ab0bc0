"""Shared fixtures: the real trained model (loaded once), settings with every path under the
test's own folder, and an API client with a patient token."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.identity import mint_patient_token
from api.main import create_app
from api.settings import Settings
from bot.assistant.runtime import DEFAULT_MODEL

ROOT = Path(__file__).resolve().parents[1]
MODEL = ROOT / DEFAULT_MODEL


@pytest.fixture(scope="session")
def assistant():
    """The real trained Rasa agent, in-process (`make test` trains it first)."""
    if not MODEL.exists():
        pytest.fail(f"no trained model at {MODEL}: run `make train` (make test does)")
    from bot.assistant.runtime import Assistant

    return Assistant.load(MODEL)


@pytest.fixture(scope="session")
def ask(assistant):
    """Synchronous helper for tests: ask('text') -> AssistantReply in a fresh conversation."""
    counter = {"n": 0}

    def _ask(text: str, conversation_id: str | None = None):
        counter["n"] += 1
        return asyncio.run(assistant.respond(conversation_id or f"test-{counter['n']}", text))

    return _ask


def settings_in(folder: Path, **overrides: Any) -> Settings:
    """The one way tests build Settings. Everything the app writes (database, escalation spool)
    goes under `folder`: never the working directory's var/, whose spool start-up would replay
    and delete. Patient and address rate limits are opened up (every test is one patient from
    one address); the staff login limit keeps its default. The model path stays the shared one:
    it is only read."""
    values: dict[str, Any] = {
        "database_url": f"sqlite:///{folder}/aftercare.db",
        "spool_path": folder / "escalation-spool.jsonl",
        "patient_rate_limit": "1000/minute",
        "client_rate_limit": "1000/minute",
        **overrides,
    }
    return Settings(**values)


@pytest.fixture
def make_settings(tmp_path) -> Callable[..., Settings]:
    """make_settings(**overrides): Settings under this test's tmp_path."""
    return lambda **overrides: settings_in(tmp_path, **overrides)


@pytest.fixture
def settings(make_settings) -> Settings:
    return make_settings()


def make_client(settings: Settings, assistant=None) -> TestClient:
    return TestClient(create_app(settings, assistant=assistant, load_assistant=False))


@pytest.fixture
def client(settings, assistant):
    with make_client(settings, assistant) as test_client:
        yield test_client


def auth(settings: Settings, patient_id: str = "patient-1") -> dict[str, str]:
    return {"Authorization": f"Bearer {mint_patient_token(patient_id, settings)}"}


@pytest.fixture
def patient(settings) -> dict[str, str]:
    return auth(settings)


@pytest.fixture
def conversation(client, patient) -> str:
    response = client.post("/api/v1/conversations", headers=patient)
    assert response.status_code == 201
    return response.json()["conversation_id"]
