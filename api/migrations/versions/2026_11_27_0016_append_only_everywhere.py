"""Append-only against every statement the engine offers (AUD-4).

SQLite: `REPLACE` / `INSERT OR REPLACE` deletes the clashing row without firing DELETE triggers
(unless recursive_triggers is on), so a BEFORE INSERT trigger refuses an id that already exists.
PostgreSQL: TRUNCATE fires no row trigger; a statement trigger refuses it (defence in depth: the
serving role has no TRUNCATE privilege either, see api/db_roles.py).

Revision ID: 0016_append_only
"""

from alembic import op

revision = "0016_append_only"
down_revision = "0015_checkins"

APPEND_ONLY = ("messages", "audit_events")


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    for table in APPEND_ONLY:
        if dialect == "sqlite":
            op.execute(
                f"CREATE TRIGGER {table}_no_replace BEFORE INSERT ON {table} "  # noqa: S608 (fixed names)
                f"WHEN EXISTS (SELECT 1 FROM {table} WHERE id = NEW.id) "
                f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"
            )
        elif dialect == "postgresql":
            # The function from 0001 raises whatever the statement; reuse it per statement.
            op.execute(
                f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                f"FOR EACH STATEMENT EXECUTE FUNCTION {table}_append_only()"
            )


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for table in APPEND_ONLY:
        if dialect == "sqlite":
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_replace")
        elif dialect == "postgresql":
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
