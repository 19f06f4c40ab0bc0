"""Enrolling straight through the service (no HTTP) for the schedule tests."""

from __future__ import annotations

import os
import uuid

import sqlalchemy as sa

from api.core.audit_log import CLI_CONTEXT
from api.db import make_engine, make_session_factory, migrate, transaction
from api.enrollments.schemas import EnrollmentIn
from api.enrollments.service import enroll
from tests.checkins.conftest import enrollment_body

PG_URL = os.environ.get("AFTERCARE_TEST_POSTGRES_URL")


def fresh_postgres_url() -> str:
    name = f"h15_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f"CREATE DATABASE {name}"))
    admin.dispose()
    return sa.engine.make_url(PG_URL).set(database=name).render_as_string(hide_password=False)


def open_sessions(url: str):
    engine = make_engine(url)
    migrate(engine)
    return engine, make_session_factory(engine)


def enroll_patient(sessions, settings, **overrides) -> str:
    with transaction(sessions) as session:
        enrollment, _ = enroll(session, EnrollmentIn(**enrollment_body(**overrides)), "test", settings, CLI_CONTEXT)
        return str(enrollment.id)
