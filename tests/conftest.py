"""Shared fixtures: the real trained model (loaded once), settings on a fresh database,
and an API client with a patient token."""
from __future__ import annotations

import asyncio
from pathlib import Path

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


@pytest.fixture
def settings(tmp_path) -> Settings:
    return Settings(database_url=f"sqlite:///{tmp_path}/aftercare.db", spool_path=tmp_path / "spool.jsonl",
                    patient_rate_limit="1000/minute", client_rate_limit="1000/minute")


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
