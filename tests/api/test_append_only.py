"""Append-only holds against every statement the engine offers (AUD-3, AUD-4, INT-1).

SQLite: REPLACE / INSERT OR REPLACE must not swap a stored row. PostgreSQL (real server,
AFTERCARE_TEST_POSTGRES_URL): TRUNCATE is refused by a trigger, and the serving role that
`aftercare migrate --grant-to` sets up has no UPDATE, DELETE or TRUNCATE privilege at all.
"""

from __future__ import annotations

import os
import uuid

import pytest
import sqlalchemy as sa

from api.db import make_engine, migrate
from api.db_roles import migrate_as_owner
from api.settings import Settings
from tests.conftest import auth, make_client

PG_URL = os.environ.get("AFTERCARE_TEST_POSTGRES_URL")
needs_postgres = pytest.mark.skipif(not PG_URL, reason="needs AFTERCARE_TEST_POSTGRES_URL")

ROWS = {
    "messages": "(id, conversation_id, role, text, triage_level, created_at) "
    "VALUES (1, 'c1', 'patient', '{text}', 'none', '2026-01-01')",
    "audit_events": "(id, at, action, outcome) VALUES (1, '2026-01-01', '{text}', 'success')",
}


def _seed(connection) -> None:
    connection.exec_driver_sql(
        "INSERT INTO conversations (id, patient_id, created_at) VALUES ('c1', 'p', '2026-01-01')"
    )
    for table, row in ROWS.items():
        connection.exec_driver_sql(f"INSERT INTO {table} {row.format(text='original')}")


def _stored(engine, table: str) -> str:
    column = "text" if table == "messages" else "action"
    with engine.connect() as connection:
        return connection.exec_driver_sql(f"SELECT {column} FROM {table} WHERE id = 1").scalar()  # noqa: S608


@pytest.mark.parametrize("table", sorted(ROWS))
@pytest.mark.parametrize("verb", ["REPLACE INTO", "INSERT OR REPLACE INTO"])
def test_sqlite_replace_cannot_swap_a_stored_row(tmp_path, table, verb):
    """AUD-4: the implicit delete of REPLACE fires no DELETE trigger; the insert trigger refuses."""
    engine = make_engine(f"sqlite:///{tmp_path}/a.db")
    migrate(engine)
    with engine.begin() as connection:
        _seed(connection)
    with pytest.raises(sa.exc.DatabaseError, match="append-only"), engine.begin() as connection:
        connection.exec_driver_sql(f"{verb} {table} {ROWS[table].format(text='forged')}")
    assert _stored(engine, table) == "original"
    with engine.begin() as connection:  # new rows still go in
        connection.exec_driver_sql(f"INSERT INTO {table} {ROWS[table].replace('(1,', '(2,').format(text='next')}")
    engine.dispose()


@pytest.fixture
def pg_roles():
    """A fresh database owned by a fresh owner role, plus a serving role; all dropped afterwards."""
    suffix = uuid.uuid4().hex[:8]
    base = sa.engine.make_url(PG_URL)
    owner, serving, database = f"h8_owner_{suffix}", f"h8_serving_{suffix}", f"h8_roles_{suffix}"
    admin = sa.create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f"CREATE ROLE {owner} LOGIN")
        connection.exec_driver_sql(f"CREATE ROLE {serving} LOGIN")
        connection.exec_driver_sql(f"CREATE DATABASE {database} OWNER {owner}")
    urls = {
        role: base.set(database=database, username=name).render_as_string(hide_password=False)
        for role, name in (("owner", owner), ("serving", serving))
    }
    yield urls | {"serving_role": serving}
    with admin.connect() as connection:
        connection.exec_driver_sql(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")
        connection.exec_driver_sql(f"DROP ROLE IF EXISTS {serving}")
        connection.exec_driver_sql(f"DROP ROLE IF EXISTS {owner}")
    admin.dispose()


@pytest.mark.postgres
@needs_postgres
def test_postgres_truncate_is_refused_even_for_the_owner(pg_roles):
    """AUD-4 defence in depth: the trigger stops TRUNCATE whoever holds the privilege."""
    migrate_as_owner(pg_roles["owner"], grant_to=None)
    engine = make_engine(pg_roles["owner"])
    with engine.begin() as connection:
        _seed(connection)
    for table in ROWS:
        with pytest.raises(sa.exc.DatabaseError, match="append-only"), engine.begin() as connection:
            connection.exec_driver_sql(f"TRUNCATE {table} CASCADE")
        assert _stored(engine, table) == "original"
    engine.dispose()


@pytest.mark.postgres
@needs_postgres
def test_postgres_serving_role_can_only_append_to_history(pg_roles):
    """AUD-3/AUD-4: served as the role `aftercare migrate --grant-to` set up, the service works,
    and that role cannot UPDATE, DELETE or TRUNCATE messages or audit rows."""
    migrate_as_owner(pg_roles["owner"], grant_to=pg_roles["serving_role"])
    settings = Settings(database_url=pg_roles["serving"])
    with make_client(settings) as client:  # start-up migration is a no-op at head
        headers = auth(settings)
        cid = client.post("/api/v1/conversations", headers=headers).json()["conversation_id"]
        reply = client.post(
            f"/api/v1/conversations/{cid}/messages", json={"text": "I have a fever of 39"}, headers=headers
        )
    assert reply.status_code == 200 and reply.json()["escalation_id"]
    engine = make_engine(pg_roles["serving"])
    for table in ROWS:
        with engine.connect() as connection:
            assert connection.exec_driver_sql(f"SELECT count(*) FROM {table}").scalar() >= 0  # noqa: S608
        for statement in (f"UPDATE {table} SET id = id", f"DELETE FROM {table}", f"TRUNCATE {table}"):  # noqa: S608
            with pytest.raises(sa.exc.ProgrammingError, match="permission denied"), engine.begin() as connection:
                connection.exec_driver_sql(statement)
    engine.dispose()
