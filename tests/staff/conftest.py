"""Fixtures for the staff console tests: an app on a fresh SQLite file, staff accounts,
logged-in clients, and escalations raised the way patients raise them."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator

import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher
from fastapi.testclient import TestClient

from api.context import AppContext
from api.core.audit_log import AuditEvent
from api.db import transaction
from api.escalations import overdue
from api.identity import mint_patient_token
from api.main import create_app
from api.settings import Settings
from api.staff import passwords
from api.staff.accounts import create_staff

PASSWORD = "correct horse battery staple"  # noqa: S105 (test account)
WARNING_MESSAGE = "I have a fever of 39 and the site is bleeding"


PRODUCTION_HASHER = passwords._hasher


@pytest.fixture(autouse=True)
def fast_argon2(monkeypatch):
    """Still Argon2id, with tiny costs: the production cost is ~0.5 s per hash on this machine.
    test_accounts pins the production parameters separately."""
    cheap = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    monkeypatch.setattr(passwords, "_hasher", cheap)
    monkeypatch.setattr(passwords, "_DUMMY_HASH", cheap.hash("not-a-real-password-only-for-timing"))


@pytest.fixture
def passes_run_by_the_test(monkeypatch) -> None:
    """For tests that run the overdue and unanswered-question passes themselves: the app's own
    loop (a pass every 5 s) is left idle, or it races the test for the claim. It did on a busy
    machine, taking the case between a test's two calls. Request it before `client`."""

    async def idle(ctx: AppContext, poll_seconds: float = overdue.POLL_SECONDS) -> None:
        await asyncio.Event().wait()  # until the app's shutdown cancels it

    monkeypatch.setattr(overdue, "run_worker", idle)


def make_app(settings: Settings):
    return create_app(settings, load_assistant=False)


@pytest.fixture
def client(settings) -> Iterator[TestClient]:
    with TestClient(make_app(settings)) as test_client:  # lifespan: migrations
        yield test_client


@pytest.fixture
def ctx(client) -> AppContext:
    return client.app.state.ctx


@pytest.fixture
def make_staff(ctx) -> Callable[..., str]:
    def make(
        email: str = "nurse@clinic.test",
        name: str = "Nora Nurse",
        role: str = "nurse",
        password: str = PASSWORD,
    ) -> str:
        with transaction(ctx.sessions) as session:
            return create_staff(session, email, name, role, password).id

    return make


@pytest.fixture
def nurse(make_staff) -> str:
    return make_staff()


@pytest.fixture
def admin(make_staff) -> str:
    return make_staff("admin@clinic.test", "Ada Admin", "admin")


def login(client: TestClient, email: str, password: str = PASSWORD, keep_cookie: bool = False) -> dict:
    """Logs in; returns Bearer headers. The cookie jar is emptied unless `keep_cookie`."""
    response = client.post("/api/v1/staff/session", json={"email": email, "password": password})
    assert response.status_code == 201, response.text
    if not keep_cookie:
        client.cookies.clear()
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


@pytest.fixture
def nurse_headers(client, nurse) -> dict:
    return login(client, "nurse@clinic.test")


@pytest.fixture
def admin_headers(client, admin) -> dict:
    return login(client, "admin@clinic.test")


@pytest.fixture
def raise_escalation(client, settings) -> Callable[..., str]:
    """A patient writes a warning sign; the fail-safe path (no model) opens the escalation."""

    def raise_(patient_id: str = "patient-1", text: str = WARNING_MESSAGE) -> str:
        headers = {"Authorization": f"Bearer {mint_patient_token(patient_id, settings)}"}
        conversation = client.post("/api/v1/conversations", headers=headers).json()["conversation_id"]
        response = client.post(f"/api/v1/conversations/{conversation}/messages", json={"text": text}, headers=headers)
        assert response.status_code == 200, response.text
        assert response.json()["escalation_id"], "a warning sign should open an escalation"
        return response.json()["escalation_id"]

    return raise_


@pytest.fixture
def escalation(raise_escalation) -> str:
    return raise_escalation()


def audit_rows(ctx: AppContext, **where) -> list[AuditEvent]:
    """Audit rows matching column=value filters, oldest first."""
    query = sa.select(AuditEvent).order_by(AuditEvent.id)
    for column, value in where.items():
        query = query.where(getattr(AuditEvent, column) == value)
    with ctx.sessions() as session:
        return list(session.execute(query).scalars())
