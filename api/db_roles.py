"""PostgreSQL role split (AUD-3, AUD-4): an owner role migrates, a serving role runs the service.

The serving role may only SELECT and INSERT on the append-only tables (messages, audit_events):
no UPDATE, DELETE or TRUNCATE privilege, so even a compromised service cannot rewrite history.
The owner runs `aftercare migrate --grant-to <serving role>` after every upgrade; the service
then starts as the serving role (its start-up migration finds the schema at head and does nothing).
"""

from __future__ import annotations

import re

import sqlalchemy as sa

APPEND_ONLY = ("messages", "audit_events")
_ROLE_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def grant_serving_role(connection: sa.engine.Connection, role: str) -> None:
    """Grants `role` what the service needs on the current schema, and no more."""
    if not _ROLE_NAME.match(role):
        raise ValueError("role must be a plain lower-case PostgreSQL identifier")
    tables = sa.inspect(connection).get_table_names()
    statements = [f"GRANT USAGE ON SCHEMA public TO {role}"]
    for table in tables:
        statements.append(f"REVOKE ALL ON {table} FROM {role}")
        if table in APPEND_ONLY:
            privileges = "SELECT, INSERT"
        elif table == "alembic_version":
            privileges = "SELECT"  # the start-up check reads the revision, never writes it
        else:
            privileges = "SELECT, INSERT, UPDATE, DELETE"
        statements.append(f"GRANT {privileges} ON {table} TO {role}")
    statements.append(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {role}")
    for statement in statements:
        connection.exec_driver_sql(statement)


def migrate_as_owner(database_url: str, grant_to: str | None) -> None:
    """`aftercare migrate`: schema to head, Rasa's tracker table, then the serving role's grants."""
    from api.db import make_engine, migrate
    from api.tracker_store import build_tracker_store

    engine = make_engine(database_url)
    try:
        migrate(engine)
        build_tracker_store(database_url).engine.dispose()  # creates Rasa's `events` table as owner
        if grant_to:
            if engine.dialect.name != "postgresql":
                raise ValueError("--grant-to needs PostgreSQL (SQLite has no roles)")
            with engine.begin() as connection:
                grant_serving_role(connection, grant_to)
    finally:
        engine.dispose()
